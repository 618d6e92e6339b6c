//! One session with an upstream: spawn or dial, handshake, run, and stop cleanly.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use rmcp::model::{ClientJsonRpcMessage, ProtocolVersion, ServerJsonRpcMessage};
use rmcp::service::{ClientLifecycleMode, RunningService};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientServiceExt, Peer, RoleClient};
use sse_stream::{Error as SseError, Sse};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio_util::sync::CancellationToken;

use super::bearer::{BearerSource, MAX_AUTH_RETRIES};
use super::client::UpstreamClient;
use super::config::Transport;
use super::{sse, Upstream};
use crate::http::OutboundClient;

const STDERR_TAIL_LINES: usize = 5;

/// Environment variables of the hub a child must never inherit.
fn is_hub_secret_env(name: &str) -> bool {
    name.starts_with("SWITCHBOARD_") || name == "DATABASE_URL"
}

/// A local server's process group leader. Dropping it (the hub stopped abruptly)
/// kills the whole group, so children of `npx` or `uvx` never outlive the hub.
struct ProcessGroup(Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let (Ok(None), Some(pid)) = (self.0.try_wait(), self.0.id()) {
            let group = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

pub(crate) struct Connection {
    service: RunningService<RoleClient, UpstreamClient>,
    child: Option<ProcessGroup>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

fn tail(lines: &Arc<Mutex<VecDeque<String>>>) -> String {
    let lines = lines.lock().map(|l| l.iter().cloned().collect::<Vec<_>>());
    match lines {
        Ok(l) if !l.is_empty() => format!("; its last output: {}", l.join(" | ")),
        _ => String::new(),
    }
}

fn exit_description(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "exited".into(),
    }
}

impl Connection {
    pub fn peer(&self) -> Peer<RoleClient> {
        self.service.peer().clone()
    }

    /// Runs until the session ends by itself (returns why) or `shutdown` fires (None).
    pub async fn run_until(self, shutdown: &CancellationToken) -> Option<String> {
        let Connection {
            service,
            mut child,
            stderr_tail,
        } = self;
        let token = service.cancellation_token();
        let waiting = service.waiting();
        tokio::pin!(waiting);
        tokio::select! {
            _ = &mut waiting => {
                let reason = match child.as_mut().map(|g| &mut g.0) {
                    Some(c) => match tokio::time::timeout(Duration::from_secs(2), c.wait()).await {
                        Ok(Ok(status)) => format!("the process {}", exit_description(status)),
                        _ => {
                            stop_child(c).await;
                            "the process closed its output".to_string()
                        }
                    },
                    None => "the connection closed".to_string(),
                };
                Some(format!("{reason}{}", tail(&stderr_tail)))
            }
            _ = shutdown.cancelled() => {
                token.cancel();
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut waiting).await;
                if let Some(g) = child.as_mut() {
                    stop_child(&mut g.0).await;
                }
                None
            }
        }
    }

    /// Ends the session now.
    pub async fn stop(self) {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let _ = self.run_until(&shutdown).await;
    }
}

/// Closing stdin (done by dropping the transport) asks politely; then SIGTERM to the
/// process group (npx and uvx start children), then SIGKILL.
async fn stop_child(child: &mut Child) {
    if tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .is_ok()
    {
        return;
    }
    if let Some(pid) = child.id() {
        let group = nix::unistd::Pid::from_raw(pid as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(3), child.wait())
            .await
            .is_ok()
        {
            return;
        }
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    }
    let _ = child.kill().await;
}

pub(crate) async fn connect(upstream: &Upstream) -> Result<Connection, String> {
    let config = &upstream.config;
    let handler = UpstreamClient {
        link: upstream.link.clone(),
    };
    let startup = config.startup_timeout;
    let late = || {
        format!(
            "it did not complete the MCP handshake within {} s",
            startup.as_secs()
        )
    };
    match &config.transport {
        Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args);
            for (name, _) in std::env::vars_os() {
                if is_hub_secret_env(&name.to_string_lossy()) {
                    cmd.env_remove(&name);
                }
            }
            cmd.envs(env);
            if let Some(dir) = cwd {
                cmd.current_dir(dir);
            }
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .process_group(0);
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot start '{command}': {e}"))?;
            let (Some(stdout), Some(stdin), Some(stderr)) =
                (child.stdout.take(), child.stdin.take(), child.stderr.take())
            else {
                return Err("the process has no stdio pipes".into());
            };
            let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
            let name = upstream.instance.name.clone();
            let sink = stderr_tail.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let line: String = line.chars().take(2000).collect();
                    tracing::info!(target: "switchboard::upstream", connector = %name, "stderr: {line}");
                    if let Ok(mut t) = sink.lock() {
                        if t.len() == STDERR_TAIL_LINES {
                            t.pop_front();
                        }
                        t.push_back(line.chars().take(300).collect());
                    }
                }
            });
            let transport = AsyncRwTransport::new_client(stdout, stdin)
                .with_max_line_length(config.max_message_bytes);
            let started = tokio::time::timeout(
                startup,
                handler.serve_with_lifecycle(transport, ClientLifecycleMode::Initialize),
            )
            .await;
            match started {
                Ok(Ok(service)) => Ok(Connection {
                    service,
                    child: Some(ProcessGroup(child)),
                    stderr_tail,
                }),
                Ok(Err(e)) => {
                    let why = match tokio::time::timeout(Duration::from_secs(1), child.wait()).await
                    {
                        Ok(Ok(status)) => format!(
                            "the process {} during the MCP handshake",
                            exit_description(status)
                        ),
                        _ => {
                            stop_child(&mut child).await;
                            format!("the MCP handshake failed: {e}")
                        }
                    };
                    // Give the stderr reader a moment to record the last words.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(format!("{why}{}", tail(&stderr_tail)))
                }
                Err(_) => {
                    stop_child(&mut child).await;
                    Err(format!("{}{}", late(), tail(&stderr_tail)))
                }
            }
        }
        Transport::StreamableHttp { url } => {
            let transport = http_transport(
                &upstream.http,
                url,
                &config.headers,
                config.access_token.clone(),
                upstream.bearer.clone(),
                config.max_message_bytes,
            )?;
            let service = tokio::time::timeout(
                startup,
                handler.serve_with_lifecycle(transport, http_lifecycle()),
            )
            .await
            .map_err(|_| late())?
            .map_err(|e| handshake_failure(url, &e))?;
            Ok(Connection {
                service,
                child: None,
                stderr_tail: Arc::default(),
            })
        }
        Transport::Sse { url } => {
            // The legacy transport fixes its headers when the stream opens.
            let token = match &upstream.bearer {
                Some(bearer) => bearer.current().await?,
                None => config.access_token.clone(),
            };
            let (sink, stream) = tokio::time::timeout(
                startup,
                sse::connect(
                    &upstream.http,
                    url,
                    &config.headers,
                    token.as_deref(),
                    config.max_message_bytes,
                ),
            )
            .await
            .map_err(|_| late())??;
            let service = tokio::time::timeout(
                startup,
                handler.serve_with_lifecycle((sink, stream), ClientLifecycleMode::Initialize),
            )
            .await
            .map_err(|_| late())?
            .map_err(|e| format!("the MCP handshake over SSE failed: {e}"))?;
            Ok(Connection {
                service,
                child: None,
                stderr_tail: Arc::default(),
            })
        }
    }
}

/// Why a handshake failed, in words: an authorization refusal carries its challenge
/// (or, from a [`BearerSource`], why it has no token), which rmcp's message drops.
fn handshake_failure(url: &str, e: &rmcp::service::ClientInitializeError) -> String {
    match e.auth_challenge() {
        Some(why) => format!("{url} requires authorization: {why}"),
        None => format!("connecting to {url} failed: {e}"),
    }
}

/// Probe `server/discover` (2026-07-28), fall back to `initialize`.
fn http_lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: None,
    }
}

/// The hub's Streamable HTTP transport: the network policy, static headers, and a
/// fixed token or a [`BearerSource`].
fn http_transport(
    http: &OutboundClient,
    url: &str,
    headers: &BTreeMap<String, String>,
    access_token: Option<String>,
    bearer: Option<Arc<dyn BearerSource>>,
    max_message_bytes: usize,
) -> Result<StreamableHttpClientTransport<LenientSessions>, String> {
    http.check_url(url).map_err(|e| e.to_string())?;
    let client = http.mcp_http_client().map_err(|e| e.to_string())?;
    let mut custom = HashMap::new();
    for (k, v) in headers {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("header name '{k}' is invalid"))?;
        let value = http::HeaderValue::from_str(v)
            .map_err(|_| format!("the value of header '{k}' is not a valid header value"))?;
        custom.insert(name, value);
    }
    let mut cfg = StreamableHttpClientTransportConfig::with_uri(url)
        .reinit_on_expired_session(true)
        .max_sse_event_size(max_message_bytes)
        .custom_headers(custom);
    if let Some(token) = access_token {
        cfg = cfg.auth_header(token);
    }
    Ok(StreamableHttpClientTransport::with_client(
        LenientSessions { client, bearer },
        cfg,
    ))
}

/// One session with a remote MCP server through the hub's HTTP client, for a caller
/// that is not a connector (the `mcp-client` command): same transport, lifecycle and
/// token handling as an upstream's sessions.
pub async fn connect_http(
    http: &OutboundClient,
    url: &str,
    headers: &BTreeMap<String, String>,
    bearer: Option<Arc<dyn BearerSource>>,
    timeout: Duration,
) -> Result<RunningService<RoleClient, ()>, String> {
    let transport = http_transport(
        http,
        url,
        headers,
        None,
        bearer,
        super::config::DEFAULT_MAX_MESSAGE_BYTES,
    )?;
    tokio::time::timeout(
        timeout,
        ().serve_with_lifecycle(transport, http_lifecycle()),
    )
    .await
    .map_err(|_| {
        format!(
            "{url} did not complete the MCP handshake in {} s",
            timeout.as_secs()
        )
    })?
    .map_err(|e| handshake_failure(url, &e))
}

/// rmcp's reqwest client, plus two things it lacks. An unknown-session answer some
/// servers give as HTTP 400 with an id-less JSON-RPC error (server-everything does;
/// the spec says 404) also counts as an expired session, so the session is re-created
/// instead of the request waiting for an answer that never comes. And with a
/// [`BearerSource`], every request carries its current token, and a 401 or 403 gets
/// a new token from it and the request one more try (at most [`MAX_AUTH_RETRIES`]).
#[derive(Clone)]
struct LenientSessions {
    client: reqwest_013::Client,
    bearer: Option<Arc<dyn BearerSource>>,
}

type HttpError = StreamableHttpError<reqwest_013::Error>;

fn authorization_failed(why: String) -> HttpError {
    StreamableHttpError::AuthRequired(AuthRequiredError::new(why))
}

impl LenientSessions {
    /// Runs `send` with the current token, retrying with a new one after a refusal.
    async fn authorized<T, F, Fut>(&self, given: Option<String>, send: F) -> Result<T, HttpError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let Some(bearer) = &self.bearer else {
            return send(given).await;
        };
        let mut token = bearer.current().await.map_err(authorization_failed)?;
        let mut retries = 0;
        loop {
            let (status, challenge) = match send(token.clone()).await {
                Err(StreamableHttpError::AuthRequired(e)) => (401, e.www_authenticate_header),
                Err(StreamableHttpError::InsufficientScope(e)) => (403, e.www_authenticate_header),
                other => return other,
            };
            if retries == MAX_AUTH_RETRIES {
                return Err(authorization_failed(format!(
                    "the server still refuses (HTTP {status}) after {retries} new tokens: {challenge}"
                )));
            }
            retries += 1;
            token = Some(
                bearer
                    .refused(token.as_deref(), status, &challenge)
                    .await
                    .map_err(authorization_failed)?,
            );
        }
    }
}

fn is_unknown_session_error(message: &ServerJsonRpcMessage) -> bool {
    let Ok(v) = serde_json::to_value(message) else {
        return false;
    };
    v.get("error").is_some()
        && v.get("id").is_none_or(|id| id.is_null())
        && v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.to_ascii_lowercase().contains("session"))
}

fn expired_if_unknown_session<E: std::error::Error + Send + Sync + 'static>(
    had_session: bool,
    response: Result<StreamableHttpPostResponse, StreamableHttpError<E>>,
) -> Result<StreamableHttpPostResponse, StreamableHttpError<E>> {
    match response {
        Ok(StreamableHttpPostResponse::Json(m, _))
            if had_session && is_unknown_session_error(&m) =>
        {
            Err(StreamableHttpError::SessionExpired)
        }
        other => other,
    }
}

impl StreamableHttpClient for LenientSessions {
    type Error = reqwest_013::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<http::HeaderName, http::HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let had_session = session_id.is_some();
        let response = self
            .authorized(auth_header, |token| {
                self.client.post_message(
                    uri.clone(),
                    message.clone(),
                    session_id.clone(),
                    token,
                    custom_headers.clone(),
                )
            })
            .await;
        expired_if_unknown_session(had_session, response)
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<http::HeaderName, http::HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let had_session = session_id.is_some();
        let response = self
            .authorized(auth_header, |token| {
                self.client.post_message_with_max_sse_event_size(
                    uri.clone(),
                    message.clone(),
                    session_id.clone(),
                    token,
                    custom_headers.clone(),
                    max_sse_event_size,
                )
            })
            .await;
        expired_if_unknown_session(had_session, response)
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<http::HeaderName, http::HeaderValue>,
    ) -> Result<(), HttpError> {
        self.authorized(auth_header, |token| {
            self.client.delete_session(
                uri.clone(),
                session_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<http::HeaderName, http::HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        self.authorized(auth_header, |token| {
            self.client.get_stream(
                uri.clone(),
                session_id.clone(),
                last_event_id.clone(),
                token,
                custom_headers.clone(),
            )
        })
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<http::HeaderName, http::HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        self.authorized(auth_header, |token| {
            self.client.get_stream_with_max_sse_event_size(
                uri.clone(),
                session_id.clone(),
                last_event_id.clone(),
                token,
                custom_headers.clone(),
                max_sse_event_size,
            )
        })
        .await
    }
}
