//! The catalog: connector types approved on this hub (SPEC section 5).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_contract::{ConnectorError, ConnectorSpec};
use switchboard_store::model::ConnectorTypeRecord;

use super::{store_error, Hub};
use crate::executors::StoredType;
use crate::framework::Connector;

/// A catalog entry as the API shows it; field names follow SPEC section 5.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogEntry {
    pub connector_id: String,
    pub name: String,
    pub description: String,
    pub tool_prefix: String,
    pub scopes: Vec<String>,
    pub requires_oauth: bool,
    pub oauth_provider: Option<String>,
    pub docs_url: Option<String>,
    pub version: String,
    pub enabled: bool,
    pub config_schema: Value,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub execution_model: String,
    pub commands: Value,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TypeQuery {
    pub enabled_only: bool,
}

/// The catalog row of a type: its spec's columns plus what only the caller knows.
pub(super) fn type_record(
    spec: &ConnectorSpec,
    builtin: bool,
    enabled: bool,
    created_at: i64,
    definition: Value,
) -> ConnectorTypeRecord {
    ConnectorTypeRecord {
        id: spec.name.clone(),
        name: spec.name.clone(),
        version: spec.version.clone(),
        description: spec.description.clone(),
        category: spec.category.clone(),
        tags: spec.tags.clone(),
        tool_prefix: spec.tool_prefix.clone(),
        execution_model: spec.execution_model.as_str().to_string(),
        scopes: spec.scopes.clone(),
        requires_oauth: spec.requires_oauth,
        oauth_provider: spec.oauth_provider.clone(),
        docs_url: spec.docs_url.clone(),
        enabled,
        builtin,
        spec: serde_json::to_value(spec).unwrap_or(Value::Null),
        created_at,
        updated_at: switchboard_store::now_ms(),
        definition,
    }
}

fn record_from_spec(
    spec: &ConnectorSpec,
    existing: Option<&ConnectorTypeRecord>,
) -> ConnectorTypeRecord {
    type_record(
        spec,
        true,
        // An admin's decision to disable a built-in survives upgrades.
        existing.is_none_or(|e| e.enabled),
        existing.map_or_else(switchboard_store::now_ms, |e| e.created_at),
        Value::Null,
    )
}

impl Hub {
    /// Writes every compiled-in type into the catalog; run at start-up.
    pub async fn seed_catalog(&self) -> Result<(), ConnectorError> {
        let specs: Vec<ConnectorSpec> = self.registry().specs().cloned().collect();
        for spec in specs {
            let existing = self
                .store()
                .get_connector_type(&spec.name)
                .await
                .map_err(store_error)?;
            if existing.as_ref().is_some_and(|e| {
                e.version == spec.version
                    && e.spec == serde_json::to_value(&spec).unwrap_or(Value::Null)
            }) {
                continue;
            }
            let record = record_from_spec(&spec, existing.as_ref());
            self.store()
                .upsert_connector_type(&record)
                .await
                .map_err(store_error)?;
        }
        self.seed_user_types().await
    }

    pub async fn list_types(&self, q: TypeQuery) -> Result<Vec<CatalogEntry>, ConnectorError> {
        let records = self
            .store()
            .list_connector_types(q.enabled_only)
            .await
            .map_err(store_error)?;
        Ok(records.into_iter().filter_map(|r| self.entry(r)).collect())
    }

    pub async fn get_type(&self, id: &str) -> Result<CatalogEntry, ConnectorError> {
        let record = self.type_record(id).await?;
        self.entry(record).ok_or_else(|| {
            ConnectorError::internal(format!(
                "connector type '{id}' has an unreadable definition"
            ))
        })
    }

    pub async fn type_capabilities(&self, id: &str) -> Result<Value, ConnectorError> {
        let (_, spec, _) = self.executable_type(id).await?;
        Ok(spec.capabilities())
    }

    async fn type_record(&self, id: &str) -> Result<ConnectorTypeRecord, ConnectorError> {
        self.store()
            .get_connector_type(id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                ConnectorError::not_found(format!("no connector type '{id}' in the catalog"))
            })
    }

    /// Something that can run the type. Built-ins come from the registry without a
    /// store round trip, since they are compiled in; user-built types from the
    /// executor cache, re-checked against the store once per cache TTL.
    pub(crate) async fn executor(
        &self,
        type_id: &str,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        if let Some(c) = self.registry().get(type_id) {
            return Ok(c);
        }
        if let Some(c) = self
            .executors()
            .fresh(type_id, self.settings().connector_cache_ttl)
        {
            return Ok(c);
        }
        self.executable_type(type_id).await.map(|(_, _, c)| c)
    }

    /// The type's record, its spec and something that can run it.
    pub(crate) async fn executable_type(
        &self,
        id: &str,
    ) -> Result<(ConnectorTypeRecord, ConnectorSpec, Arc<dyn Connector>), ConnectorError> {
        let record = self.type_record(id).await?;
        let connector = match self.registry().get(id) {
            Some(c) => c,
            None if record.builtin => {
                return Err(ConnectorError::unavailable(format!(
                    "connector type '{id}' is built into another Switchboard build and cannot run on this one"
                )))
            }
            None => {
                let stored = StoredType::from_record(record.clone())?;
                self.executors().get_or_build(&stored)?
            }
        };
        let spec = connector.spec().clone();
        Ok((record, spec, connector))
    }

    pub(crate) fn entry(&self, r: ConnectorTypeRecord) -> Option<CatalogEntry> {
        let spec: ConnectorSpec = match self.registry().get(&r.id) {
            Some(c) => c.spec().clone(),
            None => serde_json::from_value(r.spec.clone()).ok()?,
        };
        Some(CatalogEntry {
            connector_id: r.id,
            name: r.name,
            description: r.description,
            tool_prefix: r.tool_prefix,
            scopes: r.scopes,
            requires_oauth: r.requires_oauth,
            oauth_provider: r.oauth_provider,
            docs_url: r.docs_url,
            version: r.version,
            enabled: r.enabled,
            config_schema: spec.config_schema(),
            category: r.category,
            tags: r.tags,
            execution_model: r.execution_model,
            commands: spec.command_summary(),
        })
    }
}
