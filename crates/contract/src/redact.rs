//! Masks secret values wherever they appear in a result, as a last line of defence:
//! a handler that echoes a credential (in data, an error or a vendor's body) still
//! cannot show it to the model.

use serde_json::Value;

use crate::envelope::Envelope;

pub const MASK: &str = "********";

/// Secrets shorter than this are not searched for: masking every "1" or "true"
/// would garble results without protecting anything.
pub const MIN_SECRET_LEN: usize = 6;

/// Replaces every occurrence of each secret in the envelope's strings. Returns
/// whether anything was masked.
pub fn redact_envelope(env: &mut Envelope, secrets: &[&str]) -> bool {
    let secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    if secrets.is_empty() {
        return false;
    }
    let mut hit = false;
    if let Some(d) = env.data.as_mut() {
        hit |= redact_value(d, &secrets);
    }
    if let Some(e) = env.error.as_mut() {
        hit |= redact_string(&mut e.message, &secrets);
        if let Some(d) = e.diagnostics.as_mut() {
            hit |= redact_value(d, &secrets);
        }
    }
    for w in env.warnings.iter_mut() {
        hit |= redact_string(w, &secrets);
    }
    for v in env.variables.values_mut() {
        hit |= redact_value(v, &secrets);
    }
    hit
}

pub fn redact_value(v: &mut Value, secrets: &[&str]) -> bool {
    match v {
        Value::String(s) => redact_string(s, secrets),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |hit, i| redact_value(i, secrets) | hit),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |hit, i| redact_value(i, secrets) | hit),
        _ => false,
    }
}

fn redact_string(s: &mut String, secrets: &[&str]) -> bool {
    let mut hit = false;
    for secret in secrets {
        if s.contains(secret) {
            *s = s.replace(secret, MASK);
            hit = true;
        }
    }
    hit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Meta;
    use crate::error::ConnectorError;
    use serde_json::json;

    #[test]
    fn masks_everywhere_but_ignores_short_values() {
        let mut env = Envelope::success(
            json!({"echo": ["token=abcdef123", {"k": "abcdef123"}], "n": "yes"}),
            Meta::default(),
        );
        env.warnings.push("saw abcdef123".into());
        assert!(redact_envelope(&mut env, &["abcdef123", "yes"]));
        assert_eq!(
            env.data.unwrap(),
            json!({"echo": ["token=********", {"k": "********"}], "n": "yes"})
        );
        assert_eq!(env.warnings[0], "saw ********");

        let mut err = Envelope::failure(
            ConnectorError::upstream("bad key abcdef123")
                .with_diagnostics(json!({"body": "abcdef123"})),
            Meta::default(),
        );
        assert!(redact_envelope(&mut err, &["abcdef123"]));
        let e = err.error.unwrap();
        assert_eq!(e.message, "bad key ********");
        assert_eq!(e.diagnostics.unwrap(), json!({"body": "********"}));
    }
}
