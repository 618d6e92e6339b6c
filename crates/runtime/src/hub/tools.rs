//! The tools a caller may use: one per command of each enabled connector they can see,
//! named `<toolPrefix>.<command>`, with both spellings resolvable.

use std::collections::HashMap;
use std::sync::Arc;

use switchboard_contract::naming::tool_name;
use switchboard_contract::{CommandSpec, ConnectorError};

use super::{store_error, Caller, Hub};

/// One tool: which connector and command it runs.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    /// Canonical dotted name, `<toolPrefix>.<command>`.
    pub name: String,
    pub connector_id: String,
    pub connector_name: String,
    pub connector_description: String,
    pub type_id: String,
    pub command: CommandSpec,
}

impl ToolEntry {
    /// The name with `_` for every dot, for clients that reject dots. The one
    /// definition of the underscore spelling, for listing and for lookup alike.
    pub fn underscore_name(&self) -> String {
        self.name.replace('.', "_")
    }
}

/// A caller's tools, in a stable order, with a lookup by either spelling.
#[derive(Debug, Default)]
pub struct ToolIndex {
    pub tools: Vec<ToolEntry>,
    by_name: HashMap<String, usize>,
}

impl ToolIndex {
    pub fn from_tools(tools: Vec<ToolEntry>) -> Self {
        let mut by_name = HashMap::new();
        for (i, t) in tools.iter().enumerate() {
            by_name.insert(t.name.clone(), i);
        }
        // Underscore spellings never shadow a dotted name.
        for (i, t) in tools.iter().enumerate() {
            by_name.entry(t.underscore_name()).or_insert(i);
        }
        ToolIndex { tools, by_name }
    }

    pub fn get(&self, name: &str) -> Option<&ToolEntry> {
        self.by_name.get(name).and_then(|i| self.tools.get(*i))
    }
}

impl Hub {
    /// The caller's tools, from a short-lived cache cleared on every connector change.
    pub async fn tools_for(&self, caller: &Caller) -> Result<Arc<ToolIndex>, ConnectorError> {
        let key = (caller.tenant_id.clone(), caller.user_id.clone());
        if let Some(index) = self.inner.tool_cache.get(&key) {
            return Ok(index);
        }
        let records = self
            .store()
            .list_connectors(&caller.tenant_id, &caller.user_id)
            .await
            .map_err(store_error)?;
        let mut tools = Vec::new();
        let mut upstreams = Vec::new();
        for r in records.into_iter().filter(|r| r.enabled) {
            let executor = match self.executor(&r.type_id).await {
                Ok(e) => e,
                Err(e) => {
                    // One broken type must not hide every other tool.
                    tracing::warn!(connector = %r.name, connector_type = %r.type_id, error = %e.message, "connector's type cannot run; its tools are not listed");
                    continue;
                }
            };
            if Self::is_mcp(&executor) {
                upstreams.push((r, executor));
                continue;
            }
            push_tools(&mut tools, &r, executor.spec());
        }
        // MCP servers list their own tools; those not up within the wait are left out
        // (their status says why) and join with a list-changed notification.
        let wait = self.settings().upstream_list_wait;
        let views = futures::future::join_all(upstreams.iter().map(|(r, executor)| async move {
            let loaded = self.loaded_connector(caller, &r.id).await.ok()?;
            let mut config = r.config.clone();
            config.extend(loaded.secrets.clone());
            match self.live_executor(executor.clone(), r, &config, wait).await {
                Ok(view) => Some(view),
                Err(e) => {
                    tracing::debug!(connector = %r.name, "MCP server left out of the tool list: {}", e.message);
                    None
                }
            }
        }))
        .await;
        for ((r, _), view) in upstreams.iter().zip(views) {
            if let Some(view) = view {
                push_tools(&mut tools, r, view.spec());
            }
        }
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        let index = Arc::new(ToolIndex::from_tools(tools));
        self.inner.tool_cache.insert(key, index.clone());
        Ok(index)
    }
}

impl Hub {
    /// The connectors behind a set of tools, each once, with what can run it: for
    /// the resources and prompts those connectors offer.
    pub fn connectors_of(
        &self,
        caller: &Caller,
        index: &ToolIndex,
    ) -> Vec<(
        crate::framework::Instance,
        Arc<dyn crate::framework::Connector>,
    )> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for t in &index.tools {
            if !seen.insert(t.connector_id.clone()) {
                continue;
            }
            let executor = match self
                .registry()
                .get(&t.type_id)
                .or_else(|| self.executors().cached(&t.type_id))
            {
                Some(c) if Self::is_mcp(&c) => self.current_upstream(&t.connector_id),
                other => other,
            };
            if let Some(c) = executor {
                out.push((
                    crate::framework::Instance {
                        id: t.connector_id.clone(),
                        tenant_id: caller.tenant_id.clone(),
                        name: t.connector_name.clone(),
                    },
                    c,
                ));
            }
        }
        out
    }
}

/// One tool per command of `spec`, named under the connector's prefix (a name over the
/// length limit is left out).
fn push_tools(
    tools: &mut Vec<ToolEntry>,
    r: &switchboard_store::model::ConnectorRecord,
    spec: &switchboard_contract::ConnectorSpec,
) {
    for c in &spec.commands {
        let Ok(name) = tool_name(&r.tool_prefix, &c.name) else {
            continue;
        };
        tools.push(ToolEntry {
            name,
            connector_id: r.id.clone(),
            connector_name: r.name.clone(),
            connector_description: r.description.clone(),
            type_id: r.type_id.clone(),
            command: c.clone(),
        });
    }
}
