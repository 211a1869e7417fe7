"""What the Python client tests share: checks and their tally, a free loopback port, and a
`voipms --sandbox mcp --http` server started in a temporary home."""

import os
import socket
import subprocess
import sys
import time

_tally = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    """Prints `ok NAME` or `FAIL NAME DETAIL` and counts it."""
    if cond:
        _tally["passed"] += 1
        print(f"ok   {name}")
    else:
        _tally["failed"] += 1
        print(f"FAIL {name} {detail}")


def finish():
    """Prints `N passed, M failed` and exits 1 when anything failed."""
    print(f"{_tally['passed']} passed, {_tally['failed']} failed")
    sys.exit(1 if _tally["failed"] else 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_http(binary, home, args, env=None, port=None):
    """Starts `voipms --sandbox mcp --http 127.0.0.1:PORT ARGS…`; returns the process and its URL.
    Its stdout and stderr go to a file (`log_of(process)`): a pipe nobody reads would fill up and
    stall the server."""
    port = port or free_port()
    full_env = {"HOME": home, "XDG_DATA_HOME": os.path.join(home, "data"),
                "VOIPMS_SANDBOX_STATE": os.path.join(home, "sandbox.json"),
                "PATH": os.environ.get("PATH", ""), **(env or {})}
    log = os.path.join(home, f"server-{port}.log")
    with open(log, "wb") as out:
        p = subprocess.Popen([binary, "--sandbox", "mcp", "--http", f"127.0.0.1:{port}",
                              "--audit-log", os.path.join(home, "audit.jsonl"), *args],
                             env=full_env, stdout=out, stderr=subprocess.STDOUT)
    p.log_path = log
    for _ in range(200):
        if p.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return p, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start: " + log_of(p))


def log_of(p):
    """What the server wrote to stdout and stderr so far."""
    with open(p.log_path, encoding="utf-8", errors="replace") as f:
        return f.read()
