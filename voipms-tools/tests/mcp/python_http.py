"""The official Python MCP SDK (PyPI `mcp`, 2.x) as a client of `voipms --sandbox mcp --http`:
streamable HTTP with a bearer token (stateful and --stateless, legacy initialize and the
2026-07-28 discover handshake), and the legacy HTTP+SSE transport.

Usage: python_http.py VOIPMS_BINARY
Each check prints `ok` or `FAIL`; the last line is `N passed, M failed`.
"""

import asyncio
import sys
import tempfile

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from harness import check, finish, start_http

BIN = sys.argv[1]
HOME = tempfile.mkdtemp(prefix="voipms-mcp-http-")
TOKEN = "test-token-0123456789abcdef"


def start(*args, token=True):
    return start_http(BIN, HOME, args, env={"MCP_AUTH_TOKEN": TOKEN} if token else {})


def authed():
    return httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


async def session_checks(label, url, mode):
    async with Client(streamable_http_client(url + "/mcp", http_client=authed()), mode=mode) as c:
        check(f"{label}: connects ({c.protocol_version})", bool(c.protocol_version))
        names = [t.name for t in (await c.list_tools()).tools]
        check(f"{label}: tools/list", "voipms_get_balance" in names, names)
        r = await c.call_tool("voipms_get_balance", {})
        check(f"{label}: tools/call", not r.is_error and "balance" in (r.structured_content or {}))
        r = await c.call_tool("voipms_mark_number_as_spam", {"number": "5552224444"})
        check(f"{label}: a dry run", (r.structured_content or {}).get("dry_run") is True)


async def main():
    p, url = start()
    try:
        await session_checks("stateful legacy", url, "legacy")
        await session_checks("stateful auto", url, "auto")
        try:
            async with Client(streamable_http_client(url + "/mcp"), mode="legacy") as c:
                await c.list_tools()
            check("no token is refused", False, "connected without a token")
        except Exception as e:  # noqa: BLE001 - any refusal is what we want
            check("no token is refused", "Bearer" in repr(e) or "401" in repr(e), repr(e))
        async with sse_client(url + "/sse", headers={"Authorization": f"Bearer {TOKEN}"}) as streams:
            from mcp.client.session import ClientSession
            async with ClientSession(*streams) as s:
                init = await s.initialize()
                check("legacy SSE: initialize", init.server_info.name == "voipms")
                r = await s.call_tool("voipms_get_phonebook_groups", {})
                check("legacy SSE: tools/call", not r.is_error and "groups" in (r.structured_content or {}))
    finally:
        p.terminate()
        p.wait(timeout=15)
        check("SIGTERM stops the server cleanly", p.returncode == 0, p.returncode)

    p, url = start("--stateless")
    try:
        await session_checks("stateless legacy", url, "legacy")
        await session_checks("stateless auto", url, "auto")
    finally:
        p.terminate()
        p.wait(timeout=15)


asyncio.run(main())
finish()
