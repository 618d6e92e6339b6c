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
}

impl Success {
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
