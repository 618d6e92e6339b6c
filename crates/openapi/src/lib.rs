//! OpenAPI-derived connector types (SPEC section 4, model `openapi`).
//!
//! [`parse`] turns an OpenAPI 3.0 or 3.1 document (JSON or YAML) into a [`Draft`]: one
//! command per operation, each with one input schema merging its path, query, header,
//! cookie and body parameters, `$ref`s inlined; security schemes as connection fields;
//! the first server as the `baseUrl` field. Problems are reported by JSON pointer: a
//! broken operation is skipped with a [`Warning`], the sound ones still become commands.
//! [`build_type`] keeps the operations an admin picked and yields the type's spec and the
//! [`OpenApiDefinition`] the hub executes (`runtime::openapi`).
//!
//! Parameter naming: a parameter keeps its name (characters outside `[A-Za-z0-9_.-]`
//! become `_`); when two parameters share a name, or one is a name the hub reserves
//! (`cursor`, `fields`, `tenantId`, …), the later one (path, then query, header, cookie)
//! is renamed `<name>_<location>`, e.g. `id_header`. A JSON object body's properties
//! become top-level params when every property name is free; otherwise the whole body
//! is one `body` param.
//!
//! Pure: no I/O. Fetching a document by URL is the caller's job.

pub mod definition;
mod names;
mod parse;
mod refs;

use serde::Serialize;
use serde_json::{json, Value};
use switchboard_contract::{Access, CommandSpec, ConnectorSpec, ExecutionModel, FieldSpec};

pub use definition::*;
pub use names::HEALTH;

/// Bounds on what a document may cost to parse.
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Larger documents are refused. Default 32 MiB (GitHub's is about 13 MB).
    pub max_document_bytes: usize,
    /// Operations past this many are skipped with a warning. Default 10,000.
    pub max_operations: usize,
    /// Nested `$ref` expansions in one schema before the branch is cut off. Default 16.
    pub max_schema_depth: usize,
    /// Values in one parameter or body schema before the rest is cut off. Default 20,000.
    pub max_schema_nodes: usize,
    /// Longest command name; longer ones are shortened with a hash. Default 48, so
    /// `<prefix>.<command>` fits the 64-character tool-name limit with a prefix of 15.
    pub max_command_name: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_document_bytes: 32 * 1024 * 1024,
            max_operations: 10_000,
            max_schema_depth: 16,
            max_schema_nodes: 20_000,
            max_command_name: 48,
        }
    }
}

/// A part of the document that was skipped or approximated, and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// JSON pointer into the document (RFC 6901).
    pub pointer: String,
    pub message: String,
}

/// Why a document cannot be used at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OasError {
    /// JSON pointer into the document; empty for the document as a whole.
    pub pointer: String,
    pub message: String,
}

impl OasError {
    fn new(pointer: &str, message: impl Into<String>) -> Self {
        OasError {
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for OasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{} (at {})", self.message, self.pointer)
        }
    }
}

impl std::error::Error for OasError {}

/// One operation as a command: what agents see and what the hub sends.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftCommand {
    pub spec: CommandSpec,
    pub operation: Operation,
}

/// A draft connector type: every sound operation of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub title: String,
    /// `info.version`.
    pub api_version: String,
    pub description: String,
    pub openapi_version: String,
    /// A catalog name and tool prefix derived from the title.
    pub suggested_name: String,
    /// Connection fields: `baseUrl`, then each scheme's.
    pub config: Vec<FieldSpec>,
    pub security_schemes: Vec<SecurityScheme>,
    pub fallback_bearer: bool,
    pub commands: Vec<DraftCommand>,
    pub warnings: Vec<Warning>,
}

/// Parses a document given as text (JSON or YAML).
pub fn parse(text: &str, limits: &ParseLimits) -> Result<Draft, OasError> {
    parse_from(text, limits, None)
}

/// Like [`parse`], resolving a relative server URL against `source_url`.
pub fn parse_from(
    text: &str,
    limits: &ParseLimits,
    source_url: Option<&str>,
) -> Result<Draft, OasError> {
    let doc = parse::load(text, limits)?;
    parse::walk(&doc, limits, source_url)
}

/// Parses a document already read as JSON.
pub fn parse_value(doc: &Value, limits: &ParseLimits) -> Result<Draft, OasError> {
    parse::walk(doc, limits, None)
}

impl Draft {
    /// The JSON answer of `parse-oas`: the draft type, its commands and the warnings.
    pub fn to_json(&self) -> Value {
        json!({
            "title": self.title,
            "apiVersion": self.api_version,
            "openapiVersion": self.openapi_version,
            "description": self.description,
            "suggestedName": self.suggested_name,
            "executionModel": ExecutionModel::Openapi,
            "configSchema": switchboard_contract::schema::object_schema(&self.config),
            "config": self.config,
            "securitySchemes": self.security_schemes,
            "commands": self.commands.iter().map(|c| json!({
                "name": c.spec.name,
                "operationId": c.operation.operation_id,
                "method": c.operation.method,
                "path": c.operation.path,
                "description": c.spec.description,
                "access": c.spec.access,
                "annotations": c.spec.annotations(),
                "deprecated": c.spec.deprecation.deprecated,
                "inputSchema": c.spec.input_schema(),
            })).collect::<Vec<_>>(),
            "warnings": self.warnings,
        })
    }
}

/// What an admin chooses when creating a type from a draft.
#[derive(Debug, Clone, Default)]
pub struct TypeOptions {
    /// The catalog id; also the tool prefix unless one is given.
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub tool_prefix: Option<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// Command names or operationIds to keep; `None` keeps every operation.
    pub operations: Option<Vec<String>>,
}

/// A type ready to store: its spec (commands plus `health`) and its execution definition.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenApiType {
    pub spec: ConnectorSpec,
    pub definition: OpenApiDefinition,
}

/// Keeps the chosen operations of `draft` and checks the result against the naming rules.
pub fn build_type(draft: &Draft, options: &TypeOptions) -> Result<OpenApiType, String> {
    let chosen: Vec<&DraftCommand> = match &options.operations {
        None => draft.commands.iter().collect(),
        Some(wanted) => {
            let unknown: Vec<&String> = wanted
                .iter()
                .filter(|w| {
                    !draft.commands.iter().any(|c| {
                        &c.spec.name == *w || c.operation.operation_id.as_ref() == Some(*w)
                    })
                })
                .collect();
            if !unknown.is_empty() {
                return Err(format!(
                    "unknown operation(s): {}; name them by command name or operationId as parse-oas lists them",
                    unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            draft
                .commands
                .iter()
                .filter(|c| {
                    wanted
                        .iter()
                        .any(|w| &c.spec.name == w || c.operation.operation_id.as_ref() == Some(w))
                })
                .collect()
        }
    };
    if chosen.is_empty() {
        return Err("no operations chosen: a type needs at least one".into());
    }
    let mut commands = vec![CommandSpec::new(
        HEALTH,
        Access::Read,
        "Check the API answers at baseUrl with the configured credentials; returns the HTTP status.",
    )
    .outputs(["status", "reachable"])
    .mock_payload("default", json!({"status": 200, "reachable": true}))];
    commands.extend(chosen.iter().map(|c| c.spec.clone()));
    let spec = ConnectorSpec {
        name: options.name.clone(),
        version: if options.version.is_empty() {
            "1.0.0".into()
        } else {
            options.version.clone()
        },
        description: options
            .description
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| {
                if draft.description.is_empty() {
                    draft.title.clone()
                } else {
                    format!("{}: {}", draft.title, draft.description)
                }
            }),
        category: options.category.clone(),
        tags: options.tags.clone(),
        tool_prefix: options
            .tool_prefix
            .clone()
            .unwrap_or_else(|| options.name.clone()),
        execution_model: ExecutionModel::Openapi,
        scopes: Vec::new(),
        requires_oauth: false,
        oauth_provider: None,
        docs_url: None,
        config: draft.config.clone(),
        default_command: None,
        commands,
    };
    let room =
        switchboard_contract::naming::MAX_TOOL_NAME.saturating_sub(spec.tool_prefix.len() + 1);
    let too_long: Vec<&str> = spec
        .commands
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.len() > room)
        .collect();
    if !too_long.is_empty() {
        let longest = too_long.iter().map(|n| n.len()).max().unwrap_or(0);
        return Err(format!(
            "{} command name(s) do not fit the tool prefix '{}' within the {}-character tool-name limit ({}{}); use a tool prefix of at most {} characters",
            too_long.len(),
            spec.tool_prefix,
            switchboard_contract::naming::MAX_TOOL_NAME,
            too_long.iter().take(5).copied().collect::<Vec<_>>().join(", "),
            if too_long.len() > 5 { ", …" } else { "" },
            switchboard_contract::naming::MAX_TOOL_NAME.saturating_sub(longest + 1),
        ));
    }
    spec.check()?;
    Ok(OpenApiType {
        spec,
        definition: OpenApiDefinition {
            openapi_version: draft.openapi_version.clone(),
            base_url_field: BASE_URL_FIELD.to_string(),
            security_schemes: draft.security_schemes.clone(),
            fallback_bearer: draft.fallback_bearer,
            operations: chosen.iter().map(|c| c.operation.clone()).collect(),
        },
    })
}
