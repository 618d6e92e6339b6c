//! Connecting accounts with OAuth 2.1 and keeping their tokens fresh (SPEC §7).
//!
//! A connector uses OAuth when its type `requires_oauth` or its config says
//! `authType: "oauth"`. A call uses the caller's own connection when there is one, else
//! the connector's shared one; the fresh access token goes into the call's config as
//! `accessToken` (connectors never read the store). Refreshing is single-flight per
//! credential: an in-process mutex, then a lease row for other replicas, then a re-read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_contract::{ConnectorError, ErrorCode};
use switchboard_store::model::{ConnectorRecord, NewAuditEntry};
use switchboard_store::now_ms;
use switchboard_store::oauth::{
    NewOAuthApp, OAuthAppRecord, OAuthConnectionRecord, OAuthStateRecord, StateLookup,
    SHARED_CONNECTION,
};

use super::{store_error, Caller, Hub};
use crate::oauth::{self as proto, ClientAuth, OAuthError, TokenSet};

/// How long a started authorization may take before its `state` expires.
pub const STATE_TTL: Duration = Duration::from_secs(600);
/// How long one replica may hold a refresh lease before another may take over.
const LEASE_TTL_MS: i64 = 30_000;

/// In-process single flight: one async mutex per credential.
#[derive(Default)]
pub(crate) struct RefreshLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl RefreshLocks {
    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_string()).or_default().clone()
    }
}

/// An admin's registration of an OAuth client. Give `issuer` to discover the
/// endpoints, a `provider` preset name, or the endpoints themselves.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OAuthAppInput {
    pub name: String,
    /// A preset (`atlassian`, `salesforce`, `github`) or any name catalog types refer to.
    pub provider: String,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub revocation_url: Option<String>,
    pub client_id: String,
    /// Write-only: stored encrypted, never returned.
    pub client_secret: Option<String>,
    pub scopes: Option<Vec<String>>,
    #[schema(value_type = Object)]
    pub extra_params: Option<Map<String, Value>>,
    /// RFC 8707 resource indicator sent with authorization and token requests.
    pub resource: Option<String>,
}

/// An OAuth app as the API shows it: no secret, only whether one is set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthAppView {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub issuer: Option<String>,
    pub authorization_url: String,
    pub token_url: String,
    pub revocation_url: Option<String>,
    pub client_id: String,
    pub has_client_secret: bool,
    pub scopes: Vec<String>,
    #[schema(value_type = Object)]
    pub extra_params: Map<String, Value>,
    pub resource: Option<String>,
    pub created_at: i64,
}

impl From<OAuthAppRecord> for OAuthAppView {
    fn from(r: OAuthAppRecord) -> Self {
        OAuthAppView {
            id: r.id,
            name: r.name,
            provider: r.provider,
            issuer: r.issuer,
            authorization_url: r.authorization_url,
            token_url: r.token_url,
            revocation_url: r.revocation_url,
            client_id: r.client_id,
            has_client_secret: r.has_client_secret,
            scopes: r.scopes,
            extra_params: r.extra_params,
            resource: r.resource,
            created_at: r.created_at,
        }
    }
}

/// Where the hub serves its client ID metadata document (its OAuth `client_id` at
/// authorization servers that accept URL client ids).
pub const CLIENT_METADATA_PATH: &str = "/oauth/client-metadata.json";

/// `POST /api/oauth/apps/mcp`: an OAuth app for an MCP server, found from the server.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpOAuthAppInput {
    pub name: String,
    /// The MCP server's endpoint; its authorization server is discovered from it.
    pub url: String,
    /// A client registered by hand at the server's authorization server; without
    /// one the hub uses its client ID metadata document or dynamic registration.
    pub client_id: Option<String>,
    /// Write-only: stored encrypted, never returned.
    pub client_secret: Option<String>,
}

/// `POST /api/oauth/start`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OAuthStartInput {
    /// Connector id or name.
    pub connector: String,
    /// Connect the caller's own account (default) or the connector's shared one (admins).
    #[serde(default)]
    pub shared: bool,
    /// The OAuth app; defaults to the tenant's app for the type's provider, or the
    /// app of an existing connection.
    pub app: Option<String>,
    /// Scopes instead of the app's defaults.
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthStartView {
    /// Open this in a browser to approve access.
    pub authorization_url: String,
    pub expires_at: i64,
}

/// A connection as the API shows it (never a token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthConnectionView {
    pub connector_id: String,
    /// `null` for the connector's shared connection.
    pub user_id: Option<String>,
    pub app_id: String,
    /// `connected` or `expired`.
    pub status: String,
    /// Why it is not usable, and how to fix it.
    pub status_reason: Option<String>,
    pub scope: Option<String>,
    pub expires_at: Option<i64>,
    pub connected_at: i64,
}

impl From<OAuthConnectionRecord> for OAuthConnectionView {
    fn from(r: OAuthConnectionRecord) -> Self {
        OAuthConnectionView {
            connector_id: r.connector_id,
            user_id: (!r.user_id.is_empty()).then_some(r.user_id),
            app_id: r.app_id,
            status: r.status,
            status_reason: r.status_reason,
            scope: r.scope,
            expires_at: r.expires_at,
            connected_at: r.connected_at,
        }
    }
}

/// Which connected account a viewer's calls of a connector would use, and its state
/// (a per-user connection's state is the viewer's own, not the connector's).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// `own` (the viewer's connection), `shared` (the connector's) or `none`.
    pub uses: String,
    /// `connected`, `expired` or `not_connected`.
    pub status: String,
    /// Why it is not usable, and how to fix it.
    pub status_reason: Option<String>,
}

/// What the callback did, for the page the browser shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    Connected { connector: String },
    Denied { reason: String },
    StateExpired,
    StateUnknown,
    Failed { reason: String },
}

/// Query parameters of the redirect back from the provider.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

fn oauth_failure(e: OAuthError) -> ConnectorError {
    ConnectorError::new(ErrorCode::UpstreamError, e.to_string())
}

fn lease_key(tenant: &str, connector: &str, user: &str) -> String {
    format!("{tenant}:{connector}:{user}")
}

fn check_url(what: &str, url: &str) -> Result<(), ConnectorError> {
    let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if ok {
        Ok(())
    } else {
        Err(ConnectorError::invalid_input(format!(
            "{what} must be an absolute http(s) URL"
        )))
    }
}

impl Hub {
    /// Registers an OAuth client (admins). Endpoints come from the input, the
    /// provider's preset, or discovery at `issuer`, in that order.
    pub async fn create_oauth_app(
        &self,
        caller: &Caller,
        input: OAuthAppInput,
    ) -> Result<OAuthAppView, ConnectorError> {
        caller.require_admin("registering an OAuth app")?;
        if input.client_id.trim().is_empty() {
            return Err(ConnectorError::invalid_input("clientId must not be empty"));
        }
        let extra = input.extra_params.clone().unwrap_or_default();
        if let Some((k, _)) = extra.iter().find(|(_, v)| !v.is_string()) {
            return Err(ConnectorError::invalid_input(format!(
                "extraParams '{k}' must be a string"
            )));
        }
        let preset = proto::preset(&input.provider);
        let discovered = match &input.issuer {
            Some(issuer) if input.authorization_url.is_none() || input.token_url.is_none() => {
                check_url("issuer", issuer)?;
                Some(
                    proto::discover(&self.inner.http, issuer)
                        .await
                        .map_err(|e| ConnectorError::invalid_input(e.to_string()))?,
                )
            }
            _ => None,
        };
        let pick = |given: &Option<String>, found: Option<&str>, preset: Option<&str>| {
            given
                .clone()
                .or_else(|| found.map(str::to_string))
                .or_else(|| preset.map(str::to_string))
        };
        let authorization_url = pick(
            &input.authorization_url,
            discovered.as_ref().map(|m| m.authorization_endpoint.as_str()),
            preset.map(|p| p.authorization_url),
        )
        .ok_or_else(|| {
            ConnectorError::invalid_input(
                "give authorizationUrl and tokenUrl, an issuer to discover them, or a provider preset (atlassian, salesforce, github)",
            )
        })?;
        let token_url = pick(
            &input.token_url,
            discovered.as_ref().map(|m| m.token_endpoint.as_str()),
            preset.map(|p| p.token_url),
        )
        .ok_or_else(|| ConnectorError::invalid_input("tokenUrl is missing"))?;
        let revocation_url = pick(
            &input.revocation_url,
            discovered
                .as_ref()
                .and_then(|m| m.revocation_endpoint.as_deref()),
            preset.and_then(|p| p.revocation_url),
        );
        check_url("authorizationUrl", &authorization_url)?;
        check_url("tokenUrl", &token_url)?;
        if let Some(r) = &revocation_url {
            check_url("revocationUrl", r)?;
        }
        let mut extra_params = Map::new();
        for (k, v) in preset.map(|p| p.extra_params).unwrap_or_default() {
            extra_params.insert((*k).to_string(), Value::String((*v).to_string()));
        }
        extra_params.extend(extra);
        let scopes = input.scopes.clone().unwrap_or_else(|| {
            preset
                .map(|p| p.default_scopes.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default()
        });
        let record = self
            .store()
            .insert_oauth_app(&NewOAuthApp {
                tenant_id: caller.tenant_id.clone(),
                name: input.name.trim().to_string(),
                provider: input.provider.clone(),
                issuer: input.issuer.clone(),
                authorization_url,
                token_url,
                revocation_url,
                client_id: input.client_id.clone(),
                client_secret: input.client_secret.clone().filter(|s| !s.is_empty()),
                scopes,
                extra_params,
                resource: input.resource.clone(),
            })
            .await
            .map_err(store_error)?;
        self.audit_oauth(caller, "oauth_app.create", &record.id, None);
        Ok(record.into())
    }

    /// For an upstream MCP server behind OAuth: discovers its authorization server
    /// (WWW-Authenticate, RFC 9728, RFC 8414), gets a client as `how` says (or, given
    /// `None`, as the MCP spec orders: a client ID metadata document when the server
    /// takes one and the hub has a public https URL, else dynamic registration), and
    /// registers the OAuth app (with the server's resource indicator) the connect flow uses.
    pub async fn register_upstream_oauth_app(
        &self,
        caller: &Caller,
        name: &str,
        mcp_url: &str,
        how: Option<proto::upstream::ClientRegistration>,
    ) -> Result<OAuthAppView, ConnectorError> {
        caller.require_admin("registering an OAuth app")?;
        check_url("the MCP server URL", mcp_url)?;
        let base = self.settings().public_url.clone().ok_or_else(|| {
            ConnectorError::invalid_input(
                "the hub's public URL must be set (--public-url) to register with an upstream's authorization server",
            )
        })?;
        let found = proto::upstream::discover_upstream(&self.inner.http, mcp_url, None)
            .await
            .map_err(|e| ConnectorError::invalid_input(format!("{mcp_url}: {e}")))?;
        let base = base.trim_end_matches('/');
        let redirect_uri = format!("{base}/api/oauth/callback");
        let how = how.unwrap_or_else(|| {
            proto::upstream::ClientRegistration::choose(
                &found.authorization_server,
                None,
                base.starts_with("https://")
                    .then(|| format!("{base}{CLIENT_METADATA_PATH}")),
                "Switchboard",
            )
        });
        let client = proto::upstream::register_client(
            &self.inner.http,
            &found.authorization_server,
            &redirect_uri,
            &how,
        )
        .await
        .map_err(|e| ConnectorError::new(ErrorCode::UpstreamError, e.to_string()))?;
        let server = found.authorization_server;
        let record = self
            .store()
            .insert_oauth_app(&NewOAuthApp {
                tenant_id: caller.tenant_id.clone(),
                name: name.trim().to_string(),
                provider: "mcp".into(),
                issuer: Some(server.issuer),
                authorization_url: server.authorization_endpoint,
                token_url: server.token_endpoint,
                revocation_url: server.revocation_endpoint,
                client_id: client.client_id,
                client_secret: client.client_secret,
                scopes: found.scopes,
                extra_params: Map::new(),
                resource: found.resource,
            })
            .await
            .map_err(store_error)?;
        self.audit_oauth(caller, "oauth_app.create", &record.id, None);
        Ok(record.into())
    }

    /// `POST /api/oauth/apps/mcp`: [`Hub::register_upstream_oauth_app`] from the API.
    pub async fn register_mcp_oauth_app(
        &self,
        caller: &Caller,
        input: McpOAuthAppInput,
    ) -> Result<OAuthAppView, ConnectorError> {
        let how = match (input.client_id, input.client_secret) {
            (Some(client_id), client_secret) => {
                Some(proto::upstream::ClientRegistration::PreRegistered {
                    client_id,
                    client_secret: client_secret.filter(|s| !s.is_empty()),
                })
            }
            (None, Some(_)) => {
                return Err(ConnectorError::invalid_input(
                    "clientSecret was given without clientId",
                ))
            }
            (None, None) => None,
        };
        self.register_upstream_oauth_app(caller, &input.name, &input.url, how)
            .await
    }

    /// The client ID metadata document the hub serves at [`CLIENT_METADATA_PATH`]
    /// when its public URL is known (an authorization server fetches it).
    pub fn client_metadata_document(&self) -> Option<Value> {
        let base = self.settings().public_url.clone()?;
        let base = base.trim_end_matches('/');
        Some(serde_json::json!({
            "client_id": format!("{base}{CLIENT_METADATA_PATH}"),
            "client_name": "Switchboard",
            "client_uri": base,
            "redirect_uris": [format!("{base}/api/oauth/callback")],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }))
    }

    pub async fn list_oauth_apps(
        &self,
        caller: &Caller,
    ) -> Result<Vec<OAuthAppView>, ConnectorError> {
        Ok(self
            .store()
            .list_oauth_apps(&caller.tenant_id)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn delete_oauth_app(&self, caller: &Caller, id: &str) -> Result<(), ConnectorError> {
        caller.require_admin("deleting an OAuth app")?;
        let app = self.oauth_app(&caller.tenant_id, id).await?;
        self.store()
            .delete_oauth_app(&caller.tenant_id, &app.id)
            .await
            .map_err(store_error)?;
        self.audit_oauth(caller, "oauth_app.delete", &app.id, None);
        Ok(())
    }

    async fn oauth_app(
        &self,
        tenant: &str,
        id_or_name: &str,
    ) -> Result<OAuthAppRecord, ConnectorError> {
        self.store()
            .get_oauth_app(tenant, id_or_name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                ConnectorError::not_found(format!("no OAuth app '{id_or_name}' in this tenant"))
            })
    }

    /// The OAuth provider a connector's type names, if it requires OAuth.
    async fn oauth_provider_of(&self, record: &ConnectorRecord) -> Option<String> {
        let executor = self.executor(&record.type_id).await.ok()?;
        let spec = executor.spec();
        spec.requires_oauth
            .then(|| spec.oauth_provider.clone().unwrap_or_default())
    }

    fn uses_oauth(record: &ConnectorRecord, spec: &switchboard_contract::ConnectorSpec) -> bool {
        spec.requires_oauth
            || record.config.get("authType").and_then(Value::as_str) == Some("oauth")
    }

    /// The app to connect `record` with: the named one, the one an existing connection
    /// uses, or the tenant's app for the type's provider.
    async fn app_for(
        &self,
        record: &ConnectorRecord,
        named: Option<&str>,
    ) -> Result<OAuthAppRecord, ConnectorError> {
        if let Some(name) = named {
            return self.oauth_app(&record.tenant_id, name).await;
        }
        let existing = self
            .store()
            .list_oauth_connections(&record.tenant_id, &record.id)
            .await
            .map_err(store_error)?;
        if let Some(c) = existing.first() {
            return self.oauth_app(&record.tenant_id, &c.app_id).await;
        }
        if let Some(provider) = self
            .oauth_provider_of(record)
            .await
            .filter(|p| !p.is_empty())
        {
            if let Some(app) = self
                .store()
                .oauth_app_for_provider(&record.tenant_id, &provider)
                .await
                .map_err(store_error)?
            {
                return Ok(app);
            }
            return Err(ConnectorError::invalid_input(format!(
                "no OAuth app for provider '{provider}' in this tenant; an admin registers one with POST /api/oauth/apps"
            )));
        }
        // A tenant with a single app needs no choice.
        let mut apps = self
            .store()
            .list_oauth_apps(&record.tenant_id)
            .await
            .map_err(store_error)?;
        if apps.len() == 1 {
            return Ok(apps.remove(0));
        }
        Err(ConnectorError::invalid_input(
            "name the OAuth app to connect with ('app'); see GET /api/oauth/apps",
        ))
    }

    /// Starts an authorization: returns the URL to open. `redirect_base` is the hub's
    /// public origin (the callback is `<redirect_base>/api/oauth/callback`).
    pub async fn oauth_start(
        &self,
        caller: &Caller,
        input: OAuthStartInput,
        redirect_base: &str,
    ) -> Result<OAuthStartView, ConnectorError> {
        let record = self.visible_connector(caller, &input.connector).await?;
        if input.shared {
            caller.require_admin("connecting a connector's shared account")?;
        } else if self
            .executor(&record.type_id)
            .await
            .is_ok_and(|e| Self::is_mcp(&e))
        {
            return Err(ConnectorError::invalid_input(format!(
                "connector '{}' is an MCP server: the hub keeps one session per server, so it uses one shared account; an admin connects it with \"shared\": true",
                record.name
            )));
        }
        let app = self.app_for(&record, input.app.as_deref()).await?;
        let owner = if input.shared {
            SHARED_CONNECTION.to_string()
        } else {
            caller.user_id.clone()
        };
        self.authorization_for(caller, &record, &app, &owner, input.scopes, redirect_base)
            .await
    }

    async fn authorization_for(
        &self,
        caller: &Caller,
        record: &ConnectorRecord,
        app: &OAuthAppRecord,
        owner: &str,
        scopes: Option<Vec<String>>,
        redirect_base: &str,
    ) -> Result<OAuthStartView, ConnectorError> {
        let state = proto::random_token(32);
        let verifier = proto::random_token(48);
        let redirect_uri = format!("{}/api/oauth/callback", redirect_base.trim_end_matches('/'));
        let expires_at = now_ms() + STATE_TTL.as_millis() as i64;
        self.store()
            .insert_oauth_state(
                &proto::sha256_hex(&state),
                &OAuthStateRecord {
                    tenant_id: record.tenant_id.clone(),
                    user_id: caller.user_id.clone(),
                    connector_id: record.id.clone(),
                    app_id: app.id.clone(),
                    owner_user_id: owner.to_string(),
                    verifier: verifier.clone(),
                    redirect_uri: redirect_uri.clone(),
                    resource: app.resource.clone(),
                    expires_at,
                },
            )
            .await
            .map_err(store_error)?;
        let scopes = scopes.unwrap_or_else(|| app.scopes.clone());
        let mut params = vec![
            ("response_type".to_string(), "code".to_string()),
            ("client_id".to_string(), app.client_id.clone()),
            ("redirect_uri".to_string(), redirect_uri),
            ("state".to_string(), state),
            (
                "code_challenge".to_string(),
                proto::pkce_challenge(&verifier),
            ),
            ("code_challenge_method".to_string(), "S256".to_string()),
        ];
        if !scopes.is_empty() {
            params.push(("scope".to_string(), scopes.join(" ")));
        }
        if let Some(resource) = &app.resource {
            params.push(("resource".to_string(), resource.clone()));
        }
        params.extend(proto::string_params(&app.extra_params));
        Ok(OAuthStartView {
            authorization_url: proto::authorization_url(&app.authorization_url, &params),
            expires_at,
        })
    }

    /// Finishes an authorization from the provider's redirect. Never fails: the
    /// outcome is shown to a person in a browser.
    pub async fn oauth_callback(&self, params: CallbackParams) -> CallbackOutcome {
        let Some(state) = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 512)
        else {
            return CallbackOutcome::StateUnknown;
        };
        let taken = match self
            .store()
            .take_oauth_state(&proto::sha256_hex(state))
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "could not read an OAuth state");
                return CallbackOutcome::Failed {
                    reason: "the hub could not read the pending authorization".into(),
                };
            }
        };
        let pending = match taken {
            StateLookup::Found(p) => p,
            StateLookup::Expired => return CallbackOutcome::StateExpired,
            StateLookup::Unknown => return CallbackOutcome::StateUnknown,
        };
        if let Some(error) = params.error.as_deref() {
            let words: String = params
                .error_description
                .as_deref()
                .unwrap_or(error)
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            return CallbackOutcome::Denied { reason: words };
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            return CallbackOutcome::Failed {
                reason: "the provider sent neither a code nor an error".into(),
            };
        };
        match self.finish_connect(&pending, code).await {
            Ok(name) => CallbackOutcome::Connected { connector: name },
            Err(e) => CallbackOutcome::Failed { reason: e.message },
        }
    }

    async fn finish_connect(
        &self,
        pending: &OAuthStateRecord,
        code: &str,
    ) -> Result<String, ConnectorError> {
        let app = self.oauth_app(&pending.tenant_id, &pending.app_id).await?;
        let record = self
            .store()
            .get_connector(&pending.tenant_id, &pending.connector_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| ConnectorError::not_found("the connector was deleted meanwhile"))?;
        let client = self.client_auth(&app).await?;
        let mut form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".to_string(), code.to_string()),
            ("redirect_uri".to_string(), pending.redirect_uri.clone()),
            ("code_verifier".to_string(), pending.verifier.clone()),
        ];
        if let Some(r) = &pending.resource {
            form.push(("resource".to_string(), r.clone()));
        }
        let tokens =
            proto::token_request(&self.inner.http, &app.token_url, &client, form, now_ms())
                .await
                .map_err(|e| {
                    ConnectorError::new(
                        ErrorCode::UpstreamError,
                        format!("the code exchange failed: {e}"),
                    )
                })?;
        self.save_tokens(
            &record.tenant_id,
            &record.id,
            &pending.owner_user_id,
            &app.id,
            pending.resource.clone(),
            &tokens,
        )
        .await?;
        if pending.owner_user_id.is_empty() {
            self.store()
                .set_connector_status(&record.tenant_id, &record.id, "connected", None)
                .await
                .map_err(store_error)?;
            self.connectors_changed();
            // An MCP server waiting for this account connects now.
            self.restart_upstream(&record).await;
        }
        self.audit().record(NewAuditEntry {
            tenant_id: record.tenant_id.clone(),
            actor_user_id: Some(pending.user_id.clone()),
            actor_key_id: None,
            action: "oauth.connect".into(),
            target_kind: "connector".into(),
            target_id: Some(record.id.clone()),
            connector_id: Some(record.id.clone()),
            command: None,
            outcome: "ok".into(),
            error_code: None,
            duration_ms: None,
            detail: Some(serde_json::json!({"shared": pending.owner_user_id.is_empty()})),
        });
        Ok(record.name)
    }

    async fn client_auth(&self, app: &OAuthAppRecord) -> Result<ClientAuth, ConnectorError> {
        Ok(ClientAuth::new(
            app.client_id.clone(),
            self.store()
                .oauth_app_secret(&app.tenant_id, &app.id)
                .await
                .map_err(store_error)?,
        ))
    }

    async fn save_tokens(
        &self,
        tenant: &str,
        connector: &str,
        user: &str,
        app_id: &str,
        resource: Option<String>,
        tokens: &TokenSet,
    ) -> Result<(), ConnectorError> {
        let now = now_ms();
        let value = serde_json::to_value(tokens)
            .map_err(|_| ConnectorError::internal("could not encode the token set"))?;
        self.store()
            .save_oauth_connection(
                &OAuthConnectionRecord {
                    tenant_id: tenant.to_string(),
                    connector_id: connector.to_string(),
                    user_id: user.to_string(),
                    app_id: app_id.to_string(),
                    status: "connected".into(),
                    status_reason: None,
                    scope: tokens.scope.clone(),
                    resource,
                    expires_at: tokens.expires_at,
                    connected_at: now,
                    updated_at: now,
                },
                &value,
            )
            .await
            .map_err(store_error)
    }

    /// Connections of a connector the caller may see: the shared one and their own
    /// (admins see every user's).
    pub async fn oauth_connections(
        &self,
        caller: &Caller,
        connector: &str,
    ) -> Result<Vec<OAuthConnectionView>, ConnectorError> {
        let record = self.visible_connector(caller, connector).await?;
        Ok(self
            .store()
            .list_oauth_connections(&caller.tenant_id, &record.id)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(|c| c.user_id.is_empty() || c.user_id == caller.user_id || caller.is_admin())
            .map(Into::into)
            .collect())
    }

    /// Forgets a connection, revoking its tokens at the provider (RFC 7009) when it can.
    pub async fn oauth_disconnect(
        &self,
        caller: &Caller,
        connector: &str,
        shared: bool,
    ) -> Result<bool, ConnectorError> {
        let record = self.visible_connector(caller, connector).await?;
        if shared {
            caller.require_admin("disconnecting a connector's shared account")?;
        }
        let user = if shared {
            SHARED_CONNECTION
        } else {
            caller.user_id.as_str()
        };
        let Some(conn) = self
            .store()
            .get_oauth_connection(&record.tenant_id, &record.id, user)
            .await
            .map_err(store_error)?
        else {
            return Ok(false);
        };
        if let Ok(app) = self.oauth_app(&record.tenant_id, &conn.app_id).await {
            if let (Some(url), Ok(Some(tokens))) = (
                app.revocation_url.as_deref(),
                self.store()
                    .oauth_tokens(&record.tenant_id, &record.id, user)
                    .await,
            ) {
                let tokens: Option<TokenSet> = serde_json::from_value(tokens).ok();
                let client = self.client_auth(&app).await?;
                if let Some(t) = tokens {
                    let (token, hint) = match &t.refresh_token {
                        Some(r) => (r.as_str(), "refresh_token"),
                        None => (t.access_token.as_str(), "access_token"),
                    };
                    let revoked = if app.provider == "github" {
                        proto::revoke_github(&self.inner.http, url, &client, &t.access_token).await
                    } else {
                        proto::revoke(&self.inner.http, url, &client, token, hint).await
                    };
                    if let Err(e) = revoked {
                        tracing::warn!(connector = %record.name, error = %e, "token revocation failed; the connection is forgotten anyway");
                    }
                }
            }
        }
        let done = self
            .store()
            .delete_oauth_connection(&record.tenant_id, &record.id, user)
            .await
            .map_err(store_error)?;
        if shared {
            self.store()
                .set_connector_status(
                    &record.tenant_id,
                    &record.id,
                    "disconnected",
                    Some("the shared OAuth account was disconnected"),
                )
                .await
                .map_err(store_error)?;
            self.connectors_changed();
            self.restart_upstream(&record).await;
        }
        self.audit_oauth(caller, "oauth.disconnect", &record.id, Some(&record.id));
        Ok(done)
    }

    fn audit_oauth(&self, caller: &Caller, action: &str, target: &str, connector: Option<&str>) {
        self.audit().record(NewAuditEntry {
            tenant_id: caller.tenant_id.clone(),
            actor_user_id: Some(caller.user_id.clone()),
            actor_key_id: caller.key_id.clone(),
            action: action.into(),
            target_kind: if connector.is_some() {
                "connector"
            } else {
                "oauth_app"
            }
            .into(),
            target_id: Some(target.to_string()),
            connector_id: connector.map(str::to_string),
            command: None,
            outcome: "ok".into(),
            error_code: None,
            duration_ms: None,
            detail: None,
        });
    }

    /// How to reconnect, for tool errors: a ready authorization URL for the caller
    /// when the hub knows its public URL, else the API call to make.
    async fn reconnect_hint(
        &self,
        caller: &Caller,
        record: &ConnectorRecord,
        owner: &str,
    ) -> String {
        if let Some(base) = self.settings().public_url.clone() {
            if let Ok(app) = self.app_for(record, None).await {
                if let Ok(start) = self
                    .authorization_for(caller, record, &app, owner, None, &base)
                    .await
                {
                    return format!(
                        "ask your user to open {} to connect their account (the link expires in {} minutes)",
                        start.authorization_url,
                        STATE_TTL.as_secs() / 60
                    );
                }
            }
        }
        format!(
            "ask your user to connect their account: POST /api/oauth/start with {{\"connector\": \"{}\"}} and open the returned authorizationUrl",
            record.name
        )
    }

    /// For a connector that uses OAuth: which connection a call by `caller` uses and
    /// its fresh access token. `None` when the connector does not use OAuth.
    pub(crate) async fn oauth_token_for_call(
        &self,
        caller: &Caller,
        record: &ConnectorRecord,
        spec: &switchboard_contract::ConnectorSpec,
        stale: Option<&str>,
    ) -> Result<Option<(String, String)>, ConnectorError> {
        if !Self::uses_oauth(record, spec) {
            return Ok(None);
        }
        let store = self.store();
        let mut chosen = None;
        for user in [caller.user_id.as_str(), SHARED_CONNECTION] {
            if let Some(c) = store
                .get_oauth_connection(&record.tenant_id, &record.id, user)
                .await
                .map_err(store_error)?
            {
                chosen = Some(c);
                break;
            }
        }
        let Some(conn) = chosen else {
            let hint = self.reconnect_hint(caller, record, &caller.user_id).await;
            return Err(ConnectorError::new(
                ErrorCode::Unauthorized,
                format!(
                    "connector '{}' has no credentials: give it its own (an API token or access token; see GET /api/connector-types/{}) or connect an account: {hint}",
                    record.name, record.type_id
                ),
            ));
        };
        if conn.status == "expired" {
            let hint = self.reconnect_hint(caller, record, &conn.user_id).await;
            return Err(ConnectorError::new(
                ErrorCode::Unauthorized,
                format!(
                    "the connected account of connector '{}' has expired ({}): {hint}",
                    record.name,
                    conn.status_reason.as_deref().unwrap_or("no reason given")
                ),
            ));
        }
        match self.fresh_access_token(&conn, stale).await {
            Ok(tokens) => Ok(Some((tokens.access_token, conn.user_id))),
            Err(RefreshFailure::Expired(reason)) => {
                let hint = self.reconnect_hint(caller, record, &conn.user_id).await;
                Err(ConnectorError::new(
                    ErrorCode::Unauthorized,
                    format!(
                        "the connected account of connector '{}' has expired ({reason}): {hint}",
                        record.name
                    ),
                ))
            }
            Err(RefreshFailure::Other(e)) => Err(e),
        }
    }

    /// For a connector that uses OAuth (and has no credentials of its own): which
    /// account `caller`'s calls would use and its state, as `oauth_token_for_call`
    /// would choose it.
    pub(crate) async fn account_view(
        &self,
        caller: &Caller,
        record: &ConnectorRecord,
        spec: Option<&switchboard_contract::ConnectorSpec>,
        secrets: &Map<String, Value>,
    ) -> Result<Option<AccountView>, ConnectorError> {
        let Some(spec) = spec else { return Ok(None) };
        let oauth_type = record.config.get("authType").and_then(Value::as_str) == Some("oauth");
        let own_credentials = !secrets.is_empty() && !oauth_type;
        if own_credentials || !Self::uses_oauth(record, spec) {
            return Ok(None);
        }
        let mcp = spec.execution_model == switchboard_contract::ExecutionModel::Mcp;
        let owners: &[(&str, &str)] = if mcp {
            &[(SHARED_CONNECTION, "shared")]
        } else {
            &[
                (caller.user_id.as_str(), "own"),
                (SHARED_CONNECTION, "shared"),
            ]
        };
        for (user, uses) in owners {
            if let Some(c) = self
                .store()
                .get_oauth_connection(&record.tenant_id, &record.id, user)
                .await
                .map_err(store_error)?
            {
                return Ok(Some(AccountView {
                    uses: (*uses).into(),
                    status: c.status,
                    status_reason: c.status_reason,
                }));
            }
        }
        Ok(Some(AccountView {
            uses: "none".into(),
            status: "not_connected".into(),
            status_reason: Some(if mcp {
                "an admin connects the shared account: POST /api/oauth/start with shared: true"
                    .into()
            } else {
                "connect your account: POST /api/oauth/start, then open the authorizationUrl".into()
            }),
        }))
    }

    /// The access token of a connector's shared connection, for an upstream MCP
    /// session (one per connector, so never a user's own). Errors say what to do.
    pub(crate) async fn shared_access_token(
        &self,
        tenant: &str,
        connector: &str,
        stale: Option<&str>,
    ) -> Result<TokenSet, String> {
        let conn = self
            .store()
            .get_oauth_connection(tenant, connector, SHARED_CONNECTION)
            .await
            .map_err(|e| store_error(e).message)?
            .ok_or_else(|| {
                "no account is connected: an admin connects one with POST /api/oauth/start {\"connector\": …, \"shared\": true}".to_string()
            })?;
        if conn.status == "expired" {
            return Err(format!(
                "the connected account has expired ({}); an admin reconnects it with POST /api/oauth/start (shared: true)",
                conn.status_reason.as_deref().unwrap_or("no reason given")
            ));
        }
        self.fresh_access_token(&conn, stale)
            .await
            .map_err(|e| match e {
                RefreshFailure::Expired(reason) => format!(
                    "the connected account has expired ({reason}); an admin reconnects it with POST /api/oauth/start (shared: true)"
                ),
                RefreshFailure::Other(e) => e.message,
            })
    }

    fn is_fresh(&self, tokens: &TokenSet, stale: Option<&str>) -> bool {
        if stale == Some(tokens.access_token.as_str()) {
            return false;
        }
        let skew = self.settings().oauth_refresh_skew.as_millis() as i64;
        tokens.expires_at.is_none_or(|at| at - now_ms() > skew)
    }

    async fn read_tokens(&self, conn: &OAuthConnectionRecord) -> Result<TokenSet, RefreshFailure> {
        let value = self
            .store()
            .oauth_tokens(&conn.tenant_id, &conn.connector_id, &conn.user_id)
            .await
            .map_err(|e| RefreshFailure::Other(store_error(e)))?
            .ok_or_else(|| RefreshFailure::Expired("its tokens are gone".into()))?;
        serde_json::from_value(value).map_err(|_| {
            RefreshFailure::Other(ConnectorError::internal(
                "the stored token set is unreadable",
            ))
        })
    }

    /// A token that is not about to expire (and is not `stale`, the one a vendor just
    /// refused). Refreshes at most once per credential however many calls ask at once.
    async fn fresh_access_token(
        &self,
        conn: &OAuthConnectionRecord,
        stale: Option<&str>,
    ) -> Result<TokenSet, RefreshFailure> {
        let tokens = self.read_tokens(conn).await?;
        if self.is_fresh(&tokens, stale) {
            return Ok(tokens);
        }
        let key = lease_key(&conn.tenant_id, &conn.connector_id, &conn.user_id);
        let lock = self.inner.oauth_locks.get(&key);
        let _guard = lock.lock().await;
        // Another call on this replica may have refreshed while we waited.
        let tokens = self.read_tokens(conn).await?;
        if self.is_fresh(&tokens, stale) {
            return Ok(tokens);
        }
        let holder = uuid::Uuid::new_v4().to_string();
        let deadline = std::time::Instant::now() + Duration::from_millis(LEASE_TTL_MS as u64);
        loop {
            let got = self
                .store()
                .try_oauth_lease(&key, &holder, LEASE_TTL_MS)
                .await
                .map_err(|e| RefreshFailure::Other(store_error(e)))?;
            // Re-check after every attempt: another replica may have refreshed.
            let tokens = self.read_tokens(conn).await?;
            if self.is_fresh(&tokens, stale) {
                if got {
                    let _ = self.store().release_oauth_lease(&key, &holder).await;
                }
                return Ok(tokens);
            }
            if got {
                let result = self.refresh(conn, tokens).await;
                let _ = self.store().release_oauth_lease(&key, &holder).await;
                return result;
            }
            if std::time::Instant::now() > deadline {
                return Err(RefreshFailure::Other(
                    ConnectorError::unavailable(
                        "another replica is refreshing this account's token; retry shortly",
                    )
                    .with_retry_after_ms(1000),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One refresh-token grant. The new set (with a rotated refresh token) is stored
    /// before the access token is used; `invalid_grant` marks the connection expired.
    async fn refresh(
        &self,
        conn: &OAuthConnectionRecord,
        tokens: TokenSet,
    ) -> Result<TokenSet, RefreshFailure> {
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            let reason =
                "the access token expired and the provider gave no refresh token; reconnect";
            self.mark_expired(conn, reason).await;
            return Err(RefreshFailure::Expired(reason.into()));
        };
        let app = self
            .oauth_app(&conn.tenant_id, &conn.app_id)
            .await
            .map_err(RefreshFailure::Other)?;
        let client = self
            .client_auth(&app)
            .await
            .map_err(RefreshFailure::Other)?;
        let mut form = vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".to_string(), refresh_token.clone()),
        ];
        if let Some(r) = &conn.resource {
            form.push(("resource".to_string(), r.clone()));
        }
        match proto::token_request(&self.inner.http, &app.token_url, &client, form, now_ms()).await
        {
            Ok(mut new) => {
                if new.refresh_token.is_none() {
                    new.refresh_token = Some(refresh_token);
                }
                self.save_tokens(
                    &conn.tenant_id,
                    &conn.connector_id,
                    &conn.user_id,
                    &conn.app_id,
                    conn.resource.clone(),
                    &new,
                )
                .await
                .map_err(RefreshFailure::Other)?;
                Ok(new)
            }
            Err(e) if e.is_invalid_grant() => {
                let reason = format!("the provider no longer accepts the grant ({e}); the account must be connected again");
                self.mark_expired(conn, &reason).await;
                Err(RefreshFailure::Expired(reason))
            }
            Err(e) => Err(RefreshFailure::Other(oauth_failure(e))),
        }
    }

    async fn mark_expired(&self, conn: &OAuthConnectionRecord, reason: &str) {
        let store = self.store();
        if let Err(e) = store
            .set_oauth_connection_status(
                &conn.tenant_id,
                &conn.connector_id,
                &conn.user_id,
                "expired",
                Some(reason),
            )
            .await
        {
            tracing::error!(error = %e, "could not mark an OAuth connection expired");
        }
        if conn.user_id.is_empty() {
            if let Err(e) = store
                .set_connector_status(&conn.tenant_id, &conn.connector_id, "expired", Some(reason))
                .await
            {
                tracing::error!(error = %e, "could not mark a connector expired");
            }
            self.connectors_changed();
        }
    }
}

pub(crate) enum RefreshFailure {
    /// The grant is gone; the user must connect again.
    Expired(String),
    Other(ConnectorError),
}
