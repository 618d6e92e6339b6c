//! `mcp`: an existing MCP server, local (a command the hub launches and supervises)
//! or remote (Streamable HTTP or legacy SSE). Its commands are the server's tools,
//! per configured connector, so the engine lives in `switchboard_runtime::upstream`
//! (an execution model, like scripts); this module only registers the type.

use std::sync::Arc;

use switchboard_runtime::Connector;

pub fn connector() -> Arc<dyn Connector> {
    switchboard_runtime::upstream::type_connector()
}
