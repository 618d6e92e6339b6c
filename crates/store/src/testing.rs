//! Throw-away stores so test suites (this crate's and downstream ones) run the same
//! cases on SQLite and, when `SWITCHBOARD_TEST_POSTGRES_URL` is set, on PostgreSQL.
//! Enabled by the `testing` feature; helpers panic with a clear message on failure.

use std::path::{Path, PathBuf};
use std::sync::Once;

use sqlx::Connection;

use crate::{MasterKey, Store, Vault};

/// Environment variable naming a PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    /// Server URL; each `TestDb` gets its own schema on it.
    Postgres(String),
}

impl TestBackend {
    pub fn label(&self) -> &'static str {
        match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres(_) => "postgres",
        }
    }
}

/// SQLite always; PostgreSQL when configured (otherwise says once why it is skipped).
pub fn backends() -> Vec<TestBackend> {
    let mut out = vec![TestBackend::Sqlite];
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => out.push(TestBackend::Postgres(url)),
        _ => {
            static NOTICE: Once = Once::new();
            // Written to the stderr handle, not `eprintln!`, so the test harness's output
            // capture does not swallow it.
            NOTICE.call_once(|| {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "PostgreSQL half skipped: {POSTGRES_URL_ENV} is not set \
                     (e.g. postgres://postgres@127.0.0.1:5432/test)"
                );
            });
        }
    }
    out
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { server_url: String, schema: String },
}

/// A migrated store in a private temp dir (SQLite) or a private schema (PostgreSQL),
/// removed on drop, also when the test panics.
pub struct TestDb {
    pub store: Store,
    pub backend: TestBackend,
    sqlite_path: Option<PathBuf>,
    cleanup: Cleanup,
}

impl TestDb {
    pub async fn open(backend: TestBackend) -> TestDb {
        Self::open_with_vault(backend, Vault::new(MasterKey::generate(), Vec::new())).await
    }

    pub async fn open_with_vault(backend: TestBackend, vault: Vault) -> TestDb {
        match &backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("create temp dir");
                let path = dir.path().join("switchboard.db");
                let store = Store::open_sqlite(&path, vault)
                    .await
                    .expect("open SQLite store");
                TestDb {
                    store,
                    backend,
                    sqlite_path: Some(path),
                    cleanup: Cleanup::Dir(dir),
                }
            }
            TestBackend::Postgres(server_url) => {
                let schema = format!("sbtest_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(server_url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_ENV}: {e}"));
                sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test schema");
                let _ = conn.close().await;
                // Guard first, so the schema is dropped even if opening fails below.
                let cleanup = Cleanup::Schema {
                    server_url: server_url.clone(),
                    schema: schema.clone(),
                };
                let sep = if server_url.contains('?') { '&' } else { '?' };
                let url = format!("{server_url}{sep}options=-c%20search_path%3D{schema}");
                let store = match Store::open(&url, vault).await {
                    Ok(store) => store,
                    Err(e) => {
                        drop_schema(cleanup);
                        panic!("open PostgreSQL store: {e}");
                    }
                };
                TestDb {
                    store,
                    backend,
                    sqlite_path: None,
                    cleanup,
                }
            }
        }
    }

    /// The SQLite database file, for tests that inspect bytes on disk.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let cleanup = std::mem::replace(
            &mut self.cleanup,
            Cleanup::Schema {
                server_url: String::new(),
                schema: String::new(),
            },
        );
        if matches!(&cleanup, Cleanup::Schema { schema, .. } if !schema.is_empty()) {
            drop_schema(cleanup);
        }
    }
}

/// Runs on its own thread and runtime because `Drop` cannot await and may run inside
/// (or outside) the test's runtime.
fn drop_schema(cleanup: Cleanup) {
    let Cleanup::Schema { server_url, schema } = cleanup else {
        return;
    };
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&server_url).await?;
            // A connection left mid-transaction by a panicking test must not hang us.
            sqlx::query("SET lock_timeout = '10s'")
                .execute(&mut conn)
                .await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut conn)
                .await?;
            conn.close().await
        })
        .map_err(std::io::Error::other)
    });
    match handle.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("warning: could not drop test schema: {e}"),
        Err(_) => eprintln!("warning: schema cleanup thread panicked"),
    }
}
