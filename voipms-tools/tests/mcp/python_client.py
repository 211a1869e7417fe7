"""The official Python MCP SDK (PyPI `mcp`, 2.x) as a client of `voipms --sandbox mcp` over stdio.

Usage: python_client.py VOIPMS_BINARY
Each check prints `ok` or `FAIL`; the last line is `N passed, M failed` and the exit code is 1
when anything failed. The sandbox state and the audit log live in a temporary directory.
"""

import asyncio
import json
import os
import sys
import tempfile

from mcp import Client, StdioServerParameters

from harness import check, finish

BIN = sys.argv[1]
HOME = tempfile.mkdtemp(prefix="voipms-mcp-py-")
ENV = {
    "HOME": HOME,
    "XDG_DATA_HOME": os.path.join(HOME, "data"),
    "XDG_CONFIG_HOME": os.path.join(HOME, "config"),
    "VOIPMS_SANDBOX_STATE": os.path.join(HOME, "sandbox.json"),
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
}
AUDIT = os.path.join(HOME, "audit.jsonl")

def server(*args):
    return StdioServerParameters(
        command=BIN, args=["--sandbox", "mcp", "--audit-log", AUDIT, *args], env=ENV
    )


def text(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main():
    async with Client(server(), mode="legacy") as client:
        check("initialize negotiates a protocol version", bool(client.protocol_version),
              client.protocol_version)
        check("server info names voipms", client.server_info.name == "voipms")
        tools = (await client.list_tools()).tools
        names = [t.name for t in tools]
        check("default tools/list has the prototype's tools",
              all(n in names for n in ["voipms_get_balance", "voipms_get_phonebook_groups",
                                       "voipms_add_number_to_phonebook_group",
                                       "voipms_get_call_transcript", "voipms_get_recent_cdr"]),
              names)
        check("default tools/list has the long-tail trio",
              all(n in names for n in ["voipms_search_methods", "voipms_describe_method",
                                       "voipms_call_method"]))
        by_name = {t.name: t for t in tools}
        check("annotations parse", by_name["voipms_get_balance"].annotations.read_only_hint is True
              and by_name["voipms_mark_number_as_spam"].annotations.read_only_hint is False
              and by_name["voipms_mark_number_as_spam"].annotations.destructive_hint is False)

        r = await client.call_tool("voipms_get_balance", {})
        check("read call", not r.is_error and "balance" in (r.structured_content or {}), text(r))

        before = (await client.call_tool("voipms_get_phonebook_groups", {})).structured_content
        r = await client.call_tool("voipms_add_number_to_phonebook_group",
                                   {"group": "Py Clients", "number": "5554443322"})
        sc = r.structured_content or {}
        check("dry run is the default and plans the calls",
              sc.get("dry_run") is True and any(c.get("method") == "setPhonebookGroup"
                                                 for c in sc.get("would_send", [])), text(r))
        after = (await client.call_tool("voipms_get_phonebook_groups", {})).structured_content
        check("a dry run changes nothing", before == after)

        r = await client.call_tool("voipms_add_number_to_phonebook_group",
                                   {"group": "Py Clients", "number": "5554443322",
                                    "dry_run": False})
        check("a real change on the sandbox", not r.is_error
              and (r.structured_content or {}).get("added") is True, text(r))
        r = await client.call_tool("voipms_get_phonebook_entries", {"group": "Py Clients"})
        entries = (r.structured_content or {}).get("entries", [])
        check("the change reads back", [e.get("number") for e in entries] == ["5554443322"],
              text(r))

        r = await client.call_tool("voipms_get_recent_cdr", {"days": "a week"})
        check("a bad argument is an error result naming the field",
              r.is_error and "`days`" in text(r), text(r))

        r = await client.call_tool("voipms_search_methods", {"query": "forwarding"})
        methods = [m["method"] for m in (r.structured_content or {}).get("methods", [])]
        check("search_methods", "getForwardings" in methods, methods)
        r = await client.call_tool("voipms_describe_method", {"method": "setForwarding"})
        sc = r.structured_content or {}
        check("describe_method", sc.get("effect") == "write"
              and "phone_number" in sc.get("input_schema", {}).get("properties", {}), text(r))
        r = await client.call_tool("voipms_call_method",
                                   {"method": "setForwarding",
                                    "params": {"phone_number": "5558887777"}})
        sc = r.structured_content or {}
        check("call_method plans a write", sc.get("dry_run") is True, text(r))
        r = await client.call_tool("voipms_call_method",
                                   {"method": "setForwarding", "dry_run": False,
                                    "params": {"phone_number": "5558887777"}})
        check("call_method makes a write", not r.is_error, text(r))
        r = await client.call_tool("voipms_call_method", {"method": "getForwardings"})
        fw = json.dumps(r.structured_content)
        check("call_method reads it back", "5558887777" in fw, fw[:300])

    async with Client(server("--read-only"), mode="legacy") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        check("--read-only hides changes", "voipms_mark_number_as_spam" not in names
              and "voipms_get_balance" in names, names)
        r = await client.call_tool("voipms_call_method",
                                   {"method": "delForwarding", "params": {"forwarding": "1"},
                                    "dry_run": False})
        check("--read-only: call_method refuses a change", r.is_error and "read-only" in text(r),
              text(r))

    async with Client(server()) as client:
        check("auto mode connects", bool(client.protocol_version), client.protocol_version)
        r = await client.call_tool("voipms_get_phonebook_groups", {})
        check("auto mode calls", not r.is_error)
        r = await client.call_tool("voipms_mark_number_as_spam", {"number": "5552223333"})
        check("auto mode plans a change", (r.structured_content or {}).get("dry_run") is True,
              text(r))

    with open(AUDIT) as f:
        records = [json.loads(line) for line in f]
    check("the audit log has the changes, dry run or not",
          [r["outcome"] for r in records if r["tool"] == "voipms_add_number_to_phonebook_group"]
          == ["dry_run", "ok"], records)
    check("the audit log names the client, whatever the protocol version",
          all(r["client"] and r["client"]["name"] for r in records), records)


asyncio.run(main())
finish()
