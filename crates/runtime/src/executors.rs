//! Running connector types that are not compiled in: a factory keyed by execution
//! model turns a stored type record (its spec and its model-specific definition) into
//! an `Arc<dyn Connector>`, cached by type id and version so a call does not rebuild
//! (or recompile) anything.
//!
//! Models register an [`ExecutionModelSupport`]. The hub registers `script` and
//! `external` itself; others (OpenAPI) are registered on the [`Registry`] with
//! [`Registry::register_model`](crate::framework::Registry::register_model), or added in
//! [`Executors::standard`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_contract::{ConnectorError, ConnectorSpec, ExecutionModel};
use switchboard_store::model::ConnectorTypeRecord;

use crate::framework::Connector;

/// A type about to be stored: its spec and the model-specific definition
/// (script source and limits, endpoint URL, OpenAPI operations…).
#[derive(Debug, Clone)]
pub struct TypeDraft {
    pub spec: ConnectorSpec,
    pub definition: Value,
}

/// A stored user-built type, as a factory receives it.
#[derive(Debug, Clone)]
pub struct StoredType {
    pub record: ConnectorTypeRecord,
    pub spec: ConnectorSpec,
}

impl StoredType {
    /// Reads a record; an unreadable spec is the hub's fault, not the caller's.
    pub fn from_record(record: ConnectorTypeRecord) -> Result<StoredType, ConnectorError> {
        let spec: ConnectorSpec = serde_json::from_value(record.spec.clone()).map_err(|e| {
            ConnectorError::internal(format!(
                "connector type '{}' has an unreadable definition: {e}",
                record.id
            ))
        })?;
        Ok(StoredType { record, spec })
    }

    pub fn definition(&self) -> &Value {
        &self.record.definition
    }
}

/// What an execution model provides for types created at run time.
#[async_trait::async_trait]
pub trait ExecutionModelSupport: Send + Sync {
    /// Checks and completes a type before it is stored, e.g. compiles a script (syntax
    /// errors with line and column) or reads an external service's `/schema`.
    async fn prepare(&self, _draft: &mut TypeDraft) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Builds what runs the type. Called once per (type, version) on each replica.
    fn build(&self, stored: &StoredType) -> Result<Arc<dyn Connector>, ConnectorError>;
}

struct Built {
    version: String,
    updated_at: i64,
    connector: Arc<dyn Connector>,
    /// When the store last confirmed this is the current version.
    confirmed: Instant,
}

/// The factory: one support per execution model, and the executors built so far.
#[derive(Default)]
pub struct Executors {
    models: HashMap<ExecutionModel, Arc<dyn ExecutionModelSupport>>,
    built: RwLock<HashMap<String, Built>>,
}

impl Executors {
    /// The models the runtime itself provides.
    ///
    /// OpenAPI: the `OpenApiConnector` of the OpenAPI work plugs in here (or through
    /// `Registry::register_model`) as `ExecutionModel::Openapi`.
    pub fn standard(
        http: crate::http::OutboundClient,
        script: &crate::script::ScriptSettings,
    ) -> Executors {
        let mut e = Executors::default();
        e.register(
            ExecutionModel::Script,
            Arc::new(crate::script::ScriptSupport::new(script.clone())),
        );
        e.register(
            ExecutionModel::External,
            Arc::new(crate::external::ExternalSupport::new(http.clone())),
        );
        e.register(
            ExecutionModel::Openapi,
            Arc::new(crate::openapi::OpenApiSupport::new(
                http,
                crate::openapi::limits_from_env(),
            )),
        );
        e
    }

    pub fn register(&mut self, model: ExecutionModel, support: Arc<dyn ExecutionModelSupport>) {
        self.models.insert(model, support);
    }

    pub fn support(&self, model: ExecutionModel) -> Option<&Arc<dyn ExecutionModelSupport>> {
        self.models.get(&model)
    }

    /// The executor built for `type_id`, if one was, without asking the store.
    pub fn cached(&self, type_id: &str) -> Option<Arc<dyn Connector>> {
        self.built
            .read()
            .ok()?
            .get(type_id)
            .map(|b| b.connector.clone())
    }

    /// The cached executor when the store confirmed its version less than `ttl` ago.
    pub fn fresh(&self, type_id: &str, ttl: Duration) -> Option<Arc<dyn Connector>> {
        let built = self.built.read().ok()?;
        let b = built.get(type_id)?;
        (b.confirmed.elapsed() < ttl).then(|| b.connector.clone())
    }

    /// The executor for a stored type: reused when its version is the one built,
    /// otherwise built by its model's support.
    pub fn get_or_build(&self, stored: &StoredType) -> Result<Arc<dyn Connector>, ConnectorError> {
        let id = &stored.record.id;
        if let Ok(mut built) = self.built.write() {
            if let Some(b) = built.get_mut(id) {
                if b.version == stored.record.version && b.updated_at == stored.record.updated_at {
                    b.confirmed = Instant::now();
                    return Ok(b.connector.clone());
                }
            }
        }
        let model = stored.spec.execution_model;
        let support = self.models.get(&model).ok_or_else(|| {
            ConnectorError::unavailable(format!(
                "connector type '{id}' cannot run on this hub (its execution model '{}' is not available)",
                model.as_str()
            ))
        })?;
        let connector = support.build(stored)?;
        if let Ok(mut built) = self.built.write() {
            built.insert(
                id.clone(),
                Built {
                    version: stored.record.version.clone(),
                    updated_at: stored.record.updated_at,
                    connector: connector.clone(),
                    confirmed: Instant::now(),
                },
            );
        }
        Ok(connector)
    }

    /// Forgets a type's executor after it changed or was deleted.
    pub fn invalidate(&self, type_id: &str) {
        if let Ok(mut built) = self.built.write() {
            built.remove(type_id);
        }
    }
}

#[async_trait::async_trait]
impl ExecutionModelSupport for crate::openapi::OpenApiSupport {
    async fn prepare(&self, draft: &mut TypeDraft) -> Result<(), ConnectorError> {
        self.prepare_type(&mut draft.spec, &mut draft.definition)
            .await
    }

    fn build(&self, stored: &StoredType) -> Result<Arc<dyn Connector>, ConnectorError> {
        crate::openapi::openapi_executor(&stored.spec, stored.definition())
    }
}
