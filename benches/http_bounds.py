#!/usr/bin/env python3
"""Memory and latency of voipms's two HTTP servers under slow and oversized clients.

For `voipms sandbox serve` and `voipms --sandbox mcp --http`, one after the other: the server's
resident memory (VmRSS) before, at its peak during and after each attack, and the latency of a
probe request sent every 50 ms during it. The attacks:

  slowloris  N connections (default 500) trickling a request's headers one byte every 200 ms,
             plus N/5 that send whole headers and a body that never finishes, for 15 s
  bodies     M requests (default 100) of 50 MB each, all at once: half declare their length,
             half are chunked (length unknown until the server has read past its limit)

    python3 benches/http_bounds.py --voipms target/debug/voipms [--conns 500] [--bodies 100]

Standard library only. Figures depend on the machine and the build (debug or release) and on
what else runs: compare runs made together. Not part of CI.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MB = 1024 * 1024


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Samples a process's RSS every 20 ms; keeps the peak."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)


def probe_once(port, request):
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
            data = s.recv(64)
        ok = data.split(b" ")[1:2] == [b"200"]
    except OSError:
        ok = False
    return ok, (time.monotonic() - t0) * 1000


class Prober(threading.Thread):
    def __init__(self, port, request):
        super().__init__(daemon=True)
        self.port, self.request, self.stop = port, request, False
        self.latencies, self.failures = [], 0

    def run(self):
        while not self.stop:
            ok, ms = probe_once(self.port, self.request)
            if ok:
                self.latencies.append(ms)
            else:
                self.failures += 1
            time.sleep(0.05)


def slowloris(port, path, n, seconds, extra_headers):
    heads, bodies = [], []
    text = b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 200
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(text[:1])
            heads.append(s)
        except OSError:
            pass
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra_headers}"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
    ).encode()
    for _ in range(n // 5):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(head)
            bodies.append(s)
        except OSError:
            pass
    start, i = time.monotonic(), 1
    while time.monotonic() - start < seconds:
        for s in heads:
            try:
                s.sendall(text[i % len(text) : i % len(text) + 1])
            except OSError:
                pass
        i += 1
        time.sleep(0.2)
    for s in heads + bodies:
        s.close()
    return len(heads), len(bodies)


def big_bodies(port, path, m, extra_headers, content_type):
    """M concurrent 50 MB requests; returns the statuses."""
    statuses = []
    lock = threading.Lock()
    chunk = b"z" * (256 * 1024)

    def one(i):
        status = 0
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            chunked = i % 2 == 1
            length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {50 * MB}"
            s.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra_headers}"
                f"Content-Type: {content_type}\r\n{length}\r\n\r\n".encode()
            )
            sent = 0
            try:
                while sent < 50 * MB:
                    if chunked:
                        s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                    else:
                        s.sendall(chunk)
                    sent += len(chunk)
                if chunked:
                    s.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed before the end: expected
            data = s.recv(64)
            status = int(data.split(b" ")[1]) if data else 0
            s.close()
        except (OSError, ValueError, IndexError):
            pass
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(m)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def attack(name, pid, port, probe, path, extra, content_type, args):
    print(f"\n== {name}")
    time.sleep(1)
    base_ok, base_ms = probe_once(port, probe)
    before = rss_kib(pid)
    print(f"RSS before: {before / 1024:.1f} MiB; an idle probe: {base_ms:.1f} ms")
    for label, run in [
        (
            f"slowloris: {args.conns} trickling connections + {args.conns // 5} unfinished bodies, 15 s",
            lambda: slowloris(port, path, args.conns, 15, extra),
        ),
        (
            f"bodies: {args.bodies} x 50 MB at once (half chunked)",
            lambda: big_bodies(port, path, args.bodies, extra, content_type),
        ),
    ]:
        sampler, prober = Sampler(pid), Prober(port, probe)
        sampler.start()
        prober.start()
        t0 = time.monotonic()
        result = run()
        took = time.monotonic() - t0
        prober.stop = True
        prober.join()
        time.sleep(5)
        sampler.stop = True
        sampler.join()
        after = rss_kib(pid)
        lat = prober.latencies
        if isinstance(result, list):
            counts = {}
            for st in result:
                counts[st] = counts.get(st, 0) + 1
            outcome = f"answers {dict(sorted(counts.items()))}"
        else:
            outcome = f"{result[0]} + {result[1]} connections held"
        print(f"{label}: {outcome}, {took:.1f} s")
        print(
            f"  RSS peak {sampler.peak / 1024:.1f} MiB, 5 s after {after / 1024:.1f} MiB; "
            f"probes {len(lat)} ok / {prober.failures} failed, latency median "
            f"{statistics.median(lat) if lat else float('nan'):.1f} ms, p99 {pct(lat, 0.99):.1f} ms, "
            f"max {max(lat) if lat else float('nan'):.1f} ms"
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--voipms", required=True)
    ap.add_argument("--conns", type=int, default=500)
    ap.add_argument("--bodies", type=int, default=100)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="voipms-bounds-")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "XDG_"))
    }
    env.update(HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/config", XDG_DATA_HOME=f"{tmp}/data",
               VOIPMS_SANDBOX_STATE=f"{tmp}/sandbox.json", MCP_AUTH_TOKEN="bench-token-0123456789")
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    except (ImportError, ValueError):
        pass

    serve = subprocess.Popen(
        [args.voipms, "--format", "json", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )
    info = json.loads(serve.stdout.readline())
    port = int(info["url"].split(":")[2].split("/")[0])
    probe = (
        "GET /api/v1/rest.php?api_username=demo%40example.com&api_password=sandbox"
        f"&method=getBalance HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        attack("voipms sandbox serve", serve.pid, port, probe, "/api/v1/rest.php", "",
               "multipart/form-data; boundary=X", args)
    finally:
        serve.terminate()
        serve.wait()

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    mcp = subprocess.Popen(
        [args.voipms, "--sandbox", "mcp", "--http", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    probe = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    auth = "Authorization: Bearer bench-token-0123456789\r\nAccept: application/json, text/event-stream\r\n"
    try:
        attack("voipms mcp --http", mcp.pid, port, probe, "/mcp", auth, "application/json", args)
    finally:
        mcp.terminate()
        mcp.wait()


if __name__ == "__main__":
    sys.exit(main())
