//! OAuth for an upstream MCP server (MCP authorization spec 2025-11-25), as a library
//! the MCP upstream connectors call: find the authorization server from the upstream's
//! `WWW-Authenticate` and RFC 9728 protected-resource metadata, read its RFC 8414
//! metadata, and get a client (pre-registered, a client ID metadata document, or RFC
//! 7591 dynamic registration). The result registers an OAuth app the connect flow uses.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{discover, outbound, AuthServerMetadata, ClientAuth, OAuthError};
use crate::http::{OutboundClient, OutboundRequest};

/// What an upstream MCP server's authorization needs.
#[derive(Debug, Clone)]
pub struct UpstreamAuth {
    /// The resource identifier to send as RFC 8707 `resource`.
    pub resource: String,
    pub resource_metadata_url: String,
    pub authorization_server: AuthServerMetadata,
    /// From the 401's `scope`, else the metadata's `scopes_supported`.
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

/// Discovers how to authorize against the MCP server at `mcp_url`.
pub async fn discover_upstream(
    http: &OutboundClient,
    mcp_url: &str,
) -> Result<UpstreamAuth, OAuthError> {
    // An unauthenticated initialize: a protected server answers 401 with a challenge.
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
    let mut candidates: Vec<String> = challenge_param(&challenge, "resource_metadata")
        .into_iter()
        .collect();
    candidates.extend(resource_metadata_urls(mcp_url));
    let mut found = None;
    for url in &candidates {
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
                found = Some((url.clone(), meta));
                break;
            }
        }
    }
    let (metadata_url, prm) = found.ok_or_else(|| {
        OAuthError::Provider(
            "the MCP server publishes no protected-resource metadata (RFC 9728)".into(),
        )
    })?;
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
    let scopes = match challenge_param(&challenge, "scope") {
        Some(s) if !s.is_empty() => s.split_whitespace().map(str::to_string).collect(),
        _ => prm.scopes_supported.clone(),
    };
    Ok(UpstreamAuth {
        resource: prm.resource,
        resource_metadata_url: metadata_url,
        authorization_server,
        scopes,
    })
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
        }),
        ClientRegistration::MetadataDocument { url } => {
            if !url.starts_with("https://") {
                return Err(OAuthError::Provider(
                    "a client ID metadata document must be served over https".into(),
                ));
            }
            Ok(ClientAuth {
                client_id: url.clone(),
                client_secret: None,
            })
        }
        ClientRegistration::Dynamic { client_name } => {
            let endpoint = server.registration_endpoint.as_deref().ok_or_else(|| {
                OAuthError::Provider("the authorization server offers no dynamic client registration; register a client by hand".into())
            })?;
            let body = json!({
                "client_name": client_name,
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
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
            Ok(ClientAuth {
                client_id: client_id.to_string(),
                client_secret: v
                    .get("client_secret")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        }
    }
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
