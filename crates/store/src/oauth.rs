//! OAuth 2.1 persistence: client registrations (`oauth_apps`, secret encrypted),
//! pending authorizations (`oauth_states`, state hashed, verifier encrypted, single
//! use), connections (`oauth_connections`, no secrets) with their token sets in
//! `credentials` (kind `oauth`), and refresh leases (`oauth_leases`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

use crate::cols;
use crate::connectors::{credential_aad, SHARED_USER};
use crate::error::is_unique_violation;
use crate::{new_id, now_ms, Result, Store, StoreError};

/// Credential kind of an OAuth token set.
pub const KIND_OAUTH: &str = "oauth";

/// The AAD binding an app's client secret to its row.
pub fn oauth_app_aad(tenant_id: &str, app_id: &str) -> String {
    format!("oauth_app:{tenant_id}:{app_id}")
}

fn state_aad(tenant_id: &str, state_hash: &str) -> String {
    format!("oauth_state:{tenant_id}:{state_hash}")
}

/// A registered OAuth client. `client_secret` is decrypted only by [`Store::oauth_app_secret`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthAppRecord {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub provider: String,
    pub issuer: Option<String>,
    pub authorization_url: String,
    pub token_url: String,
    pub revocation_url: Option<String>,
    pub client_id: String,
    pub has_client_secret: bool,
    pub scopes: Vec<String>,
    pub extra_params: Map<String, Value>,
    pub resource: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin registers; `client_secret` is plaintext only on its way in.
#[derive(Debug, Clone)]
pub struct NewOAuthApp {
    pub tenant_id: String,
    pub name: String,
    pub provider: String,
    pub issuer: Option<String>,
    pub authorization_url: String,
    pub token_url: String,
    pub revocation_url: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    pub extra_params: Map<String, Value>,
    pub resource: Option<String>,
}

/// A pending authorization as the callback needs it.
#[derive(Debug, Clone)]
pub struct OAuthStateRecord {
    pub tenant_id: String,
    pub user_id: String,
    pub connector_id: String,
    pub app_id: String,
    /// `''` for the connector's shared connection, else the user it belongs to.
    pub owner_user_id: String,
    pub verifier: String,
    pub redirect_uri: String,
    pub resource: Option<String>,
    pub expires_at: i64,
}

/// What `take_oauth_state` found.
#[derive(Debug)]
pub enum StateLookup {
    Found(OAuthStateRecord),
    /// It existed but its time ran out (it is deleted now).
    Expired,
    /// Never issued, or already used.
    Unknown,
}

/// A connection's public side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthConnectionRecord {
    pub tenant_id: String,
    pub connector_id: String,
    pub user_id: String,
    pub app_id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
    pub expires_at: Option<i64>,
    pub connected_at: i64,
    pub updated_at: i64,
}

const APP_COLUMNS: &str = "id, tenant_id, name, provider, issuer, authorization_url, token_url, \
    revocation_url, client_id, client_secret, scopes, extra_params, resource, created_at, updated_at";

fn app_from_row(row: &AnyRow) -> Result<OAuthAppRecord> {
    let scopes: String = cols::string(row, "scopes")?;
    Ok(OAuthAppRecord {
        id: cols::string(row, "id")?,
        tenant_id: cols::string(row, "tenant_id")?,
        name: cols::string(row, "name")?,
        provider: cols::string(row, "provider")?,
        issuer: cols::opt_string(row, "issuer")?,
        authorization_url: cols::string(row, "authorization_url")?,
        token_url: cols::string(row, "token_url")?,
        revocation_url: cols::opt_string(row, "revocation_url")?,
        client_id: cols::string(row, "client_id")?,
        has_client_secret: cols::opt_string(row, "client_secret")?.is_some(),
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        extra_params: cols::json(row, "extra_params")?,
        resource: cols::opt_string(row, "resource")?,
        created_at: cols::int(row, "created_at")?,
        updated_at: cols::int(row, "updated_at")?,
    })
}

const CONNECTION_COLUMNS: &str =
    "tenant_id, connector_id, user_id, app_id, status, status_reason, \
    scope, resource, expires_at, connected_at, updated_at";

fn connection_from_row(row: &AnyRow) -> Result<OAuthConnectionRecord> {
    Ok(OAuthConnectionRecord {
        tenant_id: cols::string(row, "tenant_id")?,
        connector_id: cols::string(row, "connector_id")?,
        user_id: cols::string(row, "user_id")?,
        app_id: cols::string(row, "app_id")?,
        status: cols::string(row, "status")?,
        status_reason: cols::opt_string(row, "status_reason")?,
        scope: cols::opt_string(row, "scope")?,
        resource: cols::opt_string(row, "resource")?,
        expires_at: cols::opt_int(row, "expires_at")?,
        connected_at: cols::int(row, "connected_at")?,
        updated_at: cols::int(row, "updated_at")?,
    })
}

impl Store {
    pub async fn insert_oauth_app(&self, new: &NewOAuthApp) -> Result<OAuthAppRecord> {
        if new.name.trim().is_empty() {
            return Err(StoreError::Invalid(
                "OAuth app name must not be empty".into(),
            ));
        }
        let id = new_id();
        let now = now_ms();
        let secret = new.client_secret.as_ref().map(|s| {
            self.vault
                .encrypt(s.as_bytes(), &oauth_app_aad(&new.tenant_id, &id))
        });
        let done = sqlx::query(&format!(
            "INSERT INTO oauth_apps ({APP_COLUMNS}, key_id) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&id)
        .bind(&new.tenant_id)
        .bind(&new.name)
        .bind(&new.provider)
        .bind(&new.issuer)
        .bind(&new.authorization_url)
        .bind(&new.token_url)
        .bind(&new.revocation_url)
        .bind(&new.client_id)
        .bind(secret.clone())
        .bind(new.scopes.join(" "))
        .bind(cols::to_json(&new.extra_params)?)
        .bind(&new.resource)
        .bind(now)
        .bind(now)
        .bind(secret.map(|_| self.vault.primary_key_id()))
        .execute(&self.pool)
        .await;
        match done {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "an OAuth app named '{}' already exists in this tenant",
                new.name
            ))),
            Err(e) => Err(e.into()),
            Ok(_) => self
                .get_oauth_app(&new.tenant_id, &id)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("OAuth app {id}"))),
        }
    }

    /// By id or name within the tenant.
    pub async fn get_oauth_app(
        &self,
        tenant_id: &str,
        id_or_name: &str,
    ) -> Result<Option<OAuthAppRecord>> {
        sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM oauth_apps WHERE tenant_id = $1 AND (id = $2 OR name = $2)"
        ))
        .bind(tenant_id)
        .bind(id_or_name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(app_from_row)
        .transpose()
    }

    pub async fn list_oauth_apps(&self, tenant_id: &str) -> Result<Vec<OAuthAppRecord>> {
        sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM oauth_apps WHERE tenant_id = $1 ORDER BY name"
        ))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(app_from_row)
        .collect()
    }

    /// The first app of the tenant for `provider` (catalog types name a provider).
    pub async fn oauth_app_for_provider(
        &self,
        tenant_id: &str,
        provider: &str,
    ) -> Result<Option<OAuthAppRecord>> {
        sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM oauth_apps WHERE tenant_id = $1 AND provider = $2 \
             ORDER BY created_at LIMIT 1"
        ))
        .bind(tenant_id)
        .bind(provider)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(app_from_row)
        .transpose()
    }

    pub async fn delete_oauth_app(&self, tenant_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM oauth_states WHERE tenant_id = $1 AND app_id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM oauth_connections WHERE tenant_id = $1 AND app_id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM oauth_apps WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The decrypted client secret, `None` for a public client.
    pub async fn oauth_app_secret(&self, tenant_id: &str, id: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT client_secret FROM oauth_apps WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("OAuth app {id}")))?;
        let Some(ciphertext) = cols::opt_string(&row, "client_secret")? else {
            return Ok(None);
        };
        let bytes = self
            .vault
            .decrypt(&ciphertext, &oauth_app_aad(tenant_id, id))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::Database("stored client secret is not UTF-8".into()))
    }

    /// Records a started authorization under the hash of its `state`.
    pub async fn insert_oauth_state(&self, state_hash: &str, rec: &OAuthStateRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, tenant_id, user_id, connector_id, app_id, \
             owner_user_id, verifier, redirect_uri, resource, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(state_hash)
        .bind(&rec.tenant_id)
        .bind(&rec.user_id)
        .bind(&rec.connector_id)
        .bind(&rec.app_id)
        .bind(&rec.owner_user_id)
        .bind(self.vault.encrypt(
            rec.verifier.as_bytes(),
            &state_aad(&rec.tenant_id, state_hash),
        ))
        .bind(&rec.redirect_uri)
        .bind(&rec.resource)
        .bind(rec.expires_at)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Consumes a state: whoever deletes the row owns it, so a replay finds nothing.
    /// Also sweeps long-expired states.
    pub async fn take_oauth_state(&self, state_hash: &str) -> Result<StateLookup> {
        let now = now_ms();
        let row = sqlx::query(
            "SELECT tenant_id, user_id, connector_id, app_id, owner_user_id, verifier, \
             redirect_uri, resource, expires_at FROM oauth_states WHERE state_hash = $1",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(StateLookup::Unknown);
        };
        let deleted = sqlx::query("DELETE FROM oauth_states WHERE state_hash = $1")
            .bind(state_hash)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(now - 24 * 3600 * 1000)
            .execute(&self.pool)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(StateLookup::Unknown);
        }
        let expires_at = cols::int(&row, "expires_at")?;
        if expires_at <= now {
            return Ok(StateLookup::Expired);
        }
        let tenant_id = cols::string(&row, "tenant_id")?;
        let verifier = self.vault.decrypt(
            &cols::string(&row, "verifier")?,
            &state_aad(&tenant_id, state_hash),
        )?;
        Ok(StateLookup::Found(OAuthStateRecord {
            tenant_id,
            user_id: cols::string(&row, "user_id")?,
            connector_id: cols::string(&row, "connector_id")?,
            app_id: cols::string(&row, "app_id")?,
            owner_user_id: cols::string(&row, "owner_user_id")?,
            verifier: String::from_utf8(verifier)
                .map_err(|_| StoreError::Database("stored verifier is not UTF-8".into()))?,
            redirect_uri: cols::string(&row, "redirect_uri")?,
            resource: cols::opt_string(&row, "resource")?,
            expires_at,
        }))
    }

    /// Stores (or replaces) a connection and its token set in one transaction.
    pub async fn save_oauth_connection(
        &self,
        conn: &OAuthConnectionRecord,
        tokens: &Value,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO oauth_connections ({CONNECTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (connector_id, user_id) DO UPDATE SET app_id = excluded.app_id, \
             status = excluded.status, status_reason = excluded.status_reason, \
             scope = excluded.scope, resource = excluded.resource, \
             expires_at = excluded.expires_at, connected_at = excluded.connected_at, \
             updated_at = excluded.updated_at"
        ))
        .bind(&conn.tenant_id)
        .bind(&conn.connector_id)
        .bind(&conn.user_id)
        .bind(&conn.app_id)
        .bind(&conn.status)
        .bind(&conn.status_reason)
        .bind(&conn.scope)
        .bind(&conn.resource)
        .bind(conn.expires_at)
        .bind(conn.connected_at)
        .bind(conn.updated_at)
        .execute(&mut *tx)
        .await?;
        let aad = credential_aad(
            &conn.tenant_id,
            &conn.connector_id,
            &conn.user_id,
            KIND_OAUTH,
        );
        let now = now_ms();
        sqlx::query(
            "INSERT INTO credentials \
               (id, tenant_id, connector_id, user_id, kind, ciphertext, key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (connector_id, user_id, kind) DO UPDATE SET \
               ciphertext = excluded.ciphertext, key_id = excluded.key_id, \
               updated_at = excluded.updated_at",
        )
        .bind(new_id())
        .bind(&conn.tenant_id)
        .bind(&conn.connector_id)
        .bind(&conn.user_id)
        .bind(KIND_OAUTH)
        .bind(self.vault.encrypt_json(tokens, &aad))
        .bind(self.vault.primary_key_id())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_oauth_connection(
        &self,
        tenant_id: &str,
        connector_id: &str,
        user_id: &str,
    ) -> Result<Option<OAuthConnectionRecord>> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM oauth_connections \
             WHERE tenant_id = $1 AND connector_id = $2 AND user_id = $3"
        ))
        .bind(tenant_id)
        .bind(connector_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(connection_from_row)
        .transpose()
    }

    /// Every connection of a connector: the shared one (`user_id` empty) and each user's.
    pub async fn list_oauth_connections(
        &self,
        tenant_id: &str,
        connector_id: &str,
    ) -> Result<Vec<OAuthConnectionRecord>> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM oauth_connections \
             WHERE tenant_id = $1 AND connector_id = $2 ORDER BY user_id"
        ))
        .bind(tenant_id)
        .bind(connector_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(connection_from_row)
        .collect()
    }

    /// The decrypted token set of a connection.
    pub async fn oauth_tokens(
        &self,
        tenant_id: &str,
        connector_id: &str,
        user_id: &str,
    ) -> Result<Option<Value>> {
        let row = sqlx::query(
            "SELECT ciphertext FROM credentials \
             WHERE tenant_id = $1 AND connector_id = $2 AND user_id = $3 AND kind = $4",
        )
        .bind(tenant_id)
        .bind(connector_id)
        .bind(user_id)
        .bind(KIND_OAUTH)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let aad = credential_aad(tenant_id, connector_id, user_id, KIND_OAUTH);
        Ok(Some(
            self.vault
                .decrypt_json(&cols::string(&row, "ciphertext")?, &aad)?,
        ))
    }

    pub async fn set_oauth_connection_status(
        &self,
        tenant_id: &str,
        connector_id: &str,
        user_id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE oauth_connections SET status = $1, status_reason = $2, updated_at = $3 \
             WHERE tenant_id = $4 AND connector_id = $5 AND user_id = $6",
        )
        .bind(status)
        .bind(reason)
        .bind(now_ms())
        .bind(tenant_id)
        .bind(connector_id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a connection and its tokens.
    pub async fn delete_oauth_connection(
        &self,
        tenant_id: &str,
        connector_id: &str,
        user_id: &str,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM credentials WHERE tenant_id = $1 AND connector_id = $2 AND user_id = $3 AND kind = $4",
        )
        .bind(tenant_id)
        .bind(connector_id)
        .bind(user_id)
        .bind(KIND_OAUTH)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "DELETE FROM oauth_connections WHERE tenant_id = $1 AND connector_id = $2 AND user_id = $3",
        )
        .bind(tenant_id)
        .bind(connector_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Takes the lease `key` for `ttl_ms` if it is free or lapsed. True when `holder` has it.
    pub async fn try_oauth_lease(&self, key: &str, holder: &str, ttl_ms: i64) -> Result<bool> {
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO oauth_leases (lease_key, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (lease_key) DO NOTHING",
        )
        .bind(key)
        .bind(holder)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(true);
        }
        // A lapsed lease (its holder died) may be taken over; the WHERE makes it atomic.
        let taken = sqlx::query(
            "UPDATE oauth_leases SET holder = $1, expires_at = $2 \
             WHERE lease_key = $3 AND expires_at < $4",
        )
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    pub async fn release_oauth_lease(&self, key: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM oauth_leases WHERE lease_key = $1 AND holder = $2")
            .bind(key)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// `credentials.user_id` of a connector's shared connection.
pub const SHARED_CONNECTION: &str = SHARED_USER;

#[cfg(feature = "testing")]
impl Store {
    /// Ages every pending authorization past its expiry (tests of the expired-state page).
    pub async fn expire_oauth_states_for_tests(&self) -> Result<()> {
        sqlx::query("UPDATE oauth_states SET expires_at = 1")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
