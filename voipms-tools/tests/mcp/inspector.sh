#!/usr/bin/env bash
# The MCP Inspector's CLI (npm @modelcontextprotocol/inspector) against `voipms --sandbox mcp`
# over stdio: tools/list, tool calls, and its --strict schema lint over the default and the full
# tool sets. Usage: inspector.sh VOIPMS_BINARY (node 22 and `inspector` on PATH).
# Prints `ok`/`FAIL` per check and a closing `N passed, M failed`.
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work XDG_DATA_HOME=$work/data VOIPMS_SANDBOX_STATE=$work/sandbox.json
passed=0 failed=0
check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@" >"$work/out" 2>&1; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/out" | tail -20
    fi
}
server=("$bin" --sandbox mcp --audit-log "$work/audit.jsonl")
inspect() { inspector --cli -q "${server[@]}" "$@"; }

list_has_balance() { inspect --format json --method tools/list | grep -q '"name":"voipms_get_balance"'; }
check "tools/list" list_has_balance

balance() { inspect --method tools/call --tool-name voipms_get_balance | grep -q 'Balance: '; }
check "tools/call voipms_get_balance" balance

dry_run() {
    inspect --method tools/call --tool-name voipms_add_number_to_phonebook_group \
        --tool-args-json '{"group":"Inspector","number":"5556667777"}' | grep -q 'Dry run'
}
check "tools/call plans a change (string arguments kept as strings)" dry_run

read_only() {
    local out
    out=$(inspector --cli -q "${server[@]}" --read-only --format json --method tools/list) || return 1
    grep -q voipms_get_balance <<<"$out" && ! grep -q voipms_mark_number_as_spam <<<"$out"
}
check "--read-only tools/list" read_only

strict() { # toolsets
    inspector --cli -q "$bin" --sandbox mcp --toolsets "$1" --audit-log "$work/audit.jsonl" \
        --method tools/list --strict >"$work/strict" 2>&1 || { cat "$work/strict"; return 1; }
    if grep -qE '^(Warning|Error)' "$work/strict"; then grep -A3 -E '^(Warning|Error)' "$work/strict"; return 1; fi
}
check "--strict schema lint, default tools" strict default
check "--strict schema lint, every tool" strict all

# Over streamable HTTP, with a bearer token.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=inspector-token-0123456789
MCP_AUTH_TOKEN=$token "$bin" --sandbox mcp --http "127.0.0.1:$port" --audit-log "$work/audit.jsonl" \
    2>"$work/http.log" &
http_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
http_list() {
    inspector --cli -q "http://127.0.0.1:$port/mcp" --transport http \
        --header "Authorization: Bearer $token" --format json --method tools/list |
        grep -q '"name":"voipms_get_balance"'
}
check "HTTP tools/list with a bearer header" http_list
http_call() {
    inspector --cli -q "http://127.0.0.1:$port/mcp" --transport http \
        --header "Authorization: Bearer $token" --method tools/call \
        --tool-name voipms_inspect_number --tool-args-json '{"number":"5551234567"}' | grep -q '5551234567'
}
check "HTTP tools/call" http_call
kill "$http_pid" 2>/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
