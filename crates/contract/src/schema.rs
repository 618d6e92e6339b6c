//! Field kinds for connection config and command params, and their JSON Schema.
//!
//! One declarative description feeds everything derived from it: the MCP input
//! schema, the catalog's `config_schema`, validation, and the versioning diff.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    String,
    /// Encrypted at rest, never returned by any API, never logged.
    Secret,
    /// Names to secret strings (an MCP server's environment, HTTP headers): stored
    /// encrypted like `Secret`; APIs show the names with every value masked.
    SecretMap,
    Number {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minimum: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maximum: Option<f64>,
    },
    Integer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minimum: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maximum: Option<i64>,
    },
    Boolean,
    /// An ISO 8601 date or date-time string.
    Date,
    Select {
        options: Vec<String>,
    },
    StringList,
    /// Any JSON value; `schema` (a JSON Schema) documents its shape when given.
    Json {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<Value>,
    },
}

impl FieldKind {
    pub fn number() -> Self {
        FieldKind::Number {
            minimum: None,
            maximum: None,
        }
    }
    pub fn integer() -> Self {
        FieldKind::Integer {
            minimum: None,
            maximum: None,
        }
    }
    pub fn integer_range(minimum: i64, maximum: i64) -> Self {
        FieldKind::Integer {
            minimum: Some(minimum),
            maximum: Some(maximum),
        }
    }
    pub fn select<I: IntoIterator<Item = S>, S: Into<String>>(options: I) -> Self {
        FieldKind::Select {
            options: options.into_iter().map(Into::into).collect(),
        }
    }
    pub fn json() -> Self {
        FieldKind::Json { schema: None }
    }

    /// A short name for error messages ("expected an integer").
    pub fn describe(&self) -> &'static str {
        match self {
            FieldKind::String | FieldKind::Secret => "a string",
            FieldKind::SecretMap => "an object whose values are strings",
            FieldKind::Number { .. } => "a number",
            FieldKind::Integer { .. } => "an integer",
            FieldKind::Boolean => "a boolean",
            FieldKind::Date => "an ISO 8601 date string",
            FieldKind::Select { .. } => "one of the allowed values",
            FieldKind::StringList => "an array of strings",
            FieldKind::Json { .. } => "any JSON value",
        }
    }

    pub fn json_schema(&self) -> Value {
        match self {
            FieldKind::String => json!({"type": "string"}),
            FieldKind::Secret => json!({"type": "string", "writeOnly": true, "format": "password"}),
            FieldKind::SecretMap => json!({
                "type": "object",
                "additionalProperties": {"type": "string", "writeOnly": true}
            }),
            FieldKind::Number { minimum, maximum } => {
                let mut s = json!({"type": "number"});
                put_opt(&mut s, "minimum", minimum.map(Value::from));
                put_opt(&mut s, "maximum", maximum.map(Value::from));
                s
            }
            FieldKind::Integer { minimum, maximum } => {
                let mut s = json!({"type": "integer"});
                put_opt(&mut s, "minimum", minimum.map(Value::from));
                put_opt(&mut s, "maximum", maximum.map(Value::from));
                s
            }
            FieldKind::Boolean => json!({"type": "boolean"}),
            FieldKind::Date => json!({"type": "string", "format": "date-time"}),
            FieldKind::Select { options } => json!({"type": "string", "enum": options}),
            FieldKind::StringList => json!({"type": "array", "items": {"type": "string"}}),
            FieldKind::Json { schema } => schema.clone().unwrap_or_else(|| json!({})),
        }
    }
}

fn put_opt(schema: &mut Value, key: &str, value: Option<Value>) {
    if let (Some(v), Some(obj)) = (value, schema.as_object_mut()) {
        obj.insert(key.to_string(), v);
    }
}

/// One named config field or command parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default)]
    pub description: String,
}

impl FieldSpec {
    pub fn new(name: impl Into<String>, kind: FieldKind) -> Self {
        FieldSpec {
            name: name.into(),
            kind,
            required: false,
            default: None,
            description: String::new(),
        }
    }
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::String)
    }
    pub fn secret(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::Secret)
    }
    pub fn secret_map(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::SecretMap)
    }
    pub fn integer(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::integer())
    }
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::number())
    }
    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::Boolean)
    }
    pub fn json(name: impl Into<String>) -> Self {
        Self::new(name, FieldKind::json())
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn default_value(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }
    pub fn describe(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, FieldKind::Secret | FieldKind::SecretMap)
    }

    pub fn json_schema(&self) -> Value {
        let mut s = self.kind.json_schema();
        if let Some(obj) = s.as_object_mut() {
            if !self.description.is_empty() {
                obj.insert(
                    "description".into(),
                    Value::String(self.description.clone()),
                );
            }
            if let Some(d) = &self.default {
                obj.insert("default".into(), d.clone());
            }
        }
        s
    }
}

/// Renders a list of fields as a closed JSON Schema object.
pub fn object_schema(fields: &[FieldSpec]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        properties.insert(f.name.clone(), f.json_schema());
        if f.required {
            required.push(Value::String(f.name.clone()));
        }
    }
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}
