//! Outbound errors, and the generic mapping of vendor answers onto connector errors.

use reqwest::Url;
use serde_json::{json, Value};
use switchboard_contract::error::{ConnectorError, ErrorCode};

use super::client::OutboundResponse;

/// Diagnostics keep at most this much of a vendor's error body.
const DIAGNOSTIC_BODY_BYTES: usize = 2048;

/// A failed outbound request. Messages never contain query strings or header
/// values (they may hold secrets): URLs are rendered `scheme://host/path`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The network policy refused the destination (or a redirect).
    #[error("{0}")]
    Policy(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The request could not be built (e.g. a header name or value that is not valid HTTP).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// `url_host` is the redacted URL, `scheme://host/path`.
    #[error("request to {url_host} timed out")]
    Timeout { url_host: String },
    #[error("{0}")]
    Connect(String),
    #[error("response body exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("could not decode response: {0}")]
    Decode(String),
    #[error("{0}")]
    Other(String),
}

impl OutboundError {
    /// Whether an idempotent request failing this way may be retried.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            OutboundError::Timeout { .. } | OutboundError::Connect(_)
        )
    }
}

impl From<OutboundError> for ConnectorError {
    fn from(err: OutboundError) -> Self {
        let code = match &err {
            OutboundError::Policy(_) => ErrorCode::Forbidden,
            OutboundError::InvalidUrl(_) | OutboundError::InvalidRequest(_) => {
                ErrorCode::InvalidInput
            }
            OutboundError::Timeout { .. } => ErrorCode::Timeout,
            OutboundError::Connect(_) => ErrorCode::Unavailable,
            OutboundError::TooLarge { .. } | OutboundError::Decode(_) | OutboundError::Other(_) => {
                ErrorCode::UpstreamError
            }
        };
        ConnectorError::new(code, err.to_string())
    }
}

/// `scheme://host[:port]/path` — no userinfo, query or fragment.
pub fn redact_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{}:{}{}", url.scheme(), host, port, url.path()),
        None => format!("{}://{}{}", url.scheme(), host, url.path()),
    }
}

/// The response body for diagnostics: JSON when it parses (and is small
/// enough), else text truncated to 2 KB.
fn diagnostic_body(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if body.len() <= DIAGNOSTIC_BODY_BYTES {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            return value;
        }
    }
    let text = String::from_utf8_lossy(body);
    if text.len() <= DIAGNOSTIC_BODY_BYTES {
        return Value::String(text.into_owned());
    }
    let mut end = DIAGNOSTIC_BODY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Value::String(format!("{}… (truncated)", &text[..end]))
}

/// A generic mapping of a non-2xx vendor answer onto a [`ConnectorError`];
/// `None` for 1xx/2xx/3xx. Connectors with richer vendor error bodies can
/// start from this and refine the message or add a `vendorCode`.
///
/// 400/422 → invalid_input, 401 → unauthorized, 403 → forbidden (rate_limited
/// when the rate-limit headers say nothing remains or `Retry-After` is
/// present), 404/410 → not_found, 408 → timeout, 409/412 → conflict, 429 →
/// rate_limited, other 4xx → invalid_input, 503 → unavailable, other 5xx →
/// upstream_error. Diagnostics: `{status, body}`.
pub fn error_for_status(resp: &OutboundResponse, vendor: &str) -> Option<ConnectorError> {
    let status = resp.status;
    if status < 400 {
        return None;
    }
    let reason = ::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let message = format!("{vendor} returned {status} {reason}")
        .trim_end()
        .to_string();
    let exhausted = resp
        .rate_limit
        .as_ref()
        .is_some_and(|rl| rl.remaining == Some(0));
    let err = match status {
        429 => ConnectorError::rate_limited(message, resp.retry_after_ms),
        403 if exhausted || resp.retry_after_ms.is_some() => {
            ConnectorError::rate_limited(message, resp.retry_after_ms)
        }
        400 | 422 => ConnectorError::new(ErrorCode::InvalidInput, message),
        401 => ConnectorError::new(ErrorCode::Unauthorized, message),
        403 => ConnectorError::new(ErrorCode::Forbidden, message),
        404 | 410 => ConnectorError::new(ErrorCode::NotFound, message),
        408 => ConnectorError::new(ErrorCode::Timeout, message),
        409 | 412 => ConnectorError::new(ErrorCode::Conflict, message),
        503 => {
            let e = ConnectorError::new(ErrorCode::Unavailable, message);
            match resp.retry_after_ms {
                Some(ms) => e.with_retry_after_ms(ms),
                None => e,
            }
        }
        500..=599 => ConnectorError::new(ErrorCode::UpstreamError, message),
        _ => ConnectorError::new(ErrorCode::InvalidInput, message),
    };
    Some(err.with_diagnostics(json!({
        "status": status,
        "body": diagnostic_body(&resp.body),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::http::HeaderMap;
    use bytes::Bytes;
    use switchboard_contract::envelope::RateLimit;

    fn resp(status: u16, body: &str) -> OutboundResponse {
        OutboundResponse {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
            rate_limit: None,
            retry_after_ms: None,
            attempts: 1,
        }
    }

    #[test]
    fn success_is_not_an_error() {
        assert!(error_for_status(&resp(200, ""), "Acme").is_none());
        assert!(error_for_status(&resp(304, ""), "Acme").is_none());
    }

    #[test]
    fn status_mapping() {
        let cases = [
            (400, ErrorCode::InvalidInput),
            (422, ErrorCode::InvalidInput),
            (401, ErrorCode::Unauthorized),
            (403, ErrorCode::Forbidden),
            (404, ErrorCode::NotFound),
            (409, ErrorCode::Conflict),
            (412, ErrorCode::Conflict),
            (429, ErrorCode::RateLimited),
            (500, ErrorCode::UpstreamError),
            (502, ErrorCode::UpstreamError),
            (503, ErrorCode::Unavailable),
        ];
        for (status, code) in cases {
            let err = error_for_status(&resp(status, ""), "Acme").unwrap();
            assert_eq!(err.code, code, "{status}");
        }
        let err = error_for_status(&resp(404, ""), "GitHub").unwrap();
        assert_eq!(err.message, "GitHub returned 404 Not Found");
    }

    #[test]
    fn rate_limited_403_and_429() {
        let mut r = resp(403, "");
        r.rate_limit = Some(RateLimit {
            limit: Some(60),
            remaining: Some(0),
            reset_at: None,
        });
        r.retry_after_ms = Some(30_000);
        let err = error_for_status(&r, "GitHub").unwrap();
        assert_eq!(err.code, ErrorCode::RateLimited);
        assert_eq!(err.retry_after_ms, Some(30_000));

        let err = error_for_status(&resp(429, ""), "Acme").unwrap();
        assert_eq!(err.code, ErrorCode::RateLimited);
        assert_eq!(err.retry_after_ms, Some(1000));
    }

    #[test]
    fn diagnostics_carry_status_and_body() {
        let err = error_for_status(&resp(422, r#"{"message":"bad field"}"#), "Acme").unwrap();
        assert_eq!(
            err.diagnostics,
            Some(json!({"status": 422, "body": {"message": "bad field"}}))
        );
        let big = "é".repeat(3000);
        let err = error_for_status(&resp(500, &big), "Acme").unwrap();
        let body = err.diagnostics.unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(body.len() < DIAGNOSTIC_BODY_BYTES + 20);
        assert!(body.ends_with("(truncated)"));
    }

    #[test]
    fn redaction_drops_query_and_userinfo() {
        let url =
            Url::parse("https://user:pw@api.example.com:8443/v1/x?api_key=SECRET#frag").unwrap();
        assert_eq!(redact_url(&url), "https://api.example.com:8443/v1/x");
        let url = Url::parse("http://[::1]/a?b=c").unwrap();
        assert_eq!(redact_url(&url), "http://[::1]/a");
    }

    #[test]
    fn outbound_errors_map_to_codes() {
        let cases = [
            (OutboundError::Policy("x".into()), ErrorCode::Forbidden),
            (
                OutboundError::InvalidUrl("x".into()),
                ErrorCode::InvalidInput,
            ),
            (
                OutboundError::Timeout {
                    url_host: "https://a/b".into(),
                },
                ErrorCode::Timeout,
            ),
            (OutboundError::Connect("x".into()), ErrorCode::Unavailable),
            (
                OutboundError::TooLarge { limit: 1 },
                ErrorCode::UpstreamError,
            ),
            (OutboundError::Decode("x".into()), ErrorCode::UpstreamError),
            (OutboundError::Other("x".into()), ErrorCode::UpstreamError),
        ];
        for (err, code) in cases {
            assert_eq!(ConnectorError::from(err).code, code);
        }
    }
}
