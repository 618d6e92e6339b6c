//! The REST API end to end over real HTTP, against SQLite and (when
//! SWITCHBOARD_TEST_POSTGRES_URL is set) PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};
mod common;
use common::{backends, TestHub};

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(TestHub) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends().await {
        eprintln!("-- backend: {}", backend.label());
        let hub = TestHub::start(backend).await;
        f(hub).await;
    }
}

#[tokio::test]
async fn newcomer_flow_and_tenant_isolation() {
    each_backend(|h| async move {
        // Health needs no key; everything else does, with a WWW-Authenticate hint.
        let (s, body) = h.get_anon("/api/health").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["data"]["status"], "ok");
        let resp = h.client.get(h.url("/api/connectors")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.headers().get("www-authenticate").is_some());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        let (s, _) = h.req_with("GET", "/api/connectors", "sb_bogus_key", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);

        // The catalog lists the built-ins.
        let (s, types) = h.get("/api/connector-types").await;
        assert_eq!(s, StatusCode::OK);
        let ids: Vec<&str> = types["data"].as_array().unwrap().iter().map(|t| t["connector_id"].as_str().unwrap()).collect();
        for t in ["directory", "http", "delay"] {
            assert!(ids.contains(&t), "{ids:?}");
        }
        let (s, caps) = h.get("/api/connector-types/directory/capabilities").await;
        assert_eq!(s, StatusCode::OK);
        let lookup = caps["data"]["commands"].as_array().unwrap().iter().find(|c| c["name"] == "lookup").unwrap().clone();
        assert_eq!(lookup["annotations"]["readOnlyHint"], true);

        // Create a directory connector with a secret.
        let (s, created) = h
            .post("/api/connectors", json!({"name": "people", "type": "directory", "config": {"company": "Initech", "apiKey": "s3cr3t-PLAINTEXT-canary"}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let c = &created["data"];
        assert_eq!(c["toolPrefix"], "directory");
        assert_eq!(c["config"]["apiKey"], "********");
        assert_eq!(c["config"]["company"], "Initech");
        assert!(c["tools"].as_array().unwrap().contains(&json!("directory.lookup")));
        let id = c["id"].as_str().unwrap().to_string();

        // Execute: the envelope comes back.
        let (s, env) = h.post(&format!("/api/connectors/{id}/execute"), json!({"command": "lookup", "params": {"id": "E002"}})).await;
        assert_eq!(s, StatusCode::OK, "{env}");
        assert_eq!(env["ok"], true);
        assert_eq!(env["data"]["id"], "E002");
        assert!(env["meta"]["requestId"].is_string());
        assert!(env["meta"]["durationMs"].is_number());

        // The secret never comes back, and the handler saw the decrypted config.
        let (_, echo) = h.post(&format!("/api/connectors/{id}/execute"), json!({"command": "echo", "params": {"message": "hi"}})).await;
        assert_eq!(echo["data"]["config"]["apiKey"], "********");
        assert!(!echo.to_string().contains("s3cr3t-PLAINTEXT-canary"));
        let (_, listed) = h.get("/api/connectors").await;
        assert!(!listed.to_string().contains("s3cr3t-PLAINTEXT-canary"));
        let secrets = h.hub.store().connector_secrets(&h.tenant_id, &id).await.unwrap();
        assert_eq!(secrets["apiKey"], "s3cr3t-PLAINTEXT-canary");

        // Test records the status.
        let (s, t) = h.post(&format!("/api/connectors/{id}/test"), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let (_, got) = h.get(&format!("/api/connectors/{id}")).await;
        assert_eq!(got["data"]["status"], "connected");

        // A second tenant sees none of it.
        let (s, t2) = h.post("/api/tenants", json!({"name": "globex"})).await;
        assert_eq!(s, StatusCode::CREATED, "{t2}");
        let key2 = t2["data"]["apiKey"].as_str().unwrap().to_string();
        let (s, l2) = h.req_with("GET", "/api/connectors", &key2, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(l2["data"], json!([]));
        for (method, path, body) in [
            ("GET", format!("/api/connectors/{id}"), None),
            ("GET", "/api/connectors/people".to_string(), None),
            ("PATCH", format!("/api/connectors/{id}"), Some(json!({"description": "mine now"}))),
            ("DELETE", format!("/api/connectors/{id}"), None),
            ("POST", format!("/api/connectors/{id}/execute"), Some(json!({"command": "lookup", "params": {"id": "E001"}}))),
            ("POST", format!("/api/connectors/{id}/test"), Some(json!({}))),
        ] {
            let (s, b) = h.req_with(method, &path, &key2, body).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {b}");
        }
        // The second tenant's admin is not a platform admin.
        let (s, _) = h.req_with("POST", "/api/tenants", &key2, Some(json!({"name": "evil"}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, still) = h.get(&format!("/api/connectors/{id}")).await;
        assert_eq!(still["data"]["description"], "");

        // The audit log has the create and the executes, without payloads or secrets.
        h.hub.flush().await;
        let (s, audit) = h.get("/api/audit?limit=50").await;
        assert_eq!(s, StatusCode::OK);
        let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"connector.create") && actions.contains(&"connector.execute") && actions.contains(&"tenant.create"), "{actions:?}");
        assert!(!audit.to_string().contains("s3cr3t"));
        let (_, audit2) = h.req_with("GET", "/api/audit", &key2, None).await;
        assert!(!audit2.to_string().contains(&id), "tenant 2 must not see tenant 1's audit");
    })
    .await;
}

#[tokio::test]
async fn paging_idempotency_and_mocks() {
    each_backend(|h| async move {
        let (_, c) = h.post("/api/connectors", json!({"name": "dir", "type": "directory"})).await;
        let id = c["data"]["id"].as_str().unwrap().to_string();
        let exec = format!("/api/connectors/{id}/execute");

        // Page through all 40 employees, 15 at a time, with projection.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = json!({"limit": 15, "fields": ["id"]});
            if let Some(c) = &cursor {
                params["cursor"] = json!(c);
            }
            let (s, env) = h.post(&exec, json!({"command": "list", "params": params})).await;
            assert_eq!(s, StatusCode::OK, "{env}");
            for item in env["data"]["items"].as_array().unwrap() {
                assert_eq!(item.as_object().unwrap().len(), 1, "projection keeps only id");
                seen.push(item["id"].as_str().unwrap().to_string());
            }
            match env["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 40);
        // A tampered cursor is refused.
        let (s, env) = h.post(&exec, json!({"command": "list", "params": {"cursor": "eyJzIjp7Im9mZnNldCI6MH0sImUiOjk5OTk5OTk5OTl9.AAAA"}})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(env["error"]["code"], "invalid_input");

        // The same idempotency key twice: one employee, the first result replayed.
        let body = json!({"command": "create", "params": {"name": "Pat Doe", "email": "pat@initech.example", "department": "Sales", "idempotencyKey": "k-1"}});
        let (s1, first) = h.post(&exec, body.clone()).await;
        let (s2, second) = h.post(&exec, body).await;
        assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{first} {second}");
        assert_eq!(first["data"]["id"], second["data"]["id"]);
        assert_eq!(second["meta"]["replayed"], true);
        let (_, count) = h.post(&exec, json!({"command": "list", "params": {"query": "pat doe"}})).await;
        assert_eq!(count["data"]["total"], 1);
        // The key reused with other params is a conflict.
        let (s, clash) = h.post(&exec, json!({"command": "create", "params": {"name": "Other", "email": "o@initech.example", "department": "Sales", "idempotencyKey": "k-1"}})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{clash}");
        // Without a key, a duplicate email is a vendor-style conflict.
        let (s, _) = h.post(&exec, json!({"command": "create", "params": {"name": "Pat", "email": "pat@initech.example", "department": "Sales"}})).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Mock mode answers from the scenario.
        let (s, _) = h.patch(&format!("/api/connectors/{id}"), json!({"mockScenario": "not_found"})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, env) = h.post(&exec, json!({"command": "lookup", "params": {"id": "E001"}})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(env["error"]["code"], "not_found");
        let (s, _) = h.patch(&format!("/api/connectors/{id}"), json!({"mockScenario": "no-such"})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = h.patch(&format!("/api/connectors/{id}"), json!({"mockScenario": null})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = h.post(&exec, json!({"command": "lookup", "params": {"id": "E001"}})).await;
        assert_eq!(s, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_specific_errors_and_changes_nothing() {
    each_backend(|h| async move {
        let (_, c) = h
            .post(
                "/api/connectors",
                json!({"name": "dir", "type": "directory", "config": {"apiKey": "k1"}}),
            )
            .await;
        let id = c["data"]["id"].as_str().unwrap().to_string();
        let (_, before) = h.get("/api/connectors").await;

        // Malformed JSON.
        let resp = h
            .client
            .post(h.url("/api/connectors"))
            .bearer_auth(&h.admin_key)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let b: Value = resp.json().await.unwrap();
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not valid JSON"),
            "{b}"
        );
        // Missing content type.
        let resp = h
            .client
            .post(h.url("/api/connectors"))
            .bearer_auth(&h.admin_key)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

        let cases = [
            (
                json!({"name": "x", "type": "directory", "bogus": 1}),
                StatusCode::BAD_REQUEST,
                "bogus",
            ),
            (
                json!({"name": 7, "type": "directory"}),
                StatusCode::BAD_REQUEST,
                "name",
            ),
            (
                json!({"name": "x", "type": "no-such-type"}),
                StatusCode::BAD_REQUEST,
                "unknown connector type 'no-such-type'",
            ),
            (
                json!({"name": "x", "type": "directory", "config": {"color": "red"}}),
                StatusCode::BAD_REQUEST,
                "unknown config field(s): color",
            ),
            (
                json!({"name": "x", "type": "directory", "config": {"company": 5}}),
                StatusCode::BAD_REQUEST,
                "'company' must be a string",
            ),
            (
                json!({"name": "x", "type": "http"}),
                StatusCode::BAD_REQUEST,
                "missing required config field(s): baseUrl",
            ),
            (
                json!({"name": "dir", "type": "directory", "toolPrefix": "directory-two"}),
                StatusCode::CONFLICT,
                "dir",
            ),
            (
                json!({"name": "dir2", "type": "directory", "toolPrefix": "directory"}),
                StatusCode::CONFLICT,
                "prefix",
            ),
            (
                json!({"name": "dir3", "type": "directory", "toolPrefix": "jira"}),
                StatusCode::BAD_REQUEST,
                "catalog prefix",
            ),
            (
                json!({"name": "dir3", "type": "directory", "toolPrefix": "Directory.X"}),
                StatusCode::BAD_REQUEST,
                "invalid",
            ),
            (
                json!({"name": "../etc", "type": "directory"}),
                StatusCode::BAD_REQUEST,
                "name",
            ),
            (
                json!({"name": "x", "type": "directory", "visibility": "world"}),
                StatusCode::BAD_REQUEST,
                "visibility",
            ),
        ];
        for (body, status, needle) in cases {
            let (s, b) = h.post("/api/connectors", body.clone()).await;
            assert_eq!(s, status, "{body} -> {b}");
            assert_eq!(b["ok"], false);
            let msg = b["error"]["message"].as_str().unwrap();
            assert!(
                msg.contains(needle),
                "{body}: message {msg:?} lacks {needle:?}"
            );
        }
        // Oversized body.
        let big =
            json!({"name": "x", "type": "directory", "description": "a".repeat(2 * 1024 * 1024)});
        let (s, b) = h.post("/api/connectors", big).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
        // Execute with wrong params.
        let exec = format!("/api/connectors/{id}/execute");
        let (s, b) = h
            .post(&exec, json!({"command": "create", "params": {"name": 1}}))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("missing required parameter(s): email, department")
                && msg.contains("'name' must be a string"),
            "{msg}"
        );
        let (s, _) = h
            .post(
                &exec,
                json!({"command": "lookup", "params": {}, "extra": 1}),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        // A bad PATCH changes nothing, and the placeholder keeps the secret.
        let (s, _) = h
            .patch(
                &format!("/api/connectors/{id}"),
                json!({"config": {"company": 1}, "description": "changed"}),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, p) = h
            .patch(
                &format!("/api/connectors/{id}"),
                json!({"config": {"apiKey": "********", "company": "NewCo"}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        let secrets = h
            .hub
            .store()
            .connector_secrets(&h.tenant_id, &id)
            .await
            .unwrap();
        assert_eq!(secrets["apiKey"], "k1");

        let (_, after) = h.get("/api/connectors").await;
        assert_eq!(
            before["data"].as_array().unwrap().len(),
            after["data"].as_array().unwrap().len()
        );
        assert_eq!(after["data"][0]["description"], "");
        // Unknown routes answer in the envelope too.
        let (s, b) = h.get("/api/nope").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(b["ok"], false);
    })
    .await;
}

#[tokio::test]
async fn roles_and_personal_connectors() {
    each_backend(|h| async move {
        let (s, m) = h
            .post("/api/users", json!({"name": "mia", "role": "member"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        let mia = m["data"]["apiKey"].as_str().unwrap().to_string();
        let (_, n) = h
            .post("/api/users", json!({"name": "noah", "role": "member"}))
            .await;
        let noah = n["data"]["apiKey"].as_str().unwrap().to_string();

        // Members cannot create shared connectors, but can create personal ones.
        let (s, _) = h
            .req_with(
                "POST",
                "/api/connectors",
                &mia,
                Some(json!({"name": "shared", "type": "directory"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, p) = h
            .req_with(
                "POST",
                "/api/connectors",
                &mia,
                Some(json!({"name": "mine", "type": "directory", "visibility": "personal"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let pid = p["data"]["id"].as_str().unwrap().to_string();
        // Only Mia sees and runs it; not Noah, not even the admin.
        for key in [&noah, &h.admin_key] {
            let (s, _) = h
                .req_with(
                    "POST",
                    &format!("/api/connectors/{pid}/execute"),
                    key,
                    Some(json!({"command": "health"})),
                )
                .await;
            assert_eq!(s, StatusCode::NOT_FOUND);
        }
        let (s, _) = h
            .req_with(
                "POST",
                &format!("/api/connectors/{pid}/execute"),
                &mia,
                Some(json!({"command": "health"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        // Members cannot read the audit log or add users.
        let (s, _) = h.req_with("GET", "/api/audit", &mia, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = h
            .req_with(
                "POST",
                "/api/users",
                &mia,
                Some(json!({"name": "eve", "role": "admin"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Keys: create, list without secrets, revoke, then refused.
        let (s, k) = h
            .req_with("POST", "/api/keys", &mia, Some(json!({"name": "laptop"})))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let token = k["data"]["token"].as_str().unwrap().to_string();
        let kid = k["data"]["key"]["id"].as_str().unwrap().to_string();
        let (_, keys) = h.req_with("GET", "/api/keys", &mia, None).await;
        assert!(!keys.to_string().contains(&token));
        let (s, _) = h
            .req_with("DELETE", &format!("/api/keys/{kid}"), &noah, None)
            .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "members cannot revoke others' keys"
        );
        let (s, _) = h
            .req_with("DELETE", &format!("/api/keys/{kid}"), &mia, None)
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = h.req_with("GET", "/api/connectors", &token, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let backend = backends().await.remove(0);
    let h = TestHub::start(backend).await;
    let (s, doc) = h.get_anon("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    for p in [
        "/api/connectors",
        "/api/connectors/{id}/execute",
        "/api/connector-types",
        "/api/tenants",
        "/api/keys",
        "/api/audit",
    ] {
        assert!(doc["paths"].get(p).is_some(), "missing {p}");
    }
    assert!(doc["components"]["schemas"].get("ConnectorInput").is_some());
}

#[tokio::test]
async fn a_secret_echoed_by_a_vendor_never_reaches_the_caller() {
    use axum::http::HeaderMap;
    let app = axum::Router::new().route(
        "/echo",
        axum::routing::get(|headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            axum::Json(json!({"youSent": auth}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vendor = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let backend = backends().await.remove(0);
    let policy =
        switchboard_runtime::http::NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let h = TestHub::start_with_policy(backend, policy).await;
    let (s, c) = h
        .post("/api/connectors", json!({"name": "api", "type": "http", "config": {"baseUrl": vendor, "authType": "bearer", "token": "tok-SECRET-123456"}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, env) = h
        .post(
            "/api/connectors/api/execute",
            json!({"command": "get", "params": {"path": "/echo"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{env}");
    assert_eq!(env["data"]["body"]["youSent"], "Bearer ********");
    assert!(!env.to_string().contains("tok-SECRET-123456"));
}
