//! The hub's own MCP tools, beside connector tools: discover the catalog and find
//! the few tools that fit a task (SPEC section 5). Declared as `CommandSpec`s so
//! schema rendering and argument validation are the contract's, like every tool.

use std::sync::LazyLock;

use serde_json::{json, Map, Value};
use switchboard_contract::validate::validate_params;
use switchboard_contract::{Access, CommandSpec, Envelope, FieldKind, FieldSpec, Meta};
use switchboard_runtime::hub::{search_tools, ToolEntry, TypeQuery};
use switchboard_runtime::{Caller, Hub};

use super::tools::{render, Naming};

pub const CONNECTORS_LIST: &str = "switchboard.connectors.list";
pub const TOOLS_SEARCH: &str = "switchboard.tools.search";

/// The discovery tools as entries, so they render like any other tool.
static ENTRIES: LazyLock<Vec<ToolEntry>> = LazyLock::new(|| {
    let list = CommandSpec::new(
        "connectors.list",
        Access::Read,
        "List the connector types this hub offers (the catalog): what each connects to, its tool prefix, \
         scopes, whether it needs OAuth, its commands, and which of your connectors already use it.",
    )
    .param(FieldSpec::new("category", FieldKind::String).describe("Only types in this category, e.g. crm or sample."));
    let search = CommandSpec::new(
        "tools.search",
        Access::Read,
        "Find the few tools that fit a task described in words, with their input schemas, instead of \
         reading every tool. Example task: 'find an employee by email'.",
    )
    .param(FieldSpec::string("task").required().describe("What you want to do, in words."))
    .param(FieldSpec::new("limit", FieldKind::integer_range(1, 20)).default_value(5).describe("How many tools to return (1 to 20)."));
    [(CONNECTORS_LIST, list), (TOOLS_SEARCH, search)]
        .into_iter()
        .map(|(name, command)| ToolEntry {
            name: name.to_string(),
            connector_id: String::new(),
            connector_name: "switchboard".into(),
            connector_description: "the hub itself".into(),
            type_id: "switchboard".into(),
            command,
        })
        .collect()
});

pub fn entries() -> &'static [ToolEntry] {
    &ENTRIES
}

/// The discovery entry a tool name (either spelling) refers to.
pub fn find(name: &str) -> Option<&'static ToolEntry> {
    ENTRIES
        .iter()
        .find(|e| e.name == name || e.underscore_name() == name)
}

fn envelope(
    started: std::time::Instant,
    result: Result<Value, switchboard_contract::ConnectorError>,
) -> Envelope {
    let meta = Meta {
        request_id: uuid::Uuid::now_v7().simple().to_string(),
        duration_ms: started.elapsed().as_millis() as u64,
        ..Meta::default()
    };
    match result {
        Ok(data) => Envelope::success(data, meta),
        Err(e) => Envelope::failure(e, meta),
    }
}

pub async fn call(
    hub: &Hub,
    caller: &Caller,
    naming: Naming,
    entry: &ToolEntry,
    args: Map<String, Value>,
) -> Envelope {
    let started = std::time::Instant::now();
    let params = match validate_params(&entry.command, &args) {
        Ok(p) => p,
        Err(e) => return envelope(started, Err(e)),
    };
    let result = match entry.name.as_str() {
        CONNECTORS_LIST => {
            list_connectors(hub, caller, params.get("category").and_then(Value::as_str)).await
        }
        _ => search(hub, caller, naming, &params).await,
    };
    envelope(started, result)
}

async fn list_connectors(
    hub: &Hub,
    caller: &Caller,
    category: Option<&str>,
) -> Result<Value, switchboard_contract::ConnectorError> {
    let types = hub.list_types(TypeQuery { enabled_only: true }).await?;
    let mine = hub.list_connectors(caller).await?;
    let entries: Vec<Value> = types
        .into_iter()
        .filter(|t| category.is_none_or(|c| t.category.as_deref() == Some(c)))
        .map(|t| {
            let configured: Vec<Value> = mine
                .iter()
                .filter(|c| c.type_id == t.connector_id)
                .map(|c| json!({"name": c.name, "toolPrefix": c.tool_prefix, "status": c.status, "enabled": c.enabled}))
                .collect();
            let mut v = serde_json::to_value(&t).unwrap_or_default();
            v["configured"] = Value::Array(configured);
            v
        })
        .collect();
    Ok(json!({"connectors": entries}))
}

async fn search(
    hub: &Hub,
    caller: &Caller,
    naming: Naming,
    params: &Map<String, Value>,
) -> Result<Value, switchboard_contract::ConnectorError> {
    let task = params
        .get("task")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(5) as usize;
    let index = hub.tools_for(caller).await?;
    let found: Vec<Value> = search_tools(&index, task, limit)
        .into_iter()
        .map(|e| {
            let t = render(e, naming);
            json!({"name": t.name, "description": t.description, "inputSchema": t.input_schema, "annotations": t.annotations})
        })
        .collect();
    let hint = if found.is_empty() {
        "no tool fits; try other words, or switchboard.connectors.list to see what can be connected"
    } else {
        "call a tool by its name with arguments matching its inputSchema"
    };
    Ok(json!({"tools": found, "hint": hint}))
}
