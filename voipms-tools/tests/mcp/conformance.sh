#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance) against
# `voipms --sandbox mcp --http`, stateful and --stateless: every applicable scenario passes, the
# rest are in the baseline files with their reasons. Usage: conformance.sh VOIPMS_BINARY
# (node 22 and `conformance` on PATH). Prints a closing `N passed, M failed`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work XDG_DATA_HOME=$work/data VOIPMS_SANDBOX_STATE=$work/sandbox.json
passed=0 failed=0
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }
run() { # label, baseline, server flags…
    local label=$1 baseline=$2; shift 2
    local port; port=$(free_port)
    "$bin" --sandbox mcp --http "127.0.0.1:$port" --rate-limit 0 --audit-log "$work/audit.jsonl" "$@" \
        2>"$work/$label.log" &
    pids+=($!)
    if ! wait_up "$port"; then
        failed=$((failed + 1)); echo "FAIL $label: the server did not start"; cat "$work/$label.log"; return
    fi
    for suite in active pending; do
        if conformance server --url "http://127.0.0.1:$port/mcp" --suite "$suite" \
            --expected-failures "$here/$baseline" >"$work/$label-$suite.txt" 2>&1; then
            passed=$((passed + 1)); echo "ok   conformance $suite suite, $label ($(grep -E '^Total' "$work/$label-$suite.txt"))"
        else
            failed=$((failed + 1)); echo "FAIL conformance $suite suite, $label"
            sed -n '/SUMMARY/,$p' "$work/$label-$suite.txt"
        fi
    done
}
run stateful conformance-baseline.yml
run stateless conformance-baseline-stateless.yml --stateless
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
