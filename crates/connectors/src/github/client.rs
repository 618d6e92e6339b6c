//! The GitHub REST client: API base (github.com or GitHub Enterprise), bearer token,
//! `Link` header pagination kept on the configured origin, and GitHub's error body
//! (`message`, `errors[]`) mapped to contract errors.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use switchboard_contract::{ConnectorError, ErrorCode, Failure};
use switchboard_runtime::http::{error_for_status, OutboundRequest, OutboundResponse};
use switchboard_runtime::Call;
use url::Url;

pub const DEFAULT_API: &str = "https://api.github.com";
const API_VERSION: &str = "2022-11-28";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GitHubConfig {
    api_base_url: Option<String>,
    access_token: Option<String>,
    timeout_ms: Option<u64>,
}

pub struct Client {
    base: Url,
    token: String,
    timeout: Duration,
}

impl Client {
    pub fn from_call(call: &Call) -> Result<Self, ConnectorError> {
        let cfg: GitHubConfig = call.config_as()?;
        let token = cfg
            .access_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ConnectorError::invalid_input(
                    "the connector has no accessToken: set a GitHub personal access token (or sign in with OAuth)",
                )
            })?
            .to_string();
        let raw = cfg
            .api_base_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_API);
        let base = Url::parse(&format!("{}/", raw.trim_end_matches('/')))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                ConnectorError::invalid_input(format!(
                    "apiBaseUrl '{raw}' is not an http(s) URL; use https://api.github.com or https://HOST/api/v3 for GitHub Enterprise"
                ))
            })?;
        Ok(Client {
            base,
            token,
            timeout: Duration::from_millis(cfg.timeout_ms.unwrap_or(30_000).max(1)),
        })
    }

    /// An authenticated request to `path` (starting with `/`) under the API base.
    pub fn request(&self, method: http::Method, path: &str) -> OutboundRequest {
        let url = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        self.request_url(method, url)
    }

    fn request_url(&self, method: http::Method, url: String) -> OutboundRequest {
        OutboundRequest::new(method, url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .bearer(&self.token)
            .timeout(self.timeout)
    }

    /// A GET of a `Link` URL taken from a cursor, refused unless it is on the API's
    /// own origin and under its base path, so neither a forged cursor nor a vendor
    /// link can send the token elsewhere.
    pub fn follow(&self, link: &str) -> Result<OutboundRequest, ConnectorError> {
        if !self.on_origin(link) {
            return Err(ConnectorError::invalid_input(
                "the cursor does not point at this connector's GitHub API; drop it and start over",
            ));
        }
        Ok(self.request_url(http::Method::GET, link.to_string()))
    }

    pub fn on_origin(&self, link: &str) -> bool {
        Url::parse(link).is_ok_and(|u| {
            u.origin() == self.base.origin()
                && u.username().is_empty()
                && u.path().starts_with(self.base.path())
        })
    }

    pub async fn send(
        &self,
        call: &Call,
        req: OutboundRequest,
    ) -> Result<OutboundResponse, Box<Failure>> {
        crate::vendor::send_checked(call, req, vendor_error).await
    }

    /// The `rel="next"` target of the `Link` header, when it is on the API origin.
    /// A next link elsewhere is dropped (with `true` in the second slot for a warning).
    pub fn next_link(&self, resp: &OutboundResponse) -> (Option<String>, bool) {
        let Some(next) = resp.header("link").and_then(parse_next_link) else {
            return (None, false);
        };
        if self.on_origin(&next) {
            (Some(next), false)
        } else {
            (None, true)
        }
    }
}

/// `<https://…?page=2>; rel="next", <…>; rel="last"` → the next URL.
pub fn parse_next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// GitHub's `{"message", "errors": [{"resource", "field", "code", "message"}]}`: the
/// message names the rejected fields; `vendorCode` is the first error's `code` (e.g.
/// `missing_field`, `invalid`) or the HTTP status. Rate limits (403/429 with
/// `Retry-After` or an exhausted `X-RateLimit-Remaining`) are `rate_limited`.
pub fn vendor_error(resp: &OutboundResponse) -> Option<ConnectorError> {
    let mut err = error_for_status(resp, "GitHub")?;
    let body = resp.json_value();
    let message = body["message"].as_str().unwrap_or("").to_string();
    // GitHub marks secondary limits only in the message on some 403s.
    if resp.status == 403
        && message.to_lowercase().contains("rate limit")
        && err.code != ErrorCode::RateLimited
    {
        err = ConnectorError::rate_limited("", resp.retry_after_ms.or(Some(60_000)))
            .with_diagnostics(err.diagnostics.clone().unwrap_or(Value::Null));
    }
    let details: Vec<String> = body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| match e {
                    Value::String(s) => s.clone(),
                    _ => {
                        let what = [e["resource"].as_str(), e["field"].as_str()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(".");
                        let why = e["message"]
                            .as_str()
                            .or(e["code"].as_str())
                            .unwrap_or("invalid");
                        match e["value"].as_str() {
                            Some(v) => format!("{what} '{v}': {why}"),
                            None => format!("{what}: {why}"),
                        }
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let hint = match err.code {
        ErrorCode::Unauthorized => " Check accessToken (expired or revoked?).",
        ErrorCode::NotFound => " Check owner/repo and the number or path; private repositories need a token with access.",
        ErrorCode::RateLimited => " Wait retryAfterMs before calling again.",
        ErrorCode::InvalidInput => " Change the named fields and call again.",
        ErrorCode::Forbidden => " The token lacks the permission (scope) for this.",
        _ => "",
    };
    let mut text = format!("GitHub answered {}", resp.status);
    if !message.is_empty() {
        text.push_str(&format!(": {}", message.trim_end_matches('.')));
    }
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join("; ")));
    }
    err.message = format!("{text}.{hint}");
    err.vendor_code = Some(
        body["errors"][0]["code"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| resp.status.to_string()),
    );
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::parse_next_link;

    #[test]
    fn link_header_next() {
        let h = r#"<https://api.github.com/user/repos?page=2>; rel="next", <https://api.github.com/user/repos?page=4>; rel="last""#;
        assert_eq!(
            parse_next_link(h).as_deref(),
            Some("https://api.github.com/user/repos?page=2")
        );
        assert_eq!(parse_next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }
}
