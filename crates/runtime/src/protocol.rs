//! The three-slot result every user-built connector returns (seed `003`, protocol 2.0):
//! `{success, payload, variables}` on success, `{success: false, error, diagnostics,
//! variables}` on failure. Legacy 1.x keys (`data`, `outputVariables`) are refused with
//! an upgrade message rather than translated, so an old script or service is noticed.

use serde_json::{Map, Value};
use switchboard_contract::{ConnectorError, ErrorCode, Failure, Outcome, Success};

/// The keys protocol 1.x used, and what replaced them.
const LEGACY_KEYS: [(&str, &str); 2] = [
    ("data", "payload (on success) or diagnostics (on failure)"),
    ("outputVariables", "variables"),
];

/// The upgrade error for a result carrying legacy keys, or `None`.
pub fn legacy_keys_error(result: &Map<String, Value>, who: &str) -> Option<ConnectorError> {
    let found: Vec<String> = LEGACY_KEYS
        .iter()
        .filter(|(k, _)| result.contains_key(*k))
        .map(|(k, new)| format!("'{k}' (use {new})"))
        .collect();
    if found.is_empty() {
        return None;
    }
    Some(
        ConnectorError::upstream(format!(
            "{who} returned a protocol 1.x result with the legacy key(s) {}: protocol 2.0 is \
             required; return {{success, payload, variables}} or {{success: false, error, diagnostics}}",
            found.join(", ")
        ))
        .with_vendor_code("legacy_protocol"),
    )
}

/// Turns a result object into an outcome. `who` names the source in messages
/// ("script command 'list'", "external connector at https://…/execute").
pub fn outcome_from_result(mut result: Map<String, Value>, who: &str) -> Outcome {
    if let Some(e) = legacy_keys_error(&result, who) {
        return Err(Box::new(e.into()));
    }
    let variables = match result.remove("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return bad_shape(
                who,
                format!("'variables' must be an object, not {}", kind(&other)),
            )
        }
    };
    let success = match result.get("success") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return bad_shape(
                who,
                format!("'success' must be true or false, not {}", kind(other)),
            )
        }
    };
    if success {
        let mut s = Success::new(result.remove("payload").unwrap_or(Value::Null));
        s.variables = variables;
        if let Some(Value::Array(w)) = result.remove("warnings") {
            s.warnings = w
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
        }
        return Ok(s);
    }
    let message = match result.remove("error") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        Some(Value::Object(o)) => o
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| Value::Object(o.clone()).to_string(), str::to_string),
        _ => format!("{who} reported a failure without an error message"),
    };
    let code = result
        .remove("code")
        .and_then(|c| serde_json::from_value::<ErrorCode>(c).ok())
        .unwrap_or(ErrorCode::UpstreamError);
    let mut error = ConnectorError::new(code, message);
    if let Some(d) = result.remove("diagnostics").filter(|d| !d.is_null()) {
        error = error.with_diagnostics(d);
    }
    if code == ErrorCode::RateLimited {
        let ms = result.get("retryAfterMs").and_then(Value::as_u64);
        error = ConnectorError::rate_limited(error.message.clone(), ms)
            .with_diagnostics(error.diagnostics.clone().unwrap_or(Value::Null));
    }
    Err(Box::new(Failure {
        error,
        variables,
        rate_limit: None,
    }))
}

fn bad_shape(who: &str, what: String) -> Outcome {
    Err(Box::new(
        ConnectorError::upstream(format!("{who} returned a malformed result: {what}"))
            .with_vendor_code("malformed_result")
            .into(),
    ))
}

/// A JSON value's kind, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn success_and_failure_slots() {
        let ok = outcome_from_result(
            obj(json!({"success": true, "payload": {"a": 1}, "variables": {"n": 2}})),
            "x",
        )
        .unwrap();
        assert_eq!(ok.payload, json!({"a": 1}));
        assert_eq!(ok.variables.get("n"), Some(&json!(2)));

        let err = outcome_from_result(
            obj(
                json!({"success": false, "error": "boom", "diagnostics": {"statusCode": 502},
                       "variables": {"failed": true}}),
            ),
            "x",
        )
        .unwrap_err();
        assert_eq!(err.error.code, ErrorCode::UpstreamError);
        assert_eq!(err.error.message, "boom");
        assert_eq!(err.error.diagnostics, Some(json!({"statusCode": 502})));
        assert_eq!(err.variables.get("failed"), Some(&json!(true)));

        let err = outcome_from_result(
            obj(json!({"success": false, "error": "nope", "code": "not_found"})),
            "x",
        )
        .unwrap_err();
        assert_eq!(err.error.code, ErrorCode::NotFound);
    }

    #[test]
    fn legacy_keys_are_refused_with_an_upgrade_message() {
        let err = outcome_from_result(
            obj(json!({"success": true, "data": {}, "outputVariables": {}})),
            "script command 'list'",
        )
        .unwrap_err();
        assert_eq!(err.error.vendor_code.as_deref(), Some("legacy_protocol"));
        assert!(err.error.message.contains("'data' (use payload"));
        assert!(err
            .error
            .message
            .contains("'outputVariables' (use variables)"));
        assert!(err.error.message.contains("protocol 2.0 is required"));
    }

    #[test]
    fn malformed_slots_are_named() {
        let err = outcome_from_result(obj(json!({"variables": [1]})), "x").unwrap_err();
        assert!(err
            .error
            .message
            .contains("'variables' must be an object, not an array"));
        let err = outcome_from_result(obj(json!({"success": "yes"})), "x").unwrap_err();
        assert!(err
            .error
            .message
            .contains("'success' must be true or false"));
    }
}
