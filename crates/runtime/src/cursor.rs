//! Signed, expiring pagination cursors: opaque to the agent and tamper-evident, so a
//! model cannot forge one that points a credential at another host or tenant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const TAG_LEN: usize = 16;

#[derive(Clone)]
pub struct CursorSigner {
    key: [u8; 32],
    ttl_secs: u64,
}

impl std::fmt::Debug for CursorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSigner(..)")
    }
}

impl CursorSigner {
    pub fn new(key: [u8; 32]) -> Self {
        CursorSigner {
            key,
            ttl_secs: 24 * 3600,
        }
    }

    fn mac(&self, scope: &str, body: &[u8]) -> HmacSha256 {
        // new_from_slice accepts any key length for HMAC.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(body);
        mac
    }

    /// Seals `state` for `scope` (tenant, connector and command), valid for the TTL.
    pub fn sign(&self, scope: &str, state: &Value, now_secs: u64) -> String {
        let body = json!({"s": state, "e": now_secs + self.ttl_secs}).to_string();
        let tag = self.mac(scope, body.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(body.as_bytes()),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
        )
    }

    /// Returns the state when the cursor is intact, unexpired and was issued for `scope`.
    pub fn verify(&self, scope: &str, cursor: &str, now_secs: u64) -> Result<Value, String> {
        const BAD: &str = "the cursor is invalid: pass back nextCursor exactly as it was returned by this same tool";
        let (body_b64, tag_b64) = cursor.split_once('.').ok_or(BAD)?;
        let body = URL_SAFE_NO_PAD.decode(body_b64).map_err(|_| BAD)?;
        let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| BAD)?;
        self.mac(scope, &body)
            .verify_truncated_left(&tag)
            .map_err(|_| BAD)?;
        let parsed: Value = serde_json::from_slice(&body).map_err(|_| BAD)?;
        let expires = parsed.get("e").and_then(Value::as_u64).ok_or(BAD)?;
        if expires < now_secs {
            return Err("the cursor has expired: start again without a cursor".into());
        }
        Ok(parsed.get("s").cloned().unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let s = CursorSigner::new([7; 32]);
        let c = s.sign("t1:c1:list", &json!({"offset": 10}), 1000);
        assert_eq!(
            s.verify("t1:c1:list", &c, 1000).unwrap(),
            json!({"offset": 10})
        );
        // Another scope (tenant, connector or command) is refused.
        assert!(s.verify("t2:c1:list", &c, 1000).is_err());
        // A forged body with the old tag is refused.
        let (_, tag) = c.split_once('.').unwrap();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD
                .encode(json!({"s": {"offset": 0, "url": "https://evil"}, "e": 99999}).to_string())
        );
        assert!(s.verify("t1:c1:list", &forged, 1000).is_err());
        // Another key is refused; expiry is enforced.
        assert!(CursorSigner::new([8; 32])
            .verify("t1:c1:list", &c, 1000)
            .is_err());
        assert!(s
            .verify("t1:c1:list", &c, 1000 + 24 * 3600 + 1)
            .unwrap_err()
            .contains("expired"));
        assert!(s.verify("t1:c1:list", "garbage", 1000).is_err());
        assert!(s.verify("t1:c1:list", "a.b.c", 1000).is_err());
    }
}
