//! The hub as an MCP client of one upstream: what the upstream sends back (progress,
//! logs, list changes, sampling and elicitation requests) routed to the right place.
// Sampling and logging are deprecated in the newest revision but still what
// 2025-11-25 servers use; the hub passes them through.
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, Implementation, LoggingLevel,
    LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ClientHandler, ErrorData as McpError, RoleClient};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::framework::{ClientBridge, Progress};

/// A call in flight on this upstream, so requests the upstream makes during it can
/// reach the client that made it.
struct InFlight {
    id: u64,
    client: Option<Arc<dyn ClientBridge>>,
}

/// State shared by every session of one upstream.
pub(crate) struct Link {
    pub connector: String,
    calls: Mutex<Vec<InFlight>>,
    progress: Mutex<HashMap<ProgressToken, Progress>>,
    next_id: AtomicU64,
    /// Wakes the upstream's list refresher.
    pub refresh: mpsc::UnboundedSender<()>,
}

/// Removes its call from the in-flight list when dropped.
pub(crate) struct CallGuard {
    link: Arc<Link>,
    id: u64,
    token: Option<ProgressToken>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Ok(mut calls) = self.link.calls.lock() {
            calls.retain(|c| c.id != self.id);
        }
        if let Some(t) = &self.token {
            if let Ok(mut p) = self.link.progress.lock() {
                p.remove(t);
            }
        }
    }
}

impl CallGuard {
    /// Progress the upstream reports under `token` goes to the caller's `progress`.
    pub fn track_progress(&mut self, token: ProgressToken, progress: Progress) {
        if !progress.is_wanted() {
            return;
        }
        if let Ok(mut p) = self.link.progress.lock() {
            p.insert(token.clone(), progress);
        }
        self.token = Some(token);
    }
}

impl Link {
    pub fn new(connector: String, refresh: mpsc::UnboundedSender<()>) -> Arc<Self> {
        Arc::new(Link {
            connector,
            calls: Mutex::new(Vec::new()),
            progress: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            refresh,
        })
    }

    pub fn begin(self: &Arc<Self>, client: Option<Arc<dyn ClientBridge>>) -> CallGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(InFlight { id, client });
        }
        CallGuard {
            link: self.clone(),
            id,
            token: None,
        }
    }

    /// The client of the most recent call in flight that can be asked things. A shared
    /// upstream process cannot say which call a request belongs to (stdio carries no
    /// such link), so the newest caller is the best guess; with one call at a time it
    /// is exact.
    fn current_client(&self) -> Option<Arc<dyn ClientBridge>> {
        let calls = self.calls.lock().ok()?;
        calls.iter().rev().find_map(|c| c.client.clone())
    }
}

#[derive(Clone)]
pub(crate) struct UpstreamClient {
    pub link: Arc<Link>,
}

fn no_client(what: &str) -> McpError {
    McpError::invalid_request(
        format!("{what} is not available: no MCP client that offers it is waiting on this server"),
        None,
    )
}

fn level_name(level: LoggingLevel) -> &'static str {
    match level {
        LoggingLevel::Debug => "debug",
        LoggingLevel::Info => "info",
        LoggingLevel::Notice => "notice",
        LoggingLevel::Warning => "warning",
        LoggingLevel::Error => "error",
        LoggingLevel::Critical => "critical",
        LoggingLevel::Alert => "alert",
        LoggingLevel::Emergency => "emergency",
    }
}

impl ClientHandler for UpstreamClient {
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, McpError> {
        let client = self
            .link
            .current_client()
            .ok_or_else(|| no_client("sampling"))?;
        let params = serde_json::to_value(params)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let result = client
            .create_message(params)
            .await
            .map_err(|e| McpError::internal_error(e.message, None))?;
        serde_json::from_value(result).map_err(|e| {
            McpError::internal_error(
                format!("the client's sampling result is malformed: {e}"),
                None,
            )
        })
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        let client = self
            .link
            .current_client()
            .ok_or_else(|| no_client("elicitation"))?;
        let params = serde_json::to_value(request)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let result = client
            .elicit(params)
            .await
            .map_err(|e| McpError::internal_error(e.message, None))?;
        serde_json::from_value(result).map_err(|e| {
            McpError::internal_error(
                format!("the client's elicitation result is malformed: {e}"),
                None,
            )
        })
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let sink = self
            .link
            .progress
            .lock()
            .ok()
            .and_then(|p| p.get(&params.progress_token).cloned());
        if let Some(sink) = sink {
            sink.report(params.progress, params.total, params.message.as_deref());
        }
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = level_name(params.level);
        tracing::info!(
            target: "switchboard::upstream",
            connector = %self.link.connector,
            upstream_level = level,
            logger = params.logger.as_deref().unwrap_or(""),
            "upstream log: {}",
            params.data
        );
        if let Some(client) = self.link.current_client() {
            let mut data = params.data;
            if let Value::Object(m) = &mut data {
                m.entry("connector")
                    .or_insert_with(|| Value::String(self.link.connector.clone()));
            }
            client.log(level, data).await;
        }
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.link.refresh.send(());
    }
    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.link.refresh.send(());
    }
    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.link.refresh.send(());
    }

    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.sampling = Some(Default::default());
        capabilities.elicitation = Some(Default::default());
        let mut info = ClientConfig::default();
        info.capabilities = capabilities;
        info.client_info = Implementation::new("switchboard", env!("CARGO_PKG_VERSION"));
        info
    }
}
