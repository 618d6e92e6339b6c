//! The result envelope every tool call returns (SPEC section 2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ConnectorError;

/// Vendor rate-limit snapshot, from whatever headers the vendor sends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// RFC 3339 UTC timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub request_id: String,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Set when the idempotency store answered instead of the vendor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

/// `{"ok": true, "data": …}` or `{"ok": false, "error": …}` with `meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ConnectorError>,
    pub meta: Meta,
    /// Present exactly when more data exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Values the command asks a workflow caller to merge into its variable bag.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// `data` is an MCP `CallToolResult` to relay verbatim over MCP.
    #[serde(skip)]
    pub mcp_native: bool,
}

impl Envelope {
    pub fn success(data: Value, meta: Meta) -> Self {
        Envelope {
            ok: true,
            data: Some(data),
            error: None,
            meta,
            next_cursor: None,
            warnings: Vec::new(),
            variables: Map::new(),
            mcp_native: false,
        }
    }

    pub fn failure(error: ConnectorError, meta: Meta) -> Self {
        Envelope {
            ok: false,
            data: None,
            error: Some(error),
            meta,
            next_cursor: None,
            warnings: Vec::new(),
            variables: Map::new(),
            mcp_native: false,
        }
    }

    pub fn to_value(&self) -> Value {
        // Serializing plain data structures with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The JSON Schema of the envelope, used as every tool's `outputSchema`. Kept
    /// terse: it is repeated in every tool of a `tools/list`.
    pub fn json_schema() -> Value {
        serde_json::json!({
            "type": "object",
            "required": ["ok", "meta"],
            "properties": {
                "ok": {"type": "boolean"},
                "data": {},
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "retryAfterMs": {"type": "integer"},
                        "vendorCode": {"type": "string"}
                    }
                },
                "meta": {"type": "object"},
                "nextCursor": {"type": "string"},
                "warnings": {"type": "array"}
            }
        })
    }
}
