//! OAuth for an upstream MCP server (MCP authorization spec 2025-11-25), as a library
//! the MCP upstream connectors call: find the authorization server from the upstream's
//! `WWW-Authenticate` and RFC 9728 protected-resource metadata, read its RFC 8414
//! metadata, and get a client (pre-registered, a client ID metadata document, or RFC
//! 7591 dynamic registration). The result registers an OAuth app the connect flow uses.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    authorization_url, discover, outbound, pkce_challenge, random_token, token_request,
    AuthServerMetadata, ClientAuth, OAuthError, TokenAuthMethod, TokenSet,
};
use crate::http::{OutboundClient, OutboundRequest};

/// What an upstream MCP server's authorization needs.
#[derive(Debug, Clone)]
pub struct UpstreamAuth {
    /// The resource identifier to send as RFC 8707 `resource` (none for a server
    /// of the 2025-03-26 revision, which publishes no protected-resource metadata).
    pub resource: Option<String>,
    pub resource_metadata_url: Option<String>,
    pub authorization_server: AuthServerMetadata,
    /// From the challenge's `scope`, else the metadata's `scopes_supported`; empty
    /// means "send no scope".
    pub scopes: Vec<String>,
}

/// How the hub identifies itself to the upstream's authorization server.
#[derive(Debug, Clone)]
pub enum ClientRegistration {
    /// An admin registered a client by hand.
    PreRegistered {
        client_id: String,
        client_secret: Option<String>,
    },
    /// The client id is the HTTPS URL of a client ID metadata document the hub serves.
    MetadataDocument { url: String },
    /// RFC 7591 dynamic registration at the server's `registration_endpoint`.
    Dynamic { client_name: String },
}

impl ClientRegistration {
    /// The MCP authorization spec's order: pre-registered credentials when there are
    /// some, else a metadata document when the server takes one and we have its URL,
    /// else dynamic registration.
    pub fn choose(
        server: &AuthServerMetadata,
        pre_registered: Option<(String, Option<String>)>,
        metadata_document: Option<String>,
        client_name: &str,
    ) -> Self {
        if let Some((client_id, client_secret)) = pre_registered {
            return ClientRegistration::PreRegistered {
                client_id,
                client_secret,
            };
        }
        match metadata_document {
            Some(url) if server.client_id_metadata_document_supported == Some(true) => {
                ClientRegistration::MetadataDocument { url }
            }
            _ => ClientRegistration::Dynamic {
                client_name: client_name.to_string(),
            },
        }
    }
}

#[derive(Deserialize)]
struct ProtectedResourceMetadata {
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
}

/// A parameter of a `Bearer` challenge (`name="value"` or `name=token`).
pub fn challenge_param(header: &str, name: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&format!("{name}=")) {
        let at = from + i;
        let boundary = at == 0 || matches!(lower.as_bytes()[at - 1], b' ' | b',');
        let rest = &header[at + name.len() + 1..];
        if boundary {
            return Some(match rest.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or("").to_string(),
                None => rest.split([',', ' ']).next().unwrap_or("").to_string(),
            });
        }
        from = at + 1;
    }
    None
}

/// RFC 9728 §3.1 well-known URLs for a resource: path-inserted first, then the root.
pub fn resource_metadata_urls(resource: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(resource) else {
        return Vec::new();
    };
    let origin = u.origin().ascii_serialization();
    let path = u.path().trim_end_matches('/');
    let mut urls = vec![format!(
        "{origin}/.well-known/oauth-protected-resource{path}"
    )];
    if !path.is_empty() {
        urls.push(format!("{origin}/.well-known/oauth-protected-resource"));
    }
    urls
}

/// Whether the protected-resource metadata's `resource` names the server we asked
/// (same origin, and our URL's path within the resource's). A mismatch means the
/// metadata is for another resource: a token obtained for it must not be sent here.
pub fn resource_matches(resource: &str, mcp_url: &str) -> bool {
    let (Ok(r), Ok(m)) = (url::Url::parse(resource), url::Url::parse(mcp_url)) else {
        return false;
    };
    let r_path = r.path().trim_end_matches('/');
    let m_path = m.path().trim_end_matches('/');
    r.origin() == m.origin()
        && (m_path == r_path || m_path.starts_with(&format!("{r_path}/")) || r_path.is_empty())
}

/// Sends an unauthenticated initialize: a protected server answers 401 with a challenge.
async fn probe_challenge(http: &OutboundClient, mcp_url: &str) -> Result<String, OAuthError> {
    let probe = OutboundRequest::post(mcp_url)
        .header("Accept", "application/json, text/event-stream")
        .json(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "switchboard", "version": env!("CARGO_PKG_VERSION")}}}),
        );
    let resp = http.send(probe, None).await.map_err(outbound)?;
    let challenge = resp.header("www-authenticate").unwrap_or("").to_string();
    if resp.status != 401 && challenge.is_empty() {
        return Err(OAuthError::Provider(format!(
            "the MCP server answered HTTP {} without asking for authorization",
            resp.status
        )));
    }
    Ok(challenge)
}

async fn fetch_resource_metadata(
    http: &OutboundClient,
    candidates: &[String],
) -> Option<(String, ProtectedResourceMetadata)> {
    for url in candidates {
        let Ok(r) = http
            .send(
                OutboundRequest::get(url).header("Accept", "application/json"),
                None,
            )
            .await
        else {
            continue;
        };
        if r.is_success() {
            if let Ok(meta) = r.json::<ProtectedResourceMetadata>() {
                return Some((url.clone(), meta));
            }
        }
    }
    None
}

/// Discovers how to authorize against the MCP server at `mcp_url`. `challenge` is
/// the `WWW-Authenticate` of a 401/403 the server already sent; without one the
/// server is probed. A server with no protected-resource metadata is treated as the
/// 2025-03-26 revision did: its origin is the authorization server, with metadata at
/// the root or else the default `/authorize`, `/token` and `/register` endpoints.
pub async fn discover_upstream(
    http: &OutboundClient,
    mcp_url: &str,
    challenge: Option<&str>,
) -> Result<UpstreamAuth, OAuthError> {
    let challenge = match challenge {
        Some(c) => c.to_string(),
        None => probe_challenge(http, mcp_url).await?,
    };
    let mut candidates: Vec<String> = challenge_param(&challenge, "resource_metadata")
        .into_iter()
        .collect();
    candidates.extend(resource_metadata_urls(mcp_url));
    let challenged_scopes: Option<Vec<String>> = challenge_param(&challenge, "scope")
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split_whitespace().map(str::to_string).collect());
    let Some((metadata_url, prm)) = fetch_resource_metadata(http, &candidates).await else {
        return legacy_discovery(http, mcp_url, challenged_scopes).await;
    };
    if !resource_matches(&prm.resource, mcp_url) {
        return Err(OAuthError::Provider(format!(
            "the protected-resource metadata at {metadata_url} is for '{}', not for {mcp_url}; refusing to authorize",
            prm.resource
        )));
    }
    let issuer = prm.authorization_servers.first().ok_or_else(|| {
        OAuthError::Provider("the protected-resource metadata names no authorization server".into())
    })?;
    let authorization_server = discover(http, issuer).await?;
    if !authorization_server
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|m| m.iter().any(|x| x == "S256"))
    {
        return Err(OAuthError::Provider(
            "the authorization server does not advertise PKCE S256, which MCP requires".into(),
        ));
    }
    Ok(UpstreamAuth {
        resource: Some(prm.resource),
        resource_metadata_url: Some(metadata_url),
        authorization_server,
        scopes: challenged_scopes.unwrap_or(prm.scopes_supported),
    })
}

async fn legacy_discovery(
    http: &OutboundClient,
    mcp_url: &str,
    scopes: Option<Vec<String>>,
) -> Result<UpstreamAuth, OAuthError> {
    let origin = url::Url::parse(mcp_url)
        .map_err(|_| OAuthError::Provider(format!("'{mcp_url}' is not a URL")))?
        .origin()
        .ascii_serialization();
    // The 2025-03-26 revision reads the metadata at the server's origin whatever
    // issuer it names (its endpoints may live under a path).
    let at_root = http
        .send(
            OutboundRequest::get(format!("{origin}/.well-known/oauth-authorization-server"))
                .header("Accept", "application/json"),
            None,
        )
        .await
        .ok()
        .filter(|r| r.is_success())
        .and_then(|r| r.json::<AuthServerMetadata>().ok());
    let authorization_server = match at_root {
        Some(meta) => meta,
        None => AuthServerMetadata {
            issuer: origin.clone(),
            authorization_endpoint: format!("{origin}/authorize"),
            token_endpoint: format!("{origin}/token"),
            revocation_endpoint: None,
            registration_endpoint: Some(format!("{origin}/register")),
            code_challenge_methods_supported: None,
            scopes_supported: None,
            token_endpoint_auth_methods_supported: None,
            client_id_metadata_document_supported: None,
            authorization_response_iss_parameter_supported: None,
        },
    };
    Ok(UpstreamAuth {
        resource: None,
        resource_metadata_url: None,
        authorization_server,
        scopes: scopes.unwrap_or_default(),
    })
}

/// The token-endpoint authentication to use with a secret: Basic unless the server
/// lists methods without it (RFC 8414's default is Basic).
fn secret_method(server: &AuthServerMetadata) -> TokenAuthMethod {
    match &server.token_endpoint_auth_methods_supported {
        Some(m) if !m.iter().any(|x| x == "client_secret_basic") => {
            if m.iter().any(|x| x == "client_secret_post") {
                TokenAuthMethod::Post
            } else if m.iter().any(|x| x == "none") {
                TokenAuthMethod::None
            } else {
                TokenAuthMethod::Basic
            }
        }
        _ => TokenAuthMethod::Basic,
    }
}

/// Gets the client the connect flow will use with `redirect_uri`.
pub async fn register_client(
    http: &OutboundClient,
    server: &AuthServerMetadata,
    redirect_uri: &str,
    how: &ClientRegistration,
) -> Result<ClientAuth, OAuthError> {
    match how {
        ClientRegistration::PreRegistered {
            client_id,
            client_secret,
        } => Ok(ClientAuth {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            method: if client_secret.is_some() {
                secret_method(server)
            } else {
                TokenAuthMethod::None
            },
        }),
        ClientRegistration::MetadataDocument { url } => {
            if !url.starts_with("https://") {
                return Err(OAuthError::Provider(
                    "a client ID metadata document must be served over https".into(),
                ));
            }
            Ok(ClientAuth::new(url.clone(), None))
        }
        ClientRegistration::Dynamic { client_name } => {
            let endpoint = server.registration_endpoint.as_deref().ok_or_else(|| {
                OAuthError::Provider("the authorization server offers no dynamic client registration; register a client by hand".into())
            })?;
            let method = secret_method(server);
            // OIDC registration / SEP-837: a loopback redirect is a native app (a CLI),
            // anything else a web app (the hub's callback).
            let native = url::Url::parse(redirect_uri)
                .is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")));
            let body = json!({
                "application_type": if native { "native" } else { "web" },
                "client_name": client_name,
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": method.name(),
            });
            let resp = http
                .send(OutboundRequest::post(endpoint).json(body), None)
                .await
                .map_err(outbound)?;
            let v = resp.json_value();
            if !resp.is_success() {
                let code = v
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("no OAuth error");
                return Err(OAuthError::Provider(format!(
                    "dynamic client registration failed: HTTP {} ({code})",
                    resp.status
                )));
            }
            let client_id = v.get("client_id").and_then(Value::as_str).ok_or_else(|| {
                OAuthError::Provider("the registration answer has no client_id".into())
            })?;
            let client_secret = v
                .get("client_secret")
                .and_then(Value::as_str)
                .map(str::to_string);
            // The server's answer decides; without a secret the client is public.
            let method = match client_secret {
                None => TokenAuthMethod::None,
                Some(_) => v
                    .get("token_endpoint_auth_method")
                    .and_then(Value::as_str)
                    .and_then(TokenAuthMethod::from_name)
                    .unwrap_or(method),
            };
            Ok(ClientAuth {
                client_id: client_id.to_string(),
                client_secret,
                method,
            })
        }
    }
}

/// An authorization request in progress: what to open, and what checks the answer.
pub struct PendingAuthorization {
    pub url: String,
    pub state: String,
    pub verifier: String,
    pub redirect_uri: String,
}

/// Builds the authorization URL (PKCE S256, `state`, RFC 8707 `resource`).
pub fn begin_authorization(
    auth: &UpstreamAuth,
    client: &ClientAuth,
    redirect_uri: &str,
    scopes: &[String],
) -> PendingAuthorization {
    let state = random_token(32);
    let verifier = random_token(48);
    let mut params = vec![
        ("response_type".to_string(), "code".to_string()),
        ("client_id".to_string(), client.client_id.clone()),
        ("redirect_uri".to_string(), redirect_uri.to_string()),
        ("state".to_string(), state.clone()),
        ("code_challenge".to_string(), pkce_challenge(&verifier)),
        ("code_challenge_method".to_string(), "S256".to_string()),
    ];
    if !scopes.is_empty() {
        params.push(("scope".to_string(), scopes.join(" ")));
    }
    if let Some(resource) = &auth.resource {
        params.push(("resource".to_string(), resource.clone()));
    }
    PendingAuthorization {
        url: authorization_url(&auth.authorization_server.authorization_endpoint, &params),
        state,
        verifier,
        redirect_uri: redirect_uri.to_string(),
    }
}

/// Checks the redirect back (state, error, RFC 9207 `iss`) and exchanges the code.
pub async fn finish_authorization(
    http: &OutboundClient,
    auth: &UpstreamAuth,
    client: &ClientAuth,
    pending: &PendingAuthorization,
    redirect: &url::Url,
    now_ms: i64,
) -> Result<TokenSet, OAuthError> {
    let param = |name: &str| {
        redirect
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if param("state").as_deref() != Some(pending.state.as_str()) {
        return Err(OAuthError::Provider(
            "the authorization answer's state does not match the request; refusing it".into(),
        ));
    }
    let issuer = &auth.authorization_server.issuer;
    match param("iss") {
        Some(iss) if iss != *issuer => {
            return Err(OAuthError::Provider(format!(
                "the authorization answer comes from issuer '{iss}', not '{issuer}'; refusing it"
            )))
        }
        None if auth
            .authorization_server
            .authorization_response_iss_parameter_supported
            == Some(true) =>
        {
            return Err(OAuthError::Provider(
                "the authorization server promises an iss parameter but the answer has none; refusing it".into(),
            ))
        }
        _ => {}
    }
    if let Some(error) = param("error") {
        return Err(OAuthError::Refused {
            code: error.chars().take(64).collect(),
            description: param("error_description").map(|d| d.chars().take(200).collect()),
        });
    }
    let code = param("code").ok_or_else(|| {
        OAuthError::Provider("the authorization answer has neither a code nor an error".into())
    })?;
    let mut form = vec![
        ("grant_type".to_string(), "authorization_code".to_string()),
        ("code".to_string(), code),
        ("redirect_uri".to_string(), pending.redirect_uri.clone()),
        ("code_verifier".to_string(), pending.verifier.clone()),
    ];
    if let Some(r) = &auth.resource {
        form.push(("resource".to_string(), r.clone()));
    }
    token_request(
        http,
        &auth.authorization_server.token_endpoint,
        client,
        form,
        now_ms,
    )
    .await
}

/// A refresh-token grant for an upstream's token set (the new set keeps the old
/// refresh token when the server does not rotate it).
pub async fn refresh_tokens(
    http: &OutboundClient,
    auth: &UpstreamAuth,
    client: &ClientAuth,
    refresh_token: &str,
    now_ms: i64,
) -> Result<TokenSet, OAuthError> {
    let mut form = vec![
        ("grant_type".to_string(), "refresh_token".to_string()),
        ("refresh_token".to_string(), refresh_token.to_string()),
    ];
    if let Some(r) = &auth.resource {
        form.push(("resource".to_string(), r.clone()));
    }
    let mut set = token_request(
        http,
        &auth.authorization_server.token_endpoint,
        client,
        form,
        now_ms,
    )
    .await?;
    if set.refresh_token.is_none() {
        set.refresh_token = Some(refresh_token.to_string());
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_challenge_parameters() {
        let h = r#"Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write""#;
        assert_eq!(
            challenge_param(h, "resource_metadata").as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            challenge_param(h, "scope").as_deref(),
            Some("files:read files:write")
        );
        assert_eq!(challenge_param(h, "realm"), None);
    }

    #[test]
    fn resource_must_name_the_server() {
        assert!(resource_matches(
            "http://localhost:3000/mcp",
            "http://localhost:3000/mcp"
        ));
        assert!(resource_matches(
            "http://localhost:3000",
            "http://localhost:3000/mcp"
        ));
        assert!(resource_matches(
            "http://localhost:3000/mcp/",
            "http://localhost:3000/mcp"
        ));
        assert!(!resource_matches(
            "https://evil.example.com/mcp",
            "http://localhost:3000/mcp"
        ));
        assert!(!resource_matches(
            "http://localhost:3000/other",
            "http://localhost:3000/mcp"
        ));
        assert!(!resource_matches(
            "http://localhost:3000/mc",
            "http://localhost:3000/mcp"
        ));
    }

    #[test]
    fn metadata_urls_insert_the_path() {
        assert_eq!(
            resource_metadata_urls("https://mcp.example.com/public/mcp"),
            vec![
                "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
    }
}
