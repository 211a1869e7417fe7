#!/usr/bin/env python3
"""Figures of `voipms mcp` over stdio on the sandbox: tools/list size (default and every tool),
idle resident memory, and tools/call latency and throughput with one client.

Usage: python3 benches/mcp_stdio.py target/release/voipms [CALLS]
Standard library only; the sandbox state and audit log live in a temporary directory.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
CALLS = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
home = tempfile.mkdtemp(prefix="voipms-mcp-bench-")
env = {"HOME": home, "XDG_DATA_HOME": home, "VOIPMS_SANDBOX_STATE": os.path.join(home, "s.json"),
       "PATH": os.environ.get("PATH", "")}


def list_size(*args):
    out = subprocess.run([BIN, "mcp", "--list-tools", *args], env=env, check=True,
                         capture_output=True).stdout
    tools = json.loads(out)["tools"]
    compact = json.dumps(tools, separators=(",", ":")).encode()
    return len(tools), len(compact)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


for label, args in [("default", []), ("all", ["--toolsets", "all"])]:
    n, size = list_size(*args)
    print(f"tools/list {label:8}: {n:4} tools, {size:7} bytes compact (~{size // 4} tokens)")

p = subprocess.Popen([BIN, "--sandbox", "mcp", "--audit-log", os.path.join(home, "a.jsonl")],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def send(obj):
    p.stdin.write((json.dumps(obj) + "\n").encode())
    p.stdin.flush()


def recv():
    return json.loads(p.stdout.readline())


send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
      "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                 "clientInfo": {"name": "bench", "version": "1"}}})
recv()
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
recv()
time.sleep(1.0)
print(f"idle RSS after initialize and tools/list: {rss_kb(p.pid) / 1024:.1f} MB")

call = {"jsonrpc": "2.0", "method": "tools/call",
        "params": {"name": "voipms_get_balance", "arguments": {}}}
for i in range(200):  # warm-up
    send({**call, "id": 10 + i})
    recv()
lat = []
start = time.perf_counter()
for i in range(CALLS):
    t = time.perf_counter()
    send({**call, "id": 1000 + i})
    r = recv()
    lat.append(time.perf_counter() - t)
    assert r["result"]["isError"] is False, r
total = time.perf_counter() - start
lat.sort()
p50 = statistics.median(lat) * 1e6
p99 = lat[int(len(lat) * 0.99) - 1] * 1e6
print(f"tools/call voipms_get_balance, one client, sequential, {CALLS} calls: "
      f"p50 {p50:.0f} µs, p99 {p99:.0f} µs, {CALLS / total:.0f} calls/s")

# Pipelined: the client keeps 32 requests in flight.
start = time.perf_counter()
inflight = 0
sent = 0
done = 0
while done < CALLS:
    while inflight < 32 and sent < CALLS:
        send({**call, "id": 100000 + sent})
        sent += 1
        inflight += 1
    recv()
    done += 1
    inflight -= 1
total = time.perf_counter() - start
print(f"tools/call voipms_get_balance, one client, 32 in flight: {CALLS / total:.0f} calls/s")
print(f"RSS after the calls: {rss_kb(p.pid) / 1024:.1f} MB")
p.stdin.close()
p.wait()
