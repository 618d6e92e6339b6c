//! The runtime's `ClientBridge` over an rmcp peer: how a handler logs to, samples
//! from, and elicits from the MCP client that called it.

// Logging and sampling are deprecated by SEP-2577 for 2026-07-28, but 2025-11-25
// clients (most of them) use them.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::{Peer, RoleServer};
use serde_json::Value;
use switchboard_contract::ConnectorError;
use switchboard_runtime::ClientBridge;

pub struct PeerBridge {
    pub peer: Peer<RoleServer>,
    /// The level the client asked for with `logging/setLevel`.
    pub min_level: Arc<Mutex<LoggingLevel>>,
}

fn level_of(name: &str) -> LoggingLevel {
    match name {
        "debug" => LoggingLevel::Debug,
        "notice" => LoggingLevel::Notice,
        "warning" | "warn" => LoggingLevel::Warning,
        "error" => LoggingLevel::Error,
        "critical" => LoggingLevel::Critical,
        "alert" => LoggingLevel::Alert,
        "emergency" => LoggingLevel::Emergency,
        _ => LoggingLevel::Info,
    }
}

fn rank(l: LoggingLevel) -> u8 {
    match l {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

fn client_error(what: &str, e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::unavailable(format!("the MCP client could not answer {what}: {e}"))
}

#[async_trait::async_trait]
impl ClientBridge for PeerBridge {
    async fn log(&self, level: &str, data: Value) {
        let level = level_of(level);
        let wanted = self
            .min_level
            .lock()
            .map(|l| *l)
            .unwrap_or(LoggingLevel::Info);
        if rank(level) < rank(wanted) {
            return;
        }
        let mut param = LoggingMessageNotificationParam::new(level, data);
        param.logger = Some("switchboard".into());
        let _ = self.peer.notify_logging_message(param).await;
    }

    async fn create_message(&self, params: Value) -> Result<Value, ConnectorError> {
        let params = serde_json::from_value(params)
            .map_err(|e| ConnectorError::internal(format!("bad sampling request: {e}")))?;
        let result = self
            .peer
            .create_message(params)
            .await
            .map_err(|e| client_error("a sampling request", e))?;
        Ok(serde_json::to_value(result).unwrap_or(Value::Null))
    }

    async fn elicit(&self, params: Value) -> Result<Value, ConnectorError> {
        let params = serde_json::from_value(params)
            .map_err(|e| ConnectorError::internal(format!("bad elicitation request: {e}")))?;
        let result = self
            .peer
            .create_elicitation(params)
            .await
            .map_err(|e| client_error("an elicitation request", e))?;
        Ok(serde_json::to_value(result).unwrap_or(Value::Null))
    }
}
