//! A connector type's declarative definition: metadata, config fields, commands.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::ConnectorError;
use crate::schema::{object_schema, FieldSpec};
use crate::standard;

/// How a type's commands are executed (SPEC section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionModel {
    BuiltIn,
    Script,
    Openapi,
    External,
    Mcp,
}

impl ExecutionModel {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionModel::BuiltIn => "built_in",
            ExecutionModel::Script => "script",
            ExecutionModel::Openapi => "openapi",
            ExecutionModel::External => "external",
            ExecutionModel::Mcp => "mcp",
        }
    }

    pub fn parse(s: &str) -> Option<ExecutionModel> {
        [
            ExecutionModel::BuiltIn,
            ExecutionModel::Script,
            ExecutionModel::Openapi,
            ExecutionModel::External,
            ExecutionModel::Mcp,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// Whether a command reads, writes, or destroys; drives MCP annotations and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    Write,
    Destructive,
}

/// The MCP tool annotations derived from a command's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    pub read_only_hint: bool,
    pub destructive_hint: bool,
    pub idempotent_hint: bool,
    pub open_world_hint: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deprecation {
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_message: Option<String>,
}

/// A named canned outcome, returned instead of calling the vendor in mock mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MockScenario {
    pub name: String,
    #[serde(flatten)]
    pub result: MockResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MockResult {
    Payload(Value),
    Error(ConnectorError),
}

/// Which of the standard inputs (SPEC section 2) a command takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StandardInputs {
    /// `limit` and `cursor`.
    #[serde(default)]
    pub paginated: bool,
    /// `fields` projection of the result.
    #[serde(default)]
    pub projection: bool,
    /// `expand` of related objects.
    #[serde(default)]
    pub expand: bool,
    /// `idempotencyKey`, enforced by the hub.
    #[serde(default)]
    pub idempotency_key: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandSpec {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub params: Vec<FieldSpec>,
    #[serde(default)]
    pub outputs: Vec<String>,
    pub access: Access,
    /// A write the vendor (or the hub) makes safe to repeat.
    #[serde(default)]
    pub idempotent: bool,
    #[serde(default)]
    pub standard: StandardInputs,
    #[serde(default)]
    pub deprecation: Deprecation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_in_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mocks: Vec<MockScenario>,
    /// A JSON Schema to publish instead of the one rendered from `params`, for shapes
    /// fields cannot express (`$defs`, `$ref`, nested objects from OpenAPI or MCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_input_schema: Option<Value>,
    /// The upstream MCP `Tool` this command proxies, published as-is under the hub's
    /// name. Its arguments pass through unchanged: the upstream validates them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_tool: Option<Value>,
}

impl CommandSpec {
    pub fn new(name: impl Into<String>, access: Access, description: impl Into<String>) -> Self {
        CommandSpec {
            name: name.into(),
            description: description.into(),
            params: Vec::new(),
            outputs: Vec::new(),
            access,
            idempotent: matches!(access, Access::Read),
            standard: StandardInputs::default(),
            deprecation: Deprecation::default(),
            added_in_version: None,
            mocks: Vec::new(),
            raw_input_schema: None,
            native_tool: None,
        }
    }

    pub fn param(mut self, field: FieldSpec) -> Self {
        self.params.push(field);
        self
    }
    pub fn outputs<I: IntoIterator<Item = S>, S: Into<String>>(mut self, outputs: I) -> Self {
        self.outputs = outputs.into_iter().map(Into::into).collect();
        self
    }
    /// Takes `limit` and `cursor`.
    pub fn paginated(mut self) -> Self {
        self.standard.paginated = true;
        self
    }
    /// Takes `fields`; the dispatcher projects the payload.
    pub fn projection(mut self) -> Self {
        self.standard.projection = true;
        self
    }
    pub fn expandable(mut self) -> Self {
        self.standard.expand = true;
        self
    }
    /// Takes `idempotencyKey`, which the hub enforces; the write becomes safe to repeat.
    pub fn idempotency_key(mut self) -> Self {
        self.standard.idempotency_key = true;
        self
    }
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecation = Deprecation {
            deprecated: true,
            deprecated_message: Some(message.into()),
        };
        self
    }
    pub fn added_in(mut self, version: impl Into<String>) -> Self {
        self.added_in_version = Some(version.into());
        self
    }
    pub fn mock_payload(mut self, scenario: impl Into<String>, payload: Value) -> Self {
        self.mocks.push(MockScenario {
            name: scenario.into(),
            result: MockResult::Payload(payload),
        });
        self
    }
    pub fn mock_error(mut self, scenario: impl Into<String>, error: ConnectorError) -> Self {
        self.mocks.push(MockScenario {
            name: scenario.into(),
            result: MockResult::Error(error),
        });
        self
    }

    pub fn is_write(&self) -> bool {
        !matches!(self.access, Access::Read)
    }

    pub fn annotations(&self) -> Annotations {
        Annotations {
            read_only_hint: self.access == Access::Read,
            destructive_hint: self.access == Access::Destructive,
            idempotent_hint: self.access == Access::Read || self.idempotent,
            open_world_hint: true,
        }
    }

    /// The command's own params plus the standard inputs it takes.
    pub fn all_params(&self) -> Vec<FieldSpec> {
        let mut all = self.params.clone();
        for f in standard::fields_for(self) {
            if !all.iter().any(|p| p.name == f.name) {
                all.push(f);
            }
        }
        all
    }

    /// The MCP `inputSchema`.
    pub fn input_schema(&self) -> Value {
        match &self.raw_input_schema {
            Some(schema) => schema.clone(),
            None => object_schema(&self.all_params()),
        }
    }

    pub fn raw_input_schema(mut self, schema: Value) -> Self {
        self.raw_input_schema = Some(schema);
        self
    }

    pub fn mock(&self, scenario: &str) -> Option<&MockScenario> {
        self.mocks.iter().find(|m| m.name == scenario)
    }
}

/// The full definition of a connector type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorSpec {
    /// The catalog id, e.g. `jira`.
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub tool_prefix: String,
    pub execution_model: ExecutionModel,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub requires_oauth: bool,
    #[serde(default)]
    pub oauth_provider: Option<String>,
    #[serde(default)]
    pub docs_url: Option<String>,
    #[serde(default)]
    pub config: Vec<FieldSpec>,
    #[serde(default)]
    pub default_command: Option<String>,
    pub commands: Vec<CommandSpec>,
}

impl ConnectorSpec {
    pub fn command(&self, name: &str) -> Option<&CommandSpec> {
        self.commands.iter().find(|c| c.name == name)
    }

    pub fn config_schema(&self) -> Value {
        object_schema(&self.config)
    }

    pub fn secret_fields(&self) -> impl Iterator<Item = &FieldSpec> {
        self.config.iter().filter(|f| f.is_secret())
    }

    /// The command summary shown in the catalog.
    pub fn command_summary(&self) -> Value {
        Value::Array(
            self.commands
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "description": c.description,
                        "access": c.access,
                        "deprecated": c.deprecation.deprecated,
                    })
                })
                .collect(),
        )
    }

    /// Capabilities: every command with its schema, outputs, annotations and deprecation.
    pub fn capabilities(&self) -> Value {
        json!({
            "name": self.name,
            "version": self.version,
            "executionModel": self.execution_model,
            "toolPrefix": self.tool_prefix,
            "defaultCommand": self.default_command,
            "configSchema": self.config_schema(),
            "commands": self.commands.iter().map(|c| json!({
                "name": c.name,
                "description": c.description,
                "inputSchema": c.input_schema(),
                "outputs": c.outputs,
                "access": c.access,
                "annotations": c.annotations(),
                "deprecated": c.deprecation.deprecated,
                "deprecatedMessage": c.deprecation.deprecated_message,
                "addedInVersion": c.added_in_version,
                "mockScenarios": c.mocks.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// Checks a definition is internally consistent; built-ins are checked in tests.
    pub fn check(&self) -> Result<(), String> {
        crate::naming::validate_prefix(&self.tool_prefix)?;
        let mut seen = std::collections::HashSet::new();
        for c in &self.commands {
            crate::naming::validate_command_name(&c.name)?;
            if !seen.insert(c.name.as_str()) {
                return Err(format!("command '{}' is defined twice", c.name));
            }
            crate::naming::tool_name(&self.tool_prefix, &c.name)?;
        }
        if let Some(d) = &self.default_command {
            if self.command(d).is_none() {
                return Err(format!("default command '{d}' is not defined"));
            }
        }
        // A proxied MCP server's commands are its tools; its health is the handshake.
        if self.execution_model != ExecutionModel::Mcp && self.command("health").is_none() {
            return Err("every connector needs a 'health' command".into());
        }
        Ok(())
    }
}
