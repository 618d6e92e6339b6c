mod common;

use common::{new_connector, obj};
use serde_json::json;
use switchboard_store::model::{ConnectorTypeRecord, Role, Visibility};
use switchboard_store::{now_ms, StoreError};

#[tokio::test]
async fn catalog_upsert_and_list() {
    for db in common::dbs().await {
        let s = &db.store;
        let mut t = ConnectorTypeRecord {
            id: "directory".into(),
            name: "Directory".into(),
            version: "1.0.0".into(),
            description: "People".into(),
            category: Some("hr".into()),
            tags: vec!["people".into()],
            tool_prefix: "dir".into(),
            execution_model: "http".into(),
            scopes: vec!["read".into()],
            requires_oauth: false,
            oauth_provider: None,
            docs_url: None,
            enabled: true,
            builtin: true,
            spec: json!({"commands": [{"name": "search"}]}),
            created_at: 1,
            updated_at: 1,
            definition: serde_json::Value::Null,
        };
        s.upsert_connector_type(&t).await.unwrap();
        t.version = "1.1.0".into();
        t.created_at = 99;
        t.updated_at = 2;
        s.upsert_connector_type(&t).await.unwrap();
        let got = s.get_connector_type("directory").await.unwrap().unwrap();
        assert_eq!(got.version, "1.1.0");
        assert_eq!(got.created_at, 1, "created_at survives upserts");
        assert_eq!(got.spec, t.spec);
        assert_eq!(got.category.as_deref(), Some("hr"));

        let mut off = t.clone();
        off.id = "legacy".into();
        off.enabled = false;
        s.upsert_connector_type(&off).await.unwrap();
        assert_eq!(s.list_connector_types(false).await.unwrap().len(), 2);
        let enabled = s.list_connector_types(true).await.unwrap();
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].id, "directory");
        assert!(s.get_connector_type("missing").await.unwrap().is_none());
        assert_eq!(
            got.definition,
            serde_json::Value::Null,
            "built-ins have none"
        );

        // A user-built type keeps its model-specific definition; unused types delete.
        let mut script = t.clone();
        script.id = "crm".into();
        script.builtin = false;
        script.definition = json!({"scriptSource": "function list() {}", "limits": {"cpuMs": 5}});
        s.upsert_connector_type(&script).await.unwrap();
        let got = s.get_connector_type("crm").await.unwrap().unwrap();
        assert_eq!(got.definition, script.definition);
        assert_eq!(s.count_connectors_of_type("crm").await.unwrap(), 0);
        s.delete_connector_type("crm").await.unwrap();
        assert!(s.get_connector_type("crm").await.unwrap().is_none());
        assert!(matches!(
            s.delete_connector_type("crm").await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn tenant_scoping_and_personal_visibility() {
    for db in common::dbs().await {
        let s = &db.store;
        let label = db.backend.label();
        let (a, alice) = common::tenant_with_user(s, "a").await;
        let bob = s
            .create_user(&a.id, "bob", Role::Member, false)
            .await
            .unwrap();
        let (b, mallory) = common::tenant_with_user(s, "b").await;

        let shared = s
            .insert_connector(&new_connector(&a.id, "hr", "hr"))
            .await
            .unwrap();
        let mut personal = new_connector(&a.id, "mine", "mine");
        personal.owner_user_id = Some(alice.id.clone());
        personal.visibility = Visibility::Personal;
        let personal = s.insert_connector(&personal).await.unwrap();

        // Other tenant sees nothing and cannot delete.
        assert!(
            s.get_connector(&b.id, &shared.id).await.unwrap().is_none(),
            "{label}"
        );
        assert!(s
            .get_connector_by_name(&b.id, "hr")
            .await
            .unwrap()
            .is_none());
        assert!(s
            .list_connectors(&b.id, &mallory.id)
            .await
            .unwrap()
            .is_empty());
        assert!(!s.delete_connector(&b.id, &shared.id).await.unwrap());
        assert!(s
            .connector_secrets(&b.id, &shared.id)
            .await
            .unwrap()
            .is_empty());
        assert!(matches!(
            s.set_connector_status(&b.id, &shared.id, "error", None)
                .await,
            Err(StoreError::NotFound(_))
        ));
        let mut hijack = shared.clone();
        hijack.tenant_id = b.id.clone();
        assert!(matches!(
            s.update_connector(&hijack, None).await,
            Err(StoreError::NotFound(_))
        ));

        let names = |v: Vec<switchboard_store::model::ConnectorRecord>| {
            v.into_iter().map(|c| c.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(s.list_connectors(&a.id, &alice.id).await.unwrap()),
            ["hr", "mine"]
        );
        assert_eq!(
            names(s.list_connectors(&a.id, &bob.id).await.unwrap()),
            ["hr"]
        );

        // Personal connectors must name their owner, tenant ones must not.
        let mut bad = new_connector(&a.id, "x", "x");
        bad.visibility = Visibility::Personal;
        assert!(matches!(
            s.insert_connector(&bad).await,
            Err(StoreError::Invalid(_))
        ));

        assert!(s.delete_connector(&a.id, &personal.id).await.unwrap());
        assert!(s
            .get_connector(&a.id, &personal.id)
            .await
            .unwrap()
            .is_none());
        assert!(!s.delete_connector(&a.id, &personal.id).await.unwrap());
    }
}

#[tokio::test]
async fn duplicate_name_or_prefix_is_a_conflict() {
    for db in common::dbs().await {
        let s = &db.store;
        let label = db.backend.label();
        let (a, _) = common::tenant_with_user(s, "a").await;
        let (b, _) = common::tenant_with_user(s, "b").await;
        s.insert_connector(&new_connector(&a.id, "hr", "hr"))
            .await
            .unwrap();
        let other = s
            .insert_connector(&new_connector(&a.id, "crm", "crm"))
            .await
            .unwrap();

        match s.insert_connector(&new_connector(&a.id, "hr", "hr2")).await {
            Err(StoreError::Conflict(m)) => {
                assert_eq!(
                    m, "a connector named 'hr' already exists in this tenant",
                    "{label}"
                )
            }
            other => panic!("{label}: expected conflict, got {other:?}"),
        }
        match s.insert_connector(&new_connector(&a.id, "hr2", "hr")).await {
            Err(StoreError::Conflict(m)) => {
                assert_eq!(
                    m, "tool prefix 'hr' is already used by connector 'hr'",
                    "{label}"
                )
            }
            other => panic!("{label}: expected conflict, got {other:?}"),
        }
        // Another tenant may reuse both.
        s.insert_connector(&new_connector(&b.id, "hr", "hr"))
            .await
            .unwrap();

        let mut renamed = other.clone();
        renamed.name = "hr".into();
        assert!(matches!(
            s.update_connector(&renamed, None).await,
            Err(StoreError::Conflict(_))
        ));
        let mut reprefixed = other.clone();
        reprefixed.tool_prefix = "hr".into();
        match s.update_connector(&reprefixed, None).await {
            Err(StoreError::Conflict(m)) => assert!(m.contains("tool prefix 'hr'"), "{m}"),
            other => panic!("{label}: expected conflict, got {other:?}"),
        }
        // The failed writes left the store usable and unchanged.
        let again = s.get_connector(&a.id, &other.id).await.unwrap().unwrap();
        assert_eq!(again.name, "crm");
        assert_eq!(again.tool_prefix, "crm");
    }
}

#[tokio::test]
async fn update_status_and_secrets_roundtrip() {
    for db in common::dbs().await {
        let s = &db.store;
        let (a, _) = common::tenant_with_user(s, "a").await;
        let mut new = new_connector(&a.id, "hr", "hr");
        new.secrets = obj(json!({"api_token": "tok-1", "password": "pw"}));
        let c = s.insert_connector(&new).await.unwrap();
        assert!(!c.config.contains_key("api_token"));
        assert_eq!(
            s.connector_secrets(&a.id, &c.id).await.unwrap(),
            new.secrets
        );
        let stored = s.get_connector(&a.id, &c.id).await.unwrap().unwrap();
        assert_eq!(stored.config, new.config);
        assert_eq!(stored.status, "unknown");

        let mut edit = stored.clone();
        edit.description = "changed".into();
        edit.enabled = false;
        let updated = s.update_connector(&edit, None).await.unwrap();
        assert!(updated.updated_at > stored.updated_at);
        let reread = s.get_connector(&a.id, &c.id).await.unwrap().unwrap();
        assert_eq!(reread.description, "changed");
        assert!(!reread.enabled);
        assert_eq!(
            s.connector_secrets(&a.id, &c.id).await.unwrap(),
            new.secrets,
            "kept when None"
        );

        let replaced = obj(json!({"api_token": "tok-2"}));
        s.update_connector(&reread, Some(&replaced)).await.unwrap();
        assert_eq!(s.connector_secrets(&a.id, &c.id).await.unwrap(), replaced);
        s.update_connector(&reread, Some(&serde_json::Map::new()))
            .await
            .unwrap();
        assert!(s.connector_secrets(&a.id, &c.id).await.unwrap().is_empty());

        let before = now_ms();
        s.set_connector_status(&a.id, &c.id, "error", Some("401 from upstream"))
            .await
            .unwrap();
        let st = s.get_connector(&a.id, &c.id).await.unwrap().unwrap();
        assert_eq!(st.status, "error");
        assert_eq!(st.status_reason.as_deref(), Some("401 from upstream"));
        assert!(st.status_at.unwrap() >= before);
        assert!(matches!(
            s.set_connector_status(&a.id, &c.id, "bogus", None).await,
            Err(StoreError::Invalid(_))
        ));

        // Deleting the connector deletes its secrets.
        s.update_connector(&st, Some(&replaced)).await.unwrap();
        assert!(s.delete_connector(&a.id, &c.id).await.unwrap());
        let row = sqlx::query("SELECT COUNT(*) AS n FROM credentials")
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&row, "n"), 0);
    }
}

#[tokio::test]
async fn secrets_are_not_in_the_sqlite_file() {
    let db = common::TestDb::open(common::TestBackend::Sqlite).await;
    let s = &db.store;
    let canary = "s3cr3t-PLAINTEXT-canary";
    let (a, _) = common::tenant_with_user(s, "a").await;
    let mut new = new_connector(&a.id, "hr", "hr");
    new.secrets = obj(json!({ "api_token": canary }));
    let c = s.insert_connector(&new).await.unwrap();
    assert_eq!(
        s.connector_secrets(&a.id, &c.id).await.unwrap()["api_token"],
        canary
    );

    let path = db.sqlite_path().unwrap().to_path_buf();
    let wal = path.with_file_name(format!(
        "{}-wal",
        path.file_name().unwrap().to_str().unwrap()
    ));
    let scan = |label: &str| {
        for file in [&path, &wal] {
            if let Ok(bytes) = std::fs::read(file) {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{label}: plaintext secret found in {}",
                    file.display()
                );
            }
        }
    };
    assert!(wal.exists(), "WAL mode should be on");
    scan("before checkpoint");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(s.pool())
        .await
        .unwrap();
    scan("after checkpoint");
    // The canary search itself works: the non-secret config is stored in clear.
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.windows(20).any(|w| w == b"https://example.test"));
}
