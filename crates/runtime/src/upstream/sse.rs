//! A client for the 2024-11-05 HTTP+SSE transport, which rmcp no longer ships: a GET
//! stream that first names a POST endpoint (`event: endpoint`), then carries the
//! server's messages (`event: message`); the client POSTs each of its messages.
//!
//! Hand-written because no maintained crate offers it on top of rmcp's `Transport`.

use std::collections::BTreeMap;

use futures::{Sink, SinkExt, Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::RoleClient;
use sse_stream::SseStream;

use crate::http::OutboundClient;

type ServerMessage = RxJsonRpcMessage<RoleClient>;
type ClientMessage = TxJsonRpcMessage<RoleClient>;

/// The POST endpoint must stay on the SSE URL's origin, so headers and tokens never
/// travel to a host the admin did not configure.
fn endpoint_url(base: &Url, announced: &str) -> Result<Url, String> {
    let url = base
        .join(announced.trim())
        .map_err(|e| format!("the server announced an unusable endpoint '{announced}': {e}"))?;
    if url.origin() != base.origin() {
        return Err(format!(
            "the server announced an endpoint on another origin ({}); refused",
            url.origin().ascii_serialization()
        ));
    }
    Ok(url)
}

fn header_map(
    headers: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("header name '{k}' is invalid"))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("the value of header '{k}' is not a valid header value"))?;
        map.insert(name, value);
    }
    if let Some(t) = token {
        let value = HeaderValue::from_str(&format!("Bearer {t}"))
            .map_err(|_| "accessToken is not a valid header value".to_string())?;
        map.insert(AUTHORIZATION, value);
    }
    Ok(map)
}

/// Opens the stream and waits for the endpoint; returns rmcp's (sink, stream) pair.
pub(crate) async fn connect(
    http: &OutboundClient,
    url: &str,
    headers: &BTreeMap<String, String>,
    token: Option<&str>,
    max_message_bytes: usize,
) -> Result<
    (
        impl Sink<ClientMessage, Error = std::io::Error> + Send + Unpin + 'static,
        impl Stream<Item = ServerMessage> + Send + Unpin + 'static,
    ),
    String,
> {
    let base = http.check_url(url).map_err(|e| e.to_string())?;
    let headers = header_map(headers, token)?;
    let client = http.streaming().clone();
    let response = client
        .get(base.clone())
        .headers(headers.clone())
        .header(ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| format!("cannot open the SSE stream at {}: {e}", base.path()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "the SSE URL answered HTTP {status}; is it an MCP SSE endpoint?"
        ));
    }
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_sse {
        return Err(
            "the SSE URL did not answer with text/event-stream; is it an MCP SSE endpoint?".into(),
        );
    }
    let mut events = SseStream::from_bytes_stream(response.bytes_stream());
    let endpoint = loop {
        match events.next().await {
            Some(Ok(e)) if e.event.as_deref() == Some("endpoint") => {
                break endpoint_url(&base, e.data.as_deref().unwrap_or_default())?;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                return Err(format!(
                    "the SSE stream broke before naming an endpoint: {e}"
                ))
            }
            None => return Err("the SSE stream ended before naming an endpoint".into()),
        }
    };
    let connector_url = base.path().to_string();
    let stream = events
        .filter_map(move |event| {
            let connector_url = connector_url.clone();
            async move {
                let event = match event {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(url = %connector_url, "SSE upstream stream error: {e}");
                        return None;
                    }
                };
                if !matches!(event.event.as_deref(), None | Some("message")) {
                    return None;
                }
                let data = event.data?;
                if data.len() > max_message_bytes {
                    tracing::warn!(url = %connector_url, bytes = data.len(), "SSE upstream message over the size limit dropped");
                    return None;
                }
                match serde_json::from_str::<ServerMessage>(&data) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::warn!(url = %connector_url, "SSE upstream sent something that is not JSON-RPC: {e}");
                        None
                    }
                }
            }
        })
        .boxed();
    let sink = futures::sink::unfold(
        (client, endpoint, headers),
        |(client, endpoint, headers), message: ClientMessage| async move {
            let body = serde_json::to_vec(&message).map_err(std::io::Error::other)?;
            let response = client
                .post(endpoint.clone())
                .headers(headers.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| {
                    std::io::Error::other(format!("POST to the SSE endpoint failed: {e}"))
                })?;
            if !response.status().is_success() {
                return Err(std::io::Error::other(format!(
                    "the SSE endpoint refused a message: HTTP {}",
                    response.status()
                )));
            }
            Ok((client, endpoint, headers))
        },
    );
    Ok((Box::pin(sink.sink_map_err(|e| e)), stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_stays_on_origin() {
        let base = Url::parse("http://127.0.0.1:9/sse").unwrap();
        assert_eq!(
            endpoint_url(&base, "/message?sessionId=abc")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/message?sessionId=abc"
        );
        assert!(endpoint_url(&base, "http://evil.example/steal")
            .unwrap_err()
            .contains("another origin"));
    }
}
