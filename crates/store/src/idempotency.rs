//! Idempotency keys: the first request with a key claims it (a 'pending' row), later
//! ones either wait (InProgress) or get the stored response (Replay).

use serde_json::Value;

use crate::cols;
use crate::model::IdempotencyBegin;
use crate::{now_ms, Result, Store, StoreError};

impl Store {
    pub async fn idempotency_begin(
        &self,
        tenant_id: &str,
        scope: &str,
        key: &str,
        request_hash: &str,
        ttl_ms: i64,
    ) -> Result<IdempotencyBegin> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // An expired record must not block or replay, so it is cleared first.
        sqlx::query(
            "DELETE FROM idempotency \
             WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND expires_at <= $4",
        )
        .bind(tenant_id)
        .bind(scope)
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency \
               (tenant_id, scope, key, request_hash, state, response, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 'pending', NULL, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(tenant_id)
        .bind(scope)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .bind(now.saturating_add(ttl_ms.max(0)))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(IdempotencyBegin::Started);
        }
        let row = sqlx::query(
            "SELECT request_hash, state, response FROM idempotency \
             WHERE tenant_id = $1 AND scope = $2 AND key = $3",
        )
        .bind(tenant_id)
        .bind(scope)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let state = cols::string(&row, "state")?;
        if state != "done" {
            return Ok(IdempotencyBegin::InProgress);
        }
        let response: Option<Value> = cols::opt_json(&row, "response")?;
        Ok(IdempotencyBegin::Replay {
            request_hash: cols::string(&row, "request_hash")?,
            response: response.unwrap_or(Value::Null),
        })
    }

    pub async fn idempotency_complete(
        &self,
        tenant_id: &str,
        scope: &str,
        key: &str,
        response: &Value,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE idempotency SET state = 'done', response = $1 \
             WHERE tenant_id = $2 AND scope = $3 AND key = $4",
        )
        .bind(cols::to_json(response)?)
        .bind(tenant_id)
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("idempotency key '{key}'")));
        }
        Ok(())
    }

    /// Releases a pending key (the request failed in a way worth retrying).
    pub async fn idempotency_abandon(&self, tenant_id: &str, scope: &str, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency \
             WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND state = 'pending'",
        )
        .bind(tenant_id)
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes idempotency records expired at `now_ms`; returns how many.
    pub async fn purge_expired(&self, now_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM idempotency WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
