//! User-built connector types (script, external, OpenAPI): create, change with the
//! versioning rules of SPEC section 4, delete. Only platform admins change the catalog.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchboard_contract::authoring::{parse_config_schema, render_config_schema};
use switchboard_contract::naming::validate_prefix;
use switchboard_contract::versioning::{check_bump, diff, BumpCheck, Change, Version};
use switchboard_contract::{Access, CommandSpec, ConnectorError, ConnectorSpec, ExecutionModel};
use switchboard_store::model::{ConnectorTypeRecord, NewAuditEntry};

use super::catalog::CatalogEntry;
use super::{store_error, Caller, Hub};
use crate::executors::{StoredType, TypeDraft};

/// The description of the `health` command the hub adds to a type that declares none;
/// it also marks that command as the hub's, so it is left out when the schema is shown.
pub const ADDED_HEALTH_DESCRIPTION: &str =
    "Checks that the connector is reachable and its credentials work.";

/// `POST /api/connector-types` and `PUT /api/connector-types/:id` (seed `003`'s shape).
/// On update, what is left out keeps its current value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectorTypeInput {
    /// Catalog id and default tool prefix, e.g. `my-crm` (lower-case letters, digits, `-`, `_`).
    pub name: Option<String>,
    /// Seed 003 repeats the name here; when given it must equal `name`.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    pub description: Option<String>,
    /// Semantic version; `1.0.0` when a new type gives none.
    pub version: Option<String>,
    /// `script`, `external` or `openapi`.
    pub execution_model: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub tool_prefix: Option<String>,
    pub docs_url: Option<String>,
    /// `{"connectionConfig": {field: {type, required, secret, description, default}},
    ///   "commands": {name: {description, params, paramSchema, outputs, access, deprecated,
    ///   deprecatedMessage, addedInVersion}}}`.
    #[schema(value_type = Option<Object>)]
    pub config_schema: Option<Value>,
    /// Script types: JavaScript with one global function per command.
    pub script_source: Option<String>,
    /// Script types: `{cpuMs, memoryBytes, maxHttpCalls, maxResultBytes}`.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<Value>,
    /// External types: the service's base URL (`/execute`, `/schema`, `/health` below it).
    pub endpoint_url: Option<String>,
    /// External types: how long `/execute` may take, in ms (sent as `metadata.timeout`).
    pub timeout_ms: Option<u64>,
    /// Other models' own definition (e.g. OpenAPI operations), merged over the current one.
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
    pub enabled: Option<bool>,
    /// Update only: set the version to the smallest bump the changes need.
    pub auto_bump: Option<bool>,
}

/// A type with its authoring definition, and on update what changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectorTypeView {
    #[serde(flatten)]
    pub entry: CatalogEntry,
    pub builtin: bool,
    /// The authoring shape: `configSchema` plus the model's own keys (`scriptSource`,
    /// `limits`, `endpointUrl`, `timeoutMs`…).
    #[schema(value_type = Object)]
    pub definition: Value,
    /// On update: each change and the bump it needed.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
    pub previous_version: Option<String>,
}

impl ConnectorTypeInput {
    /// Whether the input sets nothing but `enabled` (and repeats the id).
    fn only_enabled(&self) -> bool {
        self.description.is_none()
            && self.version.is_none()
            && self.execution_model.is_none()
            && self.category.is_none()
            && self.tags.is_none()
            && self.tool_prefix.is_none()
            && self.docs_url.is_none()
            && self.config_schema.is_none()
            && self.script_source.is_none()
            && self.limits.is_none()
            && self.endpoint_url.is_none()
            && self.timeout_ms.is_none()
            && self.definition.is_none()
            && self.auto_bump.is_none()
    }
}

fn invalid(message: impl Into<String>) -> ConnectorError {
    ConnectorError::invalid_input(message)
}

/// The model a new type may be created in.
fn creatable_model(name: &str) -> Result<ExecutionModel, ConnectorError> {
    match ExecutionModel::parse(name) {
        Some(ExecutionModel::BuiltIn) => Err(invalid(
            "built-in types are compiled in: write one with `switchboard new-connector`",
        )),
        Some(ExecutionModel::Mcp) => Err(invalid(
            "MCP servers are added as connectors, not as connector types",
        )),
        Some(m) => Ok(m),
        None => Err(invalid(format!(
            "unknown executionModel '{name}'; use script, external or openapi"
        ))),
    }
}

/// Adds the hub's `health` command to a type that declares none.
fn ensure_health(spec: &mut ConnectorSpec) {
    if spec.command("health").is_none() {
        spec.commands.push(CommandSpec::new(
            "health",
            Access::Read,
            ADDED_HEALTH_DESCRIPTION,
        ));
    }
}

fn authored_commands(spec: &ConnectorSpec) -> Vec<CommandSpec> {
    spec.commands
        .iter()
        .filter(|c| !(c.name == "health" && c.description == ADDED_HEALTH_DESCRIPTION))
        .cloned()
        .collect()
}

/// The authoring shape of a stored type.
fn authoring_definition(spec: &ConnectorSpec, definition: &Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "configSchema".into(),
        render_config_schema(&spec.config, &authored_commands(spec)),
    );
    if let Value::Object(d) = definition {
        for (k, v) in d {
            if k != "healthFromEndpoint" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

impl Hub {
    /// Creates a user-built type. Its schema is checked, its script compiled (syntax
    /// errors with line and column), an external service's `/schema` read when the
    /// type declares no commands.
    pub async fn create_type(
        &self,
        caller: &Caller,
        input: ConnectorTypeInput,
    ) -> Result<ConnectorTypeView, ConnectorError> {
        caller.require_platform_admin("creating a connector type")?;
        let view = self.create_type_unchecked(input, false).await?;
        self.audit_type(caller, "connector_type.create", &view);
        Ok(view)
    }

    /// Creates (or, with `replace`, overwrites) a type without permission or version
    /// checks: for `create_type` and for seeding.
    async fn create_type_unchecked(
        &self,
        input: ConnectorTypeInput,
        replace: bool,
    ) -> Result<ConnectorTypeView, ConnectorError> {
        let name = input
            .name
            .clone()
            .ok_or_else(|| invalid("name is required: the type's catalog id, e.g. 'my-crm'"))?;
        validate_prefix(&name)
            .map_err(|e| invalid(format!("name: {}", e.replace("tool prefix", "type name"))))?;
        if let Some(t) = &input.type_name {
            if t != &name {
                return Err(invalid(format!(
                    "type '{t}' must equal name '{name}' (or be left out)"
                )));
            }
        }
        let existing = self
            .store()
            .get_connector_type(&name)
            .await
            .map_err(store_error)?;
        if existing.is_some() && !replace {
            return Err(ConnectorError::conflict(format!(
                "connector type '{name}' already exists; change it with PUT /api/connector-types/{name}"
            )));
        }
        let model =
            creatable_model(input.execution_model.as_deref().ok_or_else(|| {
                invalid("executionModel is required: script, external or openapi")
            })?)?;
        let version = input.version.clone().unwrap_or_else(|| "1.0.0".into());
        Version::parse(&version).map_err(invalid)?;
        let parsed = match &input.config_schema {
            Some(s) => parse_config_schema(s).map_err(|p| invalid(p.join("; ")))?,
            None => switchboard_contract::authoring::AuthoredSchema {
                config: Vec::new(),
                commands: Vec::new(),
            },
        };
        let spec = ConnectorSpec {
            name: name.clone(),
            version,
            description: input.description.clone().unwrap_or_default(),
            category: input.category.clone(),
            tags: input.tags.clone().unwrap_or_default(),
            tool_prefix: input.tool_prefix.clone().unwrap_or_else(|| name.clone()),
            execution_model: model,
            scopes: Vec::new(),
            requires_oauth: false,
            oauth_provider: None,
            docs_url: input.docs_url.clone(),
            config: parsed.config,
            default_command: None,
            commands: parsed.commands,
        };
        let draft = TypeDraft {
            spec,
            definition: model_definition(&input, &Value::Null),
        };
        let draft = self.prepare_draft(draft).await?;
        let now = switchboard_store::now_ms();
        let record = record_from_draft(
            &draft,
            existing.as_ref().map_or(now, |e| e.created_at),
            input.enabled.unwrap_or(true),
        );
        self.store()
            .upsert_connector_type(&record)
            .await
            .map_err(store_error)?;
        self.executors().invalidate(&name);
        self.connectors_changed();
        self.type_view(record, Vec::new(), None)
    }

    /// Runs the model's checks and completes the spec.
    async fn prepare_draft(&self, mut draft: TypeDraft) -> Result<TypeDraft, ConnectorError> {
        let model = draft.spec.execution_model;
        let support = self.executors().support(model).cloned().ok_or_else(|| {
            ConnectorError::unavailable(format!(
                "execution model '{}' is not available on this hub",
                model.as_str()
            ))
        })?;
        if model == ExecutionModel::Script && draft.spec.commands.is_empty() {
            return Err(invalid(
                "configSchema.commands is required: one entry per function the script defines",
            ));
        }
        support.prepare(&mut draft).await?;
        ensure_health(&mut draft.spec);
        draft.spec.check().map_err(invalid)?;
        Ok(draft)
    }

    /// Changes a user-built type. The version must go up by at least the largest
    /// change (SPEC section 4); `autoBump` sets it. Built-in types may only be
    /// enabled or disabled.
    pub async fn update_type(
        &self,
        caller: &Caller,
        id: &str,
        input: ConnectorTypeInput,
    ) -> Result<ConnectorTypeView, ConnectorError> {
        caller.require_platform_admin("changing a connector type")?;
        let mut record = self
            .store()
            .get_connector_type(id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                ConnectorError::not_found(format!("no connector type '{id}' in the catalog"))
            })?;
        for (what, v) in [("name", &input.name), ("type", &input.type_name)] {
            if let Some(v) = v {
                if v != id {
                    return Err(invalid(format!(
                        "{what} '{v}' differs from the type's id '{id}': a type cannot be renamed; create a new one"
                    )));
                }
            }
        }
        if record.builtin {
            if !input.only_enabled() {
                return Err(invalid(format!(
                    "'{id}' is a built-in type: its schema changes with a Switchboard release; only 'enabled' can be set"
                )));
            }
            if let Some(e) = input.enabled {
                record.enabled = e;
                record.updated_at = switchboard_store::now_ms();
                self.store()
                    .upsert_connector_type(&record)
                    .await
                    .map_err(store_error)?;
                self.connectors_changed();
            }
            return self.type_view(record, Vec::new(), None);
        }
        let old = StoredType::from_record(record.clone())?;
        if let Some(m) = &input.execution_model {
            if m != old.spec.execution_model.as_str() {
                return Err(invalid(format!(
                    "the execution model of '{id}' is '{}' and cannot change; create a new type",
                    old.spec.execution_model.as_str()
                )));
            }
        }
        let mut spec = old.spec.clone();
        if let Some(s) = &input.config_schema {
            let parsed = parse_config_schema(s).map_err(|p| invalid(p.join("; ")))?;
            spec.config = parsed.config;
            spec.commands = parsed.commands;
        } else {
            spec.commands = authored_commands(&spec);
        }
        if let Some(d) = &input.description {
            spec.description = d.clone();
        }
        if let Some(c) = &input.category {
            spec.category = Some(c.clone());
        }
        if let Some(t) = &input.tags {
            spec.tags = t.clone();
        }
        if let Some(p) = &input.tool_prefix {
            spec.tool_prefix = p.clone();
        }
        if let Some(d) = &input.docs_url {
            spec.docs_url = Some(d.clone());
        }
        let draft = TypeDraft {
            spec,
            definition: model_definition(&input, old.definition()),
        };
        let mut draft = self.prepare_draft(draft).await?;
        let changes = diff(
            &old.spec,
            &draft.spec,
            &draft.definition != old.definition(),
        );
        let version = match check_bump(
            &old.record.version,
            input.version.as_deref(),
            &changes,
            input.auto_bump.unwrap_or(false),
        )
        .map_err(invalid)?
        {
            BumpCheck::Accepted { version } => version,
            BumpCheck::Refused {
                required,
                minimum,
                message,
            } => {
                return Err(invalid(message).with_diagnostics(json!({
                    "requiredBump": required,
                    "minimumVersion": minimum,
                    "currentVersion": old.record.version,
                    "changes": changes,
                })))
            }
        };
        draft.spec.version = version.clone();
        for c in draft.spec.commands.iter_mut() {
            if old.spec.command(&c.name).is_none() && c.added_in_version.is_none() {
                c.added_in_version = Some(version.clone());
            }
        }
        let mut new_record = record_from_draft(
            &draft,
            record.created_at,
            input.enabled.unwrap_or(record.enabled),
        );
        // Distinct even within one millisecond, so executor caches see the change.
        new_record.updated_at = new_record.updated_at.max(record.updated_at + 1);
        self.store()
            .upsert_connector_type(&new_record)
            .await
            .map_err(store_error)?;
        self.executors().invalidate(id);
        self.connectors_changed();
        let view = self.type_view(new_record, changes, Some(old.record.version.clone()))?;
        self.audit_type(caller, "connector_type.update", &view);
        Ok(view)
    }

    /// Deletes a user-built type no connector uses.
    pub async fn delete_type(&self, caller: &Caller, id: &str) -> Result<(), ConnectorError> {
        caller.require_platform_admin("deleting a connector type")?;
        let record = self.type_record_any(id).await?;
        if record.builtin {
            return Err(invalid(format!(
                "'{id}' is a built-in type and cannot be deleted; disable it instead"
            )));
        }
        self.store()
            .delete_connector_type(id)
            .await
            .map_err(store_error)?;
        self.executors().invalidate(id);
        self.connectors_changed();
        tracing::info!(connector_type = %id, "connector type deleted");
        Ok(())
    }

    /// A type with its authoring definition (script source, endpoint, schema).
    pub async fn type_definition(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<ConnectorTypeView, ConnectorError> {
        caller.require_platform_admin("reading a connector type's definition")?;
        let record = self.type_record_any(id).await?;
        self.type_view(record, Vec::new(), None)
    }

    async fn type_record_any(&self, id: &str) -> Result<ConnectorTypeRecord, ConnectorError> {
        self.store()
            .get_connector_type(id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                ConnectorError::not_found(format!("no connector type '{id}' in the catalog"))
            })
    }

    /// Creates the registry's seeded user-built types, or replaces one whose version changed.
    pub(crate) async fn seed_user_types(&self) -> Result<(), ConnectorError> {
        for seed in self.registry().seeded_types().to_vec() {
            let input: ConnectorTypeInput = serde_json::from_value(seed).map_err(|e| {
                ConnectorError::internal(format!("a seeded connector type is invalid: {e}"))
            })?;
            let name = input.name.clone().unwrap_or_default();
            let existing = self
                .store()
                .get_connector_type(&name)
                .await
                .map_err(store_error)?;
            let wanted = input.version.clone().unwrap_or_else(|| "1.0.0".into());
            if existing.as_ref().is_some_and(|e| e.version == wanted) {
                continue;
            }
            let enabled = existing.as_ref().map(|e| e.enabled);
            self.create_type_unchecked(
                ConnectorTypeInput {
                    enabled: enabled.or(input.enabled),
                    ..input
                },
                true,
            )
            .await
            .map_err(|e| {
                ConnectorError::internal(format!(
                    "cannot seed connector type '{name}': {}",
                    e.message
                ))
            })?;
        }
        Ok(())
    }

    fn type_view(
        &self,
        record: ConnectorTypeRecord,
        changes: Vec<Change>,
        previous_version: Option<String>,
    ) -> Result<ConnectorTypeView, ConnectorError> {
        let builtin = record.builtin;
        let definition = if builtin {
            Value::Null
        } else {
            let stored = StoredType::from_record(record.clone())?;
            authoring_definition(&stored.spec, stored.definition())
        };
        let id = record.id.clone();
        let entry = self.entry(record).ok_or_else(|| {
            ConnectorError::internal(format!(
                "connector type '{id}' has an unreadable definition"
            ))
        })?;
        Ok(ConnectorTypeView {
            entry,
            builtin,
            definition,
            changes,
            previous_version,
        })
    }

    fn audit_type(&self, caller: &Caller, action: &str, view: &ConnectorTypeView) {
        self.audit().record(NewAuditEntry {
            tenant_id: caller.tenant_id.clone(),
            actor_user_id: Some(caller.user_id.clone()),
            actor_key_id: caller.key_id.clone(),
            action: action.to_string(),
            target_kind: "connector_type".into(),
            target_id: Some(view.entry.connector_id.clone()),
            connector_id: None,
            command: None,
            outcome: "ok".into(),
            error_code: None,
            duration_ms: None,
            detail: Some(json!({
                "version": view.entry.version,
                "previousVersion": view.previous_version,
                "executionModel": view.entry.execution_model,
            })),
        });
    }
}

/// The model-specific keys of `input` over `current` (the stored definition).
fn model_definition(input: &ConnectorTypeInput, current: &Value) -> Value {
    let mut d = current.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(extra)) = &input.definition {
        for (k, v) in extra {
            d.insert(k.clone(), v.clone());
        }
    }
    if let Some(s) = &input.script_source {
        d.insert("scriptSource".into(), json!(s));
    }
    if let Some(l) = &input.limits {
        let mut limits = d
            .get("limits")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        match l {
            Value::Object(m) => limits.extend(m.clone()),
            other => {
                d.insert("limits".into(), other.clone());
                return Value::Object(d);
            }
        }
        d.insert("limits".into(), Value::Object(limits));
    }
    if let Some(u) = &input.endpoint_url {
        d.insert("endpointUrl".into(), json!(u));
    }
    if let Some(t) = input.timeout_ms {
        d.insert("timeoutMs".into(), json!(t));
    }
    Value::Object(d)
}

fn record_from_draft(draft: &TypeDraft, created_at: i64, enabled: bool) -> ConnectorTypeRecord {
    super::catalog::type_record(
        &draft.spec,
        false,
        enabled,
        created_at,
        draft.definition.clone(),
    )
}
