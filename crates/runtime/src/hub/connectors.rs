//! Connector instances: create, read, update, delete, with config validated against
//! the type's schema and secrets split off to the vault.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use switchboard_contract::naming::{tool_name, validate_instance_prefix, validate_prefix};
use switchboard_contract::validate::validate_config;
use switchboard_contract::{ConnectorError, ConnectorSpec, ErrorCode, ExecutionModel};
use switchboard_store::model::{ConnectorRecord, NewAuditEntry, NewConnector, Visibility};

use std::sync::Arc;

use super::{store_error, Caller, Hub, LoadedConnector};

/// What every read shows in place of a stored secret; writing it back keeps the secret.
pub const SECRET_PLACEHOLDER: &str = "********";

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectorInput {
    /// Unique in the tenant, e.g. `jira-prod`.
    pub name: String,
    /// The catalog id of the connector type, e.g. `directory`.
    #[serde(rename = "type")]
    pub type_id: String,
    #[serde(default)]
    pub description: String,
    /// Defaults to the catalog prefix (or `<prefix>-<name>` when that is taken).
    pub tool_prefix: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
    /// `tenant` (shared, admins only) or `personal` (yours alone). Default `tenant`.
    #[schema(value_type = Option<String>)]
    pub visibility: Option<Visibility>,
    pub enabled: Option<bool>,
    /// Answer every call from this mock scenario instead of calling the vendor.
    pub mock_scenario: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectorPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tool_prefix: Option<String>,
    /// Merged into the stored config: a key set to null is removed, the secret
    /// placeholder keeps the stored secret.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
    #[schema(value_type = Option<String>)]
    pub visibility: Option<Visibility>,
    pub enabled: Option<bool>,
    /// A scenario name, or null to leave mock mode.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub mock_scenario: Option<Option<String>>,
}

fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_id: String,
    pub description: String,
    pub tool_prefix: String,
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
    #[schema(value_type = String)]
    pub visibility: Visibility,
    pub owner_user_id: Option<String>,
    pub enabled: bool,
    /// `unknown`, `connected`, `error`, `disconnected` or `expired`.
    pub status: String,
    pub status_reason: Option<String>,
    pub status_at: Option<String>,
    pub mock_scenario: Option<String>,
    /// The MCP tool names this connector contributes.
    pub tools: Vec<String>,
    /// For a connector that uses OAuth: the account the viewer's calls would use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<super::oauth::AccountView>,
    pub created_at: String,
    pub updated_at: String,
}

pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn validate_name(name: &str) -> Result<(), ConnectorError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ConnectorError::invalid_input(format!(
            "connector name '{name}' is invalid: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )))
    }
}

type PlainAndSecrets = (Map<String, Value>, Map<String, Value>);

/// Splits validated config into plain values and secrets, keeping stored secrets
/// where the caller sent the placeholder or left them out.
fn split_config(
    spec: &ConnectorSpec,
    config: &Map<String, Value>,
    stored_secrets: &Map<String, Value>,
) -> Result<PlainAndSecrets, ConnectorError> {
    let mut incoming = config.clone();
    let mut kept = Vec::new();
    for f in spec.secret_fields() {
        let placeholder = incoming.get(&f.name).and_then(Value::as_str) == Some(SECRET_PLACEHOLDER);
        if placeholder || !incoming.contains_key(&f.name) {
            incoming.remove(&f.name);
            if stored_secrets.contains_key(&f.name) {
                kept.push(f.name.clone());
            }
        }
    }
    let valid = validate_config(&spec.config, &incoming, &kept).map_err(|e| {
        ConnectorError::invalid_input(format!(
            "config does not match connector type '{}': {e}",
            spec.name
        ))
    })?;
    let mut plain = Map::new();
    let mut secrets = Map::new();
    for (k, v) in valid {
        if spec.config.iter().any(|f| f.name == k && f.is_secret()) {
            secrets.insert(k, v);
        } else {
            plain.insert(k, v);
        }
    }
    for k in kept {
        if let Some(v) = stored_secrets.get(&k) {
            secrets.insert(k, v.clone());
        }
    }
    Ok((plain, secrets))
}

fn check_mock(spec: &ConnectorSpec, scenario: Option<&str>) -> Result<(), ConnectorError> {
    let Some(s) = scenario else { return Ok(()) };
    let known: std::collections::BTreeSet<&str> = spec
        .commands
        .iter()
        .flat_map(|c| c.mocks.iter().map(|m| m.name.as_str()))
        .collect();
    if known.contains(s) {
        Ok(())
    } else {
        Err(ConnectorError::invalid_input(format!(
            "mock scenario '{s}' does not exist for type '{}'; available: {}",
            spec.name,
            known.into_iter().collect::<Vec<_>>().join(", ")
        )))
    }
}

impl Hub {
    pub(crate) fn view(
        &self,
        spec: Option<&ConnectorSpec>,
        r: ConnectorRecord,
        secrets: &Map<String, Value>,
    ) -> ConnectorView {
        let mut config = r.config.clone();
        for (k, v) in secrets {
            let masked = match v {
                // A secret map shows its names, never its values.
                Value::Object(m) => Value::Object(
                    m.keys()
                        .map(|name| (name.clone(), Value::String(SECRET_PLACEHOLDER.into())))
                        .collect(),
                ),
                _ => Value::String(SECRET_PLACEHOLDER.into()),
            };
            config.insert(k.clone(), masked);
        }
        // An MCP server's tools are those it listed last (none before it started).
        let live = self.current_upstream(&r.id);
        let spec = live.as_ref().map(|l| l.spec()).or(spec);
        let tools = spec
            .map(|s| {
                s.commands
                    .iter()
                    .filter_map(|c| tool_name(&r.tool_prefix, &c.name).ok())
                    .collect()
            })
            .unwrap_or_default();
        ConnectorView {
            id: r.id,
            name: r.name,
            type_id: r.type_id,
            description: r.description,
            tool_prefix: r.tool_prefix,
            config,
            visibility: r.visibility,
            owner_user_id: r.owner_user_id,
            enabled: r.enabled,
            status: r.status,
            status_reason: r.status_reason,
            status_at: r.status_at.map(rfc3339),
            mock_scenario: r.mock_scenario,
            tools,
            account: None,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }

    /// A connector the caller may see, by id or name. Anything else is "not found",
    /// so another tenant's ids reveal nothing.
    pub async fn visible_connector(
        &self,
        caller: &Caller,
        id_or_name: &str,
    ) -> Result<ConnectorRecord, ConnectorError> {
        Ok(self
            .loaded_connector(caller, id_or_name)
            .await?
            .record
            .clone())
    }

    /// The connector and its secrets, from the short-lived cache when possible.
    pub(crate) async fn loaded_connector(
        &self,
        caller: &Caller,
        id_or_name: &str,
    ) -> Result<Arc<LoadedConnector>, ConnectorError> {
        let key = (caller.tenant_id.clone(), id_or_name.to_string());
        let loaded = match self.inner.connector_cache.get(&key) {
            Some(l) => l,
            None => {
                let store = self.store();
                let found = match store
                    .get_connector(&caller.tenant_id, id_or_name)
                    .await
                    .map_err(store_error)?
                {
                    Some(r) => Some(r),
                    None => store
                        .get_connector_by_name(&caller.tenant_id, id_or_name)
                        .await
                        .map_err(store_error)?,
                };
                let Some(record) = found else {
                    return Err(ConnectorError::not_found(format!(
                        "no connector '{id_or_name}' in this tenant"
                    )));
                };
                let secrets = store
                    .connector_secrets(&record.tenant_id, &record.id)
                    .await
                    .map_err(store_error)?;
                let l = Arc::new(LoadedConnector { record, secrets });
                self.inner.connector_cache.insert(key, l.clone());
                l
            }
        };
        if loaded
            .record
            .owner_user_id
            .as_deref()
            .is_some_and(|o| o != caller.user_id)
        {
            return Err(ConnectorError::not_found(format!(
                "no connector '{id_or_name}' in this tenant"
            )));
        }
        Ok(loaded)
    }

    fn may_manage(caller: &Caller, r: &ConnectorRecord) -> Result<(), ConnectorError> {
        match &r.owner_user_id {
            Some(owner) if *owner == caller.user_id => Ok(()),
            Some(_) => Err(ConnectorError::not_found(format!(
                "no connector '{}' in this tenant",
                r.name
            ))),
            None => caller.require_admin("changing a shared connector"),
        }
    }

    pub async fn list_connectors(
        &self,
        caller: &Caller,
    ) -> Result<Vec<ConnectorView>, ConnectorError> {
        let records = self
            .store()
            .list_connectors(&caller.tenant_id, &caller.user_id)
            .await
            .map_err(store_error)?;
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let spec = self
                .executor(&r.type_id)
                .await
                .ok()
                .map(|c| c.spec().clone());
            let secrets = self
                .store()
                .connector_secrets(&r.tenant_id, &r.id)
                .await
                .map_err(store_error)?;
            let account = self
                .account_view(caller, &r, spec.as_ref(), &secrets)
                .await?;
            let mut view = self.view(spec.as_ref(), r, &secrets);
            view.account = account;
            out.push(view);
        }
        Ok(out)
    }

    pub async fn get_connector(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<ConnectorView, ConnectorError> {
        let r = self.visible_connector(caller, id).await?;
        let spec = self
            .executor(&r.type_id)
            .await
            .ok()
            .map(|c| c.spec().clone());
        let secrets = self
            .store()
            .connector_secrets(&r.tenant_id, &r.id)
            .await
            .map_err(store_error)?;
        let account = self
            .account_view(caller, &r, spec.as_ref(), &secrets)
            .await?;
        let mut view = self.view(spec.as_ref(), r, &secrets);
        view.account = account;
        Ok(view)
    }

    pub async fn create_connector(
        &self,
        caller: &Caller,
        input: ConnectorInput,
    ) -> Result<ConnectorView, ConnectorError> {
        validate_name(&input.name)?;
        let (record, spec, _) = self.executable_type(&input.type_id).await.map_err(|e| {
            if e.code == ErrorCode::NotFound {
                ConnectorError::invalid_input(format!(
                    "unknown connector type '{}': see GET /api/connector-types",
                    input.type_id
                ))
            } else {
                e
            }
        })?;
        if !record.enabled {
            return Err(ConnectorError::invalid_input(format!(
                "connector type '{}' is disabled in the catalog",
                input.type_id
            )));
        }
        let visibility = input.visibility.unwrap_or(Visibility::Tenant);
        if visibility == Visibility::Tenant {
            caller.require_admin(
                "creating a shared connector (use visibility 'personal' for your own)",
            )?;
        }
        // An MCP server's tools are named after the server (`everything.echo`), not
        // after the generic `mcp` type.
        let is_mcp = spec.execution_model == ExecutionModel::Mcp;
        let tool_prefix = match input.tool_prefix {
            Some(p) => p,
            None if is_mcp => super::upstreams::mcp_prefix(&input.name),
            None => {
                self.default_prefix(caller, &record.tool_prefix, &input.name)
                    .await?
            }
        };
        if is_mcp {
            validate_prefix(&tool_prefix).map_err(ConnectorError::invalid_input)?;
        } else {
            validate_instance_prefix(&tool_prefix, &record.tool_prefix)
                .map_err(ConnectorError::invalid_input)?;
        }
        self.check_prefix_free(caller, &tool_prefix, None).await?;
        for c in &spec.commands {
            tool_name(&tool_prefix, &c.name).map_err(ConnectorError::invalid_input)?;
        }
        check_mock(&spec, input.mock_scenario.as_deref())?;
        let (config, secrets) = split_config(&spec, &input.config, &Map::new())?;
        if is_mcp {
            let mut all = config.clone();
            all.extend(secrets.clone());
            Self::check_mcp_config(&all)?;
        }
        let created = self
            .store()
            .insert_connector(&NewConnector {
                tenant_id: caller.tenant_id.clone(),
                owner_user_id: (visibility == Visibility::Personal).then(|| caller.user_id.clone()),
                name: input.name,
                type_id: input.type_id,
                description: input.description,
                tool_prefix,
                config,
                secrets: secrets.clone(),
                visibility,
                enabled: input.enabled.unwrap_or(true),
            })
            .await
            .map_err(store_error)?;
        let created = if input.mock_scenario.is_some() {
            let mut r = created;
            r.mock_scenario = input.mock_scenario;
            self.store()
                .update_connector(&r, None)
                .await
                .map_err(store_error)?
        } else {
            created
        };
        if is_mcp && created.enabled {
            self.warm_upstream(&created, &secrets);
        }
        self.connectors_changed();
        self.audit_admin(caller, "connector.create", &created);
        Ok(self.view(Some(&spec), created, &secrets))
    }

    /// Refuses a prefix another connector of the tenant already uses, naming it: two
    /// connectors with one prefix would make their tool names collide.
    async fn check_prefix_free(
        &self,
        caller: &Caller,
        prefix: &str,
        except: Option<&str>,
    ) -> Result<(), ConnectorError> {
        let holder = self
            .store()
            .list_connectors(&caller.tenant_id, &caller.user_id)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|c| c.tool_prefix == prefix && Some(c.id.as_str()) != except);
        match holder {
            Some(c) => Err(ConnectorError::conflict(format!(
                "tool prefix '{prefix}' is already used by connector '{}'; choose another with toolPrefix",
                c.name
            ))),
            None => Ok(()),
        }
    }

    /// The catalog prefix, or `<prefix>-<name>` when a sibling already holds it.
    async fn default_prefix(
        &self,
        caller: &Caller,
        catalog_prefix: &str,
        name: &str,
    ) -> Result<String, ConnectorError> {
        let taken = self
            .store()
            .list_connectors(&caller.tenant_id, &caller.user_id)
            .await
            .map_err(store_error)?
            .iter()
            .any(|c| c.tool_prefix == catalog_prefix);
        if !taken {
            return Ok(catalog_prefix.to_string());
        }
        let suffix: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let suffix = suffix
            .strip_prefix(&format!("{catalog_prefix}-"))
            .unwrap_or(&suffix)
            .trim_matches('-')
            .to_string();
        Ok(format!("{catalog_prefix}-{suffix}"))
    }

    pub async fn update_connector(
        &self,
        caller: &Caller,
        id: &str,
        patch: ConnectorPatch,
    ) -> Result<ConnectorView, ConnectorError> {
        let mut r = self.visible_connector(caller, id).await?;
        Self::may_manage(caller, &r)?;
        let (type_record, spec, _) = self.executable_type(&r.type_id).await?;
        if let Some(name) = patch.name {
            validate_name(&name)?;
            r.name = name;
        }
        if let Some(d) = patch.description {
            r.description = d;
        }
        let is_mcp = spec.execution_model == ExecutionModel::Mcp;
        if let Some(p) = patch.tool_prefix {
            if is_mcp {
                validate_prefix(&p).map_err(ConnectorError::invalid_input)?;
            } else {
                validate_instance_prefix(&p, &type_record.tool_prefix)
                    .map_err(ConnectorError::invalid_input)?;
            }
            if p != r.tool_prefix {
                self.check_prefix_free(caller, &p, Some(&r.id)).await?;
            }
            for c in &spec.commands {
                tool_name(&p, &c.name).map_err(ConnectorError::invalid_input)?;
            }
            r.tool_prefix = p;
        }
        if let Some(v) = patch.visibility {
            if v == Visibility::Tenant && r.visibility == Visibility::Personal {
                caller.require_admin("sharing a connector with the tenant")?;
                r.owner_user_id = None;
            } else if v == Visibility::Personal && r.visibility == Visibility::Tenant {
                r.owner_user_id = Some(caller.user_id.clone());
            }
            r.visibility = v;
        }
        if let Some(e) = patch.enabled {
            r.enabled = e;
        }
        if let Some(m) = patch.mock_scenario {
            check_mock(&spec, m.as_deref())?;
            r.mock_scenario = m;
        }
        let stored = self
            .store()
            .connector_secrets(&r.tenant_id, &r.id)
            .await
            .map_err(store_error)?;
        let mut new_secrets = None;
        if let Some(changes) = patch.config {
            let mut merged = r.config.clone();
            for (k, v) in &stored {
                merged.insert(k.clone(), v.clone());
            }
            for (k, mut v) in changes {
                // In a secret map, a masked value keeps the stored one.
                if let (Value::Object(new), Some(Value::Object(old))) = (&mut v, stored.get(&k)) {
                    for (name, value) in new.iter_mut() {
                        if value.as_str() == Some(SECRET_PLACEHOLDER) {
                            if let Some(kept) = old.get(name) {
                                *value = kept.clone();
                            }
                        }
                    }
                }
                if v.is_null() {
                    merged.remove(&k);
                } else if v.as_str() != Some(SECRET_PLACEHOLDER) {
                    merged.insert(k, v);
                }
            }
            let (plain, secrets) = split_config(&spec, &merged, &Map::new())?;
            if is_mcp {
                let mut all = plain.clone();
                all.extend(secrets.clone());
                Self::check_mcp_config(&all)?;
            }
            r.config = plain;
            new_secrets = Some(secrets);
        }
        let updated = self
            .store()
            .update_connector(&r, new_secrets.as_ref())
            .await
            .map_err(store_error)?;
        let secrets = new_secrets.unwrap_or(stored);
        if is_mcp {
            // Restarted with the new settings (or left stopped when disabled).
            self.stop_upstream(&updated.id);
            if updated.enabled {
                self.warm_upstream(&updated, &secrets);
            } else if let Err(e) = self
                .store()
                .set_connector_status(&updated.tenant_id, &updated.id, "disconnected", None)
                .await
            {
                tracing::warn!(error = %e, "could not record a stopped MCP server's status");
            }
        }
        self.connectors_changed();
        self.audit_admin(caller, "connector.update", &updated);
        Ok(self.view(Some(&spec), updated, &secrets))
    }

    pub async fn delete_connector(&self, caller: &Caller, id: &str) -> Result<(), ConnectorError> {
        let r = self.visible_connector(caller, id).await?;
        Self::may_manage(caller, &r)?;
        self.store()
            .delete_connector(&caller.tenant_id, &r.id)
            .await
            .map_err(store_error)?;
        self.stop_upstream(&r.id);
        self.connectors_changed();
        self.audit_admin(caller, "connector.delete", &r);
        Ok(())
    }

    fn audit_admin(&self, caller: &Caller, action: &str, r: &ConnectorRecord) {
        self.audit().record(NewAuditEntry {
            tenant_id: caller.tenant_id.clone(),
            actor_user_id: Some(caller.user_id.clone()),
            actor_key_id: caller.key_id.clone(),
            action: action.to_string(),
            target_kind: "connector".into(),
            target_id: Some(r.id.clone()),
            connector_id: Some(r.id.clone()),
            command: None,
            outcome: "ok".into(),
            error_code: None,
            duration_ms: None,
            detail: Some(serde_json::json!({"name": r.name, "type": r.type_id})),
        });
    }
}
