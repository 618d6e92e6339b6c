//! Validation of command params and connection config against their field specs.
//!
//! Hand-written rather than via a JSON Schema validator because the messages are
//! the product: one error that names every missing field, every unknown one and
//! every wrong type at once, in words an agent can act on.

use serde_json::{Map, Value};

use crate::definition::CommandSpec;
use crate::error::ConnectorError;
use crate::schema::{FieldKind, FieldSpec};
use crate::standard;

/// Validates `params` for `command`, applies defaults, and returns the normalized map.
pub fn validate_params(
    command: &CommandSpec,
    params: &Map<String, Value>,
) -> Result<Map<String, Value>, ConnectorError> {
    let fields = command.all_params();
    let extra_allowed: &[&str] = &standard::TENANT_INPUTS;
    check_fields(&fields, params, extra_allowed, "parameter")
        .map_err(|problems| ConnectorError::invalid_input(problems.join("; ")))
}

/// Validates connection config. `stored_secrets` names secret fields already stored,
/// which satisfy `required` when the caller leaves them out (or sends the placeholder).
pub fn validate_config(
    fields: &[FieldSpec],
    config: &Map<String, Value>,
    stored_secrets: &[String],
) -> Result<Map<String, Value>, String> {
    let mut relaxed: Vec<FieldSpec> = fields.to_vec();
    for f in relaxed.iter_mut() {
        if f.is_secret() && stored_secrets.contains(&f.name) {
            f.required = false;
        }
    }
    check_fields(&relaxed, config, &[], "config field").map_err(|p| p.join("; "))
}

fn check_fields(
    fields: &[FieldSpec],
    input: &Map<String, Value>,
    extra_allowed: &[&str],
    noun: &str,
) -> Result<Map<String, Value>, Vec<String>> {
    let mut problems = Vec::new();

    let unknown: Vec<&str> = input
        .keys()
        .filter(|k| !fields.iter().any(|f| &f.name == *k) && !extra_allowed.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        problems.push(format!(
            "unknown {noun}(s): {}; accepted: {}",
            unknown.join(", "),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    }

    let missing: Vec<&str> = fields
        .iter()
        .filter(|f| f.required && input.get(&f.name).is_none_or(Value::is_null))
        .map(|f| f.name.as_str())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "missing required {noun}(s): {}",
            missing.join(", ")
        ));
    }

    let mut out = Map::new();
    for f in fields {
        match input.get(&f.name) {
            Some(Value::Null) | None => {
                if let Some(d) = &f.default {
                    out.insert(f.name.clone(), d.clone());
                }
            }
            Some(v) => match check_kind(&f.kind, v) {
                Ok(normalized) => {
                    out.insert(f.name.clone(), normalized);
                }
                Err(why) => problems.push(format!("{noun} '{}' {why}", f.name)),
            },
        }
    }
    for k in extra_allowed {
        if let Some(v) = input.get(*k) {
            out.insert((*k).to_string(), v.clone());
        }
    }

    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_kind(kind: &FieldKind, v: &Value) -> Result<Value, String> {
    let wrong = || {
        Err(format!(
            "must be {} (got {})",
            kind.describe(),
            type_name(v)
        ))
    };
    match kind {
        FieldKind::String | FieldKind::Secret => match v {
            Value::String(_) => Ok(v.clone()),
            _ => wrong(),
        },
        FieldKind::Date => match v.as_str() {
            Some(s) if looks_like_iso_date(s) => Ok(v.clone()),
            Some(s) => Err(format!(
                "must be an ISO 8601 date such as 2026-02-03 or 2026-02-03T12:00:00Z (got '{}')",
                truncate(s, 40)
            )),
            None => wrong(),
        },
        FieldKind::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            _ => wrong(),
        },
        FieldKind::Number { minimum, maximum } => {
            let Some(n) = v.as_f64() else { return wrong() };
            check_range(n, *minimum, *maximum)?;
            Ok(v.clone())
        }
        FieldKind::Integer { minimum, maximum } => {
            // Accept 10.0 from clients that only have floats, but not 10.5.
            let n = match v {
                Value::Number(num) => match (num.as_i64(), num.as_f64()) {
                    (Some(i), _) => i,
                    (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
                    _ => return wrong(),
                },
                _ => return wrong(),
            };
            check_range(
                n as f64,
                minimum.map(|m| m as f64),
                maximum.map(|m| m as f64),
            )?;
            Ok(Value::from(n))
        }
        FieldKind::Select { options } => match v.as_str() {
            Some(s) if options.iter().any(|o| o == s) => Ok(v.clone()),
            _ => Err(format!("must be one of: {}", options.join(", "))),
        },
        FieldKind::StringList => match v {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(v.clone()),
            // A single string is a list of one; agents often send it that way.
            Value::String(s) => Ok(Value::Array(vec![Value::String(s.clone())])),
            _ => wrong(),
        },
        FieldKind::Json { .. } => Ok(v.clone()),
        FieldKind::SecretMap => match v {
            Value::Object(m) if m.values().all(Value::is_string) => Ok(v.clone()),
            _ => wrong(),
        },
    }
}

fn check_range(n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    if let Some(min) = min {
        if n < min {
            return Err(format!("must be at least {min} (got {n})"));
        }
    }
    if let Some(max) = max {
        if n > max {
            return Err(format!("must be at most {max} (got {n})"));
        }
    }
    Ok(())
}

fn looks_like_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || b[10] == b'T' || b[10] == b' ')
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{Access, StandardInputs};
    use serde_json::json;

    fn cmd() -> CommandSpec {
        let mut c = CommandSpec::new("lookup", Access::Read, "Look up");
        c.params = vec![
            FieldSpec::string("id").required(),
            FieldSpec::string("email").required(),
            FieldSpec::new("size", FieldKind::integer_range(1, 10)).default_value(5),
            FieldSpec::new("mode", FieldKind::select(["a", "b"])),
        ];
        c.standard = StandardInputs {
            paginated: true,
            ..Default::default()
        };
        c
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn names_every_missing_param_in_one_error() {
        let err = validate_params(&cmd(), &Map::new()).unwrap_err();
        assert!(
            err.message
                .contains("missing required parameter(s): id, email"),
            "{}",
            err.message
        );
    }

    #[test]
    fn applies_defaults_and_coerces_integral_floats() {
        let out =
            validate_params(&cmd(), &map(json!({"id": "1", "email": "x", "limit": 3.0}))).unwrap();
        assert_eq!(out["size"], json!(5));
        assert_eq!(out["limit"], json!(3));
    }

    #[test]
    fn rejects_unknown_and_wrong_types_together() {
        let err = validate_params(
            &cmd(),
            &map(json!({"id": 1, "email": "x", "bogus": true, "mode": "c", "limit": 0})),
        )
        .unwrap_err();
        let m = err.message;
        assert!(m.contains("unknown parameter(s): bogus"), "{m}");
        assert!(m.contains("'id' must be a string (got a number)"), "{m}");
        assert!(m.contains("'mode' must be one of: a, b"), "{m}");
        assert!(m.contains("'limit' must be at least 1"), "{m}");
    }

    #[test]
    fn tenant_inputs_pass_through() {
        let out = validate_params(
            &cmd(),
            &map(json!({"id": "1", "email": "x", "tenantId": "t1"})),
        )
        .unwrap();
        assert_eq!(out["tenantId"], json!("t1"));
    }

    #[test]
    fn stored_secret_satisfies_required() {
        let fields = vec![
            FieldSpec::string("url").required(),
            FieldSpec::secret("token").required(),
        ];
        assert!(validate_config(&fields, &map(json!({"url": "u"})), &[]).is_err());
        assert!(validate_config(&fields, &map(json!({"url": "u"})), &["token".into()]).is_ok());
    }

    #[test]
    fn dates() {
        let fields = vec![FieldSpec::new("d", FieldKind::Date)];
        assert!(validate_config(&fields, &map(json!({"d": "2026-02-03"})), &[]).is_ok());
        assert!(validate_config(&fields, &map(json!({"d": "2026-02-03T10:00:00Z"})), &[]).is_ok());
        assert!(validate_config(&fields, &map(json!({"d": "yesterday"})), &[]).is_err());
    }
}
