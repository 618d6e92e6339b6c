//! Connector instances. Secret config lives in `credentials`, encrypted as one JSON
//! object bound (via AAD) to its tenant and connector, so `connectors.config` can be
//! read, logged and returned freely.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::cols;
use crate::error::is_unique_violation;
use crate::model::{ConnectorRecord, NewConnector, Visibility, CONNECTOR_STATUSES};
use crate::{new_id, now_ms, Result, Store, StoreError};

/// Credential kind for secret config fields.
pub const KIND_CONFIG: &str = "config";
/// `credentials.user_id` for credentials shared by every user of a connector. Empty
/// string rather than NULL so the UNIQUE constraint applies on both backends.
pub const SHARED_USER: &str = "";

/// The AAD binding a credential ciphertext to its row. Rotation recomputes it from the
/// row, so every credential writer must go through this function.
pub fn credential_aad(tenant_id: &str, connector_id: &str, user_id: &str, kind: &str) -> String {
    if kind == KIND_CONFIG && user_id == SHARED_USER {
        format!("connector:{tenant_id}:{connector_id}")
    } else {
        format!("connector:{tenant_id}:{connector_id}:{kind}:{user_id}")
    }
}

const CONNECTOR_COLUMNS: &str = "id, tenant_id, owner_user_id, name, type_id, description, \
    tool_prefix, config, visibility, enabled, status, status_reason, status_at, mock_scenario, \
    created_at, updated_at";

fn connector_from_row(row: &AnyRow) -> Result<ConnectorRecord> {
    Ok(ConnectorRecord {
        id: cols::string(row, "id")?,
        tenant_id: cols::string(row, "tenant_id")?,
        owner_user_id: cols::opt_string(row, "owner_user_id")?,
        name: cols::string(row, "name")?,
        type_id: cols::string(row, "type_id")?,
        description: cols::string(row, "description")?,
        tool_prefix: cols::string(row, "tool_prefix")?,
        config: cols::json(row, "config")?,
        visibility: Visibility::parse(&cols::string(row, "visibility")?)?,
        enabled: cols::boolean(row, "enabled")?,
        status: cols::string(row, "status")?,
        status_reason: cols::opt_string(row, "status_reason")?,
        status_at: cols::opt_int(row, "status_at")?,
        mock_scenario: cols::opt_string(row, "mock_scenario")?,
        created_at: cols::int(row, "created_at")?,
        updated_at: cols::int(row, "updated_at")?,
    })
}

fn validate(
    name: &str,
    tool_prefix: &str,
    visibility: Visibility,
    owner: Option<&String>,
) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "connector name must not be empty".into(),
        ));
    }
    if tool_prefix.trim().is_empty() {
        return Err(StoreError::Invalid("tool prefix must not be empty".into()));
    }
    match (visibility, owner) {
        (Visibility::Personal, None) => Err(StoreError::Invalid(
            "a personal connector needs an owner".into(),
        )),
        (Visibility::Tenant, Some(_)) => Err(StoreError::Invalid(
            "a tenant connector cannot have an owner".into(),
        )),
        _ => Ok(()),
    }
}

impl Store {
    pub async fn insert_connector(&self, new: &NewConnector) -> Result<ConnectorRecord> {
        validate(
            &new.name,
            &new.tool_prefix,
            new.visibility,
            new.owner_user_id.as_ref(),
        )?;
        let now = now_ms();
        let record = ConnectorRecord {
            id: new_id(),
            tenant_id: new.tenant_id.clone(),
            owner_user_id: new.owner_user_id.clone(),
            name: new.name.clone(),
            type_id: new.type_id.clone(),
            description: new.description.clone(),
            tool_prefix: new.tool_prefix.clone(),
            config: new.config.clone(),
            visibility: new.visibility,
            enabled: new.enabled,
            status: "unknown".into(),
            status_reason: None,
            status_at: None,
            mock_scenario: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO connectors ({CONNECTOR_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&record.id)
        .bind(&record.tenant_id)
        .bind(&record.owner_user_id)
        .bind(&record.name)
        .bind(&record.type_id)
        .bind(&record.description)
        .bind(&record.tool_prefix)
        .bind(cols::to_json(&record.config)?)
        .bind(record.visibility.as_str())
        .bind(cols::flag(record.enabled))
        .bind(&record.status)
        .bind(&record.status_reason)
        .bind(record.status_at)
        .bind(&record.mock_scenario)
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            drop(tx);
            return Err(self.connector_conflict(e, &record).await);
        }
        if !new.secrets.is_empty() {
            self.write_secrets(&mut tx, &record, &new.secrets, now)
                .await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    /// Connector by id within the tenant, whatever its visibility: callers decide
    /// whether a personal connector may be seen.
    pub async fn get_connector(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<ConnectorRecord>> {
        sqlx::query(&format!(
            "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(connector_from_row)
        .transpose()
    }

    pub async fn get_connector_by_name(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> Result<Option<ConnectorRecord>> {
        sqlx::query(&format!(
            "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE tenant_id = $1 AND name = $2"
        ))
        .bind(tenant_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(connector_from_row)
        .transpose()
    }

    /// What `user_id` can see: the tenant's shared connectors plus their own personal ones.
    pub async fn list_connectors(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Vec<ConnectorRecord>> {
        sqlx::query(&format!(
            "SELECT {CONNECTOR_COLUMNS} FROM connectors \
             WHERE tenant_id = $1 AND (visibility = 'tenant' OR owner_user_id = $2) \
             ORDER BY name"
        ))
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(connector_from_row)
        .collect()
    }

    /// Every enabled connector of a type, in all tenants: for the hub's own start-up
    /// work (launching MCP servers), never for a caller.
    pub async fn enabled_connectors_of_type(&self, type_id: &str) -> Result<Vec<ConnectorRecord>> {
        sqlx::query(&format!(
            "SELECT {CONNECTOR_COLUMNS} FROM connectors \
             WHERE type_id = $1 AND enabled = 1 ORDER BY tenant_id, name"
        ))
        .bind(type_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(connector_from_row)
        .collect()
    }

    /// Saves the mutable fields of `record` (matched by tenant and id) and, when
    /// `secrets` is given, replaces the stored secrets (an empty map deletes them).
    pub async fn update_connector(
        &self,
        record: &ConnectorRecord,
        secrets: Option<&Map<String, Value>>,
    ) -> Result<ConnectorRecord> {
        validate(
            &record.name,
            &record.tool_prefix,
            record.visibility,
            record.owner_user_id.as_ref(),
        )?;
        let mut updated = record.clone();
        updated.updated_at = now_ms().max(record.updated_at + 1);
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(
            "UPDATE connectors SET owner_user_id = $1, name = $2, type_id = $3, description = $4, \
             tool_prefix = $5, config = $6, visibility = $7, enabled = $8, status = $9, \
             status_reason = $10, status_at = $11, mock_scenario = $12, updated_at = $13 \
             WHERE tenant_id = $14 AND id = $15",
        )
        .bind(&updated.owner_user_id)
        .bind(&updated.name)
        .bind(&updated.type_id)
        .bind(&updated.description)
        .bind(&updated.tool_prefix)
        .bind(cols::to_json(&updated.config)?)
        .bind(updated.visibility.as_str())
        .bind(cols::flag(updated.enabled))
        .bind(&updated.status)
        .bind(&updated.status_reason)
        .bind(updated.status_at)
        .bind(&updated.mock_scenario)
        .bind(updated.updated_at)
        .bind(&updated.tenant_id)
        .bind(&updated.id)
        .execute(&mut *tx)
        .await;
        match result {
            Err(e) => {
                drop(tx);
                return Err(self.connector_conflict(e, &updated).await);
            }
            Ok(r) if r.rows_affected() == 0 => {
                return Err(StoreError::NotFound(format!("connector {}", record.id)));
            }
            Ok(_) => {}
        }
        if let Some(secrets) = secrets {
            if secrets.is_empty() {
                sqlx::query(
                    "DELETE FROM credentials WHERE connector_id = $1 AND user_id = $2 AND kind = $3",
                )
                .bind(&updated.id)
                .bind(SHARED_USER)
                .bind(KIND_CONFIG)
                .execute(&mut *tx)
                .await?;
            } else {
                self.write_secrets(&mut tx, &updated, secrets, updated.updated_at)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn delete_connector(&self, tenant_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // Explicit, so secrets go even if a database was created without FK enforcement.
        for table in ["credentials", "oauth_connections", "oauth_states"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant_id = $1 AND connector_id = $2"
            ))
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let done = sqlx::query("DELETE FROM connectors WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_connector_status(
        &self,
        tenant_id: &str,
        id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        if !CONNECTOR_STATUSES.contains(&status) {
            return Err(StoreError::Invalid(format!(
                "unknown connector status '{status}'"
            )));
        }
        let done = sqlx::query(
            "UPDATE connectors SET status = $1, status_reason = $2, status_at = $3 \
             WHERE tenant_id = $4 AND id = $5",
        )
        .bind(status)
        .bind(reason)
        .bind(now_ms())
        .bind(tenant_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("connector {id}")));
        }
        Ok(())
    }

    /// Decrypted secret config of a connector; empty when it has none.
    pub async fn connector_secrets(
        &self,
        tenant_id: &str,
        connector_id: &str,
    ) -> Result<Map<String, Value>> {
        let row = sqlx::query(
            "SELECT ciphertext FROM credentials \
             WHERE tenant_id = $1 AND connector_id = $2 AND user_id = $3 AND kind = $4",
        )
        .bind(tenant_id)
        .bind(connector_id)
        .bind(SHARED_USER)
        .bind(KIND_CONFIG)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Map::new());
        };
        let ciphertext = cols::string(&row, "ciphertext")?;
        let aad = credential_aad(tenant_id, connector_id, SHARED_USER, KIND_CONFIG);
        match self.vault.decrypt_json(&ciphertext, &aad)? {
            Value::Object(map) => Ok(map),
            _ => Err(StoreError::Database(
                "stored connector secrets are not a JSON object".into(),
            )),
        }
    }

    async fn write_secrets(
        &self,
        tx: &mut Transaction<'_, Any>,
        record: &ConnectorRecord,
        secrets: &Map<String, Value>,
        now: i64,
    ) -> Result<()> {
        let aad = credential_aad(&record.tenant_id, &record.id, SHARED_USER, KIND_CONFIG);
        let ciphertext = self
            .vault
            .encrypt_json(&Value::Object(secrets.clone()), &aad);
        sqlx::query(
            "INSERT INTO credentials \
               (id, tenant_id, connector_id, user_id, kind, ciphertext, key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (connector_id, user_id, kind) DO UPDATE SET \
               ciphertext = excluded.ciphertext, key_id = excluded.key_id, \
               updated_at = excluded.updated_at",
        )
        .bind(new_id())
        .bind(&record.tenant_id)
        .bind(&record.id)
        .bind(SHARED_USER)
        .bind(KIND_CONFIG)
        .bind(ciphertext)
        .bind(self.vault.primary_key_id())
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Turns a failed connector write into a precise Conflict when a name or prefix
    /// is taken; the lookup runs after the failed transaction is gone.
    async fn connector_conflict(&self, err: sqlx::Error, record: &ConnectorRecord) -> StoreError {
        if !is_unique_violation(&err) {
            return err.into();
        }
        let others = sqlx::query(
            "SELECT name, tool_prefix FROM connectors \
             WHERE tenant_id = $1 AND id <> $2 AND (name = $3 OR tool_prefix = $4)",
        )
        .bind(&record.tenant_id)
        .bind(&record.id)
        .bind(&record.name)
        .bind(&record.tool_prefix)
        .fetch_all(&self.pool)
        .await;
        let others = match others {
            Ok(rows) => rows,
            Err(e) => return e.into(),
        };
        let mut prefix_owner = None;
        for row in &others {
            let (Ok(name), Ok(prefix)) =
                (cols::string(row, "name"), cols::string(row, "tool_prefix"))
            else {
                continue;
            };
            if name == record.name {
                return StoreError::Conflict(format!(
                    "a connector named '{}' already exists in this tenant",
                    record.name
                ));
            }
            if prefix == record.tool_prefix {
                prefix_owner = Some(name);
            }
        }
        match prefix_owner {
            Some(owner) => StoreError::Conflict(format!(
                "tool prefix '{}' is already used by connector '{owner}'",
                record.tool_prefix
            )),
            None => StoreError::Conflict("the connector conflicts with an existing one".into()),
        }
    }
}
