//! The authoring shape of a user-built type's schema (seed `003`'s `configSchema`):
//! `{"connectionConfig": {field: {...}}, "commands": {name: {...}}}`, read into the
//! contract's fields and commands, and written back for display and round trips.
//!
//! Every problem is reported at once, each with its path (`commands.list.paramSchema.limit.type`).

use serde_json::{json, Map, Value};

use crate::definition::{Access, CommandSpec, Deprecation};
use crate::schema::{FieldKind, FieldSpec};

/// The connection fields and commands of a user-built type.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthoredSchema {
    pub config: Vec<FieldSpec>,
    pub commands: Vec<CommandSpec>,
}

const FIELD_KEYS: [&str; 10] = [
    "type",
    "required",
    "secret",
    "description",
    "default",
    "enum",
    "options",
    "minimum",
    "maximum",
    "schema",
];
const COMMAND_KEYS: [&str; 11] = [
    "description",
    "params",
    "paramSchema",
    "outputs",
    "access",
    "idempotent",
    "deprecated",
    "deprecatedMessage",
    "addedInVersion",
    "paginated",
    "inputSchema",
];
const TYPES: &str =
    "string, secret, number, integer, boolean, date, select, array (of strings), object or json";

/// Reads `{"connectionConfig": …, "commands": …}`.
pub fn parse_config_schema(schema: &Value) -> Result<AuthoredSchema, Vec<String>> {
    let mut problems = Vec::new();
    let Some(obj) = schema.as_object() else {
        return Err(vec![
            "configSchema must be an object with 'connectionConfig' and 'commands'".into(),
        ]);
    };
    for k in obj.keys() {
        if k != "connectionConfig" && k != "commands" {
            problems.push(format!(
                "configSchema.{k}: unknown key; accepted: connectionConfig, commands"
            ));
        }
    }
    let mut config = Vec::new();
    match obj.get("connectionConfig") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => {
            for (name, f) in fields {
                if let Some(field) = parse_field(
                    name,
                    f,
                    &format!("configSchema.connectionConfig.{name}"),
                    &mut problems,
                ) {
                    config.push(field);
                }
            }
        }
        Some(_) => problems.push("configSchema.connectionConfig must be an object".into()),
    }
    let mut commands = Vec::new();
    match obj.get("commands") {
        None | Some(Value::Null) => {}
        Some(Value::Object(cmds)) => {
            for (name, c) in cmds {
                if let Err(e) = crate::naming::validate_command_name(name) {
                    problems.push(format!("configSchema.commands.{name}: {e}"));
                    continue;
                }
                if let Some(cmd) = parse_command(name, c, &mut problems) {
                    commands.push(cmd);
                }
            }
        }
        Some(_) => {
            problems.push("configSchema.commands must be an object keyed by command name".into())
        }
    }
    if problems.is_empty() {
        Ok(AuthoredSchema { config, commands })
    } else {
        Err(problems)
    }
}

/// Whether a command name reads as a read, a write or a deletion, for commands that
/// do not declare `access`.
pub fn access_from_name(name: &str) -> Access {
    let lower = name.to_ascii_lowercase();
    const READS: [&str; 15] = [
        "get", "list", "lookup", "search", "find", "read", "fetch", "test", "health", "echo",
        "describe", "count", "query", "whoami", "show",
    ];
    const DESTROYS: [&str; 4] = ["delete", "remove", "destroy", "purge"];
    if DESTROYS.iter().any(|p| lower.starts_with(p)) {
        Access::Destructive
    } else if READS.iter().any(|p| lower.starts_with(p)) {
        Access::Read
    } else {
        Access::Write
    }
}

fn parse_command(name: &str, c: &Value, problems: &mut Vec<String>) -> Option<CommandSpec> {
    let path = format!("configSchema.commands.{name}");
    let Some(obj) = c.as_object() else {
        problems.push(format!("{path}: must be an object"));
        return None;
    };
    for k in obj.keys() {
        if !COMMAND_KEYS.contains(&k.as_str()) {
            problems.push(format!(
                "{path}.{k}: unknown key; accepted: {}",
                COMMAND_KEYS.join(", ")
            ));
        }
    }
    let access = match obj.get("access") {
        None | Some(Value::Null) => access_from_name(name),
        Some(v) => match serde_json::from_value::<Access>(v.clone()) {
            Ok(a) => a,
            Err(_) => {
                problems.push(format!(
                    "{path}.access: must be 'read', 'write' or 'destructive'"
                ));
                Access::Write
            }
        },
    };
    let mut cmd = CommandSpec::new(
        name,
        access,
        str_at(obj, "description", &path, problems).unwrap_or_default(),
    );
    if let Some(i) = bool_at(obj, "idempotent", &path, problems) {
        cmd.idempotent = i || access == Access::Read;
    }
    if bool_at(obj, "paginated", &path, problems) == Some(true) {
        cmd = cmd.paginated();
    }
    let schema = match obj.get("paramSchema") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            problems.push(format!(
                "{path}.paramSchema: must be an object keyed by parameter name"
            ));
            Map::new()
        }
    };
    let mut names: Vec<String> = Vec::new();
    match obj.get("params") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, p) in items.iter().enumerate() {
                match p.as_str() {
                    Some(s) if !s.is_empty() => names.push(s.to_string()),
                    _ => problems.push(format!("{path}.params[{i}]: must be a parameter name")),
                }
            }
        }
        Some(_) => problems.push(format!(
            "{path}.params: must be an array of parameter names"
        )),
    }
    for k in schema.keys() {
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    for p in &names {
        let field = match schema.get(p) {
            Some(f) => parse_field(p, f, &format!("{path}.paramSchema.{p}"), problems),
            None => Some(FieldSpec::string(p.clone())),
        };
        if let Some(f) = field {
            if f.is_secret() {
                problems.push(format!(
                    "{path}.paramSchema.{p}: parameters cannot be secret; put secrets in connectionConfig"
                ));
            }
            cmd.params.push(f);
        }
    }
    match obj.get("outputs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, o) in items.iter().enumerate() {
                match o.as_str() {
                    Some(s) => cmd.outputs.push(s.to_string()),
                    None => problems.push(format!("{path}.outputs[{i}]: must be a string")),
                }
            }
        }
        Some(_) => problems.push(format!("{path}.outputs: must be an array of names")),
    }
    if bool_at(obj, "deprecated", &path, problems) == Some(true) {
        cmd.deprecation = Deprecation {
            deprecated: true,
            deprecated_message: str_at(obj, "deprecatedMessage", &path, problems),
        };
    }
    cmd.added_in_version = str_at(obj, "addedInVersion", &path, problems);
    match obj.get("inputSchema") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => cmd.raw_input_schema = Some(v.clone()),
        Some(_) => problems.push(format!("{path}.inputSchema: must be a JSON Schema object")),
    }
    Some(cmd)
}

fn parse_field(name: &str, f: &Value, path: &str, problems: &mut Vec<String>) -> Option<FieldSpec> {
    let Some(obj) = f.as_object() else {
        problems.push(format!(
            "{path}: must be an object like {{\"type\": \"string\"}}"
        ));
        return None;
    };
    for k in obj.keys() {
        if !FIELD_KEYS.contains(&k.as_str()) {
            problems.push(format!(
                "{path}.{k}: unknown key; accepted: {}",
                FIELD_KEYS.join(", ")
            ));
        }
    }
    let before = problems.len();
    let ty = str_at(obj, "type", path, problems).unwrap_or_else(|| "string".into());
    let options: Option<Vec<String>> = match obj.get("enum").or_else(|| obj.get("options")) {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let strings: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if strings.len() != items.len() || strings.is_empty() {
                problems.push(format!("{path}.enum: must be a non-empty array of strings"));
            }
            Some(strings)
        }
        Some(_) => {
            problems.push(format!("{path}.enum: must be an array of strings"));
            None
        }
    };
    let num = |k: &str, problems: &mut Vec<String>| match obj.get(k) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(n) => Some(n),
            None => {
                problems.push(format!("{path}.{k}: must be a number"));
                None
            }
        },
    };
    let (minimum, maximum) = (num("minimum", problems), num("maximum", problems));
    let secret = bool_at(obj, "secret", path, problems) == Some(true);
    let kind = match ty.as_str() {
        _ if secret => FieldKind::Secret,
        "string" | "text" if options.is_some() => FieldKind::Select {
            options: options.clone().unwrap_or_default(),
        },
        "select" | "enum" => match &options {
            Some(o) => FieldKind::Select { options: o.clone() },
            None => {
                problems.push(format!("{path}: a select field needs 'enum' (its options)"));
                FieldKind::String
            }
        },
        "string" | "text" => FieldKind::String,
        "secret" | "password" => FieldKind::Secret,
        "number" => FieldKind::Number { minimum, maximum },
        "integer" => FieldKind::Integer {
            minimum: minimum.map(|m| m as i64),
            maximum: maximum.map(|m| m as i64),
        },
        "boolean" => FieldKind::Boolean,
        "date" | "datetime" | "date-time" => FieldKind::Date,
        "array" | "string[]" => FieldKind::StringList,
        "object" | "json" | "raw" => FieldKind::Json {
            schema: obj.get("schema").cloned().filter(Value::is_object),
        },
        other => {
            problems.push(format!(
                "{path}.type: unknown type '{other}'; use one of {TYPES}"
            ));
            FieldKind::String
        }
    };
    let mut field = FieldSpec::new(name, kind);
    field.required = bool_at(obj, "required", path, problems) == Some(true);
    field.description = str_at(obj, "description", path, problems).unwrap_or_default();
    field.default = obj.get("default").filter(|v| !v.is_null()).cloned();
    if field.is_secret() && field.default.is_some() {
        problems.push(format!("{path}.default: a secret cannot have a default"));
    }
    if let Some(d) = &field.default {
        if let Err(e) = crate::validate::validate_config(
            std::slice::from_ref(&FieldSpec {
                required: false,
                ..field.clone()
            }),
            &Map::from_iter([(name.to_string(), d.clone())]),
            &[],
        ) {
            problems.push(format!("{path}.default: {e}"));
        }
    }
    (problems.len() == before).then_some(field)
}

fn str_at(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problems.push(format!("{path}.{key}: must be a string"));
            None
        }
    }
}

fn bool_at(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<bool> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            problems.push(format!("{path}.{key}: must be true or false"));
            None
        }
    }
}

/// Writes fields and commands back in the authoring shape.
pub fn render_config_schema(config: &[FieldSpec], commands: &[CommandSpec]) -> Value {
    let fields: Map<String, Value> = config
        .iter()
        .map(|f| (f.name.clone(), render_field(f)))
        .collect();
    let cmds: Map<String, Value> = commands
        .iter()
        .map(|c| {
            let mut o = Map::new();
            o.insert("description".into(), json!(c.description));
            o.insert(
                "params".into(),
                json!(c.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>()),
            );
            o.insert(
                "paramSchema".into(),
                Value::Object(
                    c.params
                        .iter()
                        .map(|p| (p.name.clone(), render_field(p)))
                        .collect(),
                ),
            );
            o.insert("outputs".into(), json!(c.outputs));
            o.insert("access".into(), json!(c.access));
            if c.standard.paginated {
                o.insert("paginated".into(), json!(true));
            }
            if c.deprecation.deprecated {
                o.insert("deprecated".into(), json!(true));
                if let Some(m) = &c.deprecation.deprecated_message {
                    o.insert("deprecatedMessage".into(), json!(m));
                }
            }
            if let Some(v) = &c.added_in_version {
                o.insert("addedInVersion".into(), json!(v));
            }
            if let Some(s) = &c.raw_input_schema {
                o.insert("inputSchema".into(), s.clone());
            }
            (c.name.clone(), Value::Object(o))
        })
        .collect();
    json!({"connectionConfig": fields, "commands": cmds})
}

fn render_field(f: &FieldSpec) -> Value {
    let mut o = Map::new();
    let ty = match &f.kind {
        FieldKind::String => "string",
        FieldKind::Secret => {
            o.insert("secret".into(), json!(true));
            "string"
        }
        FieldKind::SecretMap => {
            o.insert("secret".into(), json!(true));
            "object"
        }
        FieldKind::Number { minimum, maximum } => {
            if let Some(m) = minimum {
                o.insert("minimum".into(), json!(m));
            }
            if let Some(m) = maximum {
                o.insert("maximum".into(), json!(m));
            }
            "number"
        }
        FieldKind::Integer { minimum, maximum } => {
            if let Some(m) = minimum {
                o.insert("minimum".into(), json!(m));
            }
            if let Some(m) = maximum {
                o.insert("maximum".into(), json!(m));
            }
            "integer"
        }
        FieldKind::Boolean => "boolean",
        FieldKind::Date => "date",
        FieldKind::Select { options } => {
            o.insert("enum".into(), json!(options));
            "select"
        }
        FieldKind::StringList => "array",
        FieldKind::Json { schema } => {
            if let Some(s) = schema {
                o.insert("schema".into(), s.clone());
            }
            "json"
        }
    };
    o.insert("type".into(), json!(ty));
    if f.required {
        o.insert("required".into(), json!(true));
    }
    if !f.description.is_empty() {
        o.insert("description".into(), json!(f.description));
    }
    if let Some(d) = &f.default {
        o.insert("default".into(), d.clone());
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_shape() {
        let schema = json!({
            "connectionConfig": {
                "baseUrl": {"type": "string", "required": true, "description": "CRM API base URL"},
                "apiKey": {"type": "string", "required": true, "secret": true}
            },
            "commands": {
                "listContacts": {
                    "params": ["limit", "offset"],
                    "description": "List contacts",
                    "outputs": ["contacts", "total"],
                    "paramSchema": {"limit": {"type": "number", "default": 50}}
                },
                "createContact": {"params": ["email"], "description": "Create"},
                "deleteContact": {"params": ["id"], "deprecated": true, "deprecatedMessage": "use archive"}
            }
        });
        let s = parse_config_schema(&schema).unwrap();
        assert_eq!(s.config.len(), 2);
        assert!(s
            .config
            .iter()
            .any(|f| f.name == "apiKey" && f.is_secret() && f.required));
        let list = s
            .commands
            .iter()
            .find(|c| c.name == "listContacts")
            .unwrap();
        assert_eq!(list.access, Access::Read);
        assert_eq!(list.params[0].default, Some(json!(50)));
        assert_eq!(
            list.params[1].kind,
            FieldKind::String,
            "listed without a schema"
        );
        let create = s
            .commands
            .iter()
            .find(|c| c.name == "createContact")
            .unwrap();
        assert_eq!(create.access, Access::Write);
        let delete = s
            .commands
            .iter()
            .find(|c| c.name == "deleteContact")
            .unwrap();
        assert_eq!(delete.access, Access::Destructive);
        assert_eq!(
            delete.deprecation.deprecated_message.as_deref(),
            Some("use archive")
        );

        let round = render_config_schema(&s.config, &s.commands);
        assert_eq!(parse_config_schema(&round).unwrap(), s, "round trip");
    }

    #[test]
    fn names_every_problem_with_its_path() {
        let schema = json!({
            "connectionConfig": {"x": {"type": "int"}, "k": {"type": "secret", "default": "s"}},
            "commands": {
                "a.b": {},
                "list": {"params": [1], "access": "sometimes", "color": "red",
                          "paramSchema": {"n": {"type": "number", "default": "ten"}}}
            },
            "extra": 1
        });
        let problems = parse_config_schema(&schema).unwrap_err();
        let all = problems.join("\n");
        for needle in [
            "configSchema.extra: unknown key",
            "connectionConfig.x.type: unknown type 'int'",
            "connectionConfig.k.default: a secret cannot have a default",
            "commands.a.b: command name 'a.b' is invalid",
            "commands.list.params[0]: must be a parameter name",
            "commands.list.access: must be 'read', 'write' or 'destructive'",
            "commands.list.color: unknown key",
            "commands.list.paramSchema.n.default:",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
    }
}
