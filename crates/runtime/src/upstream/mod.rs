//! Execution model `mcp`: existing MCP servers, local or remote, re-exposed as the
//! connector's tools, resources and prompts.
//!
//! One [`Upstream`] per configured connector, shared by every caller: a pool of
//! sessions, each kept alive by a supervisor task that (re)connects with exponential
//! backoff. What the upstream offers is kept as a [`LiveView`], rebuilt when it says
//! its lists changed; the hub's tool index and the dispatcher read that view.

mod bearer;
mod client;
pub mod config;
pub mod import;
mod session;
mod sse;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CancelledNotification, CancelledNotificationParam,
    ClientNotification, ClientRequest, GetPromptRequest, GetPromptRequestParams,
    ReadResourceRequest, ReadResourceRequestParams, RequestId, ServerResult,
};
use rmcp::service::{PeerRequestOptions, ServiceError};
use rmcp::{Peer, RoleClient};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use switchboard_contract::naming::{tool_name, validate_command_name};
use switchboard_contract::{Access, CommandSpec, ConnectorError, ConnectorSpec, Outcome, Success};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::framework::{Call, ClientBridge, Connector, Instance};
use crate::http::OutboundClient;
pub use bearer::{BearerSource, MAX_AUTH_RETRIES};
use client::Link;
pub use config::{spec, Transport, UpstreamConfig};
pub use session::connect_http;

/// What the hub learns from its upstreams: status to record, lists that changed.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamEvent {
    Status {
        tenant_id: String,
        connector_id: String,
        status: &'static str,
        reason: Option<String>,
    },
    /// An upstream's tools, resources or prompts changed (or it came up or went down).
    Changed,
}

/// URIs of proxied resources: `switchboard://<prefix>/<upstream uri>`, so they stay
/// unique across connectors and route back to theirs.
pub const RESOURCE_SCHEME: &str = "switchboard://";

/// Every running upstream of this hub, by connector id.
#[derive(Clone)]
pub struct Upstreams {
    running: Arc<Mutex<HashMap<String, Arc<Upstream>>>>,
    http: OutboundClient,
    events: mpsc::UnboundedSender<UpstreamEvent>,
}

impl Upstreams {
    pub fn new(http: OutboundClient, events: mpsc::UnboundedSender<UpstreamEvent>) -> Self {
        Upstreams {
            running: Arc::default(),
            http,
            events,
        }
    }

    /// The connector's live view, starting (or restarting, when its config changed)
    /// its upstream, waiting at most `wait` for a first start. `bearer` supplies the
    /// token of a remote server behind OAuth (it outlives token refreshes, so a new
    /// token does not restart anything).
    pub async fn live(
        &self,
        instance: &Instance,
        prefix: &str,
        config: &Map<String, Value>,
        bearer: Option<Arc<dyn BearerSource>>,
        wait: Duration,
    ) -> Result<Arc<LiveView>, ConnectorError> {
        let parsed = UpstreamConfig::parse(config)?;
        let key = fingerprint(&parsed, prefix, bearer.is_some());
        let upstream = {
            let mut running = self
                .running
                .lock()
                .map_err(|_| ConnectorError::internal("upstream registry poisoned"))?;
            match running.get(&instance.id) {
                Some(u) if u.key == key => u.clone(),
                existing => {
                    if let Some(old) = existing {
                        old.shutdown.cancel();
                    }
                    let u = Upstream::start(
                        instance.clone(),
                        prefix.to_string(),
                        parsed,
                        bearer,
                        key,
                        self.http.clone(),
                        self.events.clone(),
                    );
                    running.insert(instance.id.clone(), u.clone());
                    u
                }
            }
        };
        upstream.view(Instant::now() + wait).await
    }

    /// The view as it stands, without starting or waiting.
    pub fn current(&self, connector_id: &str) -> Option<Arc<LiveView>> {
        let running = self.running.lock().ok()?;
        let u = running.get(connector_id)?;
        let view = u.view.read().ok()?.clone();
        view
    }

    /// Stops the connector's upstream (deleted, disabled or reconfigured).
    pub fn stop(&self, connector_id: &str) {
        if let Ok(mut running) = self.running.lock() {
            if let Some(u) = running.remove(connector_id) {
                u.shutdown.cancel();
            }
        }
    }

    /// Stops every upstream and waits (bounded) for local processes to exit.
    pub async fn stop_all(&self) {
        let all: Vec<Arc<Upstream>> = match self.running.lock() {
            Ok(mut r) => r.drain().map(|(_, u)| u).collect(),
            Err(_) => return,
        };
        for u in &all {
            u.shutdown.cancel();
        }
        for u in all {
            let mut stopped = u.stopped.subscribe();
            let _ = tokio::time::timeout(Duration::from_secs(8), async move {
                while *stopped.borrow_and_update() < u.config.pool_size {
                    if stopped.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await;
        }
    }
}

fn fingerprint(config: &UpstreamConfig, prefix: &str, oauth: bool) -> [u8; 32] {
    // Debug output includes secrets, but only their hash is kept.
    Sha256::digest(format!("{prefix}\u{0}{oauth}\u{0}{config:?}").as_bytes()).into()
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Starting,
    Ready,
    /// Not usable; `retry_at` is when the supervisor tries again. `recovering` when a
    /// session that worked has just ended: a restart is worth waiting for.
    Failed {
        reason: String,
        retry_at: Instant,
        recovering: bool,
    },
}

/// One configured MCP server and its sessions.
pub struct Upstream {
    /// Itself, for the views it hands out (they must not keep it alive).
    me: Weak<Upstream>,
    instance: Instance,
    prefix: String,
    config: UpstreamConfig,
    /// The changing bearer token of a remote server behind OAuth.
    bearer: Option<Arc<dyn BearerSource>>,
    key: [u8; 32],
    http: OutboundClient,
    events: mpsc::UnboundedSender<UpstreamEvent>,
    link: Arc<Link>,
    slots: Vec<RwLock<Option<Peer<RoleClient>>>>,
    next: AtomicUsize,
    state: watch::Sender<State>,
    view: RwLock<Option<Arc<LiveView>>>,
    shutdown: CancellationToken,
    /// How many supervisors have finished (for a bounded, clean shutdown).
    stopped: watch::Sender<usize>,
}

const LIST_REFRESH_DEBOUNCE: Duration = Duration::from_millis(50);

fn backoff(failures: u32) -> Duration {
    if failures <= 1 {
        Duration::from_millis(100)
    } else {
        let ms = 500u64.saturating_mul(1u64 << (failures - 2).min(10));
        Duration::from_millis(ms.min(30_000))
    }
}

impl Upstream {
    fn start(
        instance: Instance,
        prefix: String,
        config: UpstreamConfig,
        bearer: Option<Arc<dyn BearerSource>>,
        key: [u8; 32],
        http: OutboundClient,
        events: mpsc::UnboundedSender<UpstreamEvent>,
    ) -> Arc<Self> {
        let (refresh_tx, mut refresh_rx) = mpsc::unbounded_channel();
        let pool = config.pool_size;
        let upstream = Arc::new_cyclic(|me| Upstream {
            me: me.clone(),
            link: Link::new(instance.name.clone(), refresh_tx),
            instance,
            prefix,
            config,
            bearer,
            key,
            http,
            events,
            slots: (0..pool).map(|_| RwLock::new(None)).collect(),
            next: AtomicUsize::new(0),
            state: watch::channel(State::Starting).0,
            view: RwLock::new(None),
            shutdown: CancellationToken::new(),
            stopped: watch::channel(0).0,
        });
        tracing::info!(connector = %upstream.instance.name, upstream = %upstream.config.describe(), pool, "starting MCP upstream");
        for slot in 0..pool {
            tokio::spawn(upstream.clone().supervise(slot));
        }
        let weak = Arc::downgrade(&upstream);
        let shutdown = upstream.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    got = refresh_rx.recv() => if got.is_none() { break },
                    _ = shutdown.cancelled() => break,
                }
                tokio::time::sleep(LIST_REFRESH_DEBOUNCE).await;
                while refresh_rx.try_recv().is_ok() {}
                let Some(u) = weak.upgrade() else { break };
                if let Some(peer) = u.any_peer() {
                    match u.build_view(&peer).await {
                        Ok(view) => u.publish(view),
                        Err(e) => {
                            tracing::warn!(connector = %u.instance.name, "refreshing the upstream's lists failed: {e}")
                        }
                    }
                }
            }
        });
        upstream
    }

    fn set_status(&self, status: &'static str, reason: Option<String>) {
        let _ = self.events.send(UpstreamEvent::Status {
            tenant_id: self.instance.tenant_id.clone(),
            connector_id: self.instance.id.clone(),
            status,
            reason,
        });
    }

    fn any_peer(&self) -> Option<Peer<RoleClient>> {
        self.slots
            .iter()
            .find_map(|s| s.read().ok().and_then(|p| p.clone()))
    }

    /// The next ready session, round robin.
    fn pick_peer(&self) -> Option<Peer<RoleClient>> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).find_map(|i| {
            self.slots[(start + i) % n]
                .read()
                .ok()
                .and_then(|p| p.clone())
        })
    }

    fn publish(&self, view: LiveView) {
        if let Ok(mut v) = self.view.write() {
            *v = Some(Arc::new(view));
        }
        let _ = self.events.send(UpstreamEvent::Changed);
    }

    /// Waits until the upstream is usable (or has failed for good, for now).
    async fn wait_ready(&self, until: Instant) -> Result<(), ConnectorError> {
        let mut state = self.state.subscribe();
        loop {
            let current = state.borrow_and_update().clone();
            match current {
                State::Ready => return Ok(()),
                State::Failed {
                    reason,
                    retry_at,
                    recovering,
                } => {
                    // A restart after a crash is worth waiting for; a server that never
                    // came up is reported at once.
                    if !recovering || retry_at > until {
                        let secs = retry_at
                            .saturating_duration_since(Instant::now())
                            .as_secs_f64();
                        return Err(ConnectorError::unavailable(format!(
                            "MCP server '{}' is not running: {reason}; the hub retries in {secs:.0} s",
                            self.instance.name
                        )));
                    }
                }
                State::Starting => {}
            }
            tokio::select! {
                changed = state.changed() => if changed.is_err() {
                    return Err(ConnectorError::unavailable(format!("MCP server '{}' was stopped", self.instance.name)));
                },
                _ = tokio::time::sleep_until(until) => {
                    let why = match &*state.borrow() {
                        State::Failed { reason, .. } => format!(": {reason}"),
                        _ => String::new(),
                    };
                    return Err(ConnectorError::unavailable(format!(
                        "MCP server '{}' is still starting{why}; retry shortly",
                        self.instance.name
                    )).with_retry_after_ms(1000));
                }
            }
        }
    }

    async fn view(&self, until: Instant) -> Result<Arc<LiveView>, ConnectorError> {
        if let Some(v) = self.view.read().ok().and_then(|v| v.clone()) {
            return Ok(v);
        }
        self.wait_ready(until).await?;
        self.view
            .read()
            .ok()
            .and_then(|v| v.clone())
            .ok_or_else(|| {
                ConnectorError::unavailable(format!(
                    "MCP server '{}' has not listed its tools yet",
                    self.instance.name
                ))
            })
    }

    /// Keeps one session slot alive until shutdown.
    async fn supervise(self: Arc<Self>, slot: usize) {
        let mut failures: u32 = 0;
        loop {
            let mut was_up = false;
            if self.shutdown.is_cancelled() {
                break;
            }
            let attempt = tokio::select! {
                r = session::connect(&self) => r,
                _ = self.shutdown.cancelled() => break,
            };
            let reason = match attempt {
                Ok(conn) => {
                    let peer = conn.peer();
                    let started = Instant::now();
                    let listed = if self.view.read().map(|v| v.is_none()).unwrap_or(true) {
                        self.build_view(&peer).await.map(|v| self.publish(v))
                    } else {
                        Ok(())
                    };
                    match listed {
                        Err(e) => {
                            conn.stop().await;
                            format!("listing its tools failed: {e}")
                        }
                        Ok(()) => {
                            if let Ok(mut s) = self.slots[slot].write() {
                                *s = Some(peer);
                            }
                            self.state.send_replace(State::Ready);
                            self.set_status("connected", None);
                            was_up = true;
                            let ended = conn.run_until(&self.shutdown).await;
                            if let Ok(mut s) = self.slots[slot].write() {
                                *s = None;
                            }
                            match ended {
                                Some(reason) => {
                                    if started.elapsed() > Duration::from_secs(30) {
                                        failures = 0;
                                    }
                                    reason
                                }
                                None => break,
                            }
                        }
                    }
                }
                Err(reason) => reason,
            };
            failures += 1;
            let delay = backoff(failures);
            tracing::warn!(connector = %self.instance.name, failures, retry_in_ms = delay.as_millis() as u64, "MCP upstream unavailable: {reason}");
            if self.any_peer().is_none() {
                self.state.send_replace(State::Failed {
                    reason: reason.clone(),
                    retry_at: Instant::now() + delay,
                    recovering: was_up && failures == 1,
                });
                self.set_status("error", Some(reason));
                let _ = self.events.send(UpstreamEvent::Changed);
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.shutdown.cancelled() => break,
            }
        }
        if let Ok(mut s) = self.slots[slot].write() {
            *s = None;
        }
        self.stopped.send_modify(|n| *n += 1);
        if *self.stopped.borrow() == self.slots.len() {
            tracing::info!(connector = %self.instance.name, "MCP upstream stopped");
        }
    }

    /// Lists tools, resources, templates and prompts (each only if offered).
    async fn build_view(&self, peer: &Peer<RoleClient>) -> Result<LiveView, String> {
        let caps = peer
            .peer_info()
            .map(|i| i.capabilities.clone())
            .unwrap_or_default();
        let err = |what: &str, e: ServiceError| format!("{what}: {}", describe_service_error(&e));
        let tools = if caps.tools.is_some() {
            peer.list_all_tools()
                .await
                .map_err(|e| err("tools/list", e))?
        } else {
            Vec::new()
        };
        let (resources, templates) = if caps.resources.is_some() {
            (
                peer.list_all_resources()
                    .await
                    .map_err(|e| err("resources/list", e))?,
                peer.list_all_resource_templates().await.unwrap_or_default(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let prompts = if caps.prompts.is_some() {
            peer.list_all_prompts()
                .await
                .map_err(|e| err("prompts/list", e))?
        } else {
            Vec::new()
        };
        let to_values = |v: Vec<Value>| v;
        let tools: Vec<Value> = tools
            .iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .collect();
        let mut view = LiveView {
            spec: spec(),
            upstream: Weak::new(),
            prefix: self.prefix.clone(),
            resources: to_values(
                resources
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .map(|r| rewrite_uri(r, "uri", &self.prefix))
                    .collect(),
            ),
            templates: templates
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .map(|r| rewrite_uri(r, "uriTemplate", &self.prefix))
                .collect(),
            prompts: prompts
                .iter()
                .filter_map(|p| serde_json::to_value(p).ok())
                .map(|mut p| {
                    if let Some(name) = p.get("name").and_then(Value::as_str) {
                        p["name"] = Value::String(format!("{}.{}", self.prefix, name));
                    }
                    p
                })
                .collect(),
            skipped: Vec::new(),
        };
        for t in tools {
            match command_for_tool(&self.prefix, t) {
                Ok(c) => view.spec.commands.push(c),
                Err(why) => view.skipped.push(why),
            }
        }
        for why in &view.skipped {
            tracing::warn!(connector = %self.instance.name, "upstream tool left out: {why}");
        }
        view.spec.name = "mcp".into();
        Ok(view.with_upstream(self))
    }

    async fn ready_peer(&self, deadline: Instant) -> Result<Peer<RoleClient>, ConnectorError> {
        if let Some(p) = self.pick_peer() {
            return Ok(p);
        }
        self.wait_ready(deadline).await?;
        self.pick_peer().ok_or_else(|| {
            ConnectorError::unavailable(format!(
                "MCP server '{}' went away; retry shortly",
                self.instance.name
            ))
        })
    }

    /// One request to the upstream, cancelled there if the caller gives up.
    async fn request(
        &self,
        peer: &Peer<RoleClient>,
        request: ClientRequest,
        call: &Call,
        guard: &mut client::CallGuard,
    ) -> Result<ServerResult, ConnectorError> {
        let handle = peer
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .map_err(|e| self.service_error(e))?;
        guard.track_progress(handle.progress_token.clone(), call.ctx.progress.clone());
        let mut cancel = CancelOnDrop {
            peer: peer.clone(),
            id: Some(handle.id.clone()),
        };
        let result = tokio::select! {
            r = handle.await_response() => r,
            _ = call.ctx.cancel.cancelled() => {
                return Err(ConnectorError::unavailable("the call was cancelled"));
            }
            _ = tokio::time::sleep_until(call.ctx.deadline) => {
                return Err(ConnectorError::timeout(format!(
                    "MCP server '{}' did not answer within the call's deadline",
                    self.instance.name
                )));
            }
        };
        cancel.id = None;
        result.map_err(|e| self.service_error(e))
    }

    fn service_error(&self, e: ServiceError) -> ConnectorError {
        let name = &self.instance.name;
        match e {
            ServiceError::McpError(e) => ConnectorError::upstream(format!(
                "MCP server '{name}' answered with error {}: {}",
                e.code.0, e.message
            ))
            .with_vendor_code(e.code.0.to_string()),
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                ConnectorError::unavailable(format!(
                    "MCP server '{name}' closed the connection during the call (it may have crashed); the hub is restarting it: retry"
                ))
                .with_retry_after_ms(1000)
            }
            ServiceError::Timeout { .. } => ConnectorError::timeout(format!(
                "MCP server '{name}' did not answer in time"
            )),
            other => ConnectorError::upstream(format!(
                "MCP server '{name}': {}",
                describe_service_error(&other)
            )),
        }
    }

    async fn call_tool(self: Arc<Self>, name: String, call: Call) -> Outcome {
        let peer = self.ready_peer(call.ctx.deadline).await?;
        let mut guard = self.link.begin(call.ctx.client.clone());
        let mut params = json!({"name": name, "arguments": call.params});
        // 2026-07-28 upstreams ask for input with `input_required` results (MRTR);
        // each round is answered by the calling client.
        for _round in 0..8 {
            let p: CallToolRequestParams = serde_json::from_value(params.clone())
                .map_err(|e| ConnectorError::invalid_input(format!("arguments: {e}")))?;
            let request = ClientRequest::CallToolRequest(CallToolRequest::new(p));
            match self.request(&peer, request, &call, &mut guard).await? {
                ServerResult::CallToolResult(r) => {
                    let value = serde_json::to_value(r).map_err(|e| {
                        ConnectorError::internal(format!("cannot relay the result: {e}"))
                    })?;
                    return Ok(Success::mcp_native(value));
                }
                ServerResult::InputRequiredResult(r) => {
                    let asked = serde_json::to_value(r).unwrap_or_default();
                    let responses =
                        answer_input_requests(call.ctx.client.as_ref(), &asked).await?;
                    params["inputResponses"] = responses;
                    match asked.get("requestState") {
                        Some(s) => params["requestState"] = s.clone(),
                        None => {
                            if let Some(m) = params.as_object_mut() {
                                m.remove("requestState");
                            }
                        }
                    }
                }
                _ => {
                    return Err(Box::new(
                        ConnectorError::upstream(format!(
                            "MCP server '{}' answered tools/call with something that is not a tool result",
                            self.instance.name
                        ))
                        .into(),
                    ))
                }
            }
        }
        Err(Box::new(
            ConnectorError::upstream(format!(
                "MCP server '{}' kept asking for input (8 rounds); giving up",
                self.instance.name
            ))
            .into(),
        ))
    }

    async fn read_resource(
        self: Arc<Self>,
        uri: String,
        call: Call,
    ) -> Result<Value, ConnectorError> {
        let peer = self.ready_peer(call.ctx.deadline).await?;
        let mut guard = self.link.begin(None);
        let request = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(
            ReadResourceRequestParams::new(uri),
        ));
        match self.request(&peer, request, &call, &mut guard).await? {
            ServerResult::ReadResourceResult(r) => {
                let mut v =
                    serde_json::to_value(r).map_err(|e| ConnectorError::internal(e.to_string()))?;
                if let Some(contents) = v.get_mut("contents").and_then(Value::as_array_mut) {
                    for c in contents.iter_mut() {
                        *c = rewrite_uri(c.take(), "uri", &self.prefix);
                    }
                }
                Ok(v)
            }
            _ => Err(ConnectorError::upstream(
                "the upstream answered resources/read with something else",
            )),
        }
    }

    async fn get_prompt(
        self: Arc<Self>,
        name: String,
        arguments: Map<String, Value>,
        call: Call,
    ) -> Result<Value, ConnectorError> {
        let peer = self.ready_peer(call.ctx.deadline).await?;
        let mut guard = self.link.begin(None);
        let params: GetPromptRequestParams =
            serde_json::from_value(json!({"name": name, "arguments": arguments}))
                .map_err(|e| ConnectorError::invalid_input(e.to_string()))?;
        let request = ClientRequest::GetPromptRequest(GetPromptRequest::new(params));
        match self.request(&peer, request, &call, &mut guard).await? {
            ServerResult::GetPromptResult(r) => {
                serde_json::to_value(r).map_err(|e| ConnectorError::internal(e.to_string()))
            }
            _ => Err(ConnectorError::upstream(
                "the upstream answered prompts/get with something else",
            )),
        }
    }
}

/// Tells the upstream to stop work the caller no longer waits for.
struct CancelOnDrop {
    peer: Peer<RoleClient>,
    id: Option<RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let peer = self.peer.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let params = CancelledNotificationParam::new(
                    Some(id),
                    Some("the hub's caller cancelled or timed out".into()),
                );
                let _ = peer
                    .send_notification(ClientNotification::CancelledNotification(
                        CancelledNotification::new(params),
                    ))
                    .await;
            });
        }
    }
}

fn describe_service_error(e: &ServiceError) -> String {
    match e {
        ServiceError::McpError(e) => format!("error {}: {}", e.code.0, e.message),
        other => other.to_string(),
    }
}

/// Answers a 2026-07-28 `input_required` result through the calling client.
async fn answer_input_requests(
    client: Option<&Arc<dyn ClientBridge>>,
    asked: &Value,
) -> Result<Value, ConnectorError> {
    let mut responses = Map::new();
    let requests = asked
        .get("inputRequests")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, request) in requests {
        let client = client.ok_or_else(|| {
            ConnectorError::invalid_input(
                "the MCP server needs input from the client (sampling or elicitation), and this call did not come from a client that can answer",
            )
        })?;
        let params = request.get("params").cloned().unwrap_or(json!({}));
        let answer = match request.get("method").and_then(Value::as_str) {
            Some("sampling/createMessage") => client.create_message(params).await?,
            Some("elicitation/create") => client.elicit(params).await?,
            Some("roots/list") => json!({"roots": []}),
            other => {
                return Err(ConnectorError::upstream(format!(
                    "the MCP server asked for unsupported input '{}'",
                    other.unwrap_or("?")
                )))
            }
        };
        responses.insert(key, answer);
    }
    Ok(Value::Object(responses))
}

fn rewrite_uri(mut v: Value, key: &str, prefix: &str) -> Value {
    if let Some(uri) = v.get(key).and_then(Value::as_str) {
        v[key] = Value::String(format!("{RESOURCE_SCHEME}{prefix}/{uri}"));
    }
    v
}

/// The upstream URI behind a hub resource URI of this prefix.
fn original_uri<'a>(uri: &'a str, prefix: &str) -> Option<&'a str> {
    uri.strip_prefix(RESOURCE_SCHEME)?
        .strip_prefix(prefix)?
        .strip_prefix('/')
}

/// An upstream tool as a command: published as-is, arguments passed through.
fn command_for_tool(prefix: &str, tool: Value) -> Result<CommandSpec, String> {
    let name = tool
        .get("name")
        .and_then(Value::as_str)
        .ok_or("a tool without a name")?
        .to_string();
    validate_command_name(&name).map_err(|e| format!("upstream tool left out: {e}"))?;
    tool_name(prefix, &name)?;
    let annotations = tool.get("annotations");
    let hint = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_bool);
    let access = if hint("readOnlyHint") == Some(true) {
        Access::Read
    } else if hint("destructiveHint") == Some(false) {
        Access::Write
    } else {
        // MCP's default for a tool that is not read-only is "may be destructive".
        Access::Destructive
    };
    let description = tool
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut c = CommandSpec::new(name, access, description);
    c.idempotent = hint("idempotentHint").unwrap_or(access == Access::Read);
    c.raw_input_schema = tool.get("inputSchema").cloned();
    c.native_tool = Some(tool);
    Ok(c)
}

/// What one upstream offers right now, as a connector the dispatcher can run.
pub struct LiveView {
    spec: ConnectorSpec,
    upstream: Weak<Upstream>,
    prefix: String,
    resources: Vec<Value>,
    templates: Vec<Value>,
    prompts: Vec<Value>,
    /// Tools left out, with why.
    skipped: Vec<String>,
}

impl LiveView {
    fn with_upstream(mut self, upstream: &Upstream) -> Self {
        self.upstream = upstream.me.clone();
        self
    }

    /// Tools the upstream offers that the hub could not publish, with why.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    fn upstream(&self) -> Result<Arc<Upstream>, ConnectorError> {
        self.upstream.upgrade().ok_or_else(|| {
            ConnectorError::unavailable("this MCP server was stopped or reconfigured; retry")
        })
    }

    fn strip_prompt<'a>(&self, name: &'a str) -> Option<&'a str> {
        name.strip_prefix(&self.prefix)
            .and_then(|n| n.strip_prefix('.').or_else(|| n.strip_prefix('_')))
    }
}

impl Connector for LiveView {
    fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }

    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome> {
        let upstream = self.upstream();
        let command = command.to_string();
        Box::pin(async move { upstream?.call_tool(command, call).await })
    }

    fn resources(&self, _instance: &Instance) -> Vec<Value> {
        self.resources.clone()
    }

    fn resource_templates(&self, _instance: &Instance) -> Vec<Value> {
        self.templates.clone()
    }

    fn read_resource(
        &self,
        _instance: &Instance,
        uri: &str,
    ) -> BoxFuture<'static, Option<Result<Value, ConnectorError>>> {
        let Some(original) = original_uri(uri, &self.prefix).map(str::to_string) else {
            return Box::pin(async { None });
        };
        let upstream = self.upstream();
        Box::pin(async move {
            Some(match upstream {
                Ok(u) => {
                    let call = resource_call(&u);
                    u.read_resource(original, call).await
                }
                Err(e) => Err(e),
            })
        })
    }

    fn prompts(&self, _instance: &Instance) -> Vec<Value> {
        self.prompts.clone()
    }

    fn get_prompt(
        &self,
        _instance: &Instance,
        name: &str,
        arguments: Map<String, Value>,
    ) -> BoxFuture<'static, Option<Result<Value, ConnectorError>>> {
        let Some(original) = self.strip_prompt(name).map(str::to_string) else {
            return Box::pin(async { None });
        };
        if !self.prompts.iter().any(|p| {
            p.get("name").and_then(Value::as_str) == Some(&format!("{}.{original}", self.prefix))
        }) {
            return Box::pin(async { None });
        }
        let upstream = self.upstream();
        Box::pin(async move {
            Some(match upstream {
                Ok(u) => {
                    let call = resource_call(&u);
                    u.get_prompt(original, arguments, call).await
                }
                Err(e) => Err(e),
            })
        })
    }
}

/// Resources and prompts are read outside a tool call; they get a call of their
/// own with a 30 s deadline.
fn resource_call(upstream: &Upstream) -> Call {
    Call {
        command: String::new(),
        params: Map::new(),
        config: Map::new(),
        variables: Map::new(),
        cursor: None,
        ctx: crate::framework::RequestContext::new("upstream-read", Duration::from_secs(30)),
        http: upstream.http.clone(),
        instance: Instance::default(),
    }
}

/// The `mcp` type itself, for the catalog and the registry. Calls never reach it:
/// the hub routes them to the connector's [`LiveView`].
struct McpType(ConnectorSpec);

impl Connector for McpType {
    fn spec(&self) -> &ConnectorSpec {
        &self.0
    }
    fn run(&self, _command: &str, _call: Call) -> BoxFuture<'static, Outcome> {
        Box::pin(async {
            Err(Box::new(
                ConnectorError::internal("an mcp connector runs through its live upstream").into(),
            ))
        })
    }
}

/// The `mcp` connector type, to register.
pub fn type_connector() -> Arc<dyn Connector> {
    Arc::new(McpType(spec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        let r = rewrite_uri(
            json!({"uri": "test://static/resource/1"}),
            "uri",
            "everything",
        );
        let uri = r["uri"].as_str().unwrap();
        assert_eq!(uri, "switchboard://everything/test://static/resource/1");
        assert_eq!(
            original_uri(uri, "everything"),
            Some("test://static/resource/1")
        );
        assert_eq!(original_uri(uri, "every"), None);
        assert_eq!(original_uri("test://static/resource/1", "everything"), None);
    }

    #[test]
    fn tools_become_pass_through_commands() {
        let c = command_for_tool(
            "everything",
            json!({"name": "echo", "description": "Echoes", "inputSchema": {"type": "object"},
                   "annotations": {"readOnlyHint": true}}),
        )
        .unwrap();
        assert_eq!(c.access, Access::Read);
        assert!(c.native_tool.is_some());
        assert!(command_for_tool("p", json!({"name": "has space"})).is_err());
        let long = "x".repeat(70);
        assert!(command_for_tool("p", json!({"name": long})).is_err());
        let w = command_for_tool(
            "p",
            json!({"name": "w", "annotations": {"destructiveHint": false}}),
        )
        .unwrap();
        assert_eq!(w.access, Access::Write);
        let d = command_for_tool("p", json!({"name": "d"})).unwrap();
        assert_eq!(d.access, Access::Destructive);
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_millis(1000));
        assert_eq!(backoff(40), Duration::from_secs(30));
    }
}
