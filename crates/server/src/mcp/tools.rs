//! Rendering hub tools as MCP tools, under the caller's naming mode.

use std::sync::{Arc, LazyLock, Mutex, Weak};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use switchboard_contract::Envelope;
use switchboard_runtime::hub::{ToolEntry, ToolIndex};

/// How tool names are spelled for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// `jira.search_issues`
    #[default]
    Dot,
    /// `jira_search_issues`, for clients that accept only `[A-Za-z0-9_-]`.
    Underscore,
    /// `search_issues`: a profile whose tools do not collide.
    Bare,
}

impl Naming {
    /// A profile's stored naming mode.
    pub fn from_profile(mode: &str) -> Naming {
        match mode {
            "underscore" => Naming::Underscore,
            "none" => Naming::Bare,
            _ => Naming::Dot,
        }
    }

    /// From a `naming=` query parameter, if it names a mode.
    pub fn from_query(query: Option<&str>) -> Option<Naming> {
        let wanted = query
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "naming")
            .map(|(_, v)| v);
        match wanted {
            Some("underscore") => Some(Naming::Underscore),
            Some("dot") => Some(Naming::Dot),
            _ => None,
        }
    }

    pub fn spell(self, entry: &ToolEntry) -> String {
        match self {
            Naming::Dot => entry.name.clone(),
            Naming::Underscore => entry.underscore_name(),
            // Hub tools (no connector) keep their full name even here.
            Naming::Bare if !entry.connector_id.is_empty() => entry.command.name.clone(),
            Naming::Bare => entry.name.clone(),
        }
    }
}

static OUTPUT_SCHEMA: LazyLock<Arc<JsonObject>> = LazyLock::new(|| {
    Arc::new(
        Envelope::json_schema()
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
});

/// One MCP tool for a hub tool: schema from the framework, envelope as output schema,
/// annotations from the command's access, a description an agent can act on.
pub fn render(entry: &ToolEntry, naming: Naming) -> Tool {
    let c = &entry.command;
    if let Some(native) = &c.native_tool {
        // A proxied MCP tool keeps its own shape (schemas, annotations, title, icons,
        // _meta); only its name becomes the hub's.
        if let Ok(mut tool) = serde_json::from_value::<Tool>(native.clone()) {
            tool.name = naming.spell(entry).into();
            return tool;
        }
    }
    let mut description = c.description.clone();
    if c.deprecation.deprecated {
        description.push_str(&format!(
            " DEPRECATED: {}",
            c.deprecation
                .deprecated_message
                .as_deref()
                .unwrap_or("avoid in new work")
        ));
    }
    description.push_str(&format!(
        " [connector '{}', type {}]",
        entry.connector_name, entry.type_id
    ));
    let schema = c.input_schema().as_object().cloned().unwrap_or_default();
    let mut tool = Tool::new(naming.spell(entry), description, Arc::new(schema));
    tool.title = Some(format!(
        "{} {}",
        entry.connector_name,
        c.name.replace('_', " ")
    ));
    tool.output_schema = Some(OUTPUT_SCHEMA.clone());
    let a = c.annotations();
    let mut annotations = ToolAnnotations::default();
    annotations.read_only_hint = Some(a.read_only_hint);
    annotations.destructive_hint = Some(a.destructive_hint);
    annotations.idempotent_hint = Some(a.idempotent_hint);
    annotations.open_world_hint = Some(a.open_world_hint);
    tool.annotations = Some(annotations);
    tool
}

/// Rendered tool lists, kept while their index is alive: a `tools/list` page then
/// costs a slice, not a re-render. Keyed by the index itself (a `Weak`), so a
/// changed tool set is a new key and stale entries fall away with their index.
type RenderedEntry = (Weak<ToolIndex>, Naming, Arc<Vec<Tool>>);

static RENDERED: LazyLock<Mutex<Vec<RenderedEntry>>> = LazyLock::new(|| Mutex::new(Vec::new()));

const RENDER_CACHE_ENTRIES: usize = 64;

/// Every tool of `index`, rendered for `naming`.
pub fn rendered(index: &Arc<ToolIndex>, naming: Naming) -> Arc<Vec<Tool>> {
    if let Ok(cache) = RENDERED.lock() {
        let hit = cache
            .iter()
            .find(|(w, n, _)| *n == naming && w.upgrade().is_some_and(|i| Arc::ptr_eq(&i, index)));
        if let Some((_, _, tools)) = hit {
            return tools.clone();
        }
    }
    let tools = Arc::new(
        index
            .tools
            .iter()
            .map(|t| render(t, naming))
            .collect::<Vec<_>>(),
    );
    if let Ok(mut cache) = RENDERED.lock() {
        cache.retain(|(w, _, _)| w.strong_count() > 0);
        if cache.len() >= RENDER_CACHE_ENTRIES {
            cache.remove(0);
        }
        cache.push((Arc::downgrade(index), naming, tools.clone()));
    }
    tools
}
