//! Connector types: the catalog of what can be instantiated, synced from connector
//! definitions at startup (hence upsert).

use sqlx::any::AnyRow;

use crate::cols;
use crate::model::ConnectorTypeRecord;
use crate::{Result, Store};

const TYPE_COLUMNS: &str = "id, name, version, description, category, tags, tool_prefix, \
    execution_model, scopes, requires_oauth, oauth_provider, docs_url, enabled, builtin, spec, \
    created_at, updated_at, definition";

fn type_from_row(row: &AnyRow) -> Result<ConnectorTypeRecord> {
    Ok(ConnectorTypeRecord {
        id: cols::string(row, "id")?,
        name: cols::string(row, "name")?,
        version: cols::string(row, "version")?,
        description: cols::string(row, "description")?,
        category: cols::opt_string(row, "category")?,
        tags: cols::json(row, "tags")?,
        tool_prefix: cols::string(row, "tool_prefix")?,
        execution_model: cols::string(row, "execution_model")?,
        scopes: cols::json(row, "scopes")?,
        requires_oauth: cols::boolean(row, "requires_oauth")?,
        oauth_provider: cols::opt_string(row, "oauth_provider")?,
        docs_url: cols::opt_string(row, "docs_url")?,
        enabled: cols::boolean(row, "enabled")?,
        builtin: cols::boolean(row, "builtin")?,
        spec: cols::json(row, "spec")?,
        created_at: cols::int(row, "created_at")?,
        updated_at: cols::int(row, "updated_at")?,
        definition: cols::opt_json(row, "definition")?.unwrap_or(serde_json::Value::Null),
    })
}

impl Store {
    /// Inserts or replaces a type; `created_at` of an existing row is kept.
    pub async fn upsert_connector_type(&self, t: &ConnectorTypeRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO connector_types ({TYPE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (id) DO UPDATE SET \
               name = excluded.name, version = excluded.version, \
               description = excluded.description, category = excluded.category, \
               tags = excluded.tags, tool_prefix = excluded.tool_prefix, \
               execution_model = excluded.execution_model, scopes = excluded.scopes, \
               requires_oauth = excluded.requires_oauth, oauth_provider = excluded.oauth_provider, \
               docs_url = excluded.docs_url, enabled = excluded.enabled, \
               builtin = excluded.builtin, spec = excluded.spec, updated_at = excluded.updated_at, \
               definition = excluded.definition"
        ))
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.version)
        .bind(&t.description)
        .bind(&t.category)
        .bind(cols::to_json(&t.tags)?)
        .bind(&t.tool_prefix)
        .bind(&t.execution_model)
        .bind(cols::to_json(&t.scopes)?)
        .bind(cols::flag(t.requires_oauth))
        .bind(&t.oauth_provider)
        .bind(&t.docs_url)
        .bind(cols::flag(t.enabled))
        .bind(cols::flag(t.builtin))
        .bind(cols::to_json(&t.spec)?)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(if t.definition.is_null() {
            None
        } else {
            Some(cols::to_json(&t.definition)?)
        })
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_connector_type(&self, id: &str) -> Result<Option<ConnectorTypeRecord>> {
        sqlx::query(&format!(
            "SELECT {TYPE_COLUMNS} FROM connector_types WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(type_from_row)
        .transpose()
    }

    pub async fn list_connector_types(
        &self,
        enabled_only: bool,
    ) -> Result<Vec<ConnectorTypeRecord>> {
        let filter = if enabled_only {
            "WHERE enabled = 1"
        } else {
            ""
        };
        sqlx::query(&format!(
            "SELECT {TYPE_COLUMNS} FROM connector_types {filter} ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(type_from_row)
        .collect()
    }
}

impl Store {
    /// Removes a type; refused while connectors of the type exist.
    pub async fn delete_connector_type(&self, id: &str) -> Result<()> {
        let in_use = self.count_connectors_of_type(id).await?;
        if in_use > 0 {
            return Err(crate::StoreError::Conflict(format!(
                "connector type '{id}' is used by {in_use} connector(s); delete them first"
            )));
        }
        let done = sqlx::query("DELETE FROM connector_types WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound(format!(
                "no connector type '{id}' in the catalog"
            )));
        }
        Ok(())
    }

    /// How many connectors, in every tenant, use a type.
    pub async fn count_connectors_of_type(&self, type_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM connectors WHERE type_id = $1")
            .bind(type_id)
            .fetch_one(&self.pool)
            .await?;
        cols::int(&row, "n")
    }
}
