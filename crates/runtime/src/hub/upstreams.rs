//! MCP upstream connectors as the hub sees them: supervisor status recorded, list
//! changes turned into cache clears and client notifications, live views on the call
//! path, and imports of the `mcpServers` files desktop clients use.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::future::BoxFuture;

use serde::Serialize;
use serde_json::{json, Map, Value};
use switchboard_contract::envelope::Meta;
use switchboard_contract::{ConnectorError, Envelope, ExecutionModel};
use switchboard_store::model::{ConnectorRecord, Visibility};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{store_error, Caller, ConnectorInput, Hub, Inner};
use crate::framework::{Connector, Instance};
use crate::oauth::upstream::challenge_param;
use crate::oauth::TokenSet;
use crate::upstream::import::{parse_mcp_config, ImportEntry};
use crate::upstream::{BearerSource, UpstreamConfig, UpstreamEvent};

/// One server of an imported file and what became of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub name: String,
    /// `created`, `skipped` (a connector of that name exists) or `refused`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub created: usize,
    pub skipped: usize,
    pub refused: usize,
    pub results: Vec<ImportOutcome>,
}

pub(super) fn spawn_event_loop(hub: &Hub, mut events: UnboundedReceiver<UpstreamEvent>) {
    let weak = Arc::downgrade(&hub.inner);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let Some(inner) = weak.upgrade() else { break };
            let hub = Hub { inner };
            match event {
                UpstreamEvent::Status {
                    tenant_id,
                    connector_id,
                    status,
                    reason,
                } => {
                    if let Err(e) = hub
                        .store()
                        .set_connector_status(&tenant_id, &connector_id, status, reason.as_deref())
                        .await
                    {
                        tracing::warn!(error = %e, "could not record an MCP upstream's status");
                    }
                    hub.connectors_changed();
                }
                UpstreamEvent::Changed => hub.connectors_changed(),
            }
        }
    });
}

/// A default tool prefix for an MCP server from its connector name (`everything`).
pub(super) fn mcp_prefix(name: &str) -> String {
    let mut p = String::new();
    for c in name.to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        };
        if !(c == '-' && (p.is_empty() || p.ends_with('-'))) {
            p.push(c);
        }
    }
    let mut p = p.trim_matches('-').to_string();
    if !p.starts_with(|c: char| c.is_ascii_lowercase()) {
        p.insert_str(0, "mcp-");
    }
    p.truncate(switchboard_contract::naming::MAX_PREFIX);
    p.trim_end_matches('-').to_string()
}

/// The bearer of an `mcp` connector with `authType: "oauth"`: the access token of its
/// shared connected account, kept in memory until it nears expiry, refreshed through
/// the hub's single-flight refresh (so the session lives on across refreshes).
struct SharedAccountBearer {
    hub: Weak<Inner>,
    tenant_id: String,
    connector_id: String,
    cached: Mutex<Option<TokenSet>>,
}

impl SharedAccountBearer {
    async fn token(&self, stale: Option<&str>) -> Result<String, String> {
        let hub = Hub {
            inner: self.hub.upgrade().ok_or("the hub is shutting down")?,
        };
        if stale.is_none() {
            let skew = hub.settings().oauth_refresh_skew.as_millis() as i64;
            let cached = self.cached.lock().ok().and_then(|c| c.clone());
            if let Some(t) = cached.filter(|t| {
                t.expires_at
                    .is_none_or(|at| at - switchboard_store::now_ms() > skew)
            }) {
                return Ok(t.access_token);
            }
        }
        let tokens = hub
            .shared_access_token(&self.tenant_id, &self.connector_id, stale)
            .await?;
        let token = tokens.access_token.clone();
        if let Ok(mut c) = self.cached.lock() {
            *c = Some(tokens);
        }
        Ok(token)
    }
}

impl BearerSource for SharedAccountBearer {
    fn current(&self) -> BoxFuture<'_, Result<Option<String>, String>> {
        Box::pin(async move { self.token(None).await.map(Some) })
    }

    fn refused<'a>(
        &'a self,
        sent: Option<&'a str>,
        status: u16,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            if status == 403 {
                let wanted = challenge_param(challenge, "scope").unwrap_or_default();
                return Err(format!(
                    "the server wants more access than the connected account granted (scope '{wanted}'); an admin reconnects the account with those scopes (POST /api/oauth/start with shared: true and scopes)"
                ));
            }
            // A 401: the token expired early or was revoked. Refresh once, whatever
            // its expiry says; the same token again means there is nothing better.
            let fresh = self.token(Some(sent.unwrap_or(""))).await?;
            if Some(fresh.as_str()) == sent {
                return Err("the server refuses the connected account's token; an admin reconnects the account".into());
            }
            Ok(fresh)
        })
    }
}

pub(super) fn instance_of(record: &ConnectorRecord) -> Instance {
    Instance {
        id: record.id.clone(),
        tenant_id: record.tenant_id.clone(),
        name: record.name.clone(),
    }
}

impl Hub {
    pub(super) fn is_mcp(executor: &Arc<dyn Connector>) -> bool {
        executor.spec().execution_model == ExecutionModel::Mcp
    }

    /// The token source of an `mcp` connector that authenticates with OAuth.
    fn upstream_bearer(&self, record: &ConnectorRecord) -> Option<Arc<dyn BearerSource>> {
        (record.config.get("authType").and_then(Value::as_str) == Some("oauth")).then(|| {
            Arc::new(SharedAccountBearer {
                hub: Arc::downgrade(&self.inner),
                tenant_id: record.tenant_id.clone(),
                connector_id: record.id.clone(),
                cached: Mutex::new(None),
            }) as Arc<dyn BearerSource>
        })
    }

    /// Starts an MCP connector's sessions afresh (its account was connected or
    /// disconnected); other connectors are left alone.
    pub(super) async fn restart_upstream(&self, record: &ConnectorRecord) {
        let is_mcp = self
            .executor(&record.type_id)
            .await
            .is_ok_and(|e| Self::is_mcp(&e));
        if !is_mcp {
            return;
        }
        self.stop_upstream(&record.id);
        if !record.enabled {
            return;
        }
        match self
            .store()
            .connector_secrets(&record.tenant_id, &record.id)
            .await
        {
            Ok(secrets) => self.warm_upstream(record, &secrets),
            Err(e) => {
                tracing::warn!(connector = %record.name, error = %e, "could not restart an MCP upstream")
            }
        }
    }

    /// What runs a call: the type's executor, or for an MCP server its live view.
    pub(super) async fn live_executor(
        &self,
        executor: Arc<dyn Connector>,
        record: &ConnectorRecord,
        config: &Map<String, Value>,
        wait: Duration,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        if !Self::is_mcp(&executor) {
            return Ok(executor);
        }
        let view = self
            .inner
            .upstreams
            .live(
                &instance_of(record),
                &record.tool_prefix,
                config,
                self.upstream_bearer(record),
                wait,
            )
            .await?;
        Ok(view)
    }

    /// The live view of a running MCP connector, without waiting.
    pub(super) fn current_upstream(&self, connector_id: &str) -> Option<Arc<dyn Connector>> {
        self.inner
            .upstreams
            .current(connector_id)
            .map(|v| v as Arc<dyn Connector>)
    }

    pub(super) fn stop_upstream(&self, connector_id: &str) {
        self.inner.upstreams.stop(connector_id);
    }

    /// Launches every enabled MCP connector of every tenant in the background, so
    /// their status is current and the first caller does not wait for a start.
    pub async fn start_upstreams(&self) -> Result<usize, ConnectorError> {
        let mut started = 0;
        for type_id in self
            .registry()
            .specs()
            .filter(|s| s.execution_model == ExecutionModel::Mcp)
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
        {
            let records = self
                .store()
                .enabled_connectors_of_type(&type_id)
                .await
                .map_err(store_error)?;
            for record in records {
                let secrets = self
                    .store()
                    .connector_secrets(&record.tenant_id, &record.id)
                    .await
                    .map_err(store_error)?;
                self.warm_upstream(&record, &secrets);
                started += 1;
            }
        }
        Ok(started)
    }

    /// Starts the connector's MCP server without waiting for it.
    pub(super) fn warm_upstream(&self, record: &ConnectorRecord, secrets: &Map<String, Value>) {
        let mut config = record.config.clone();
        config.extend(secrets.clone());
        let upstreams = self.inner.upstreams.clone();
        let instance = instance_of(record);
        let prefix = record.tool_prefix.clone();
        let bearer = self.upstream_bearer(record);
        tokio::spawn(async move {
            // Zero wait: the supervisor runs on; errors land in the status.
            let _ = upstreams
                .live(&instance, &prefix, &config, bearer, Duration::ZERO)
                .await;
        });
    }

    /// Stops every MCP upstream (graceful shutdown).
    pub async fn stop_upstreams(&self) {
        self.inner.upstreams.stop_all().await;
    }

    /// Checks what the field schema cannot (a transport with what it needs).
    pub(super) fn check_mcp_config(config: &Map<String, Value>) -> Result<(), ConnectorError> {
        UpstreamConfig::parse(config).map(|_| ())
    }

    /// `test` for an MCP server: start it (or reuse it) and list what it offers.
    pub(super) async fn test_mcp(
        &self,
        caller: &Caller,
        record: &ConnectorRecord,
    ) -> Result<Envelope, ConnectorError> {
        let started = std::time::Instant::now();
        let loaded = self.loaded_connector(caller, &record.id).await?;
        let mut config = record.config.clone();
        config.extend(loaded.secrets.clone());
        let wait = UpstreamConfig::parse(&config)
            .map(|c| c.startup_timeout)
            .unwrap_or(Duration::from_secs(10));
        let meta = |started: std::time::Instant| Meta {
            request_id: uuid::Uuid::now_v7().to_string(),
            duration_ms: started.elapsed().as_millis() as u64,
            rate_limit: None,
            replayed: false,
        };
        let executor = self.executor(&record.type_id).await?;
        Ok(
            match self.live_executor(executor, record, &config, wait).await {
                Ok(view) => {
                    let tools: Vec<&str> = view
                        .spec()
                        .commands
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect();
                    Envelope::success(
                        json!({"status": "connected", "tools": tools}),
                        meta(started),
                    )
                }
                Err(e) => Envelope::failure(e, meta(started)),
            },
        )
    }

    /// Creates one `mcp` connector per server of a Claude Desktop / Cursor / VS Code
    /// file, reporting each as created, skipped (name taken) or refused (with why).
    pub async fn import_mcp_config(
        &self,
        caller: &Caller,
        doc: &Value,
        visibility: Option<Visibility>,
    ) -> Result<ImportReport, ConnectorError> {
        let entries = parse_mcp_config(doc).map_err(ConnectorError::invalid_input)?;
        let mut results = Vec::new();
        for entry in entries {
            let outcome = match entry {
                ImportEntry::Refused { name, reason } => ImportOutcome {
                    name,
                    outcome: "refused".into(),
                    reason: Some(reason),
                    connector_id: None,
                },
                ImportEntry::Ready { name, config } => {
                    let exists = self
                        .store()
                        .get_connector_by_name(&caller.tenant_id, &name)
                        .await
                        .map_err(store_error)?;
                    if let Some(existing) = exists {
                        ImportOutcome {
                            name,
                            outcome: "skipped".into(),
                            reason: Some("a connector with this name already exists".into()),
                            connector_id: Some(existing.id),
                        }
                    } else {
                        let input = ConnectorInput {
                            name: name.clone(),
                            type_id: "mcp".into(),
                            description: format!("Imported MCP server '{name}'"),
                            tool_prefix: None,
                            config,
                            visibility,
                            enabled: Some(true),
                            mock_scenario: None,
                        };
                        match self.create_connector(caller, input).await {
                            Ok(view) => ImportOutcome {
                                name,
                                outcome: "created".into(),
                                reason: None,
                                connector_id: Some(view.id),
                            },
                            Err(e) => ImportOutcome {
                                name,
                                outcome: "refused".into(),
                                reason: Some(e.message),
                                connector_id: None,
                            },
                        }
                    }
                }
            };
            results.push(outcome);
        }
        let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
        Ok(ImportReport {
            created: count("created"),
            skipped: count("skipped"),
            refused: count("refused"),
            results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::mcp_prefix;
    use switchboard_contract::naming::validate_prefix;

    #[test]
    fn prefixes_from_names_are_valid() {
        for (name, want) in [
            ("everything", "everything"),
            ("My Time Server", "my-time-server"),
            ("9lives", "mcp-9lives"),
            ("a--b__c", "a-b__c"),
        ] {
            let p = mcp_prefix(name);
            assert_eq!(p, want);
            validate_prefix(&p).unwrap();
        }
    }
}
