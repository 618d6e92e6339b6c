//! Connector types: the catalog of what can be instantiated, synced from connector
//! definitions at startup (hence upsert).

use sqlx::any::AnyRow;

use crate::cols;
use crate::model::ConnectorTypeRecord;
use crate::{Result, Store};

const TYPE_COLUMNS: &str = "id, name, version, description, category, tags, tool_prefix, \
    execution_model, scopes, requires_oauth, oauth_provider, docs_url, enabled, builtin, spec, \
    created_at, updated_at";

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
    })
}

impl Store {
    /// Inserts or replaces a type; `created_at` of an existing row is kept.
    pub async fn upsert_connector_type(&self, t: &ConnectorTypeRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO connector_types ({TYPE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (id) DO UPDATE SET \
               name = excluded.name, version = excluded.version, \
               description = excluded.description, category = excluded.category, \
               tags = excluded.tags, tool_prefix = excluded.tool_prefix, \
               execution_model = excluded.execution_model, scopes = excluded.scopes, \
               requires_oauth = excluded.requires_oauth, oauth_provider = excluded.oauth_provider, \
               docs_url = excluded.docs_url, enabled = excluded.enabled, \
               builtin = excluded.builtin, spec = excluded.spec, updated_at = excluded.updated_at"
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
