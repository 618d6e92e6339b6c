//! The binary as a newcomer meets it: zero-config start, the printed admin key, a
//! connector created and executed over HTTP, graceful shutdown, key rotation, and a
//! database that holds no plaintext secret.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CANARY: &str = "canary-SECRET-value-4711";

struct Hub {
    child: Child,
    base: String,
    printed_key: Option<String>,
}

impl Drop for Hub {
    /// A failing test must not leave a server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The child is reaped by `Hub`'s Drop on every path, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn start(data_dir: &Path) -> Hub {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start switchboard");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed_key = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut expect_key = false;
    loop {
        assert!(Instant::now() < deadline, "hub did not start in time");
        let line = lines.next().expect("hub exited early").expect("read");
        if expect_key {
            printed_key = Some(line.trim().to_string());
            expect_key = false;
        } else if line.starts_with("Admin API key") {
            expect_key = true;
        } else if let Some(rest) = line.split("listening on ").nth(1) {
            // Keep draining stdout so the hub never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return Hub {
                child,
                base: rest.trim().to_string(),
                printed_key,
            };
        }
    }
}

fn stop(mut hub: Hub) -> std::process::ExitStatus {
    // Drop afterwards only reaps an already-exited child.
    let pid = hub.child.id() as i32;
    // SIGTERM, as a service manager would send.
    let rc = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(rc.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = hub.child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "hub did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn call(
    base: &str,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut rb = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{base}{path}"),
        )
        .bearer_auth(key);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.expect("request");
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

fn files_contain(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            hits.push(entry.file_name().to_string_lossy().to_string());
        }
    }
    hits
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn zero_config_start_flow_shutdown_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let hub = start(&data);
    let key = hub
        .printed_key
        .clone()
        .expect("the admin key is printed on first start");
    let saved = std::fs::read_to_string(data.join("admin.key")).unwrap();
    assert_eq!(saved.trim(), key);
    #[cfg(unix)]
    {
        assert_eq!(mode(&data.join("admin.key")), 0o600);
        assert_eq!(mode(&data.join("master.key")), 0o600);
    }

    let (s, created) = call(
        &hub.base,
        &key,
        "POST",
        "/api/connectors",
        Some(json!({"name": "people", "type": "directory", "config": {"apiKey": CANARY}})),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let (s, env) = call(
        &hub.base,
        &key,
        "POST",
        "/api/connectors/people/execute",
        Some(json!({"command": "lookup", "params": {"email": "grace.hopper@acme.example"}})),
    )
    .await;
    assert_eq!(s, 200, "{env}");
    assert_eq!(env["ok"], true);
    assert_eq!(env["data"]["name"], "Grace Hopper");

    let status = stop(hub);
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
    assert!(
        files_contain(&data, CANARY).is_empty(),
        "plaintext secret found in {:?}",
        files_contain(&data, CANARY)
    );

    // Rotate the master key; the secret still decrypts under the new one.
    let old_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["rotate-key"])
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(old_key, new_key);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Re-encrypted 1 secrets"));

    // Second start: no new admin is made, the same key works, secrets decrypt.
    let hub = start(&data);
    assert!(
        hub.printed_key.is_none(),
        "the admin key is printed only once"
    );
    let (s, env) = call(
        &hub.base,
        &key,
        "POST",
        "/api/connectors/people/execute",
        Some(json!({"command": "echo"})),
    )
    .await;
    assert_eq!(s, 200, "{env}");
    // Proof the handler got the decrypted secret without showing it: the retired key
    // is moved away, so decryption succeeded under the new key only.
    let retired: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".retired"))
        .collect();
    assert_eq!(retired.len(), 1);
    std::fs::remove_file(retired[0].path()).unwrap();
    let (s, t) = call(
        &hub.base,
        &key,
        "POST",
        "/api/connectors/people/test",
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert!(stop(hub).success());
    let hub = start(&data);
    let (s, env) = call(
        &hub.base,
        &key,
        "POST",
        "/api/connectors/people/execute",
        Some(json!({"command": "echo"})),
    )
    .await;
    assert_eq!(s, 200, "secrets decrypt with only the new key: {env}");
    assert_eq!(env["data"]["config"]["apiKey"], "********");
    assert!(stop(hub).success());
}

#[test]
fn bad_settings_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .env("SWITCHBOARD_MASTER_KEY", "too-short")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("master key"), "{err}");
    assert!(
        !err.contains("too-short"),
        "the key must not be echoed: {err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .env("SWITCHBOARD_ALLOW_NETWORKS", "10.0.0.0/8,not-a-cidr")
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-cidr"));
}

#[tokio::test]
async fn mcp_over_stdio_lists_and_calls_tools() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hub = start(&data);
    let key = hub.printed_key.clone().unwrap();
    let (s, _) = call(
        &hub.base,
        &key,
        "POST",
        "/api/connectors",
        Some(json!({"name": "people", "type": "directory"})),
    )
    .await;
    assert_eq!(s, 201);

    // The desktop client launches `switchboard mcp` beside the running hub, on the same store.
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("mcp")
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env("SWITCHBOARD_API_KEY", &key)
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut rpc = |msg: Value, expect_reply: bool| -> Option<Value> {
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
        if !expect_reply {
            return None;
        }
        loop {
            let line = out.next().expect("a reply").unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            if v.get("id") == msg.get("id") {
                return Some(v);
            }
        }
    };
    let init = rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "desktop", "version": "1"}}}), true).unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], "switchboard");
    rpc(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        false,
    );
    let list = rpc(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        true,
    )
    .unwrap();
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"directory_lookup"), "{names:?}");
    assert!(
        names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')),
        "desktop clients accept only [A-Za-z0-9_-]: {names:?}"
    );
    let res = rpc(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "directory_lookup", "arguments": {"id": "E003"}}}), true).unwrap();
    assert_eq!(
        res["result"]["structuredContent"]["data"]["id"], "E003",
        "{res}"
    );
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "switchboard mcp must exit when stdin closes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(stop(hub).success());

    // A bad key is refused with a clear message and a failing exit code.
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("mcp")
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env("SWITCHBOARD_API_KEY", "sb_wrong_key")
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid or revoked"));
}

/// `import-mcp-config` with a Claude Desktop file, then a restart: the hub launches the
/// imported server by itself (status `connected` before any call) and its tools work.
#[tokio::test]
async fn import_mcp_config_then_restart_starts_the_servers() {
    let time_server =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/.venv/bin/mcp-server-time");
    if !time_server.exists() {
        eprintln!(
            "SKIPPED import_mcp_config_then_restart_starts_the_servers: {} is missing; run scripts/install-test-deps",
            time_server.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // First start creates the tenant and admin key.
    let hub = start(&data);
    assert!(stop(hub).success());

    let file = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        json!({"mcpServers": {
            "time": {"command": time_server, "env": {"TZ": CANARY}},
            "broken": {"command": "npx", "args": "not-a-list"},
        }})
        .to_string(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["import-mcp-config"])
        .arg(&file)
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .env_remove("SWITCHBOARD_API_KEY")
        .output()
        .expect("run import-mcp-config");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("created  time"), "{stdout}");
    assert!(
        stdout.contains("refused  broken: `args` must be an array"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 created, 0 skipped, 1 refused"),
        "{stdout}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused server makes the exit status 1"
    );
    assert!(
        files_contain(&data, CANARY).is_empty(),
        "env values are stored encrypted"
    );

    let hub = start(&data);
    let key = std::fs::read_to_string(data.join("admin.key")).unwrap();
    let key = key.trim();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = call(&hub.base, key, "GET", "/api/connectors/time", None).await;
        if body["data"]["status"] == "connected" {
            break;
        }
        assert!(Instant::now() < deadline, "time never connected: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = call(
        &hub.base,
        key,
        "POST",
        "/api/connectors/time/execute",
        Some(json!({"command": "get_current_time", "params": {"timezone": "UTC"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["structuredContent"]["timezone"], "UTC",
        "{body}"
    );
    assert!(stop(hub).success());
}
