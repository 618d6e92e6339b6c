//! Profiles: named MCP endpoints over a chosen subset of a tenant's tools.

use sqlx::any::AnyRow;

use crate::cols;
use crate::error::is_unique_violation;
use crate::model::ProfileRecord;
use crate::{new_id, now_ms, Result, Store, StoreError};

const PROFILE_COLUMNS: &str =
    "id, tenant_id, name, connectors, tools, naming, anonymous, created_by, created_at, updated_at";

fn profile_from_row(row: &AnyRow) -> Result<ProfileRecord> {
    Ok(ProfileRecord {
        id: cols::string(row, "id")?,
        tenant_id: cols::string(row, "tenant_id")?,
        name: cols::string(row, "name")?,
        connectors: cols::json(row, "connectors")?,
        tools: cols::json(row, "tools")?,
        naming: cols::string(row, "naming")?,
        anonymous: cols::boolean(row, "anonymous")?,
        created_by: cols::string(row, "created_by")?,
        created_at: cols::int(row, "created_at")?,
        updated_at: cols::int(row, "updated_at")?,
    })
}

fn duplicate(name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "a profile named '{name}' already exists in this tenant"
    ))
}

impl Store {
    /// Inserts or (same id) replaces a profile. Anonymous profiles are reachable
    /// without a tenant, so their names must be unique across the hub.
    pub async fn save_profile(&self, p: &ProfileRecord) -> Result<ProfileRecord> {
        if p.anonymous {
            let taken = sqlx::query(
                "SELECT id FROM profiles WHERE name = $1 AND anonymous = 1 AND id <> $2",
            )
            .bind(&p.name)
            .bind(&p.id)
            .fetch_optional(&self.pool)
            .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "an anonymous profile named '{}' already exists on this hub; anonymous profile names are hub-wide",
                    p.name
                )));
            }
        }
        let mut saved = p.clone();
        saved.updated_at = now_ms();
        if saved.id.is_empty() {
            saved.id = new_id();
            saved.created_at = saved.updated_at;
        }
        let result = sqlx::query(&format!(
            "INSERT INTO profiles ({PROFILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, connectors = excluded.connectors, \
             tools = excluded.tools, naming = excluded.naming, anonymous = excluded.anonymous, \
             updated_at = excluded.updated_at"
        ))
        .bind(&saved.id)
        .bind(&saved.tenant_id)
        .bind(&saved.name)
        .bind(cols::to_json(&saved.connectors)?)
        .bind(cols::to_json(&saved.tools)?)
        .bind(&saved.naming)
        .bind(cols::flag(saved.anonymous))
        .bind(&saved.created_by)
        .bind(saved.created_at)
        .bind(saved.updated_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(saved),
            Err(e) if is_unique_violation(&e) => Err(duplicate(&saved.name)),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_profiles(&self, tenant_id: &str) -> Result<Vec<ProfileRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE tenant_id = $1 ORDER BY name"
        ))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(profile_from_row).collect()
    }

    /// By id or name, within the tenant.
    pub async fn get_profile(
        &self,
        tenant_id: &str,
        id_or_name: &str,
    ) -> Result<Option<ProfileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE tenant_id = $1 AND (id = $2 OR name = $2)"
        ))
        .bind(tenant_id)
        .bind(id_or_name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// An anonymous profile by name, whatever its tenant.
    pub async fn get_anonymous_profile(&self, name: &str) -> Result<Option<ProfileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE name = $1 AND anonymous = 1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    pub async fn delete_profile(&self, tenant_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM profiles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
