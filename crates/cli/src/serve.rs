//! Start-up: data directory, vault, store, catalog, first-run bootstrap, then serve.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{Caller, CursorSigner, Hub, HubSettings};
use switchboard_server::mcp::{McpFrontend, Naming};
use switchboard_store::vault::{self, load_vault, MasterKey, Vault};
use switchboard_store::Store;
use tracing_subscriber::EnvFilter;

use crate::{Common, OAuthArgs};

pub fn init_tracing() {
    let filter = EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("SWITCHBOARD_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn create_data_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

fn vault_for(common: &Common) -> Result<Vault> {
    load_vault(
        &common.data_dir,
        std::env::var("SWITCHBOARD_MASTER_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
        std::env::var("SWITCHBOARD_MASTER_KEY_PREVIOUS")
            .ok()
            .filter(|k| !k.is_empty()),
    )
    .context("cannot load the master key")
}

async fn open_store(common: &Common, vault: Vault) -> Result<Store> {
    match common.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url)
            if url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:") =>
        {
            Store::open(url, vault)
                .await
                .context("cannot open the database named by DATABASE_URL")
        }
        Some(_) => bail!("DATABASE_URL must start with postgres://, postgresql:// or sqlite:"),
        None => Store::open_sqlite(&common.data_dir.join("switchboard.db"), vault)
            .await
            .context("cannot open the embedded SQLite store"),
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not
/// when first polled, so a signal right after "listening" is printed still shuts down
/// gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match term {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match int {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = int => {}, _ = term => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

/// Vault, store, outbound client and registry: the hub every command runs on.
async fn open_hub(
    common: &Common,
    test_connectors: bool,
    public_url: Option<String>,
) -> Result<Hub> {
    create_data_dir(&common.data_dir)?;
    let vault = vault_for(common)?;
    let cursor_key = vault.derive_key("switchboard cursor signing v1");
    let store = open_store(common, vault).await?;
    let policy = NetworkPolicy::from_env().context("SWITCHBOARD_ALLOW_NETWORKS is invalid")?;
    let http = OutboundClient::new(policy, OutboundConfig::default())
        .context("cannot build the outbound HTTP client")?;
    let hub = Hub::new(
        store,
        if test_connectors {
            switchboard_connectors::registry_with(true)
        } else {
            switchboard_connectors::registry()
        },
        http,
        CursorSigner::new(cursor_key),
        HubSettings {
            public_url,
            ..HubSettings::default()
        },
    );
    hub.seed_catalog()
        .await
        .map_err(|e| anyhow::anyhow!("cannot seed the catalog: {e}"))?;
    Ok(hub)
}

pub async fn mcp_stdio(common: Common, api_key: String, naming: String) -> Result<()> {
    use rmcp::ServiceExt;
    let hub = open_hub(&common, false, None).await?;
    let caller = hub
        .authenticate(api_key.trim())
        .await
        .map_err(|e| anyhow::anyhow!("cannot check the API key: {e}"))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "SWITCHBOARD_API_KEY is invalid or revoked for the store in {}",
                common.data_dir.display()
            )
        })?;
    let naming = if naming == "dot" {
        Naming::Dot
    } else {
        Naming::Underscore
    };
    let frontend = McpFrontend::for_caller(hub.clone(), caller, naming, None);
    let running = frontend
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("MCP over stdio failed to start: {e}"))?;
    let _ = running.waiting().await;
    hub.stop_upstreams().await;
    hub.flush().await;
    hub.store().close().await;
    Ok(())
}

pub async fn serve(
    common: Common,
    listen: String,
    conformance_profile: bool,
    oauth: OAuthArgs,
) -> Result<()> {
    let hub = open_hub(&common, conformance_profile, oauth.public_url.clone()).await?;
    let mut mcp_settings = switchboard_server::McpSettings::from_env();
    if let (Some(issuer), Some(audience), Some(jwks)) = (
        oauth.mcp_oauth_issuer.clone(),
        oauth.mcp_oauth_audience.clone(),
        oauth.mcp_oauth_jwks_url.clone(),
    ) {
        let mut rs = switchboard_server::ResourceServerSettings::new(issuer, audience, jwks);
        rs.required_scopes = oauth.mcp_oauth_scopes.clone();
        rs.tenant_claim = oauth.mcp_oauth_tenant_claim.clone();
        rs.user_claim = oauth.mcp_oauth_user_claim.clone();
        tracing::info!(issuer = %rs.issuer, audience = %rs.audience, "/mcp accepts OAuth access tokens");
        mcp_settings.resource_server = Some(rs);
    }
    if let Some(token) = hub
        .bootstrap()
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first tenant: {e}"))?
    {
        let path = common.data_dir.join("admin.key");
        vault::write_key_file_text(&path, &token)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("Created the default tenant and its admin.");
        println!(
            "Admin API key (shown once; also saved to {}):",
            path.display()
        );
        println!("{token}");
    }
    if conformance_profile {
        setup_conformance_profile(&hub).await?;
    }
    match hub.start_upstreams().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "starting MCP upstream servers"),
        Err(e) => tracing::warn!("cannot list MCP upstream servers to start: {e}"),
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal();
    println!(
        "Switchboard {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!(%addr, "listening");
    switchboard_server::serve_with(listener, hub.clone(), mcp_settings, shutdown).await?;
    hub.stop_upstreams().await;
    tokio::time::timeout(Duration::from_secs(5), hub.store().close())
        .await
        .ok();
    Ok(())
}

pub async fn import_mcp_config(
    common: Common,
    file: std::path::PathBuf,
    api_key: Option<String>,
    personal: bool,
) -> Result<()> {
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", file.display()))?;
    let hub = open_hub(&common, false, None).await?;
    let key = match api_key {
        Some(k) => k,
        None => {
            let path = common.data_dir.join("admin.key");
            std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "no --api-key (SWITCHBOARD_API_KEY) given and {} is unreadable",
                    path.display()
                )
            })?
        }
    };
    let caller = hub
        .authenticate(key.trim())
        .await
        .map_err(|e| anyhow::anyhow!("cannot check the API key: {e}"))?
        .ok_or_else(|| anyhow::anyhow!("the API key is invalid or revoked for this store"))?;
    let visibility = personal.then_some(switchboard_store::model::Visibility::Personal);
    let report = hub
        .import_mcp_config(&caller, &doc, visibility)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    for r in &report.results {
        match &r.reason {
            Some(reason) => println!("{:<8} {}: {reason}", r.outcome, r.name),
            None => println!("{:<8} {}", r.outcome, r.name),
        }
    }
    println!(
        "{} created, {} skipped, {} refused",
        report.created, report.skipped, report.refused
    );
    hub.flush().await;
    hub.store().close().await;
    if report.refused > 0 {
        anyhow::bail!("{} server(s) refused", report.refused);
    }
    Ok(())
}

pub async fn rotate_key(common: Common) -> Result<()> {
    if std::env::var("SWITCHBOARD_MASTER_KEY").is_ok_and(|k| !k.is_empty()) {
        // The key is not ours to replace: rotate under a key the operator then installs.
        let new_key = MasterKey::generate();
        let vault = vault_for(&common)?;
        let store = open_store(&common, vault.clone()).await?;
        let both = vault.rotated(new_key.clone());
        let report = store.with_vault(both).rotate_key(new_key.clone()).await?;
        println!(
            "Re-encrypted {} secrets under key {}.",
            report.reencrypted, report.new_key_id
        );
        println!("Set SWITCHBOARD_MASTER_KEY to the new key below and SWITCHBOARD_MASTER_KEY_PREVIOUS to the old one until every replica restarts:");
        println!("{}", new_key.encode());
        return Ok(());
    }
    create_data_dir(&common.data_dir)?;
    let vault = vault_for(&common)?;
    let store = open_store(&common, vault.clone()).await?;
    let old_id = vault.primary_key_id();
    let new_key = MasterKey::generate();
    let key_path = common.data_dir.join("master.key");
    let next_path = common.data_dir.join("master.key.next");
    // The new key is on disk before any secret depends on it.
    vault::write_key_file(&next_path, &new_key)?;
    let both = vault.rotated(new_key.clone());
    let report = store.with_vault(both).rotate_key(new_key).await?;
    std::fs::rename(
        &key_path,
        common.data_dir.join(format!("master.key.{old_id}.retired")),
    )?;
    std::fs::rename(&next_path, &key_path)?;
    store.close().await;
    println!(
        "Re-encrypted {} secrets: key {} replaced by {}. The old key is kept as master.key.{}.retired; delete it once backups made under it are gone.",
        report.reencrypted, report.old_key_id, report.new_key_id, old_id
    );
    Ok(())
}

/// The conformance fixture connector and an anonymous, unprefixed profile over it,
/// in the default tenant; idempotent.
async fn setup_conformance_profile(hub: &Hub) -> Result<()> {
    let fail = |e: switchboard_contract::ConnectorError| {
        anyhow::anyhow!("cannot set up the conformance profile: {e}")
    };
    let store = hub.store();
    let tenant = store
        .get_tenant_by_name("default")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the default tenant is missing"))?;
    let admin = store
        .list_users(&tenant.id)
        .await?
        .into_iter()
        .find(|u| u.role == switchboard_store::model::Role::Admin)
        .ok_or_else(|| anyhow::anyhow!("the default tenant has no admin"))?;
    let caller = Caller {
        tenant_id: tenant.id,
        user_id: admin.id,
        key_id: None,
        role: admin.role,
        platform_admin: admin.platform_admin,
    };
    if hub.get_connector(&caller, "conformance").await.is_err() {
        let input = serde_json::from_value(
            serde_json::json!({"name": "conformance", "type": "conformance"}),
        )?;
        hub.create_connector(&caller, input).await.map_err(fail)?;
    }
    if hub.get_profile(&caller, "conformance").await.is_err() {
        let input = serde_json::from_value(serde_json::json!({
            "name": "conformance", "connectors": ["conformance"], "naming": "none", "anonymous": true, "force": true
        }))?;
        hub.create_profile(&caller, input).await.map_err(fail)?;
    }
    println!("Conformance fixture (anonymous, test only) at /mcp/conformance");
    Ok(())
}
