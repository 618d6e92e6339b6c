//! What a handler returns: success with payload/variables, or failure with an error.

use serde_json::{Map, Value};

use crate::envelope::RateLimit;
use crate::error::ConnectorError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Success {
    /// The domain result; becomes the envelope's `data`.
    pub payload: Value,
    /// Values a workflow caller merges into its variable bag.
    pub variables: Map<String, Value>,
    /// The handler's raw continuation state; the dispatcher signs it into `nextCursor`.
    pub next_page: Option<Value>,
    pub warnings: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    /// The payload is already an MCP `CallToolResult` (content blocks, `isError`):
    /// MCP relays it as it is instead of wrapping it in the envelope.
    pub mcp_native: bool,
}

impl Success {
    /// A result in MCP's own shape, relayed verbatim to MCP clients.
    pub fn mcp_native(result: Value) -> Self {
        Success {
            payload: result,
            mcp_native: true,
            ..Default::default()
        }
    }

    pub fn new(payload: Value) -> Self {
        Success {
            payload,
            ..Default::default()
        }
    }
    pub fn variable(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.variables.insert(key.into(), value.into());
        self
    }
    pub fn next_page(mut self, state: Option<Value>) -> Self {
        self.next_page = state;
        self
    }
    pub fn warn(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }
    pub fn rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: ConnectorError,
    /// A failing call may still set variables (an error flag for a later step).
    pub variables: Map<String, Value>,
    pub rate_limit: Option<RateLimit>,
}

impl From<ConnectorError> for Failure {
    fn from(error: ConnectorError) -> Self {
        Failure {
            error,
            variables: Map::new(),
            rate_limit: None,
        }
    }
}

/// Boxed so `?` on a `ConnectorError` works in handlers and the happy path stays small.
impl From<ConnectorError> for Box<Failure> {
    fn from(error: ConnectorError) -> Self {
        Box::new(error.into())
    }
}

pub type Outcome = Result<Success, Box<Failure>>;

pub fn succeed(payload: Value) -> Outcome {
    Ok(Success::new(payload))
}

pub fn fail(error: ConnectorError) -> Outcome {
    Err(Box::new(error.into()))
}
