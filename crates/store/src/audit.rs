use sqlx::any::AnyRow;

use crate::cols;
use crate::model::{AuditEntry, AuditQuery, NewAuditEntry};
use crate::{new_id, now_ms, Result, Store};

const AUDIT_COLUMNS: &str = "id, tenant_id, actor_user_id, actor_key_id, action, target_kind, \
    target_id, connector_id, command, outcome, error_code, duration_ms, detail, created_at";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: cols::string(row, "id")?,
        tenant_id: cols::string(row, "tenant_id")?,
        actor_user_id: cols::opt_string(row, "actor_user_id")?,
        actor_key_id: cols::opt_string(row, "actor_key_id")?,
        action: cols::string(row, "action")?,
        target_kind: cols::string(row, "target_kind")?,
        target_id: cols::opt_string(row, "target_id")?,
        connector_id: cols::opt_string(row, "connector_id")?,
        command: cols::opt_string(row, "command")?,
        outcome: cols::string(row, "outcome")?,
        error_code: cols::opt_string(row, "error_code")?,
        duration_ms: cols::opt_int(row, "duration_ms")?,
        detail: cols::opt_json(row, "detail")?,
        created_at: cols::int(row, "created_at")?,
    })
}

impl Store {
    pub async fn append_audit(&self, e: &NewAuditEntry) -> Result<()> {
        insert_audit(&self.pool, e).await
    }

    /// Writes many entries in one transaction: one commit instead of one per entry,
    /// which is what keeps the audit writer off the tool-call path under load.
    pub async fn append_audit_batch(&self, entries: &[NewAuditEntry]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for e in entries {
            insert_audit(&mut *tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Newest first. Filters are appended as bound parameters, never interpolated.
    pub async fn list_audit(&self, tenant_id: &str, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE tenant_id = $1");
        let mut n = 1;
        if q.before.is_some() {
            n += 1;
            sql.push_str(&format!(" AND created_at < ${n}"));
        }
        if q.connector_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND connector_id = ${n}"));
        }
        if q.action.is_some() {
            n += 1;
            sql.push_str(&format!(" AND action = ${n}"));
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT ${}",
            n + 1
        ));

        let mut query = sqlx::query(&sql).bind(tenant_id);
        if let Some(before) = q.before {
            query = query.bind(before);
        }
        if let Some(connector_id) = &q.connector_id {
            query = query.bind(connector_id);
        }
        if let Some(action) = &q.action {
            query = query.bind(action);
        }
        query
            .bind(q.limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }
}

async fn insert_audit<'e, E>(executor: E, e: &NewAuditEntry) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let detail = e.detail.as_ref().map(cols::to_json).transpose()?;
    sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(new_id())
    .bind(&e.tenant_id)
    .bind(&e.actor_user_id)
    .bind(&e.actor_key_id)
    .bind(&e.action)
    .bind(&e.target_kind)
    .bind(&e.target_id)
    .bind(&e.connector_id)
    .bind(&e.command)
    .bind(&e.outcome)
    .bind(&e.error_code)
    .bind(e.duration_ms)
    .bind(detail)
    .bind(now_ms())
    .execute(executor)
    .await?;
    Ok(())
}
