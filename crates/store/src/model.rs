//! Records exchanged with the store. Timestamps are unix milliseconds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::StoreError;

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Role, StoreError> {
        match s {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(StoreError::Database(format!(
                "unknown role {other:?} in database"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub role: Role,
    pub platform_admin: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Who is calling, resolved from an API key.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub tenant: Tenant,
    pub user: User,
    pub key: ApiKey,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectorTypeRecord {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub tool_prefix: String,
    pub execution_model: String,
    pub scopes: Vec<String>,
    pub requires_oauth: bool,
    pub oauth_provider: Option<String>,
    pub docs_url: Option<String>,
    pub enabled: bool,
    pub builtin: bool,
    /// The full connector definition as JSON.
    pub spec: Value,
    pub created_at: i64,
    pub updated_at: i64,
    /// What a user-built type runs (script source, endpoint URL, operations), in its
    /// execution model's own shape; `Null` for built-ins.
    pub definition: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Shared with everyone in the tenant.
    Tenant,
    /// Visible to its owner only.
    Personal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Tenant => "tenant",
            Visibility::Personal => "personal",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Visibility, StoreError> {
        match s {
            "tenant" => Ok(Visibility::Tenant),
            "personal" => Ok(Visibility::Personal),
            other => Err(StoreError::Database(format!(
                "unknown visibility {other:?} in database"
            ))),
        }
    }
}

/// Connector statuses the store accepts.
pub const CONNECTOR_STATUSES: &[&str] =
    &["unknown", "connected", "error", "disconnected", "expired"];

#[derive(Debug, Clone)]
pub struct NewConnector {
    pub tenant_id: String,
    /// Set for personal connectors; must be `None` for tenant ones.
    pub owner_user_id: Option<String>,
    pub name: String,
    pub type_id: String,
    pub description: String,
    pub tool_prefix: String,
    /// Non-secret configuration only.
    pub config: Map<String, Value>,
    /// Secret configuration fields; stored encrypted, never in `config`.
    pub secrets: Map<String, Value>,
    pub visibility: Visibility,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectorRecord {
    pub id: String,
    pub tenant_id: String,
    pub owner_user_id: Option<String>,
    pub name: String,
    pub type_id: String,
    pub description: String,
    pub tool_prefix: String,
    pub config: Map<String, Value>,
    pub visibility: Visibility,
    pub enabled: bool,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_at: Option<i64>,
    pub mock_scenario: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub tenant_id: String,
    pub actor_user_id: Option<String>,
    pub actor_key_id: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub connector_id: Option<String>,
    pub command: Option<String>,
    /// `ok` or `error`.
    pub outcome: String,
    pub error_code: Option<String>,
    pub duration_ms: Option<i64>,
    pub detail: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub tenant_id: String,
    pub actor_user_id: Option<String>,
    pub actor_key_id: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub connector_id: Option<String>,
    pub command: Option<String>,
    pub outcome: String,
    pub error_code: Option<String>,
    pub duration_ms: Option<i64>,
    pub detail: Option<Value>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct AuditQuery {
    /// Clamped to 1..=500.
    pub limit: i64,
    /// Only entries strictly older than this `created_at`.
    pub before: Option<i64>,
    pub connector_id: Option<String>,
    pub action: Option<String>,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            limit: 100,
            before: None,
            connector_id: None,
            action: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum IdempotencyBegin {
    /// No live record existed; the caller owns the key and must complete or abandon it.
    Started,
    /// Another request with this key is still running.
    InProgress,
    /// A finished request exists; `request_hash` lets the caller detect key reuse with
    /// a different body.
    Replay {
        request_hash: String,
        response: Value,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct RotationReport {
    pub reencrypted: usize,
    pub new_key_id: String,
    pub old_key_id: String,
}

/// A named MCP endpoint over a subset of a tenant's tools.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileRecord {
    /// Empty for a profile not yet saved.
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// Connector ids or names; empty means every connector.
    pub connectors: Vec<String>,
    /// Glob patterns over dotted tool names; empty means every tool.
    pub tools: Vec<String>,
    /// `dot`, `underscore` or `none`.
    pub naming: String,
    pub anonymous: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}
