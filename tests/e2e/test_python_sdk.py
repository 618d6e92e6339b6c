"""The official Python SDK (`mcp` 2.3.0) against the hub's Streamable HTTP endpoint.

Both connection modes: "legacy" (initialize handshake, revision 2025-11-25) and "auto" (probes
`server/discover`, i.e. revision 2026-07-28, and falls back to initialize if that fails).
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

pytestmark = pytest.mark.anyio

MODES = ["legacy", "auto"]
NAMINGS = [
    pytest.param("", "directory.lookup", id="dot"),
    pytest.param("?naming=underscore", "directory_lookup", id="underscore"),
]
DIRECTORY_COMMANDS = ["lookup", "list", "create", "echo", "health"]
INVALID_PARAMS = -32602


@asynccontextmanager
async def connect(url: str, headers: dict[str, str] | None, mode: str):
    """An entered mcp.Client over Streamable HTTP with the given headers."""
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode, read_timeout_seconds=30) as client:
            yield client


async def list_all_tools(client: Client):
    tools, cursor = [], None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise AssertionError("tools/list did not stop paginating after 100 pages")


def tool_text(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query,lookup", NAMINGS)
async def test_list_and_call_lookup(hub, mode, query, lookup):
    async with connect(hub.mcp_url + query, hub.auth_headers, mode) as client:
        print(f"negotiated protocol version: {client.protocol_version}; server: {client.server_info}")
        tools = {t.name: t for t in await list_all_tools(client)}
        sep = lookup[len("directory")]
        for command in DIRECTORY_COMMANDS:
            assert f"directory{sep}{command}" in tools, f"{sorted(tools)} lacks directory{sep}{command}"
        other = "_" if sep == "." else "."
        assert f"directory{other}lookup" not in tools, "tools/list shows both spellings"
        schema = tools[lookup].input_schema
        assert isinstance(schema, dict) and schema.get("type") == "object", schema
        assert "id" in schema.get("properties", {}), schema

        result = await client.call_tool(lookup, {"id": "E007"})
        assert not result.is_error, tool_text(result)
        sc = result.structured_content
        assert isinstance(sc, dict), f"no structuredContent: {result}"
        assert sc.get("ok") is True, sc
        assert sc["data"]["id"] == "E007", sc
        # The same envelope is also given as text content.
        assert json.loads(tool_text(result)) == sc


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query,listed", NAMINGS)
async def test_call_accepts_either_spelling(hub, mode, query, listed):
    """tools/call accepts both directory.lookup and directory_lookup whatever the listing mode."""
    async with connect(hub.mcp_url + query, hub.auth_headers, mode) as client:
        await list_all_tools(client)
        for name in ("directory.lookup", "directory_lookup"):
            result = await client.call_tool(name, {"id": "E007"})
            assert not result.is_error, f"{name}: {tool_text(result)}"
            assert result.structured_content["data"]["id"] == "E007"


async def test_auto_mode_negotiates_2026_07_28(hub):
    """mode="auto" silently falls back to the old handshake; make sure the new revision is really served."""
    async with connect(hub.mcp_url, hub.auth_headers, "auto") as client:
        assert client.protocol_version == "2026-07-28"


async def test_legacy_mode_negotiates_2025_11_25(hub):
    async with connect(hub.mcp_url, hub.auth_headers, "legacy") as client:
        assert client.protocol_version == "2025-11-25"
        assert client.server_info is not None and "switchboard" in client.server_info.name.lower(), client.server_info


@pytest.mark.parametrize("mode", MODES)
async def test_bad_arguments_are_a_tool_error_result(hub, mode):
    async with connect(hub.mcp_url, hub.auth_headers, mode) as client:
        await list_all_tools(client)
        result = await client.call_tool("directory.lookup", {"id": 7})
        assert result.is_error is True, f"expected isError result, got {result}"
        assert tool_text(result), "an isError result should explain the problem in its text"


@pytest.mark.parametrize("mode", MODES)
async def test_unknown_tool_is_a_jsonrpc_error(hub, mode):
    async with connect(hub.mcp_url, hub.auth_headers, mode) as client:
        await list_all_tools(client)
        with pytest.raises(MCPError) as err:
            await client.call_tool("directory.no_such_command", {})
        print(f"error: {err.value.code} {err.value.message}")
        assert err.value.code == INVALID_PARAMS, (err.value.code, err.value.message)


@pytest.mark.parametrize("mode", MODES)
async def test_client_without_key_cannot_connect(hub, mode):
    with pytest.raises(BaseException) as err:
        async with connect(hub.mcp_url, None, mode) as client:
            await client.list_tools()
    print(f"refused with: {err.value!r}")


@pytest.mark.parametrize(
    "headers",
    [pytest.param({}, id="no-key"), pytest.param({"Authorization": "Bearer sk_not_a_real_key"}, id="bad-key")],
)
@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
async def test_request_without_valid_key_is_401(hub, headers, version):
    if version == "2026-07-28":
        body = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}}
        extra = {"Mcp-Method": "server/discover", "MCP-Protocol-Version": version}
    else:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}},
        }
        extra = {}
    async with httpx2.AsyncClient(timeout=30) as http:
        r = await http.post(
            hub.mcp_url,
            json=body,
            headers={"Accept": "application/json, text/event-stream", **extra, **headers},
        )
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.headers.get("www-authenticate"), "401 without WWW-Authenticate"
