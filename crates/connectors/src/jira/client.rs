//! The Jira Cloud REST v3 client: where requests go (site URL, OAuth gateway with a
//! cloud id, or an override), how they authenticate (email + API token, or a bearer
//! access token), and how Jira's error bodies become contract errors.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use switchboard_contract::{ConnectorError, ErrorCode};
use switchboard_runtime::http::{error_for_status, OutboundRequest, OutboundResponse};
use switchboard_runtime::Call;

/// The OAuth (3LO) gateway: `https://api.atlassian.com/ex/{jira|confluence}/{cloudId}`.
const OAUTH_GATEWAY: &str = "https://api.atlassian.com/ex";
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AtlassianConfig {
    pub site_url: Option<String>,
    pub email: Option<String>,
    pub api_token: Option<String>,
    pub access_token: Option<String>,
    pub cloud_id: Option<String>,
    pub api_base_url: Option<String>,
    pub timeout_ms: Option<u64>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// How a call reaches one Atlassian product (`product` is `jira` or `confluence`).
pub struct Client {
    pub base: String,
    /// Where people open things in a browser (the site), when known.
    pub site: Option<String>,
    auth: Auth,
    timeout: Duration,
    vendor: &'static str,
}

enum Auth {
    Basic(String, String),
    Bearer(String),
}

impl Client {
    pub fn from_call(
        call: &Call,
        product: &str,
        vendor: &'static str,
    ) -> Result<Self, ConnectorError> {
        let cfg: AtlassianConfig = call.config_as()?;
        let auth = match (non_empty(&cfg.access_token), non_empty(&cfg.email), non_empty(&cfg.api_token)) {
            (Some(token), _, _) => Auth::Bearer(token.to_string()),
            (None, Some(email), Some(token)) => Auth::Basic(email.to_string(), token.to_string()),
            _ => {
                return Err(ConnectorError::invalid_input(
                    "the connector has no credential: set email and apiToken (an Atlassian API token), or accessToken (OAuth) with cloudId",
                ))
            }
        };
        let site = non_empty(&cfg.site_url).map(|s| s.trim_end_matches('/').to_string());
        let base = match (non_empty(&cfg.api_base_url), &auth, non_empty(&cfg.cloud_id), &site) {
            (Some(url), _, _, _) => url.trim_end_matches('/').to_string(),
            (None, Auth::Bearer(_), Some(cloud), _) => format!("{OAUTH_GATEWAY}/{product}/{cloud}"),
            (None, _, _, Some(site)) => site.clone(),
            _ => {
                return Err(ConnectorError::invalid_input(
                    "the connector has no address: set siteUrl (https://your-site.atlassian.net), or cloudId with an OAuth accessToken",
                ))
            }
        };
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ConnectorError::invalid_input(format!(
                "'{base}' is not an http(s) URL; set siteUrl like https://your-site.atlassian.net"
            )));
        }
        Ok(Client {
            base,
            site,
            auth,
            timeout: Duration::from_millis(cfg.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).max(1)),
            vendor,
        })
    }

    pub fn auth_mode(&self) -> &'static str {
        match self.auth {
            Auth::Basic(..) => "apiToken",
            Auth::Bearer(_) => "oauth",
        }
    }

    /// A request to `path` (which starts with `/rest/`), authenticated.
    pub fn request(&self, method: http::Method, path: &str) -> OutboundRequest {
        let req = OutboundRequest::new(method, format!("{}{path}", self.base))
            .header("Accept", "application/json")
            .timeout(self.timeout);
        match &self.auth {
            Auth::Basic(email, token) => req.basic(email, token),
            Auth::Bearer(token) => req.bearer(token),
        }
    }

    /// Sends, and turns a non-2xx answer into the contract error (with the rate-limit snapshot).
    pub async fn send(
        &self,
        call: &Call,
        req: OutboundRequest,
    ) -> Result<OutboundResponse, Box<switchboard_contract::Failure>> {
        self.send_as(call, req, None).await
    }

    /// [`Client::send`] with the advice an `invalid_input` answer ends with
    /// (e.g. "Fix the JQL and call again.").
    pub async fn send_as(
        &self,
        call: &Call,
        req: OutboundRequest,
        invalid_hint: Option<&str>,
    ) -> Result<OutboundResponse, Box<switchboard_contract::Failure>> {
        crate::vendor::send_checked(call, req, |resp| {
            vendor_error(resp, self.vendor, invalid_hint)
        })
        .await
    }
}

/// Whether a vendor's relative `next` link stays under `prefix` on the same site
/// (no scheme, no host, no dot segments or encoded separators).
pub fn safe_relative(next: &str, prefix: &str) -> bool {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let lower = path.to_ascii_lowercase();
    path.starts_with(prefix.split('?').next().unwrap_or(prefix))
        && next.starts_with(prefix)
        && !lower.contains("..")
        && !lower.contains("://")
        && !lower.contains('\\')
        && !lower.contains("%2e")
        && !lower.contains("%2f")
        && !lower.contains("%5c")
        && !lower.contains('@')
}

/// `/`-safe encoding of one path segment (an issue key, a page id).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Jira and Confluence errors: `{"errorMessages": [...], "errors": {field: msg}}` (Jira)
/// or `{"message": ..., "statusCode": ...}` (Confluence). The message names what the
/// vendor rejected; `vendorCode` is the HTTP status, or `status:field` for the first
/// rejected field.
pub fn vendor_error(
    resp: &OutboundResponse,
    vendor: &str,
    invalid_hint: Option<&str>,
) -> Option<ConnectorError> {
    let mut err = error_for_status(resp, vendor)?;
    let body = resp.json_value();
    let mut parts: Vec<String> = body
        .get("errorMessages")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut first_field = None;
    if let Some(errors) = body.get("errors").and_then(Value::as_object) {
        for (field, msg) in errors {
            first_field.get_or_insert_with(|| field.clone());
            parts.push(format!(
                "{field}: {}",
                msg.as_str().unwrap_or(&msg.to_string())
            ));
        }
    }
    // Confluence v2: {"errors": [{"status", "code", "title", "detail"}]}.
    let mut v2_code = None;
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        for e in errors {
            v2_code = v2_code.or_else(|| e["code"].as_str().map(str::to_string));
            if let Some(t) = e["title"].as_str() {
                parts.push(t.to_string());
            }
        }
    }
    if let Some(m) = body.get("message").and_then(Value::as_str) {
        // v1 wraps the reason in a Java exception name.
        parts.push(m.rsplit("Exception: ").next().unwrap_or(m).to_string());
    }
    let status = resp.status;
    let detail = parts.join("; ");
    let detail = detail.trim_end_matches('.');
    let custom = invalid_hint.map(|h| format!(" {h}"));
    let hint = match err.code {
        ErrorCode::InvalidInput if custom.is_some() => custom.as_deref().unwrap_or_default(),
        ErrorCode::Unauthorized => " Check email and apiToken, or refresh accessToken.",
        ErrorCode::Forbidden => {
            " The account lacks permission for this; ask an admin or use another account."
        }
        ErrorCode::NotFound => " Check the key or id (or that the account may see it).",
        ErrorCode::Conflict => {
            " Someone changed it meanwhile; read it again and retry with the current version."
        }
        ErrorCode::RateLimited => " Wait retryAfterMs before calling again.",
        ErrorCode::InvalidInput => " Change the named fields and call again.",
        _ => "",
    };
    err.message = if detail.is_empty() {
        format!("{vendor} answered {status}.{hint}")
    } else {
        format!("{vendor} rejected the request ({status}): {detail}.{hint}")
    };
    err.vendor_code = Some(match (first_field, v2_code) {
        (Some(f), _) => format!("{status}:{f}"),
        (None, Some(code)) => code,
        (None, None) => status.to_string(),
    });
    Some(err)
}
