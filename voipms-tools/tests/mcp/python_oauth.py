"""The official Python MCP SDK (PyPI `mcp`, 2.x) through the full OAuth flow of
`voipms --sandbox mcp --http --oauth`: its OAuthClientProvider discovers the protected-resource
and authorization-server metadata, registers the client (RFC 7591), sends the owner to the consent
page — answered here over HTTP by posting the owner passphrase — exchanges the code with PKCE,
calls tools with the token, and refreshes it when it expires (the refresh token rotates).

Usage: python_oauth.py VOIPMS_BINARY
Each check prints `ok` or `FAIL`; the last line is `N passed, M failed`.
"""

import asyncio
import html
import re
import sys
import tempfile
from urllib.parse import parse_qs, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from harness import check, finish, free_port, log_of, start_http

BIN = sys.argv[1]
HOME = tempfile.mkdtemp(prefix="voipms-mcp-oauth-")
PASSPHRASE = "python-owner-passphrase-0123"


def start(*args):
    port = free_port()
    return start_http(BIN, HOME, ["--oauth", "--public-url", f"http://127.0.0.1:{port}", *args],
                      env={"VOIPMS_MCP_OWNER_PASSPHRASE": PASSPHRASE}, port=port)


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client = None
        self.history = []

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


class Owner:
    """The owner's browser: reads the consent page and answers it with the passphrase."""

    def __init__(self, grant="requested"):
        self.result = None
        self.pages = []
        self.grant = grant

    async def redirect(self, authorization_url):
        async with httpx2.AsyncClient(timeout=30) as http:
            page = await http.get(authorization_url)
            self.pages.append(page.text)
            fields = {html.unescape(k): html.unescape(v) for k, v in
                      re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
            fields["passphrase"] = PASSPHRASE
            fields["action"] = "allow"
            fields["grant"] = self.grant
            answer = await http.post(authorization_url.split("?")[0], data=fields, follow_redirects=False)
            location = answer.headers.get("location", "")
            q = parse_qs(urlparse(location).query)
            self.result = AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0],
                                                  iss=q.get("iss", [None])[0])

    async def callback(self):
        return self.result


def provider(url, grant="requested"):
    storage, owner = Memory(), Owner(grant)
    p = OAuthClientProvider(
        server_url=url + "/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="Python MCP test", redirect_uris=["http://127.0.0.1:49999/callback"],
            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            token_endpoint_auth_method="none"),
        storage=storage, redirect_handler=owner.redirect, callback_handler=owner.callback)
    return p, storage, owner


async def main():
    p, url = start("--token-lifetime", "2")
    try:
        auth, storage, owner = provider(url)
        async with Client(streamable_http_client(url + "/mcp", http_client=httpx2.AsyncClient(auth=auth, timeout=30))) as c:
            check(f"OAuth: connects ({c.protocol_version})", bool(c.protocol_version))
            check("OAuth: registered (no secret)", storage.client is not None and storage.client.client_secret is None)
            check("OAuth: the consent page names the client",
                  bool(owner.pages) and "Python MCP test" in owner.pages[0], owner.pages[:1])
            names = [t.name for t in (await c.list_tools()).tools]
            check("OAuth: tools/list (write tools with voipms:write)", "voipms_mark_number_as_spam" in names, names)
            r = await c.call_tool("voipms_get_balance", {})
            check("OAuth: tools/call", not r.is_error and "balance" in (r.structured_content or {}))
            first = storage.tokens
            await asyncio.sleep(3)  # the access token (2 s) expires; the provider refreshes it
            r = await c.call_tool("voipms_get_phonebook_groups", {})
            check("OAuth: tools/call after a refresh", not r.is_error, r)
            check("OAuth: the refresh token rotated",
                  len(storage.history) >= 2 and storage.tokens.refresh_token != first.refresh_token
                  and storage.tokens.access_token != first.access_token)
            check("OAuth: one consent only", len(owner.pages) == 1, len(owner.pages))

        # The owner grants reading only, whatever the client asked for.
        auth, storage, owner = provider(url, grant="read")
        async with Client(streamable_http_client(url + "/mcp", http_client=httpx2.AsyncClient(auth=auth, timeout=30))) as c:
            names = [t.name for t in (await c.list_tools()).tools]
            check("OAuth voipms:read: the token's scope", storage.tokens.scope == "voipms:read", storage.tokens)
            check("OAuth voipms:read: the read-only tool set",
                  "voipms_get_balance" in names and "voipms_mark_number_as_spam" not in names, names)
    finally:
        p.terminate()
        p.wait(timeout=15)
        logs = log_of(p)
        check("OAuth: the passphrase is in no log line", PASSPHRASE not in logs)
        check("OAuth: no token is in any log line",
              "voipms_at_" not in logs and "voipms_rt_" not in logs, logs[-2000:])


asyncio.run(main())
finish()
