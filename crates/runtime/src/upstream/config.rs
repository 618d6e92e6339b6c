//! The `mcp` connector type: its config fields, and that config parsed for the supervisor.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};
use switchboard_contract::{ConnectorError, ConnectorSpec, ExecutionModel, FieldKind, FieldSpec};

/// How the hub reaches the upstream server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A local process speaking MCP on stdin/stdout, launched and supervised by the hub.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<String>,
    },
    /// Streamable HTTP (2025-11-25 sessions or 2026-07-28 stateless, probed).
    StreamableHttp { url: String },
    /// The 2024-11-05 HTTP+SSE transport.
    Sse { url: String },
}

/// A parsed `mcp` connector config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    pub transport: Transport,
    /// Static headers for HTTP transports (values are secrets).
    pub headers: BTreeMap<String, String>,
    /// Sent as `Authorization: Bearer …` to HTTP upstreams.
    pub access_token: Option<String>,
    /// Concurrent sessions (processes, for stdio) kept for this connector.
    pub pool_size: usize,
    /// How long a start (spawn plus handshake) may take.
    pub startup_timeout: Duration,
    /// Largest single message accepted from the upstream.
    pub max_message_bytes: usize,
}

pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The `mcp` type's spec. Its commands are the upstream's tools, per configured instance.
pub fn spec() -> ConnectorSpec {
    let field = FieldSpec::new;
    ConnectorSpec {
        name: "mcp".into(),
        version: "1.1.0".into(),
        description: "An existing MCP server, local (a command the hub launches and supervises) or remote (Streamable HTTP or legacy SSE). Its tools, resources and prompts are re-exposed under the connector's prefix.".into(),
        category: Some("mcp".into()),
        tags: vec!["mcp".into(), "proxy".into()],
        tool_prefix: "mcp".into(),
        execution_model: ExecutionModel::Mcp,
        scopes: Vec::new(),
        requires_oauth: false,
        oauth_provider: None,
        docs_url: Some("https://modelcontextprotocol.io/specification".into()),
        config: vec![
            field("transport", FieldKind::select(["stdio", "streamable-http", "sse"]))
                .describe("How to reach the server. Default: stdio when `command` is set, else streamable-http."),
            FieldSpec::string("command").describe("Local server: the program to run, e.g. npx or uvx."),
            FieldSpec::new("args", FieldKind::StringList).describe("Local server: its arguments."),
            FieldSpec::secret_map("env").describe("Local server: extra environment variables (encrypted; values never shown)."),
            FieldSpec::string("cwd").describe("Local server: working directory."),
            FieldSpec::string("url").describe("Remote server: the MCP endpoint URL (Streamable HTTP) or the SSE URL."),
            FieldSpec::secret_map("headers").describe("Remote server: static HTTP headers sent with every request (encrypted)."),
            FieldSpec::secret("accessToken").describe("Remote server: a fixed bearer token sent as Authorization."),
            field("authType", FieldKind::select(["none", "oauth"])).default_value("none")
                .describe("Remote server: `oauth` sends the access token of the connector's shared connected account (discovered from the server: POST /api/oauth/apps/mcp, then POST /api/oauth/start with shared: true), refreshed by the hub."),
            field("poolSize", FieldKind::integer_range(1, 16)).default_value(1)
                .describe("Sessions (for a local server: processes) shared by all callers. Default 1."),
            field("startupTimeoutMs", FieldKind::integer_range(1_000, 600_000)).default_value(60_000)
                .describe("How long starting the server (spawn and handshake) may take. Default 60 s."),
            field("maxMessageBytes", FieldKind::integer_range(1_024, 256 * 1024 * 1024))
                .default_value(DEFAULT_MAX_MESSAGE_BYTES as i64)
                .describe("Largest single message accepted from the server. Default 16 MiB."),
        ],
        default_command: None,
        commands: Vec::new(),
    }
}

fn str_field<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn string_map(config: &Map<String, Value>, key: &str) -> BTreeMap<String, String> {
    config
        .get(key)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn int_field(config: &Map<String, Value>, key: &str, default: u64) -> u64 {
    config.get(key).and_then(Value::as_u64).unwrap_or(default)
}

impl UpstreamConfig {
    /// Parses an already validated config, checking what the field schema cannot:
    /// that the chosen transport has what it needs.
    pub fn parse(config: &Map<String, Value>) -> Result<Self, ConnectorError> {
        let command = str_field(config, "command");
        let url = str_field(config, "url");
        let transport = match str_field(config, "transport") {
            Some(t) => t,
            None if command.is_some() => "stdio",
            None if url.is_some() => "streamable-http",
            None => return Err(ConnectorError::invalid_input(
                "an mcp connector needs either `command` (a local server) or `url` (a remote one)",
            )),
        };
        let transport = match transport {
            "stdio" => {
                let Some(command) = command else {
                    return Err(ConnectorError::invalid_input(
                        "transport stdio needs `command`, e.g. \"npx\"",
                    ));
                };
                let args = crate::framework::string_list(config.get("args"));
                Transport::Stdio {
                    command: command.to_string(),
                    args,
                    env: string_map(config, "env"),
                    cwd: str_field(config, "cwd").map(str::to_string),
                }
            }
            "streamable-http" | "sse" => {
                let Some(url) = url else {
                    return Err(ConnectorError::invalid_input(format!(
                        "transport {transport} needs `url`"
                    )));
                };
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConnectorError::invalid_input(format!(
                        "url must start with http:// or https:// (got '{}')",
                        url.chars().take(60).collect::<String>()
                    )));
                }
                if transport == "sse" {
                    Transport::Sse { url: url.into() }
                } else {
                    Transport::StreamableHttp { url: url.into() }
                }
            }
            other => {
                return Err(ConnectorError::invalid_input(format!(
                    "unknown transport '{other}': use stdio, streamable-http or sse"
                )))
            }
        };
        let headers = string_map(config, "headers");
        for name in headers.keys() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConnectorError::invalid_input(format!(
                    "header name '{name}' is not a valid HTTP header name"
                )));
            }
        }
        Ok(UpstreamConfig {
            transport,
            headers,
            access_token: str_field(config, "accessToken").map(str::to_string),
            pool_size: int_field(config, "poolSize", 1).clamp(1, 16) as usize,
            startup_timeout: Duration::from_millis(int_field(config, "startupTimeoutMs", 60_000)),
            max_message_bytes: int_field(
                config,
                "maxMessageBytes",
                DEFAULT_MAX_MESSAGE_BYTES as u64,
            ) as usize,
        })
    }

    /// What the status and logs call this upstream (never secrets).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Stdio { command, args, .. } => {
                let mut s = command.clone();
                for a in args.iter().take(6) {
                    s.push(' ');
                    s.push_str(a);
                }
                s
            }
            Transport::StreamableHttp { url } | Transport::Sse { url } => url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Result<UpstreamConfig, ConnectorError> {
        UpstreamConfig::parse(v.as_object().unwrap())
    }

    #[test]
    fn transport_is_inferred_and_checked() {
        let c = cfg(json!({"command": "npx", "args": ["-y", "x"], "env": {"A": "1"}})).unwrap();
        assert!(matches!(c.transport, Transport::Stdio { ref args, .. } if args.len() == 2));
        let c = cfg(json!({"url": "http://127.0.0.1:1/mcp"})).unwrap();
        assert!(matches!(c.transport, Transport::StreamableHttp { .. }));
        let c = cfg(json!({"url": "http://h/sse", "transport": "sse"})).unwrap();
        assert!(matches!(c.transport, Transport::Sse { .. }));
        assert!(cfg(json!({})).unwrap_err().message.contains("command"));
        assert!(cfg(json!({"transport": "stdio", "url": "http://x"}))
            .unwrap_err()
            .message
            .contains("needs `command`"));
        assert!(cfg(json!({"url": "ftp://x"}))
            .unwrap_err()
            .message
            .contains("http://"));
        assert!(
            cfg(json!({"url": "http://x", "headers": {"bad header": "v"}}))
                .unwrap_err()
                .message
                .contains("bad header")
        );
    }
}
