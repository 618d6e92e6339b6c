//! The document walk: servers, security schemes, then every operation. A broken
//! operation becomes a warning at its JSON pointer; the sound ones still make commands.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use switchboard_contract::{Access, CommandSpec, FieldKind, FieldSpec};

use crate::definition::*;
use crate::names::{self, UniqueNames, HEALTH, RESERVED_PARAMS};
use crate::refs::{self, child, BrokenRef, InlineLimits, Inliner};
use crate::{Draft, DraftCommand, OasError, ParseLimits, Warning};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// `$ref` hops followed for a parameter, body or scheme before giving up.
const MAX_REF_HOPS: usize = 32;
/// Descriptions are kept to this many characters (tool lists stay small).
const MAX_DESCRIPTION: usize = 1000;

/// Reads JSON or YAML text (JSON when it starts with `{`), within the size limit.
pub fn load(text: &str, limits: &ParseLimits) -> Result<Value, OasError> {
    if text.len() > limits.max_document_bytes {
        return Err(OasError::new(
            "",
            format!(
                "the document is {} bytes; the limit is {} bytes",
                text.len(),
                limits.max_document_bytes
            ),
        ));
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        serde_json::from_str(trimmed)
            .map_err(|e| OasError::new("", format!("the document is not valid JSON: {e}")))
    } else {
        serde_norway::from_str(trimmed).map_err(|e| {
            OasError::new(
                "",
                format!("the document is neither JSON nor valid YAML: {e}"),
            )
        })
    }
}

/// Walks a loaded document into a draft.
pub fn walk(
    doc: &Value,
    limits: &ParseLimits,
    source_url: Option<&str>,
) -> Result<Draft, OasError> {
    let root = doc
        .as_object()
        .ok_or_else(|| OasError::new("", "the document must be a JSON or YAML object"))?;
    if root.contains_key("swagger") {
        return Err(OasError::new(
            "/swagger",
            "Swagger 2.0 is not supported; convert to OpenAPI 3 (e.g. with swagger2openapi)",
        ));
    }
    let version = match root.get("openapi") {
        Some(Value::String(v)) => v.clone(),
        Some(_) => {
            return Err(OasError::new(
                "/openapi",
                "'openapi' must be a version string such as \"3.1.0\"",
            ))
        }
        None => {
            return Err(OasError::new(
                "/openapi",
                "this is not an OpenAPI document: it has no 'openapi' version field",
            ))
        }
    };
    if !(version.starts_with("3.0") || version.starts_with("3.1")) {
        return Err(OasError::new(
            "/openapi",
            format!("OpenAPI {version} is not supported; OpenAPI 3.0.x and 3.1.x are"),
        ));
    }

    let mut w = Walker {
        doc,
        limits,
        warnings: Vec::new(),
    };
    let info = root.get("info");
    let title = match info.and_then(|i| i.get("title")).and_then(Value::as_str) {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            w.warn("/info/title", "the document has no title; using 'API'");
            "API".to_string()
        }
    };
    let api_version = info
        .and_then(|i| i.get("version"))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    let description = info
        .and_then(|i| i.get("description"))
        .and_then(Value::as_str)
        .map(|d| truncate(d, MAX_DESCRIPTION))
        .unwrap_or_default();

    let mut fields = UniqueNames::with_reserved(&[BASE_URL_FIELD]);
    let mut config = vec![w.base_url_field(root.get("servers"), source_url)];
    let (schemes, mut scheme_fields) = w.security_schemes(&mut fields);
    let fallback_bearer = schemes.is_empty();
    if fallback_bearer {
        scheme_fields.push(
            FieldSpec::secret(ACCESS_TOKEN_FIELD).describe(
                "Bearer token sent as 'Authorization: Bearer …' when set (the document declares no security scheme).",
            ),
        );
    }
    config.extend(scheme_fields);

    let global_security = match root.get("security") {
        Some(s) => w.requirements(s, "/security", &schemes),
        None => Vec::new(),
    };

    let mut commands = Vec::new();
    let mut command_names = UniqueNames::with_reserved(&[HEALTH]);
    match root.get("paths") {
        Some(Value::Object(paths)) => {
            'paths: for (path, item) in paths {
                let item_pointer = child("/paths", path);
                let item = match refs::follow(doc, item, &item_pointer, MAX_REF_HOPS) {
                    Ok((item, _)) => item,
                    Err(e) => {
                        w.broken(e);
                        continue;
                    }
                };
                let Some(item) = item.as_object() else {
                    w.warn(&item_pointer, "a path item must be an object; skipped");
                    continue;
                };
                for method in METHODS {
                    let Some(op) = item.get(method) else { continue };
                    if commands.len() >= limits.max_operations {
                        w.warn(
                            "/paths",
                            format!(
                                "more than {} operations; the rest were skipped (raise the operation limit to take them)",
                                limits.max_operations
                            ),
                        );
                        break 'paths;
                    }
                    let pointer = child(&item_pointer, method);
                    match w.operation(
                        path,
                        method,
                        item,
                        op,
                        &pointer,
                        &schemes,
                        &global_security,
                        &mut command_names,
                    ) {
                        Ok(command) => commands.push(command),
                        Err(warning) => w.warnings.push(warning),
                    }
                }
            }
        }
        Some(_) => w.warn("/paths", "'paths' must be an object; no operations read"),
        None => w.warn(
            "/paths",
            "the document has no 'paths': no operations to turn into commands",
        ),
    }

    Ok(Draft {
        title: title.clone(),
        api_version,
        description,
        openapi_version: version,
        // Short enough that every command name (at most 48 characters) fits a tool name.
        suggested_name: names::prefix_from_title(&title, 15),
        config,
        security_schemes: schemes,
        fallback_bearer,
        commands,
        warnings: w.warnings,
    })
}

struct Walker<'a> {
    doc: &'a Value,
    limits: &'a ParseLimits,
    warnings: Vec<Warning>,
}

/// One parameter as read from the document, before naming.
struct RawParam {
    wire: String,
    location: Location,
    required: bool,
    schema: Value,
    description: String,
    style: Option<String>,
    explode: Option<bool>,
}

impl<'a> Walker<'a> {
    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    fn broken(&mut self, e: BrokenRef) {
        self.warnings.push(Warning {
            pointer: e.pointer,
            message: e.message,
        });
    }

    fn inline_limits(&self) -> InlineLimits {
        InlineLimits {
            max_depth: self.limits.max_schema_depth,
            max_nodes: self.limits.max_schema_nodes,
        }
    }

    /// `servers[0]` with its variables at their defaults becomes `baseUrl`'s default.
    fn base_url_field(&mut self, servers: Option<&Value>, source_url: Option<&str>) -> FieldSpec {
        let field = FieldSpec::string(BASE_URL_FIELD);
        let first = servers.and_then(Value::as_array).and_then(|s| s.first());
        let Some(server) = first else {
            return field.required().describe(
                "Base URL of the API, e.g. https://api.example.com (the document names no server).",
            );
        };
        let Some(url) = server.get("url").and_then(Value::as_str) else {
            self.warn("/servers/0/url", "the first server has no 'url'");
            return field.required().describe("Base URL of the API.");
        };
        let mut resolved = url.to_string();
        let variables = server.get("variables").and_then(Value::as_object);
        while let Some(start) = resolved.find('{') {
            let Some(len) = resolved[start..].find('}') else {
                break;
            };
            let name = resolved[start + 1..start + len].to_string();
            let default = variables
                .and_then(|v| v.get(&name))
                .and_then(|v| v.get("default"))
                .and_then(Value::as_str);
            match default {
                Some(d) => resolved.replace_range(start..start + len + 1, d),
                None => {
                    self.warn(
                        &child("/servers/0/variables", &name),
                        format!("server variable '{name}' has no default; set baseUrl when creating the connector"),
                    );
                    return field
                        .required()
                        .describe(format!("Base URL of the API ({url})."));
                }
            }
        }
        if !(resolved.starts_with("http://") || resolved.starts_with("https://")) {
            match source_url.and_then(|s| join_relative(s, &resolved)) {
                Some(abs) => resolved = abs,
                None => {
                    self.warn(
                        "/servers/0/url",
                        format!("server URL '{url}' is relative; set baseUrl when creating the connector"),
                    );
                    return field.required().describe(format!(
                        "Base URL of the API (the document says '{url}', relative to where it is served)."
                    ));
                }
            }
        }
        let others: Vec<&str> = servers
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .skip(1)
                    .filter_map(|s| s.get("url").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let mut description = "Base URL of the API.".to_string();
        if !others.is_empty() {
            description.push_str(&format!(
                " Other servers in the document: {}.",
                others.join(", ")
            ));
        }
        field
            .default_value(resolved.trim_end_matches('/').to_string())
            .describe(description)
    }

    /// Supported schemes and their config fields; unsupported ones become warnings.
    fn security_schemes(
        &mut self,
        fields: &mut UniqueNames,
    ) -> (Vec<SecurityScheme>, Vec<FieldSpec>) {
        let mut schemes = Vec::new();
        let mut config = Vec::new();
        let Some(declared) = self
            .doc
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object)
        else {
            return (schemes, config);
        };
        for (name, scheme) in declared {
            let pointer = child("/components/securitySchemes", name);
            let scheme = match refs::follow(self.doc, scheme, &pointer, MAX_REF_HOPS) {
                Ok((s, _)) => s,
                Err(e) => {
                    self.broken(e);
                    continue;
                }
            };
            let mut claim = |preferred: &str, suffix: &str| {
                if fields.claim(preferred) {
                    preferred.to_string()
                } else {
                    fields.unique(&format!("{}{suffix}", names::camel(name)), 64)
                }
            };
            let ty = scheme.get("type").and_then(Value::as_str).unwrap_or("");
            let kind = match ty {
                "apiKey" => {
                    let location = match scheme.get("in").and_then(Value::as_str) {
                        Some("header") => Location::Header,
                        Some("query") => Location::Query,
                        Some("cookie") => Location::Cookie,
                        other => {
                            self.warn(&child(&pointer, "in"), format!("apiKey 'in' must be header, query or cookie (got {other:?}); scheme skipped"));
                            continue;
                        }
                    };
                    let Some(param_name) = scheme.get("name").and_then(Value::as_str) else {
                        self.warn(
                            &child(&pointer, "name"),
                            "apiKey scheme has no 'name'; scheme skipped",
                        );
                        continue;
                    };
                    let field = claim(&names::camel(name), "Key");
                    config.push(FieldSpec::secret(&field).describe(format!(
                        "API key '{name}', sent in the {} '{param_name}'.",
                        location.as_str()
                    )));
                    SchemeKind::ApiKey {
                        location,
                        param_name: param_name.to_string(),
                        field,
                    }
                }
                "http" => match scheme
                    .get("scheme")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("bearer") => {
                        let field = claim(ACCESS_TOKEN_FIELD, "Token");
                        config.push(FieldSpec::secret(&field).describe(format!(
                            "Bearer token for '{name}' (Authorization: Bearer …)."
                        )));
                        SchemeKind::Bearer { field }
                    }
                    Some("basic") => {
                        let username_field = claim("username", "Username");
                        let password_field = claim("password", "Password");
                        config.push(
                            FieldSpec::string(&username_field)
                                .describe(format!("User name for '{name}' (HTTP basic).")),
                        );
                        config.push(
                            FieldSpec::secret(&password_field)
                                .describe(format!("Password for '{name}' (HTTP basic).")),
                        );
                        SchemeKind::Basic {
                            username_field,
                            password_field,
                        }
                    }
                    other => {
                        self.warn(&child(&pointer, "scheme"), format!("HTTP authentication scheme {other:?} is not supported (bearer and basic are); operations needing only it are sent without credentials"));
                        continue;
                    }
                },
                "oauth2" | "openIdConnect" => {
                    let access_token_field = claim(ACCESS_TOKEN_FIELD, "AccessToken");
                    config.push(FieldSpec::secret(&access_token_field).describe(format!(
                        "OAuth access token for '{name}' (Authorization: Bearer …); filled by the hub's token lifecycle, or set by hand."
                    )));
                    let cc = scheme
                        .pointer("/flows/clientCredentials")
                        .filter(|_| ty == "oauth2");
                    let client_credentials = cc.map(|cc| {
                        let token_url_field = claim("tokenUrl", "TokenUrl");
                        let client_id_field = claim("clientId", "ClientId");
                        let client_secret_field = claim("clientSecret", "ClientSecret");
                        let mut token_url = FieldSpec::string(&token_url_field).describe(format!(
                            "Token endpoint for the client-credentials grant of '{name}'."
                        ));
                        if let Some(u) = cc.get("tokenUrl").and_then(Value::as_str) {
                            token_url = token_url.default_value(u);
                        }
                        config.push(token_url);
                        config.push(FieldSpec::string(&client_id_field).describe(format!(
                            "OAuth client id for '{name}' (client credentials)."
                        )));
                        config.push(FieldSpec::secret(&client_secret_field).describe(format!(
                            "OAuth client secret for '{name}' (client credentials)."
                        )));
                        ClientCredentialsFields {
                            token_url_field,
                            client_id_field,
                            client_secret_field,
                        }
                    });
                    SchemeKind::OAuth2 {
                        access_token_field,
                        client_credentials,
                    }
                }
                other => {
                    self.warn(&child(&pointer, "type"), format!("security scheme type '{other}' is not supported; operations needing only it are sent without credentials"));
                    continue;
                }
            };
            schemes.push(SecurityScheme {
                name: name.clone(),
                kind,
            });
        }
        (schemes, config)
    }

    /// Security requirements (OR of ANDs), keeping alternatives whose schemes we support.
    fn requirements(
        &mut self,
        value: &Value,
        pointer: &str,
        schemes: &[SecurityScheme],
    ) -> Vec<Vec<SecurityUse>> {
        let Some(list) = value.as_array() else {
            self.warn(pointer, "'security' must be an array; ignored");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, requirement) in list.iter().enumerate() {
            let Some(requirement) = requirement.as_object() else {
                continue;
            };
            if requirement.is_empty() {
                // `{}`: credentials are optional for this operation.
                out.push(Vec::new());
                continue;
            }
            let uses: Option<Vec<SecurityUse>> = requirement
                .iter()
                .map(|(name, scopes)| {
                    schemes
                        .iter()
                        .any(|s| &s.name == name)
                        .then(|| SecurityUse {
                            scheme: name.clone(),
                            scopes: scopes
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(Value::as_str)
                                        .map(str::to_string)
                                        .collect()
                                })
                                .unwrap_or_default(),
                        })
                })
                .collect();
            match uses {
                Some(uses) => out.push(uses),
                None => {
                    let unknown: Vec<&String> = requirement
                        .keys()
                        .filter(|n| !schemes.iter().any(|s| &s.name == *n))
                        .collect();
                    if unknown.iter().any(|n| {
                        self.doc
                            .pointer(&child("/components/securitySchemes", n))
                            .is_none()
                    }) {
                        self.warn(&format!("{pointer}/{i}"), format!("security requirement names undeclared scheme(s) {unknown:?}; ignored"));
                    }
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        path: &str,
        method: &str,
        item: &Map<String, Value>,
        op: &Value,
        pointer: &str,
        schemes: &[SecurityScheme],
        global_security: &[Vec<SecurityUse>],
        command_names: &mut UniqueNames,
    ) -> Result<DraftCommand, Warning> {
        let unsound = |pointer: &str, message: String| Warning {
            pointer: pointer.to_string(),
            message: format!("operation skipped: {message}"),
        };
        let broken = |e: BrokenRef| Warning {
            pointer: e.pointer,
            message: format!("operation skipped: {}", e.message),
        };
        let op = op
            .as_object()
            .ok_or_else(|| unsound(pointer, "an operation must be an object".into()))?;
        let operation_id = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let raw_name = operation_id
            .clone()
            .unwrap_or_else(|| names::derived_name(method, path));
        let command = command_names.unique(
            &names::command_name(&raw_name, self.limits.max_command_name),
            self.limits.max_command_name,
        );

        // Path-level parameters, overridden by the operation's own (same name and location).
        let mut raw: Vec<RawParam> = Vec::new();
        for (source, base) in [
            (
                item.get("parameters"),
                child(&pointer[..pointer.rfind('/').unwrap_or(0)], "parameters"),
            ),
            (op.get("parameters"), child(pointer, "parameters")),
        ] {
            let Some(list) = source else { continue };
            let list = list
                .as_array()
                .ok_or_else(|| unsound(&base, "'parameters' must be an array".into()))?;
            for (i, p) in list.iter().enumerate() {
                let at = format!("{base}/{i}");
                let (p, at) = refs::follow(self.doc, p, &at, MAX_REF_HOPS).map_err(broken)?;
                let param = self.raw_param(p, &at).map_err(|m| unsound(&at, m))?;
                let Some(param) = param else { continue };
                raw.retain(|r| !(r.wire == param.wire && r.location == param.location));
                raw.push(param);
            }
        }

        // Template variables must all be declared path params; undeclared ones are added.
        let template_vars = template_variables(path);
        for var in &template_vars {
            if !raw
                .iter()
                .any(|r| r.location == Location::Path && &r.wire == var)
            {
                self.warn(
                    pointer,
                    format!("path parameter '{var}' is not declared; taken as a required string"),
                );
                raw.push(RawParam {
                    wire: var.clone(),
                    location: Location::Path,
                    required: true,
                    schema: json!({"type": "string"}),
                    description: String::new(),
                    style: None,
                    explode: None,
                });
            }
        }
        raw.retain(|r| {
            let keep = r.location != Location::Path || template_vars.contains(&r.wire);
            if !keep {
                self.warnings.push(Warning {
                    pointer: pointer.to_string(),
                    message: format!(
                        "path parameter '{}' does not appear in the path; ignored",
                        r.wire
                    ),
                });
            }
            keep
        });
        raw.sort_by_key(|r| r.location as u8);

        let mut param_names = UniqueNames::with_reserved(&RESERVED_PARAMS);
        let mut bindings = Vec::new();
        let mut fields = Vec::new();
        let mut properties = Map::new();
        let mut required = Vec::new();
        for r in raw {
            let base = names::param_name(&r.wire);
            let name = if param_names.is_free(&base) {
                param_names.unique(&base, 64)
            } else {
                param_names.unique(&format!("{base}_{}", r.location.as_str()), 64)
            };
            let schema = with_description(r.schema, &r.description);
            fields.push(field_for(&name, &schema, r.required));
            if r.required {
                required.push(Value::String(name.clone()));
            }
            properties.insert(name.clone(), schema);
            bindings.push(ParamBinding {
                param: name,
                wire: r.wire,
                location: r.location,
                style: r.style,
                explode: r.explode,
            });
        }

        let body = match op.get("requestBody") {
            Some(b) => self.body(
                b,
                &child(pointer, "requestBody"),
                &mut param_names,
                &mut fields,
                &mut properties,
                &mut required,
            )?,
            None => None,
        };

        let security = match op.get("security") {
            Some(s) => self.requirements(s, &child(pointer, "security"), schemes),
            None => global_security.to_vec(),
        };

        let mut input_schema = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            input_schema["required"] = Value::Array(required);
        }

        let upper = method.to_ascii_uppercase();
        let access = match method {
            "get" | "head" | "options" | "trace" => Access::Read,
            "delete" => Access::Destructive,
            _ => Access::Write,
        };
        let summary = op
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let detail = op
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let mut description = match (summary.is_empty(), detail.is_empty()) {
            (false, false) if !detail.starts_with(summary) => format!("{summary}\n\n{detail}"),
            (false, true) => summary.to_string(),
            (_, false) => detail.to_string(),
            (true, true) => format!("{upper} {path}"),
        };
        description = truncate(&description, MAX_DESCRIPTION);
        if op.contains_key("servers") || item.contains_key("servers") {
            self.warn(
                pointer,
                "servers declared on the path or operation are ignored: every call goes to baseUrl",
            );
        }
        let mut spec = CommandSpec::new(&command, access, description);
        spec.params = fields;
        let (outputs, accept) = self.success_response(op.get("responses"));
        spec.outputs = outputs;
        if matches!(method, "put" | "delete") {
            spec.idempotent = true;
        }
        if op.get("deprecated").and_then(Value::as_bool) == Some(true) {
            spec = spec.deprecated("the API marks this operation deprecated");
        }
        spec.raw_input_schema = Some(input_schema);

        Ok(DraftCommand {
            spec,
            operation: Operation {
                command,
                operation_id,
                method: upper,
                path: path.to_string(),
                params: bindings,
                body,
                security,
                accept,
            },
        })
    }

    /// From the first 2xx response: the top-level property names of its JSON schema (the
    /// command's `outputs`, which versioning compares) and the media type to ask for.
    fn success_response(&self, responses: Option<&'a Value>) -> (Vec<String>, Option<String>) {
        let resolve = |v: &'a Value| {
            refs::follow(self.doc, v, "", MAX_REF_HOPS)
                .ok()
                .map(|(v, _)| v)
        };
        let content = responses
            .and_then(Value::as_object)
            .and_then(|r| r.iter().find(|(code, _)| code.starts_with('2')))
            .and_then(|(_, r)| resolve(r))
            .and_then(|r| r.get("content"))
            .and_then(Value::as_object);
        let Some(content) = content else {
            return (Vec::new(), None);
        };
        let base = |k: &str| {
            k.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        };
        let json = content.iter().find(|(k, _)| {
            let b = base(k);
            b == "application/json" || b.ends_with("+json") || b.ends_with("/json")
        });
        let accept = json
            .map(|(k, _)| base(k))
            .or_else(|| content.keys().map(|k| base(k)).find(|k| k != "*/*"));
        let mut names = Vec::new();
        let mut pending: Vec<&Value> = json
            .and_then(|(_, m)| m.get("schema"))
            .and_then(resolve)
            .into_iter()
            .collect();
        while let Some(s) = pending.pop() {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                names.extend(props.keys().cloned());
            }
            if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
                pending.extend(parts.iter().filter_map(resolve));
            }
            if names.len() > 100 {
                break;
            }
        }
        names.sort();
        names.dedup();
        (names, accept)
    }

    /// A parameter object; `Ok(None)` for headers OpenAPI says to ignore.
    fn raw_param(&mut self, p: &Value, at: &str) -> Result<Option<RawParam>, String> {
        let p = p.as_object().ok_or("a parameter must be an object")?;
        let wire = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or("the parameter has no 'name'")?
            .to_string();
        let location = match p.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => Location::Cookie,
            other => {
                return Err(format!(
                    "parameter '{wire}' has 'in' {other:?}; expected path, query, header or cookie"
                ))
            }
        };
        if location == Location::Header
            && ["accept", "content-type", "authorization"]
                .contains(&wire.to_ascii_lowercase().as_str())
        {
            return Ok(None);
        }
        let (schema, schema_at) =
            match (p.get("schema"), p.get("content").and_then(Value::as_object)) {
                (Some(s), _) => (s, child(at, "schema")),
                (None, Some(content)) => match content.iter().next() {
                    Some((media, m)) => (
                        m.get("schema").unwrap_or(&Value::Null),
                        child(&child(&child(at, "content"), media), "schema"),
                    ),
                    None => (&Value::Null, at.to_string()),
                },
                (None, None) => (&Value::Null, at.to_string()),
            };
        let schema = if schema.is_null() {
            json!({"type": "string"})
        } else {
            let mut inliner = Inliner::new(self.doc, self.inline_limits());
            let s = inliner
                .inline(schema, &schema_at)
                .map_err(|e| format!("{} (at {})", e.message, e.pointer))?;
            for note in inliner.notes {
                self.warn(&schema_at, note);
            }
            s
        };
        Ok(Some(RawParam {
            required: location == Location::Path
                || p.get("required").and_then(Value::as_bool) == Some(true),
            wire,
            location,
            schema,
            description: p
                .get("description")
                .and_then(Value::as_str)
                .map(|d| truncate(d, MAX_DESCRIPTION))
                .unwrap_or_default(),
            style: p.get("style").and_then(Value::as_str).map(str::to_string),
            explode: p.get("explode").and_then(Value::as_bool),
        }))
    }

    /// The request body: spread into top-level params when it is a plain object whose
    /// property names are free, else one `body` param.
    fn body(
        &mut self,
        body: &Value,
        at: &str,
        names: &mut UniqueNames,
        fields: &mut Vec<FieldSpec>,
        properties: &mut Map<String, Value>,
        required: &mut Vec<Value>,
    ) -> Result<Option<BodyBinding>, Warning> {
        let (body, at) = refs::follow(self.doc, body, at, MAX_REF_HOPS).map_err(|e| Warning {
            pointer: e.pointer,
            message: format!("operation skipped: {}", e.message),
        })?;
        let body_required = body.get("required").and_then(Value::as_bool) == Some(true);
        let content = body.get("content").and_then(Value::as_object);
        let Some((media, encoding)) = content.and_then(pick_media_type) else {
            let offered: Vec<&String> = content.map(|c| c.keys().collect()).unwrap_or_default();
            let message = format!("request body media type(s) {offered:?} not supported (JSON, form-urlencoded and text are)");
            if body_required {
                return Err(Warning {
                    pointer: at,
                    message: format!("operation skipped: {message}"),
                });
            }
            self.warn(&at, format!("{message}; the optional body is left out"));
            return Ok(None);
        };
        let media_at = child(&child(&at, "content"), &media);
        let schema = content
            .and_then(|c| c.get(&media))
            .and_then(|m| m.get("schema"));
        let schema = match schema {
            Some(s) => {
                let mut inliner = Inliner::new(self.doc, self.inline_limits());
                let s = inliner
                    .inline(s, &child(&media_at, "schema"))
                    .map_err(|e| Warning {
                        pointer: e.pointer,
                        message: format!("operation skipped: {}", e.message),
                    })?;
                for note in inliner.notes {
                    self.warn(&child(&media_at, "schema"), note);
                }
                s
            }
            None => json!({}),
        };
        let description = body
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");

        let merged = merge_all_of(&schema);
        let spreadable = encoding != BodyEncoding::Text
            && merged.as_ref().is_some_and(|(props, _)| {
                !props.is_empty()
                    && props
                        .keys()
                        .all(|k| names::param_name(k) == *k && names.is_free(k))
            });
        if let (true, Some((props, req))) = (spreadable, merged) {
            let mut bound = Vec::new();
            for (name, prop) in props {
                if prop.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                names.claim(&name);
                let is_required = body_required && req.contains(&name);
                fields.push(field_for(&name, &prop, is_required));
                if is_required {
                    required.push(Value::String(name.clone()));
                }
                properties.insert(name.clone(), prop);
                bound.push(BodyProperty {
                    param: name.clone(),
                    wire: name,
                });
            }
            return Ok(Some(BodyBinding {
                content_type: media,
                encoding,
                required: body_required,
                shape: BodyShape::Properties { properties: bound },
            }));
        }
        let param = if names.is_free("body") {
            names.unique("body", 64)
        } else {
            names.unique("requestBody", 64)
        };
        let schema = with_description(
            schema,
            if description.is_empty() {
                "The request body."
            } else {
                description
            },
        );
        fields.push(field_for(&param, &schema, body_required));
        if body_required {
            required.push(Value::String(param.clone()));
        }
        properties.insert(param.clone(), schema);
        Ok(Some(BodyBinding {
            content_type: media,
            encoding,
            required: body_required,
            shape: BodyShape::Whole { param },
        }))
    }
}

/// JSON first, then form, then text.
fn pick_media_type(content: &Map<String, Value>) -> Option<(String, BodyEncoding)> {
    let base = |k: &str| {
        k.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let json = content.keys().find(|k| {
        let b = base(k);
        b == "application/json" || b.ends_with("+json") || b == "*/*" || (b.ends_with("/json"))
    });
    if let Some(k) = json {
        let media = if base(k) == "*/*" {
            "application/json".to_string()
        } else {
            base(k)
        };
        return Some((media, BodyEncoding::Json));
    }
    if let Some(k) = content
        .keys()
        .find(|k| base(k) == "application/x-www-form-urlencoded")
    {
        return Some((base(k), BodyEncoding::Form));
    }
    content
        .keys()
        .find(|k| base(k).starts_with("text/"))
        .map(|k| (base(k), BodyEncoding::Text))
}

/// The properties and required names of an object schema, merging a top-level `allOf`
/// of object schemas; `None` when it is not a plain object (unions, arrays, free-form).
fn merge_all_of(schema: &Value) -> Option<(BTreeMap<String, Value>, Vec<String>)> {
    let obj = schema.as_object()?;
    if obj.contains_key("oneOf") || obj.contains_key("anyOf") {
        return None;
    }
    let ty_ok = match obj.get("type") {
        None => true,
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => {
            ts.iter().any(|t| t == "object") && ts.iter().all(|t| t == "object" || t == "null")
        }
        _ => false,
    };
    if !ty_ok {
        return None;
    }
    let mut props = BTreeMap::new();
    let mut req = Vec::new();
    if let Some(p) = obj.get("properties").and_then(Value::as_object) {
        props.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if let Some(r) = obj.get("required").and_then(Value::as_array) {
        req.extend(r.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
        for part in parts {
            let (p, r) = merge_all_of(part)?;
            props.extend(p);
            req.extend(r);
        }
    }
    Some((props, req))
}

fn template_variables(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 1..start + len].to_string());
        rest = &rest[start + len + 1..];
    }
    out
}

fn with_description(mut schema: Value, description: &str) -> Value {
    if let (Value::Object(obj), false) = (&mut schema, description.is_empty()) {
        obj.insert("description".into(), Value::String(description.to_string()));
    }
    schema
}

/// The validation kind of a param: simple kinds are checked by the hub, the rest is any
/// JSON (its full schema is published in the command's input schema).
fn field_for(name: &str, schema: &Value, required: bool) -> FieldSpec {
    let mut types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    types.retain(|t| *t != "null");
    let composite = ["oneOf", "anyOf", "allOf", "not"]
        .iter()
        .any(|k| schema.get(k).is_some());
    let kind = match (types.as_slice(), composite) {
        (["string"], false) => match schema.get("enum").and_then(Value::as_array) {
            Some(options) if !options.is_empty() && options.iter().all(Value::is_string) => {
                FieldKind::select(options.iter().filter_map(Value::as_str))
            }
            Some(_) => FieldKind::json(),
            None => FieldKind::String,
        },
        (["integer"], false) => FieldKind::Integer {
            minimum: schema.get("minimum").and_then(Value::as_i64),
            maximum: schema.get("maximum").and_then(Value::as_i64),
        },
        (["number"], false) => FieldKind::Number {
            minimum: schema.get("minimum").and_then(Value::as_f64),
            maximum: schema.get("maximum").and_then(Value::as_f64),
        },
        (["boolean"], false) => FieldKind::Boolean,
        (["array"], false)
            if schema.pointer("/items/type").and_then(Value::as_str) == Some("string")
                && schema.pointer("/items/enum").is_none() =>
        {
            FieldKind::StringList
        }
        _ => FieldKind::json(),
    };
    let mut field = FieldSpec::new(name, kind);
    field.required = required;
    if let Some(d) = schema.get("description").and_then(Value::as_str) {
        field.description = d.to_string();
    }
    field
}

fn truncate(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

/// Resolves a relative server URL against the URL the document was fetched from.
fn join_relative(source: &str, relative: &str) -> Option<String> {
    let scheme_end = source.find("://")? + 3;
    let host_end = source[scheme_end..]
        .find('/')
        .map_or(source.len(), |i| scheme_end + i);
    let origin = &source[..host_end];
    if relative.starts_with('/') {
        return Some(format!("{origin}{relative}"));
    }
    let dir_end = source
        .rfind('/')
        .filter(|i| *i >= host_end)
        .map_or(host_end, |i| i);
    Some(format!(
        "{}/{}",
        &source[..dir_end],
        relative.trim_start_matches("./")
    ))
}
