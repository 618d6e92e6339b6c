//! OAuth 2.1 client protocol pieces the hub uses to connect accounts: provider presets,
//! authorization server discovery (RFC 8414 / OpenID discovery), PKCE S256, and the token
//! endpoint (code exchange, refresh, RFC 7009 revocation). Requests go through the
//! [`OutboundClient`], so the network policy holds for token endpoints too. Errors never
//! carry a token, a code, a verifier or a client secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::http::{OutboundClient, OutboundError, OutboundRequest};

pub mod upstream;

/// Endpoints and defaults of a well-known provider.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderPreset {
    pub provider: &'static str,
    pub authorization_url: &'static str,
    pub token_url: &'static str,
    pub revocation_url: Option<&'static str>,
    pub default_scopes: &'static [&'static str],
    /// Extra authorization parameters the provider needs (e.g. Atlassian's `audience`).
    #[schema(value_type = Object)]
    pub extra_params: &'static [(&'static str, &'static str)],
    /// Whether the provider accepts RFC 8707 `resource`.
    pub supports_resource: bool,
}

/// Atlassian (Jira, Confluence), Salesforce and GitHub, from their public docs.
pub const PRESETS: &[ProviderPreset] = &[
    // https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
    ProviderPreset {
        provider: "atlassian",
        authorization_url: "https://auth.atlassian.com/authorize",
        token_url: "https://auth.atlassian.com/oauth/token",
        revocation_url: None,
        default_scopes: &[
            "offline_access",
            "read:jira-work",
            "write:jira-work",
            "read:jira-user",
            "read:confluence-content.all",
            "write:confluence-content",
            "search:confluence",
        ],
        extra_params: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
        supports_resource: false,
    },
    // https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_endpoints.htm
    ProviderPreset {
        provider: "salesforce",
        authorization_url: "https://login.salesforce.com/services/oauth2/authorize",
        token_url: "https://login.salesforce.com/services/oauth2/token",
        revocation_url: Some("https://login.salesforce.com/services/oauth2/revoke"),
        default_scopes: &["api", "refresh_token"],
        extra_params: &[],
        supports_resource: false,
    },
    // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
    ProviderPreset {
        provider: "github",
        authorization_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        // Not RFC 7009: DELETE /applications/{client_id}/grant (see `revoke_github`).
        revocation_url: Some("https://api.github.com/applications/{client_id}/grant"),
        default_scopes: &["repo", "read:org"],
        extra_params: &[],
        supports_resource: false,
    },
];

pub fn preset(provider: &str) -> Option<&'static ProviderPreset> {
    PRESETS.iter().find(|p| p.provider == provider)
}

/// What discovery found in an authorization server's metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Accepts an HTTPS URL as `client_id` (a client ID metadata document).
    #[serde(default)]
    pub client_id_metadata_document_supported: Option<bool>,
    /// RFC 9207: the authorization response carries `iss`, which must be checked.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider refused (`error` from RFC 6749 §5.2), e.g. `invalid_grant`.
    #[error("the provider refused: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        code: String,
        description: Option<String>,
    },
    /// The provider could not be reached or answered something that is not OAuth.
    #[error("{0}")]
    Provider(String),
}

impl OAuthError {
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, OAuthError::Refused { code, .. } if code == "invalid_grant")
    }
}

fn outbound(e: OutboundError) -> OAuthError {
    OAuthError::Provider(format!("the provider could not be reached: {e}"))
}

/// RFC 8414 well-known URLs for `issuer`, OAuth first then OpenID (both path styles).
pub fn discovery_urls(issuer: &str) -> Vec<String> {
    let issuer = issuer.trim_end_matches('/');
    let (origin, path) = match issuer
        .find("://")
        .and_then(|i| issuer[i + 3..].find('/').map(|j| i + 3 + j))
    {
        Some(split) => (&issuer[..split], &issuer[split..]),
        None => (issuer, ""),
    };
    let mut urls = vec![format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    )];
    if !path.is_empty() {
        urls.push(format!("{origin}/.well-known/openid-configuration{path}"));
    }
    urls.push(format!("{issuer}/.well-known/openid-configuration"));
    urls
}

/// Fetches and checks the metadata of `issuer` (its `issuer` must match, RFC 8414 §3.3).
pub async fn discover(
    http: &OutboundClient,
    issuer: &str,
) -> Result<AuthServerMetadata, OAuthError> {
    let mut last = String::from("no metadata document answered");
    for url in discovery_urls(issuer) {
        let resp = match http
            .send(
                OutboundRequest::get(&url).header("Accept", "application/json"),
                None,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                last = format!("the issuer could not be reached: {e}");
                continue;
            }
        };
        if !resp.is_success() {
            last = format!("{url} answered HTTP {}", resp.status);
            continue;
        }
        let meta: AuthServerMetadata = resp.json().map_err(|_| {
            OAuthError::Provider(format!(
                "{url} is not authorization server metadata (issuer, authorization_endpoint and token_endpoint are required)"
            ))
        })?;
        if meta.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(OAuthError::Provider(format!(
                "the metadata at {url} names issuer '{}', not '{issuer}'",
                meta.issuer
            )));
        }
        return Ok(meta);
    }
    Err(OAuthError::Provider(format!(
        "discovery failed for '{issuer}': {last}"
    )))
}

/// A fresh random token (`bytes` of entropy), URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// PKCE S256 challenge of `verifier` (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Hex SHA-256, used to store `state` without storing it.
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token endpoint's answer, plus when the access token expires (ms since epoch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// How a client authenticates at the token endpoint (RFC 7591 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuthMethod {
    /// HTTP Basic with the id and secret.
    Basic,
    /// The id and secret in the form body.
    Post,
    /// A public client: the id in the form body, no secret.
    None,
}

impl TokenAuthMethod {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "client_secret_basic" => Some(Self::Basic),
            "client_secret_post" => Some(Self::Post),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
            Self::None => "none",
        }
    }
}

/// A client's credentials at a token endpoint.
#[derive(Clone)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub method: TokenAuthMethod,
}

impl ClientAuth {
    /// A client that uses HTTP Basic when it has a secret, else none (the default of RFC 7591).
    pub fn new(client_id: impl Into<String>, client_secret: Option<String>) -> Self {
        let method = if client_secret.is_some() {
            TokenAuthMethod::Basic
        } else {
            TokenAuthMethod::None
        };
        ClientAuth {
            client_id: client_id.into(),
            client_secret,
            method,
        }
    }

    /// Adds the client's authentication to a token-endpoint request.
    fn apply(&self, mut req: OutboundRequest, form: &mut Vec<(String, String)>) -> OutboundRequest {
        match (self.method, &self.client_secret) {
            (TokenAuthMethod::Basic, Some(secret)) => {
                req = req.basic(form_encode(&self.client_id), form_encode(secret));
            }
            (TokenAuthMethod::Post, Some(secret)) => {
                form.push(("client_id".into(), self.client_id.clone()));
                form.push(("client_secret".into(), secret.clone()));
            }
            _ => form.push(("client_id".into(), self.client_id.clone())),
        }
        req
    }
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientAuth({})", self.client_id)
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Sends a token request, authenticating as the client's method says, and reads a
/// token set or an OAuth error.
pub async fn token_request(
    http: &OutboundClient,
    token_url: &str,
    client: &ClientAuth,
    mut form: Vec<(String, String)>,
    now_ms: i64,
) -> Result<TokenSet, OAuthError> {
    let req = OutboundRequest::post(token_url).header("Accept", "application/json");
    let req = client.apply(req, &mut form);
    let resp = http.send(req.form(form), None).await.map_err(outbound)?;
    let body = resp.json_value();
    if !resp.is_success() {
        if let Some(code) = body.get("error").and_then(Value::as_str) {
            return Err(OAuthError::Refused {
                code: code.chars().take(64).collect(),
                description: body
                    .get("error_description")
                    .and_then(Value::as_str)
                    .map(|d| d.chars().take(200).collect()),
            });
        }
        return Err(OAuthError::Provider(format!(
            "the token endpoint answered HTTP {} without an OAuth error",
            resp.status
        )));
    }
    let Some(access_token) = body.get("access_token").and_then(Value::as_str) else {
        return Err(OAuthError::Provider(
            "the token endpoint's answer has no access_token".into(),
        ));
    };
    let str_field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let expires_in = body.get("expires_in").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    Ok(TokenSet {
        access_token: access_token.to_string(),
        refresh_token: str_field("refresh_token"),
        token_type: str_field("token_type"),
        scope: str_field("scope"),
        expires_at: expires_in.map(|s| now_ms + s.max(0) * 1000),
    })
}

/// RFC 7009 revocation of one token; the provider's answer only matters for the log.
pub async fn revoke(
    http: &OutboundClient,
    revocation_url: &str,
    client: &ClientAuth,
    token: &str,
    hint: &str,
) -> Result<(), OAuthError> {
    let mut form = vec![
        ("token".to_string(), token.to_string()),
        ("token_type_hint".to_string(), hint.to_string()),
    ];
    let req = client.apply(OutboundRequest::post(revocation_url), &mut form);
    let resp = http.send(req.form(form), None).await.map_err(outbound)?;
    if resp.is_success() {
        Ok(())
    } else {
        Err(OAuthError::Provider(format!(
            "the revocation endpoint answered HTTP {}",
            resp.status
        )))
    }
}

/// GitHub's revocation, which is not RFC 7009: `DELETE /applications/{client_id}/grant`
/// with the app's Basic credentials and the access token in a JSON body; it removes the
/// whole grant. <https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-authorization>
pub async fn revoke_github(
    http: &OutboundClient,
    url_template: &str,
    client: &ClientAuth,
    access_token: &str,
) -> Result<(), OAuthError> {
    let secret = client.client_secret.as_deref().ok_or_else(|| {
        OAuthError::Provider("GitHub revocation needs the app's client secret".into())
    })?;
    let url = url_template.replace("{client_id}", &form_encode(&client.client_id));
    let req = OutboundRequest::delete(url)
        .header("Accept", "application/vnd.github+json")
        .basic(&client.client_id, secret)
        .json(serde_json::json!({"access_token": access_token}));
    let resp = http.send(req, None).await.map_err(outbound)?;
    // 204: revoked; 404: already gone.
    if resp.is_success() || resp.status == 404 {
        Ok(())
    } else {
        Err(OAuthError::Provider(format!(
            "GitHub's grant endpoint answered HTTP {}",
            resp.status
        )))
    }
}

/// The authorization URL with every parameter encoded.
pub fn authorization_url(base: &str, params: &[(String, String)]) -> String {
    let mut url = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(&form_encode(k));
        url.push('=');
        url.push_str(&form_encode(v));
        sep = '&';
    }
    url
}

/// Extra parameters of an app as strings (non-strings are refused at registration).
pub fn string_params(map: &Map<String, Value>) -> Vec<(String, String)> {
    map.iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn discovery_inserts_well_known_before_the_path() {
        assert_eq!(
            discovery_urls("https://as.example.com/tenant1"),
            vec![
                "https://as.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://as.example.com/.well-known/openid-configuration/tenant1",
                "https://as.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            discovery_urls("https://as.example.com/"),
            vec![
                "https://as.example.com/.well-known/oauth-authorization-server",
                "https://as.example.com/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn presets_cover_the_vendor_connectors() {
        for p in ["atlassian", "salesforce", "github"] {
            let preset = preset(p).expect(p);
            assert!(preset.authorization_url.starts_with("https://"));
            assert!(preset.token_url.starts_with("https://"));
        }
    }
}
