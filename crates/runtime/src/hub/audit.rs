//! Audit entries are queued and written by one background task, so a tool call
//! never waits on the audit insert; `flush` drains the queue at shutdown.

use switchboard_store::model::NewAuditEntry;
use switchboard_store::Store;
use tokio::sync::{mpsc, oneshot};

enum Msg {
    Entry(Box<NewAuditEntry>),
    Flush(oneshot::Sender<()>),
}

const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::UnboundedSender<Msg>,
}

impl AuditSink {
    pub fn spawn(store: Store) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(async move {
            let mut batch: Vec<NewAuditEntry> = Vec::new();
            let mut waiters = Vec::new();
            while let Some(first) = rx.recv().await {
                // Take whatever else is queued, up to a bound, and write it in one commit.
                let mut next = Some(first);
                while let Some(msg) = next {
                    match msg {
                        Msg::Entry(e) => batch.push(*e),
                        Msg::Flush(done) => waiters.push(done),
                    }
                    next = if batch.len() < MAX_BATCH {
                        rx.try_recv().ok()
                    } else {
                        None
                    };
                }
                if !batch.is_empty() {
                    if let Err(err) = store.append_audit_batch(&batch).await {
                        tracing::error!(error = %err, entries = batch.len(), "could not write audit entries");
                    }
                    batch.clear();
                }
                for done in waiters.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        AuditSink { tx }
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
