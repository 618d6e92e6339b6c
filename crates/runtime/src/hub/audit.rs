//! Audit entries are queued and written by one background task, so a tool call
//! never waits on the audit insert; `flush` drains the queue at shutdown.

use std::sync::Arc;

use switchboard_store::model::NewAuditEntry;
use switchboard_store::Store;
use tokio::sync::{mpsc, oneshot, Mutex};

enum Msg {
    Entry(Box<NewAuditEntry>),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::UnboundedSender<Msg>,
    // Held so flush is serialized with writes; the writer owns the receiver.
    _guard: Arc<Mutex<()>>,
}

impl AuditSink {
    pub fn spawn(store: Store) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                match msg {
                    Msg::Entry(e) => {
                        if let Err(err) = store.append_audit(&e).await {
                            tracing::error!(error = %err, action = %e.action, "could not write audit entry");
                        }
                    }
                    Msg::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        AuditSink {
            tx,
            _guard: Arc::new(Mutex::new(())),
        }
    }

    pub fn record(&self, entry: NewAuditEntry) {
        if self.tx.send(Msg::Entry(Box::new(entry))).is_err() {
            tracing::error!("audit writer has stopped; an audit entry was lost");
        }
    }

    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

impl super::Hub {
    /// The tenant's audit log, newest first; admins only.
    pub async fn list_audit(
        &self,
        caller: &super::Caller,
        limit: Option<i64>,
        before: Option<&str>,
        connector_id: Option<String>,
        action: Option<String>,
    ) -> Result<Vec<serde_json::Value>, switchboard_contract::ConnectorError> {
        caller.require_admin("reading the audit log")?;
        let before = match before {
            None => None,
            Some(b) => Some(parse_time(b).ok_or_else(|| {
                switchboard_contract::ConnectorError::invalid_input(format!(
                    "before '{b}' is not an RFC 3339 time or epoch milliseconds"
                ))
            })?),
        };
        let query = switchboard_store::model::AuditQuery {
            limit: limit.unwrap_or(100),
            before,
            connector_id,
            action,
        };
        let entries = self
            .store()
            .list_audit(&caller.tenant_id, &query)
            .await
            .map_err(super::store_error)?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let mut v = serde_json::to_value(&e).unwrap_or_default();
                v["createdAt"] =
                    serde_json::Value::String(super::connectors::rfc3339(e.created_at));
                v
            })
            .collect())
    }
}

fn parse_time(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().or_else(|| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis())
    })
}
