//! The hub's services: what every surface (REST, MCP, CLI) calls. Tenant scoping,
//! permissions, validation, idempotency and auditing live here, once.

mod audit;
mod cache;
mod catalog;
mod connectors;
mod execute;
mod oauth;
mod openapi;
mod profiles;
mod search;
mod tenants;
mod tools;
mod types;
mod upstreams;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_contract::{ConnectorError, ErrorCode};
use switchboard_store::model::Role;
use switchboard_store::{Store, StoreError};

use crate::cursor::CursorSigner;
use crate::framework::Registry;
use crate::http::OutboundClient;
use cache::TtlCache;

pub use audit::AuditSink;
pub use catalog::{CatalogEntry, TypeQuery};
pub use connectors::{ConnectorInput, ConnectorPatch, ConnectorView, SECRET_PLACEHOLDER};
pub use execute::ExecuteRequest;
pub use oauth::{
    CallbackOutcome, CallbackParams, McpOAuthAppInput, OAuthAppInput, OAuthAppView,
    OAuthConnectionView, OAuthStartInput, OAuthStartView, CLIENT_METADATA_PATH,
};
pub use profiles::{glob_match, ProfileInput, ProfileView};
pub use search::search as search_tools;
pub use tenants::{KeyInput, KeyView, NewKey, NewTenant, NewUser, TenantInput, UserInput};
pub use tools::{ToolEntry, ToolIndex};
pub use types::{ConnectorTypeInput, ConnectorTypeView};
pub use upstreams::{ImportOutcome, ImportReport};

/// Who is calling. Derived from an API key (later also an OAuth token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Caller {
    pub tenant_id: String,
    pub user_id: String,
    pub key_id: Option<String>,
    pub role: Role,
    pub platform_admin: bool,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        matches!(self.role, Role::Admin)
    }

    pub fn require_admin(&self, what: &str) -> Result<(), ConnectorError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ConnectorError::new(
                ErrorCode::Forbidden,
                format!("{what} needs the admin role in this tenant"),
            ))
        }
    }

    pub fn require_platform_admin(&self, what: &str) -> Result<(), ConnectorError> {
        if self.platform_admin {
            Ok(())
        } else {
            Err(ConnectorError::new(
                ErrorCode::Forbidden,
                format!("{what} needs a platform admin"),
            ))
        }
    }
}

#[derive(Debug, Clone)]
pub struct HubSettings {
    /// Per-call deadline when the caller gives none.
    pub call_timeout: Duration,
    /// How long an idempotency key's first result is replayed.
    pub idempotency_ttl: Duration,
    /// How long an authenticated key is trusted without asking the store. A revoke on
    /// this replica takes effect at once; on others within this time.
    pub auth_cache_ttl: Duration,
    /// How long a connector's record and secrets are reused on the call path. Changes
    /// made on this replica take effect at once; on others within this time.
    /// User-built types are re-checked against the store as often.
    pub connector_cache_ttl: Duration,
    /// How long `tools/list` waits for MCP upstreams that are still starting; the
    /// slower ones join later with a list-changed notification.
    pub upstream_list_wait: Duration,
    /// The hub's public origin (e.g. `https://hub.example.com`): OAuth redirect URIs
    /// and the connect links tool errors give are built from it.
    pub public_url: Option<String>,
    /// An OAuth access token this close to expiry is refreshed before use.
    pub oauth_refresh_skew: Duration,
    /// The script sandbox: workers and limits.
    pub script: crate::script::ScriptSettings,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings {
            call_timeout: Duration::from_secs(60),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            auth_cache_ttl: Duration::from_secs(10),
            connector_cache_ttl: Duration::from_secs(2),
            upstream_list_wait: Duration::from_secs(5),
            public_url: None,
            oauth_refresh_skew: Duration::from_secs(60),
            script: crate::script::ScriptSettings::default(),
        }
    }
}

/// The hub: store, executable types, outbound client, cursor signer. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    registry: Registry,
    /// Builds and caches executors of user-built (stored) types.
    executors: crate::executors::Executors,
    http: OutboundClient,
    cursors: CursorSigner,
    settings: HubSettings,
    audit: AuditSink,
    /// SHA-256 of the presented token → the caller it authenticated.
    auth_cache: TtlCache<[u8; 32], Caller>,
    /// (tenant, id or name) → the connector and its decrypted secrets.
    connector_cache: TtlCache<(String, String), Arc<LoadedConnector>>,
    /// (tenant, user) → the tools that caller may use.
    tool_cache: TtlCache<(String, String), Arc<ToolIndex>>,
    changes: tokio::sync::broadcast::Sender<()>,
    /// Running MCP upstream servers (execution model `mcp`).
    upstreams: crate::upstream::Upstreams,
    /// One refresh at a time per OAuth credential on this replica.
    oauth_locks: oauth::RefreshLocks,
}

/// A connector record with its decrypted secrets, as the call path needs it.
pub(crate) struct LoadedConnector {
    pub record: switchboard_store::model::ConnectorRecord,
    pub secrets: serde_json::Map<String, serde_json::Value>,
}

impl Hub {
    pub fn new(
        store: Store,
        registry: Registry,
        http: OutboundClient,
        cursors: CursorSigner,
        settings: HubSettings,
    ) -> Self {
        let audit = AuditSink::spawn(store.clone());
        let mut executors = crate::executors::Executors::standard(http.clone(), &settings.script);
        for (model, support) in registry.models() {
            executors.register(*model, support.clone());
        }
        let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
        let hub = Hub {
            inner: Arc::new(Inner {
                upstreams: crate::upstream::Upstreams::new(http.clone(), events_tx),
                store,
                registry,
                executors,
                http,
                cursors,
                auth_cache: TtlCache::new(settings.auth_cache_ttl, 10_000),
                connector_cache: TtlCache::new(settings.connector_cache_ttl, 10_000),
                tool_cache: TtlCache::new(settings.connector_cache_ttl, 10_000),
                changes: tokio::sync::broadcast::channel(64).0,
                oauth_locks: Default::default(),
                settings,
                audit,
            }),
        };
        upstreams::spawn_event_loop(&hub, events_rx);
        hub
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }
    pub fn executors(&self) -> &crate::executors::Executors {
        &self.inner.executors
    }
    pub fn audit(&self) -> &AuditSink {
        &self.inner.audit
    }
    /// The outbound client (network policy applies), e.g. to fetch an authorization server's keys.
    pub fn http(&self) -> &OutboundClient {
        &self.inner.http
    }
    pub fn settings(&self) -> &HubSettings {
        &self.inner.settings
    }

    /// Forgets cached connectors after a change, so this replica sees it at once.
    pub(crate) fn connectors_changed(&self) {
        self.inner.connector_cache.clear();
        self.inner.tool_cache.clear();
        let _ = self.inner.changes.send(());
    }

    /// Fires after any connector change on this replica; MCP sessions use it to
    /// send `notifications/tools/list_changed`.
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.inner.changes.subscribe()
    }

    /// Waits until every queued audit entry is written (shutdown, tests).
    pub async fn flush(&self) {
        self.inner.audit.flush().await;
    }
}

/// Store errors as the caller sees them: specific, and never a database internal.
pub fn store_error(e: StoreError) -> ConnectorError {
    match e {
        StoreError::NotFound(m) => ConnectorError::not_found(m),
        StoreError::Conflict(m) => ConnectorError::conflict(m),
        StoreError::Invalid(m) => ConnectorError::invalid_input(m),
        other => {
            tracing::error!(error = %other, "store failure");
            ConnectorError::internal("the hub's store failed; the error was logged")
        }
    }
}
