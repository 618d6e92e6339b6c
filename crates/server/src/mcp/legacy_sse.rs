//! The HTTP+SSE transport of protocol 2024-11-05, for clients that still use it:
//! `GET /sse` opens an event stream whose first event names the message endpoint;
//! the client POSTs JSON-RPC there and reads answers on the stream. rmcp dropped
//! this transport, so this is a small one of our own: each stream is an rmcp
//! service fed through a channel pair.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use serde::Deserialize;
use serde_json::json;
use switchboard_runtime::Caller;
use switchboard_store::model::ProfileRecord;

use super::handler::McpFrontend;
use super::tools::Naming;
use crate::AppState;

/// Open legacy sessions: id → where to deliver the client's messages, and whose they are.
#[derive(Clone, Default)]
pub struct SseSessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

struct Session {
    to_service: mpsc::Sender<ClientJsonRpcMessage>,
    user_id: String,
}

/// Removes the session when its event stream ends (the client went away).
struct Unregister {
    sessions: SseSessions,
    id: String,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        if let Ok(mut map) = self.sessions.inner.lock() {
            map.remove(&self.id);
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}})),
    )
        .into_response()
}

/// `GET /sse` (and `/sse/<profile>`): the event stream of one session.
pub async fn open(State(state): State<AppState>, req: Request) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return error(StatusCode::UNAUTHORIZED, "not authenticated");
    };
    let profile = req.extensions().get::<ProfileRecord>().cloned();
    let naming = super::tools::Naming::from_query(req.uri().query()).unwrap_or_else(|| {
        profile
            .as_ref()
            .map_or(Naming::Dot, |p| Naming::from_profile(&p.naming))
    });
    let sessions = state.sse_sessions.clone();
    let id = uuid::Uuid::new_v4().simple().to_string();

    let (to_service, from_client) = mpsc::channel::<ClientJsonRpcMessage>(64);
    let (to_client, from_service) = mpsc::channel::<ServerJsonRpcMessage>(64);
    let frontend = McpFrontend::for_caller(state.hub.clone(), caller.clone(), naming, profile);
    tokio::spawn(async move {
        match frontend.serve((to_client, from_client)).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::warn!(error = %e, "legacy SSE session ended during setup"),
        }
    });
    if let Ok(mut map) = sessions.inner.lock() {
        map.insert(
            id.clone(),
            Session {
                to_service,
                user_id: caller.user_id.clone(),
            },
        );
    }

    let guard = Unregister {
        sessions,
        id: id.clone(),
    };
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/message?sessionId={id}"));
    let messages = from_service.map(move |msg| {
        let _keep = &guard;
        let data = serde_json::to_string(&msg).unwrap_or_default();
        Ok::<_, Infallible>(Event::default().event("message").data(data))
    });
    let stream =
        futures::stream::once(async move { Ok::<_, Infallible>(endpoint) }).chain(messages);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[derive(Deserialize)]
pub struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

/// `POST /message?sessionId=…`: one client message into its session; answered on the stream.
pub async fn message(
    State(state): State<AppState>,
    Query(q): Query<MessageQuery>,
    req: Request,
) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return error(StatusCode::UNAUTHORIZED, "not authenticated");
    };
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the message as application/json",
        );
    }
    let sender = {
        let Ok(map) = state.sse_sessions.inner.lock() else {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "session table unavailable",
            );
        };
        match map.get(&q.session_id) {
            // Another caller cannot write into someone's session, even with its id.
            Some(s) if s.user_id == caller.user_id => s.to_service.clone(),
            _ => {
                return error(
                    StatusCode::NOT_FOUND,
                    "no such session: open a new one with GET /sse",
                )
            }
        }
    };
    let body = match axum::body::to_bytes(req.into_body(), crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the message is larger than the 1 MiB limit",
            )
        }
    };
    let message: ClientJsonRpcMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!("not a JSON-RPC message: {e}")}})),
            )
                .into_response()
        }
    };
    let mut sender = sender;
    match sender.send(message).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => error(
            StatusCode::NOT_FOUND,
            "the session has ended: open a new one with GET /sse",
        ),
    }
}
