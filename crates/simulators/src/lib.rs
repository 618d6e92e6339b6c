//! In-memory simulators of the vendor APIs the built-in enterprise connectors call,
//! following each vendor's public REST documentation: the same paths, request and
//! response bodies, pagination, error bodies, rate-limit headers and 429 behaviour.
//!
//! Dev-only: tests and benchmarks start one with `<Vendor>Sim::start()`, which binds
//! `127.0.0.1:0` and stops when the handle is dropped. Each handle exposes its state
//! (what was created, which requests arrived) and knobs to inject failures: the next
//! N requests answer 429, or are delayed past the client's timeout.

pub mod confluence;
pub mod github;
pub mod jira;
pub mod salesforce;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

/// One request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub uri: String,
}

/// A canned failure answered instead of the real handler.
#[derive(Debug, Clone)]
pub struct Injected {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Failure injection and request log shared by every simulator.
#[derive(Default)]
pub struct Control {
    pub seen: Vec<Seen>,
    pub inject: VecDeque<Injected>,
    pub delay: Option<Duration>,
}

pub type SharedControl = Arc<Mutex<Control>>;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Logs the request, then answers an injected failure or delays when asked to.
pub(crate) async fn control_layer(
    State(control): State<SharedControl>,
    req: Request,
    next: Next,
) -> Response {
    let (injected, delay) = {
        let mut c = lock(&control);
        c.seen.push(Seen {
            method: req.method().to_string(),
            uri: req.uri().to_string(),
        });
        (c.inject.pop_front(), c.delay)
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if let Some(i) = injected {
        let mut resp = Response::new(Body::from(i.body));
        *resp.status_mut() = StatusCode::from_u16(i.status).unwrap_or(StatusCode::BAD_REQUEST);
        for (k, v) in i.headers {
            if let (Ok(k), Ok(v)) = (
                axum::http::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                resp.headers_mut().insert(k, v);
            }
        }
        return resp;
    }
    next.run(req).await
}

/// A running simulator: its base URL, its control, and the switch that stops it.
pub struct Server {
    pub base_url: String,
    pub control: SharedControl,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    pub(crate) async fn spawn(router: axum::Router, control: SharedControl) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Server {
            base_url,
            control,
            stop: Some(tx),
        }
    }

    /// The next request (whatever it is) gets this answer instead.
    pub fn inject(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        lock(&self.control).inject.push_back(Injected {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        });
    }

    /// Every following request waits this long before it is answered.
    pub fn set_delay(&self, delay: Option<Duration>) {
        lock(&self.control).delay = delay;
    }

    /// Requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.control).seen.clone()
    }

    /// How many requests with this method had a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        lock(&self.control)
            .seen
            .iter()
            .filter(|s| s.method == method && s.uri.starts_with(prefix))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// `Authorization: Basic base64(user:secret)` or `Bearer token`, decoded.
pub(crate) enum Credential {
    Basic(String, String),
    Bearer(String),
}

pub(crate) fn credential(headers: &HeaderMap) -> Option<Credential> {
    use base64::Engine as _;
    let value = headers.get("authorization")?.to_str().ok()?;
    if let Some(b) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (u, p) = text.split_once(':')?;
        return Some(Credential::Basic(u.to_string(), p.to_string()));
    }
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .map(|t| Credential::Bearer(t.to_string()))
}

/// A JSON answer with a status and extra headers.
pub(crate) fn json_response(
    status: u16,
    body: serde_json::Value,
    headers: &[(&str, String)],
) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        axum::Json(body),
    )
        .into_response();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}
