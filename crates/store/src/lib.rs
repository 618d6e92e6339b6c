//! Persistence for Switchboard: one API over embedded SQLite (default) and PostgreSQL,
//! plus the vault that encrypts connector secrets at rest.
//!
//! Everything goes through `sqlx::AnyPool` with portable SQL (`$N` placeholders, TEXT
//! ids, BIGINT millisecond timestamps and 0/1 booleans, JSON as TEXT) so the two
//! backends share every query and one migration folder.

mod audit;
mod catalog;
mod connectors;
mod error;
mod idempotency;
mod keys;
pub mod model;
pub mod oauth;
mod profiles;
mod rotation;
mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
pub mod vault;

use std::path::Path;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use connectors::{credential_aad, KIND_CONFIG, SHARED_USER};
pub use error::StoreError;
pub use model::*;
pub use vault::{load_vault, write_key_file, MasterKey, Vault, VaultError};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One migration folder for both backends: the schema is portable SQL.
static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database sits behind the pool; only connection setup differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database and the vault. Cheap to clone (pool and vault are shared).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    vault: Vault,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Current time in unix milliseconds, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Fresh row id. UUID v7 sorts by creation time, which keeps ties in
/// `ORDER BY created_at, id` in insertion order.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn install_drivers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(sqlx::any::install_default_drivers);
}

impl Store {
    /// Opens (and migrates) the database at `url`: `sqlite://…` or `postgres://…`.
    pub async fn open(url: &str, vault: Vault) -> Result<Store> {
        install_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(
                "database URL must start with sqlite:// or postgres://".into(),
            ));
        };

        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    // SQLite has a single writer anyway; a few connections let readers
                    // proceed under WAL while one writes.
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await
            }
        }
        .map_err(|e| StoreError::Database(format!("cannot open database: {e}")))?;

        MIGRATIONS.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            vault,
        })
    }

    /// Opens (creating if needed) the SQLite database file at `path`.
    pub async fn open_sqlite(path: &Path, vault: Vault) -> Result<Store> {
        let path = path
            .to_str()
            .ok_or_else(|| StoreError::Invalid("database path must be valid UTF-8".into()))?;
        Store::open(
            &format!("sqlite://{}?mode=rwc", encode_sqlite_path(path)),
            vault,
        )
        .await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Same database, different keyring: used during key rotation, when the CLI needs
    /// a store that can decrypt with both the old and the new key.
    pub fn with_vault(&self, vault: Vault) -> Store {
        Store {
            pool: self.pool.clone(),
            backend: self.backend,
            vault,
        }
    }

    /// Escape hatch for tests and maintenance tasks that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The SQLite URL parser percent-decodes the path, so characters that would end the
/// path early (`?`, `#`) or be decoded (`%`) must be escaped.
fn encode_sqlite_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// Column decoding shared by the modules; the portable schema stores booleans as
/// BIGINT and JSON as TEXT, so both need converting by hand.
pub(crate) mod cols {
    use serde::de::DeserializeOwned;
    use sqlx::any::AnyRow;
    use sqlx::Row;

    use crate::StoreError;

    pub fn string(row: &AnyRow, col: &str) -> Result<String, StoreError> {
        Ok(row.try_get::<String, _>(col)?)
    }

    pub fn opt_string(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
        Ok(row.try_get::<Option<String>, _>(col)?)
    }

    pub fn int(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
        Ok(row.try_get::<i64, _>(col)?)
    }

    pub fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(row.try_get::<Option<i64>, _>(col)?)
    }

    pub fn boolean(row: &AnyRow, col: &str) -> Result<bool, StoreError> {
        Ok(int(row, col)? != 0)
    }

    pub fn json<T: DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T, StoreError> {
        let text = string(row, col)?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Database(format!("column {col} holds invalid JSON: {e}")))
    }

    pub fn opt_json<T: DeserializeOwned>(row: &AnyRow, col: &str) -> Result<Option<T>, StoreError> {
        match opt_string(row, col)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError::Database(format!("column {col} holds invalid JSON: {e}"))),
        }
    }

    pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
        serde_json::to_string(value)
            .map_err(|e| StoreError::Invalid(format!("cannot serialize JSON: {e}")))
    }

    pub fn flag(b: bool) -> i64 {
        i64::from(b)
    }
}
