"""fastmcp's Client against the hub, bearer auth."""

from __future__ import annotations

import pytest
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize(
    "query,lookup",
    [pytest.param("", "directory.lookup", id="dot"), pytest.param("?naming=underscore", "directory_lookup", id="underscore")],
)
async def test_fastmcp_lists_and_calls_lookup(hub, mode, query, lookup):
    transport = StreamableHttpTransport(hub.mcp_url + query, auth=hub.admin_key)
    async with Client(transport, mode=mode, timeout=30) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert lookup in tools, sorted(tools)
        assert tools[lookup].input_schema.get("type") == "object"
        result = await client.call_tool(lookup, {"id": "E007"})
        assert not result.is_error
        assert result.structured_content["ok"] is True, result.structured_content
        assert result.structured_content["data"]["id"] == "E007"
