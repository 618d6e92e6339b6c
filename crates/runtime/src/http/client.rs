//! [`OutboundClient`]: the policy-enforcing, retrying, size-bounded HTTP client.

use std::error::Error as StdError;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use ::http::{HeaderMap, Method};
use base64::Engine as _;
use bytes::Bytes;
use chrono::Utc;
use rand::Rng as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{redirect, Url};
use serde::de::DeserializeOwned;
use switchboard_contract::envelope::RateLimit;
use tokio::time::Instant;

use super::error::{redact_url, OutboundError};
use super::policy::{NetworkPolicy, ALLOW_NETWORKS_ENV};
use super::ratelimit::{parse_rate_limit_at, retry_hint_ms};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Statuses an idempotent request is retried on.
const RETRY_STATUSES: [u16; 4] = [429, 502, 503, 504];

/// Settings of an [`OutboundClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// TCP (and TLS) connect timeout. Default 5 s.
    pub connect_timeout: Duration,
    /// Per-attempt timeout when the request sets none. Default 30 s.
    pub request_timeout: Duration,
    /// Retries after the first attempt (idempotent requests only). Default 2.
    pub max_retries: u32,
    /// Larger response bodies fail with [`OutboundError::TooLarge`]. Default 10 MiB.
    pub max_response_bytes: u64,
    /// Default `switchboard/<version>`.
    pub user_agent: String,
    /// First backoff delay; doubles per retry, with jitter. Default 200 ms.
    pub retry_base_delay: Duration,
    /// Backoff ceiling (not applied to `Retry-After`). Default 5 s.
    pub retry_max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the response is returned
    /// at once so the agent gets `rate_limited` with the hint instead of a tool call
    /// that hangs. Default 2 s.
    pub max_retry_wait: Duration,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_retries: 2,
            max_response_bytes: 10 * 1024 * 1024,
            user_agent: concat!("switchboard/", env!("CARGO_PKG_VERSION")).to_string(),
            retry_base_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(5),
            max_retry_wait: Duration::from_secs(2),
        }
    }
}

/// A request body.
#[derive(Clone)]
pub enum RequestBody {
    Json(serde_json::Value),
    /// Sent as `text/plain; charset=utf-8` unless a `Content-Type` header is set.
    Text(String),
    /// Raw bytes and their content type.
    Bytes(Bytes, String),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
}

impl fmt::Debug for RequestBody {
    // Bodies may hold credentials (token exchanges): show only their shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Json(_) => f.write_str("Json(..)"),
            RequestBody::Text(s) => write!(f, "Text({} bytes)", s.len()),
            RequestBody::Bytes(b, ct) => write!(f, "Bytes({} bytes, {ct:?})", b.len()),
            RequestBody::Form(pairs) => write!(f, "Form({} fields)", pairs.len()),
        }
    }
}

/// An outbound request. Build with [`OutboundRequest::get`] / [`OutboundRequest::new`]
/// and the builder methods.
#[derive(Clone)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<RequestBody>,
    /// `None`: derived from the method (GET, HEAD, OPTIONS, PUT, DELETE, TRACE are
    /// idempotent; POST, PATCH are not). Only idempotent requests are retried.
    pub idempotent: Option<bool>,
    /// Per-attempt timeout; `None` uses [`OutboundConfig::request_timeout`].
    pub timeout: Option<Duration>,
}

impl fmt::Debug for OutboundRequest {
    // Never print header values, query strings or bodies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = Url::parse(&self.url)
            .map(|u| redact_url(&u))
            .unwrap_or_else(|_| "<invalid url>".to_string());
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &url)
            .field("headers", &header_names)
            .field("body", &self.body)
            .field("idempotent", &self.idempotent)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OutboundRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        OutboundRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            idempotent: None,
            timeout: None,
        }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::POST, url)
    }
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::PUT, url)
    }
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::PATCH, url)
    }
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// Appends a header (repeated names are sent as repeated headers).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: impl fmt::Display) -> Self {
        self.header(AUTHORIZATION.as_str(), format!("Bearer {token}"))
    }
    /// `Authorization: Basic base64(user:pass)`.
    pub fn basic(self, user: impl fmt::Display, pass: impl fmt::Display) -> Self {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        self.header(AUTHORIZATION.as_str(), format!("Basic {encoded}"))
    }
    pub fn body(mut self, body: RequestBody) -> Self {
        self.body = Some(body);
        self
    }
    pub fn json(self, value: serde_json::Value) -> Self {
        self.body(RequestBody::Json(value))
    }
    pub fn text(self, text: impl Into<String>) -> Self {
        self.body(RequestBody::Text(text.into()))
    }
    pub fn form(self, fields: Vec<(String, String)>) -> Self {
        self.body(RequestBody::Form(fields))
    }
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether the request may be retried.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(matches!(
            self.method,
            Method::GET
                | Method::HEAD
                | Method::OPTIONS
                | Method::PUT
                | Method::DELETE
                | Method::TRACE
        ))
    }
}

/// A vendor's answer (any status: non-2xx is for the connector to judge,
/// e.g. with [`error_for_status`](super::error_for_status)).
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Parsed from the vendor's rate-limit headers.
    pub rate_limit: Option<RateLimit>,
    /// `Retry-After` (or an exhausted quota's reset on 403/429), in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// Attempts made, retries included (1 when answered first time).
    pub attempts: u32,
}

impl OutboundResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, OutboundError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| OutboundError::Decode(format!("response is not the expected JSON: {e}")))
    }
    /// The body as JSON, `Null` when it is empty or not JSON.
    pub fn json_value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The shared outbound HTTP client: cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct OutboundClient {
    inner: reqwest::Client,
    config: Arc<OutboundConfig>,
    policy: Arc<NetworkPolicy>,
}

/// A resolver refusal, carried through reqwest's error chain.
#[derive(Debug)]
struct PolicyRefusal(String);

impl fmt::Display for PolicyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl StdError for PolicyRefusal {}

/// A refused redirect, carried through reqwest's error chain.
#[derive(Debug)]
struct RedirectRefusal(OutboundError);

impl fmt::Display for RedirectRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl StdError for RedirectRefusal {}

/// Resolves names and drops every address the policy refuses. reqwest
/// connects only to the addresses returned here, so a name cannot be
/// re-resolved to a forbidden address between check and connect.
struct PolicyResolver {
    policy: Arc<NetworkPolicy>,
}

impl PolicyResolver {
    /// The addresses of `host` the policy allows; an error naming the refusal otherwise.
    fn allowed(&self, host: String) -> BoxFuture<Vec<SocketAddr>> {
        let policy = self.policy.clone();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut denied = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check(addr.ip()) {
                    Ok(()) => true,
                    Err(d) => {
                        denied.get_or_insert(d);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn StdError + Send + Sync> = match denied {
                    Some(d) => Box::new(PolicyRefusal(format!(
                        "refused by network policy: {host} resolves to {}, {}; allow it with {ALLOW_NETWORKS_ENV}",
                        d.ip,
                        d.describe()
                    ))),
                    None => format!("{host} resolves to no address").into(),
                };
                return Err(err);
            }
            Ok(allowed)
        })
    }
}

type BoxFuture<T> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<T, Box<dyn StdError + Send + Sync>>> + Send>,
>;

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let fut = self.allowed(name.as_str().to_string());
        Box::pin(async move {
            let addrs: Addrs = Box::new(fut.await?.into_iter());
            Ok(addrs)
        })
    }
}

/// The same policy for rmcp's MCP client, which is built on reqwest 0.13.
impl reqwest_013::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest_013::dns::Name) -> reqwest_013::dns::Resolving {
        let fut = self.allowed(name.as_str().to_string());
        Box::pin(async move {
            let addrs: reqwest_013::dns::Addrs = Box::new(fut.await?.into_iter());
            Ok(addrs)
        })
    }
}

/// Scheme, userinfo and IP-literal checks (host names are checked by the resolver).
fn check_url(policy: &NetworkPolicy, url: &Url) -> Result<(), OutboundError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(OutboundError::InvalidUrl(format!(
                "scheme `{other}` is not allowed; only http and https are"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutboundError::InvalidUrl(format!(
            "{}: credentials in the URL (user:password@) are not allowed; send them in a header",
            redact_url(url)
        )));
    }
    // The URL parser normalizes every IPv4 spelling (`2130706433`, `0x7f.1`, …)
    // to dotted-quad and brackets IPv6, so a host that parses as an address is one.
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(OutboundError::InvalidUrl("the URL has no host".to_string()));
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = literal.parse::<std::net::IpAddr>() else {
        return Ok(());
    };
    policy.check(ip).map_err(|d| {
        OutboundError::Policy(format!(
            "refused by network policy: {} targets {}, {}; allow it with {ALLOW_NETWORKS_ENV}",
            redact_url(url),
            d.ip,
            d.describe()
        ))
    })
}

/// The checks applied to each redirect hop.
fn check_redirect(
    policy: &NetworkPolicy,
    next: &Url,
    previous: &[Url],
) -> Result<(), OutboundError> {
    // `previous` starts with the original URL, so it holds one entry per hop so far.
    if previous.len() > MAX_REDIRECTS {
        let from = previous.first().map(redact_url).unwrap_or_default();
        return Err(OutboundError::Other(format!(
            "{from}: more than {MAX_REDIRECTS} redirects"
        )));
    }
    check_url(policy, next)?;
    if next.scheme() == "http" && previous.last().is_some_and(|p| p.scheme() == "https") {
        return Err(OutboundError::Policy(format!(
            "refused redirect from https to http ({})",
            redact_url(next)
        )));
    }
    Ok(())
}

fn is_sensitive_header(name: &HeaderName) -> bool {
    let name = name.as_str();
    [
        "auth",
        "cookie",
        "key",
        "token",
        "secret",
        "signature",
        "password",
        "session",
    ]
    .iter()
    .any(|s| name.contains(s))
}

fn build_headers(pairs: &[(String, String)]) -> Result<HeaderMap, OutboundError> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let header_name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            OutboundError::InvalidRequest(format!("`{name}` is not a valid header name"))
        })?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| {
            // Never echo the value: it may be a credential.
            OutboundError::InvalidRequest(format!(
                "the value of header `{header_name}` is not valid"
            ))
        })?;
        if is_sensitive_header(&header_name) {
            header_value.set_sensitive(true);
        }
        headers.append(header_name, header_value);
    }
    Ok(headers)
}

/// `source()` messages below a reqwest error, joined.
fn cause_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(s) = source {
        let msg = s.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Removes anything of the query string (or the full URL) from a message.
fn scrub(message: String, url: &Url) -> String {
    let mut message = message.replace(url.as_str(), &redact_url(url));
    if let Some(query) = url.query().filter(|q| !q.is_empty()) {
        message = message.replace(query, "…");
    }
    message
}

fn map_reqwest_error(err: reqwest::Error, url: &Url) -> OutboundError {
    let err = err.without_url();
    let mut source = err.source();
    while let Some(s) = source {
        if let Some(refusal) = s.downcast_ref::<PolicyRefusal>() {
            return OutboundError::Policy(refusal.0.clone());
        }
        if let Some(refusal) = s.downcast_ref::<RedirectRefusal>() {
            return refusal.0.clone();
        }
        source = s.source();
    }
    let target = redact_url(url);
    let detail = scrub(cause_chain(&err), url);
    let detail = if detail.is_empty() {
        scrub(err.to_string(), url)
    } else {
        detail
    };
    if err.is_timeout() {
        OutboundError::Timeout { url_host: target }
    } else if err.is_connect() {
        OutboundError::Connect(format!("could not connect to {target}: {detail}"))
    } else if err.is_builder() {
        OutboundError::InvalidRequest(format!("{target}: {detail}"))
    } else if err.is_body() || err.is_decode() {
        OutboundError::Other(format!(
            "reading the response from {target} failed: {detail}"
        ))
    } else {
        OutboundError::Other(format!("request to {target} failed: {detail}"))
    }
}

impl OutboundClient {
    /// A client enforcing `policy`.
    pub fn new(policy: NetworkPolicy, config: OutboundConfig) -> Result<Self, OutboundError> {
        let policy = Arc::new(policy);
        let redirect_policy = {
            let policy = policy.clone();
            redirect::Policy::custom(move |attempt| {
                match check_redirect(&policy, attempt.url(), attempt.previous()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(RedirectRefusal(e)),
                }
            })
        };
        let inner = reqwest::Client::builder()
            .use_rustls_tls()
            .dns_resolver(Arc::new(PolicyResolver {
                policy: policy.clone(),
            }))
            .redirect(redirect_policy)
            // A proxy would resolve and connect on our behalf, bypassing the policy.
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| OutboundError::Other(format!("cannot build the HTTP client: {e}")))?;
        Ok(OutboundClient {
            inner,
            config: Arc::new(config),
            policy,
        })
    }

    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// The underlying client, for streaming bodies (a legacy SSE upstream). Same
    /// policy-enforcing resolver; callers must still run [`Self::check_url`] first.
    pub fn streaming(&self) -> &reqwest::Client {
        &self.inner
    }

    /// A reqwest 0.13 client for rmcp's Streamable HTTP client, under the same network
    /// policy: the resolver checks every address, no proxy, no redirects (an MCP
    /// endpoint that redirects is misconfigured, and a redirect could leave the policy).
    pub fn mcp_http_client(&self) -> Result<reqwest_013::Client, OutboundError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| OutboundError::Other(format!("cannot configure TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        reqwest_013::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(PolicyResolver {
                policy: self.policy.clone(),
            }))
            .redirect(reqwest_013::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.config.connect_timeout)
            .user_agent(self.config.user_agent.clone())
            .build()
            .map_err(|e| OutboundError::Other(format!("cannot build the MCP HTTP client: {e}")))
    }

    pub fn policy(&self) -> &NetworkPolicy {
        &self.policy
    }

    /// Parses `url` and applies the pre-flight checks `send` applies: http(s)
    /// only, no userinfo, IP literals (in any form the URL standard accepts,
    /// e.g. `http://2130706433/`) must pass the network policy.
    pub fn check_url(&self, url: &str) -> Result<Url, OutboundError> {
        let parsed = Url::parse(url.trim())
            .map_err(|e| OutboundError::InvalidUrl(format!("cannot parse the URL: {e}")))?;
        check_url(&self.policy, &parsed)?;
        Ok(parsed)
    }

    /// Sends `req`, retrying idempotent requests on connect errors, timeouts,
    /// 429, 502, 503 and 504 (up to `max_retries`; exponential backoff with
    /// jitter, or the vendor's `Retry-After`), never waiting past `deadline`.
    /// Non-2xx answers are `Ok`.
    pub async fn send(
        &self,
        req: OutboundRequest,
        deadline: Option<Instant>,
    ) -> Result<OutboundResponse, OutboundError> {
        let url = self.check_url(&req.url)?;
        let headers = build_headers(&req.headers)?;
        let idempotent = req.is_idempotent();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let timeout =
                self.attempt_timeout(&req, deadline)
                    .ok_or_else(|| OutboundError::Timeout {
                        url_host: redact_url(&url),
                    })?;
            let result = self
                .attempt(&req, &url, &headers, timeout)
                .await
                .map(|mut resp| {
                    resp.attempts = attempt;
                    resp
                });
            let retryable = match &result {
                Ok(resp) => RETRY_STATUSES.contains(&resp.status),
                Err(err) => err.is_retryable(),
            };
            if !idempotent || !retryable || attempt > self.config.max_retries {
                return result;
            }
            let wait = match result.as_ref().ok().and_then(|r| r.retry_after_ms) {
                Some(ms) => Duration::from_millis(ms),
                None => self.backoff(attempt),
            };
            if wait > self.config.max_retry_wait {
                return result;
            }
            if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                return result;
            }
            tracing::debug!(
                target: "switchboard::http",
                url = %redact_url(&url),
                attempt,
                wait_ms = wait.as_millis() as u64,
                outcome = %match &result {
                    Ok(resp) => resp.status.to_string(),
                    Err(err) => err.to_string(),
                },
                "retrying outbound request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// min(request timeout, time left to the deadline); `None` when the deadline has passed.
    fn attempt_timeout(
        &self,
        req: &OutboundRequest,
        deadline: Option<Instant>,
    ) -> Option<Duration> {
        let timeout = req.timeout.unwrap_or(self.config.request_timeout);
        match deadline {
            None => Some(timeout),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                (!left.is_zero()).then(|| timeout.min(left))
            }
        }
    }

    /// Exponential backoff (base × 2^(attempt-1), capped) with jitter in [½, 1].
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.retry_base_delay.as_millis() as u64;
        let cap = self.config.retry_max_delay.as_millis() as u64;
        let full = base
            .saturating_mul(1u64 << (attempt.saturating_sub(1)).min(30))
            .min(cap);
        if full == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::thread_rng().gen_range(full / 2..=full))
    }

    async fn attempt(
        &self,
        req: &OutboundRequest,
        url: &Url,
        headers: &HeaderMap,
        timeout: Duration,
    ) -> Result<OutboundResponse, OutboundError> {
        let mut builder = self
            .inner
            .request(req.method.clone(), url.clone())
            .headers(headers.clone())
            .timeout(timeout);
        match &req.body {
            None => {}
            Some(RequestBody::Json(value)) => builder = builder.json(value),
            Some(RequestBody::Text(text)) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    builder = builder.header(CONTENT_TYPE, "text/plain; charset=utf-8");
                }
                builder = builder.body(text.clone());
            }
            Some(RequestBody::Bytes(bytes, content_type)) => {
                let value = HeaderValue::from_str(content_type).map_err(|_| {
                    OutboundError::InvalidRequest(format!(
                        "`{content_type}` is not a valid content type"
                    ))
                })?;
                let mut headers = headers.clone();
                headers.insert(CONTENT_TYPE, value);
                builder = builder.headers(headers).body(bytes.clone());
            }
            Some(RequestBody::Form(fields)) => builder = builder.form(fields),
        }
        let request = builder.build().map_err(|e| map_reqwest_error(e, url))?;
        let head_only = req.method == Method::HEAD;
        let exchange = async {
            let mut resp = self
                .inner
                .execute(request)
                .await
                .map_err(|e| map_reqwest_error(e, url))?;
            let limit = self.config.max_response_bytes;
            if !head_only && resp.content_length().is_some_and(|len| len > limit) {
                return Err(OutboundError::TooLarge { limit });
            }
            let status = resp.status().as_u16();
            let headers = std::mem::take(resp.headers_mut());
            let mut body: Vec<u8> = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| map_reqwest_error(e, url))? {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(OutboundError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            let now = Utc::now();
            Ok(OutboundResponse {
                status,
                rate_limit: parse_rate_limit_at(&headers, now),
                retry_after_ms: retry_hint_ms(status, &headers, now),
                headers,
                body: Bytes::from(body),
                attempts: 1,
            })
        };
        // reqwest's timeout covers the body too; this is a backstop.
        match tokio::time::timeout(timeout + Duration::from_millis(50), exchange).await {
            Ok(result) => result,
            Err(_) => Err(OutboundError::Timeout {
                url_host: redact_url(url),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn odd_ip_literal_forms_are_normalized_and_refused() {
        let policy = NetworkPolicy::default();
        for s in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://0/",
        ] {
            let u = url(s);
            assert!(
                matches!(check_url(&policy, &u), Err(OutboundError::Policy(_))),
                "{s} -> {u}"
            );
        }
        assert!(check_url(&policy, &url("https://8.8.8.8/")).is_ok());
        assert!(check_url(&policy, &url("https://example.com/")).is_ok());
    }

    #[test]
    fn redirect_checks() {
        let policy = NetworkPolicy::default();
        let start = url("https://api.example.com/a");
        assert!(check_redirect(
            &policy,
            &url("https://other.example.com/"),
            std::slice::from_ref(&start)
        )
        .is_ok());
        assert!(matches!(
            check_redirect(
                &policy,
                &url("http://api.example.com/"),
                std::slice::from_ref(&start)
            ),
            Err(OutboundError::Policy(_))
        ));
        assert!(matches!(
            check_redirect(
                &policy,
                &url("http://169.254.169.254/latest"),
                &[url("http://a.example/")]
            ),
            Err(OutboundError::Policy(_))
        ));
        assert!(matches!(
            check_redirect(
                &policy,
                &url("ftp://example.com/"),
                std::slice::from_ref(&start)
            ),
            Err(OutboundError::InvalidUrl(_))
        ));
        let five = vec![start.clone(); 5];
        assert!(check_redirect(&policy, &url("https://b.example/"), &five).is_ok());
        let six = vec![start; 6];
        assert!(matches!(
            check_redirect(&policy, &url("https://b.example/"), &six),
            Err(OutboundError::Other(_))
        ));
    }

    #[test]
    fn idempotency_from_method() {
        assert!(OutboundRequest::get("http://x/").is_idempotent());
        assert!(OutboundRequest::put("http://x/").is_idempotent());
        assert!(OutboundRequest::delete("http://x/").is_idempotent());
        assert!(!OutboundRequest::post("http://x/").is_idempotent());
        assert!(!OutboundRequest::patch("http://x/").is_idempotent());
        assert!(OutboundRequest::post("http://x/")
            .idempotent(true)
            .is_idempotent());
    }

    #[test]
    fn debug_hides_secrets() {
        let req = OutboundRequest::get("https://api.example.com/x?api_key=SECRET")
            .bearer("TOKEN123")
            .text("password=hunter2");
        let debug = format!("{req:?}");
        assert!(!debug.contains("SECRET"));
        assert!(!debug.contains("TOKEN123"));
        assert!(!debug.contains("hunter2"));
        assert!(debug.contains("authorization"));
    }

    #[test]
    fn invalid_header_value_is_not_echoed() {
        let err =
            build_headers(&[("Authorization".into(), "Bearer a\nb-SECRET".into())]).unwrap_err();
        assert!(matches!(err, OutboundError::InvalidRequest(_)));
        assert!(!err.to_string().contains("SECRET"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let client =
            OutboundClient::new(NetworkPolicy::default(), OutboundConfig::default()).unwrap();
        for attempt in 1..20 {
            let d = client.backoff(attempt);
            assert!(d <= Duration::from_secs(5), "{attempt}: {d:?}");
        }
        let first = client.backoff(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
    }
}
