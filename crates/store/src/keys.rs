//! API keys. Tokens embed the key id so authentication is one indexed lookup, and
//! only a SHA-256 of the token is stored: the token is high-entropy, so a slow hash
//! would add latency without adding security.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::cols;
use crate::model::{ApiKey, Principal};
use crate::tenants::{tenant_from_row, user_from_row, USER_COLUMNS};
use crate::vault::encode_hex;
use crate::{now_ms, Result, Store, StoreError};

const TOKEN_PREFIX: &str = "sb_";
const SECRET_LEN: usize = 43; // base64url, unpadded, of 32 bytes
/// `last_used_at` is informational; refreshing it at most once a minute keeps
/// authentication from turning every request into a write.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

const KEY_COLUMNS: &str =
    "id, tenant_id, user_id, name, secret_hash, scopes, created_at, last_used_at, revoked_at";

fn key_from_row(row: &AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: cols::string(row, "id")?,
        tenant_id: cols::string(row, "tenant_id")?,
        user_id: cols::string(row, "user_id")?,
        name: cols::string(row, "name")?,
        scopes: cols::json(row, "scopes")?,
        created_at: cols::int(row, "created_at")?,
        last_used_at: cols::opt_int(row, "last_used_at")?,
        revoked_at: cols::opt_int(row, "revoked_at")?,
    })
}

fn hash_token(token: &str) -> String {
    encode_hex(&Sha256::digest(token.as_bytes()))
}

/// Extracts the key id from `sb_<32 hex>_<43 base64url>`; `None` for anything else.
fn parse_token(token: &str) -> Option<String> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id_hex, secret) = (rest.get(..32)?, rest.get(32..)?);
    let secret = secret.strip_prefix('_')?;
    if !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) || secret.len() != SECRET_LEN {
        return None;
    }
    if !secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    Uuid::try_parse(id_hex)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

impl Store {
    /// Returns the key record and the token. The token is not recoverable later.
    pub async fn create_api_key(
        &self,
        tenant_id: &str,
        user_id: &str,
        name: &str,
        scopes: &[String],
    ) -> Result<(ApiKey, String)> {
        if self.get_user(tenant_id, user_id).await?.is_none() {
            return Err(StoreError::NotFound(format!(
                "user {user_id} in tenant {tenant_id}"
            )));
        }
        let id = Uuid::now_v7();
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let token = format!(
            "{TOKEN_PREFIX}{}_{}",
            id.simple(),
            URL_SAFE_NO_PAD.encode(secret)
        );
        let key = ApiKey {
            id: id.hyphenated().to_string(),
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            name: name.to_string(),
            scopes: scopes.to_vec(),
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, user_id, name, secret_hash, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.tenant_id)
        .bind(&key.user_id)
        .bind(&key.name)
        .bind(hash_token(&token))
        .bind(cols::to_json(&key.scopes)?)
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        Ok((key, token))
    }

    /// Resolves a bearer token. Anything that is not a valid, live key is `Ok(None)`;
    /// only database failures are errors.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        let Some(key_id) = parse_token(token) else {
            return Ok(None);
        };
        let Some(row) = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(&key_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let stored_hash = cols::string(&row, "secret_hash")?;
        let presented = hash_token(token);
        if !bool::from(presented.as_bytes().ct_eq(stored_hash.as_bytes())) {
            return Ok(None);
        }
        let mut key = key_from_row(&row)?;
        if key.revoked_at.is_some() {
            return Ok(None);
        }

        let Some(user) = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(&key.tenant_id)
        .bind(&key.user_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()?
        else {
            return Ok(None);
        };
        let Some(tenant) = sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(&key.tenant_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()?
        else {
            return Ok(None);
        };

        let now = now_ms();
        if key
            .last_used_at
            .is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS)
        {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&key.id)
                .execute(&self.pool)
                .await?;
            key.last_used_at = Some(now);
        }
        Ok(Some(Principal { tenant, user, key }))
    }

    pub async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>> {
        sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_from_row)
        .collect()
    }

    /// `false` when the key does not exist in this tenant or is already revoked.
    pub async fn revoke_api_key(&self, tenant_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(tenant_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_token;

    #[test]
    fn rejects_malformed_tokens() {
        for t in [
            "",
            "sb_",
            "garbage",
            "sb_zz",
            "sb_0123456789abcdef0123456789abcdef",
            "é",
            "sb_ééééééééééééééééééééééééééééééééé_x",
        ] {
            assert_eq!(parse_token(t), None, "{t:?}");
        }
    }
}
