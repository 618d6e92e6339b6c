//! `/mcp` as an OAuth 2.1 resource server (MCP authorization spec 2025-11-25): when an
//! external authorization server is configured, its JWT access tokens are accepted beside
//! API keys. Tokens are checked for signature (JWKS, cached, refetched on an unknown
//! `kid`), expiry, issuer, audience (this resource) and scopes, then mapped to a hub
//! tenant and user by configurable claims. RFC 9728 metadata tells clients where to get
//! a token. A client's token is only ever validated here, never sent to a vendor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use switchboard_runtime::http::OutboundRequest;
use switchboard_runtime::{Caller, Hub};
use tokio::sync::RwLock;

use crate::AppState;

/// The external authorization server `/mcp` trusts. Claim names are configurable:
/// `tenant_claim` (default `tenant`) holds a tenant id or name, `user_claim` (default
/// `sub`) a user id or name in that tenant.
#[derive(Debug, Clone)]
pub struct ResourceServerSettings {
    pub issuer: String,
    /// This resource's identifier, e.g. `https://hub.example.com/mcp`; tokens must name it in `aud`.
    pub audience: String,
    pub jwks_url: String,
    /// Scopes every token must carry (space-separated `scope` or `scp` claim).
    pub required_scopes: Vec<String>,
    pub tenant_claim: String,
    pub user_claim: String,
}

impl ResourceServerSettings {
    pub fn new(issuer: String, audience: String, jwks_url: String) -> Self {
        ResourceServerSettings {
            issuer,
            audience,
            jwks_url,
            required_scopes: Vec::new(),
            tenant_claim: "tenant".into(),
            user_claim: "sub".into(),
        }
    }

    /// RFC 9728 §3.1: the well-known URI inserted before the resource's path.
    pub fn metadata_url(&self) -> String {
        match url::Url::parse(&self.audience) {
            Ok(u) => {
                let path = u.path().trim_end_matches('/');
                format!(
                    "{}/.well-known/oauth-protected-resource{path}",
                    u.origin().ascii_serialization()
                )
            }
            Err(_) => "/.well-known/oauth-protected-resource".into(),
        }
    }

    pub fn metadata(&self) -> Value {
        let mut scopes = self.required_scopes.clone();
        scopes.sort();
        json!({
            "resource": self.audience,
            "authorization_servers": [self.issuer],
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "Switchboard MCP",
        })
    }
}

/// How long fetched keys are trusted, and the least time between two refetches.
const JWKS_TTL: Duration = Duration::from_secs(600);
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(5);

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, (Algorithm, Arc<DecodingKey>)>,
    fetched: Option<Instant>,
}

/// Validates tokens for one configured authorization server.
#[derive(Clone)]
pub struct TokenValidator {
    pub settings: Arc<ResourceServerSettings>,
    cache: Arc<RwLock<KeyCache>>,
}

/// Why a token was not accepted, rendered as the spec's headers.
#[derive(Debug)]
pub enum TokenRejection {
    /// 401 `invalid_token`.
    Invalid(String),
    /// 403 `insufficient_scope`.
    Scope(String),
    /// 403: a valid token for no hub user.
    NoUser(String),
    /// 503: the JWKS could not be fetched.
    Unavailable(String),
}

impl TokenValidator {
    pub fn new(settings: ResourceServerSettings) -> Self {
        TokenValidator {
            settings: Arc::new(settings),
            cache: Arc::default(),
        }
    }

    async fn refetch(&self, hub: &Hub, force: bool) -> Result<(), TokenRejection> {
        let mut cache = self.cache.write().await;
        if let Some(at) = cache.fetched {
            let age = at.elapsed();
            if (!force && age < JWKS_TTL) || (force && age < JWKS_MIN_REFETCH) {
                return Ok(());
            }
        }
        let resp = hub
            .http()
            .send(
                OutboundRequest::get(&self.settings.jwks_url).header("Accept", "application/json"),
                None,
            )
            .await
            .map_err(|e| {
                TokenRejection::Unavailable(format!(
                    "the authorization server's keys could not be fetched: {e}"
                ))
            })?;
        let set: JwkSet = if resp.is_success() {
            resp.json().map_err(|_| {
                TokenRejection::Unavailable(
                    "the authorization server's JWKS is not a JWK set".into(),
                )
            })?
        } else {
            return Err(TokenRejection::Unavailable(format!(
                "the authorization server's JWKS answered HTTP {}",
                resp.status
            )));
        };
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok())
                .unwrap_or(Algorithm::RS256);
            keys.insert(kid, (alg, Arc::new(key)));
        }
        cache.keys = keys;
        cache.fetched = Some(Instant::now());
        Ok(())
    }

    async fn key(
        &self,
        hub: &Hub,
        kid: &str,
    ) -> Result<(Algorithm, Arc<DecodingKey>), TokenRejection> {
        self.refetch(hub, false).await?;
        if let Some(k) = self.cache.read().await.keys.get(kid) {
            return Ok(k.clone());
        }
        // A key we do not know: the server may have rotated; look once more.
        self.refetch(hub, true).await?;
        self.cache
            .read()
            .await
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| {
                TokenRejection::Invalid(
                    "the token is signed with a key the authorization server does not publish"
                        .into(),
                )
            })
    }

    /// The caller a valid access token stands for.
    pub async fn validate(&self, hub: &Hub, token: &str) -> Result<Caller, TokenRejection> {
        let header = decode_header(token)
            .map_err(|_| TokenRejection::Invalid("the token is not a well-formed JWT".into()))?;
        let kid = header.kid.ok_or_else(|| {
            TokenRejection::Invalid("the token names no signing key (kid)".into())
        })?;
        let (alg, key) = self.key(hub, &kid).await?;
        if header.alg != alg {
            return Err(TokenRejection::Invalid(
                "the token's algorithm does not match its key".into(),
            ));
        }
        let s = &self.settings;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[s.issuer.as_str()]);
        validation.set_audience(&[s.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 30;
        let claims = decode::<Value>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                TokenRejection::Invalid(match e.kind() {
                    K::ExpiredSignature => "the token has expired".into(),
                    K::InvalidAudience => format!(
                        "the token is not for this resource (audience must be {})",
                        s.audience
                    ),
                    K::InvalidIssuer => format!("the token was not issued by {}", s.issuer),
                    K::InvalidSignature => "the token's signature is invalid".into(),
                    K::MissingRequiredClaim(c) => format!("the token has no '{c}' claim"),
                    _ => "the token is not valid".into(),
                })
            })?
            .claims;
        let granted: Vec<&str> = match claims.get("scope").or_else(|| claims.get("scp")) {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let missing: Vec<&String> = s
            .required_scopes
            .iter()
            .filter(|r| !granted.contains(&r.as_str()))
            .collect();
        if !missing.is_empty() {
            return Err(TokenRejection::Scope(s.required_scopes.join(" ")));
        }
        let claim = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
        let tenant_ref = claim(&s.tenant_claim).ok_or_else(|| {
            TokenRejection::NoUser(format!(
                "the token has no '{}' claim naming a tenant",
                s.tenant_claim
            ))
        })?;
        let user_ref = claim(&s.user_claim).ok_or_else(|| {
            TokenRejection::NoUser(format!(
                "the token has no '{}' claim naming a user",
                s.user_claim
            ))
        })?;
        let store = hub.store();
        let unavailable = |_| TokenRejection::Unavailable("the hub's store is unavailable".into());
        let tenant = match store.get_tenant(&tenant_ref).await.map_err(unavailable)? {
            Some(t) => Some(t),
            None => store
                .get_tenant_by_name(&tenant_ref)
                .await
                .map_err(unavailable)?,
        }
        .ok_or_else(|| TokenRejection::NoUser(format!("no tenant '{tenant_ref}' on this hub")))?;
        let user = match store
            .get_user(&tenant.id, &user_ref)
            .await
            .map_err(unavailable)?
        {
            Some(u) => Some(u),
            None => store
                .list_users(&tenant.id)
                .await
                .map_err(unavailable)?
                .into_iter()
                .find(|u| u.name == user_ref),
        }
        .ok_or_else(|| {
            TokenRejection::NoUser(format!("no user '{user_ref}' in tenant '{}'", tenant.name))
        })?;
        Ok(Caller {
            tenant_id: tenant.id,
            user_id: user.id,
            key_id: None,
            role: user.role,
            platform_admin: false,
        })
    }

    /// `WWW-Authenticate` for a 401 or 403 (RFC 6750 §3, RFC 9728 §5.1).
    pub fn challenge(&self, error: Option<(&str, &str)>, scope: Option<&str>) -> HeaderValue {
        let mut v = format!(
            "Bearer resource_metadata=\"{}\"",
            self.settings.metadata_url()
        );
        if let Some((code, description)) = error {
            let description: String = description
                .chars()
                .filter(|c| *c != '"' && *c != '\\')
                .collect();
            v.push_str(&format!(
                ", error=\"{code}\", error_description=\"{description}\""
            ));
        }
        if let Some(scope) =
            scope.or_else(|| (!self.settings.required_scopes.is_empty()).then_some(""))
        {
            let scope = if scope.is_empty() {
                self.settings.required_scopes.join(" ")
            } else {
                scope.to_string()
            };
            v.push_str(&format!(", scope=\"{scope}\""));
        }
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }
}

/// `GET /.well-known/oauth-protected-resource[/mcp]`.
pub async fn metadata(State(state): State<AppState>) -> Response {
    match &state.resource_server {
        Some(v) => {
            let mut resp = Json(v.settings.metadata()).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
            resp
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_configured", "error_description": "this hub accepts API keys only: no authorization server is configured"})),
        )
            .into_response(),
    }
}
