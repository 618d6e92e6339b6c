mod common;

use common::{new_connector, obj};
use serde_json::json;
use switchboard_store::testing::TestDb;
use switchboard_store::vault::{load_vault, write_key_file, MasterKey, Vault, VaultError};
use switchboard_store::StoreError;

#[test]
fn wrong_aad_tamper_and_unknown_key() {
    let vault = Vault::new(MasterKey::generate(), vec![]);
    let c = vault.encrypt(b"top secret", "connector:t1:c1");
    assert!(c.starts_with(&format!("v1:{}:", vault.primary_key_id())));
    assert_eq!(vault.decrypt(&c, "connector:t1:c1").unwrap(), b"top secret");
    assert!(matches!(
        vault.decrypt(&c, "connector:t1:c2"),
        Err(VaultError::Decrypt)
    ));

    // Flip one bit of the sealed data.
    let (head, body) = c.rsplit_once(':').unwrap();
    let mut raw = base64_decode(body);
    let last = raw.len() - 1;
    raw[last] ^= 1;
    let tampered = format!("{head}:{}", base64_encode(&raw));
    let err = vault.decrypt(&tampered, "connector:t1:c1").unwrap_err();
    assert!(matches!(err, VaultError::Decrypt));
    assert!(!err.to_string().contains("top secret"));

    let other = Vault::new(MasterKey::generate(), vec![]);
    match other.decrypt(&c, "connector:t1:c1") {
        Err(VaultError::UnknownKey(id)) => assert_eq!(id, vault.primary_key_id()),
        r => panic!("expected UnknownKey, got {r:?}"),
    }
    for junk in [
        "",
        "v1",
        "v2:0123456789abcdef:AAAA",
        "v1:nothex:AAAA",
        "v1:0123456789abcdef:!!",
    ] {
        assert!(
            matches!(vault.decrypt(junk, "x"), Err(VaultError::Malformed(_))),
            "{junk:?}"
        );
    }

    let v = json!({"token": "abc", "n": 1});
    assert_eq!(
        vault
            .decrypt_json(&vault.encrypt_json(&v, "a"), "a")
            .unwrap(),
        v
    );
}

#[test]
fn older_keys_decrypt_but_do_not_encrypt() {
    let old = MasterKey::generate();
    let old_vault = Vault::new(old.clone(), vec![]);
    let c = old_vault.encrypt(b"x", "a");
    let new = MasterKey::generate();
    let ring = Vault::new(new.clone(), vec![old]);
    assert_eq!(ring.decrypt(&c, "a").unwrap(), b"x");
    assert!(ring.encrypt(b"y", "a").contains(&new.id()));
}

#[test]
fn master_key_encodings() {
    let key = MasterKey::generate();
    let id = key.id();
    assert_eq!(id.len(), 16);
    assert!(!format!("{key:?}").contains(&key.encode()));
    assert_eq!(MasterKey::from_encoded(&key.encode()).unwrap().id(), id);
    assert_eq!(
        MasterKey::from_encoded(&format!("  {}\n", key.encode()))
            .unwrap()
            .id(),
        id
    );

    let bytes = base64_decode(&key.encode());
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(MasterKey::from_encoded(&hex).unwrap().id(), id);
    assert_eq!(
        MasterKey::from_encoded(&hex.to_uppercase()).unwrap().id(),
        id
    );

    use base64::Engine as _;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(MasterKey::from_encoded(&url).unwrap().id(), id);

    for bad in ["", "short", "AAAA", &"ab".repeat(31), &"zz".repeat(32)] {
        match MasterKey::from_encoded(bad) {
            Err(VaultError::InvalidKey(msg)) => assert!(!msg.is_empty()),
            other => panic!("{bad:?} accepted: {other:?}"),
        }
    }
    let e = MasterKey::from_encoded(&base64_encode(&[1u8; 16])).unwrap_err();
    assert!(e.to_string().contains("32 bytes"), "{e}");
}

#[test]
fn load_vault_creates_and_reuses_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let v1 = load_vault(&data, None, None).unwrap();
    let path = data.join("master.key");
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let v2 = load_vault(&data, None, None).unwrap();
    assert_eq!(v1.primary_key_id(), v2.primary_key_id());

    // Env key wins; previous key, retired and next files become decrypt-only keys.
    let env = MasterKey::generate();
    let prev = MasterKey::generate();
    let retired = MasterKey::generate();
    let next = MasterKey::generate();
    write_key_file(
        &data.join(format!("master.key.{}.retired", retired.id())),
        &retired,
    )
    .unwrap();
    write_key_file(&data.join("master.key.next"), &next).unwrap();
    let v = load_vault(&data, Some(env.encode()), Some(prev.encode())).unwrap();
    assert_eq!(v.primary_key_id(), env.id());
    for k in [&prev, &retired, &next] {
        let c = Vault::new(k.clone(), vec![]).encrypt(b"z", "a");
        assert_eq!(v.decrypt(&c, "a").unwrap(), b"z");
    }

    let err = load_vault(&data, Some("not a key".into()), None).unwrap_err();
    assert!(err.to_string().contains("SWITCHBOARD_MASTER_KEY"), "{err}");
}

#[tokio::test]
async fn rotate_key_reencrypts_everything() {
    for backend in common::backends() {
        let old = MasterKey::generate();
        let db = TestDb::open_with_vault(backend, Vault::new(old.clone(), vec![])).await;
        let s = &db.store;
        let label = db.backend.label();
        let (a, _) = common::tenant_with_user(s, "a").await;
        let mut ids = Vec::new();
        for i in 0..3 {
            let mut n = new_connector(&a.id, &format!("c{i}"), &format!("p{i}"));
            n.secrets = obj(json!({ "token": format!("secret-{i}") }));
            ids.push(s.insert_connector(&n).await.unwrap().id);
        }

        let new = MasterKey::generate();
        let both = Vault::new(new.clone(), vec![old.clone()]);
        let report = s.with_vault(both).rotate_key(new.clone()).await.unwrap();
        assert_eq!(report.reencrypted, 3, "{label}");
        assert_eq!(report.new_key_id, new.id());
        assert_eq!(report.old_key_id, old.id());

        let only_new = s.with_vault(Vault::new(new.clone(), vec![]));
        for (i, id) in ids.iter().enumerate() {
            let secrets = only_new.connector_secrets(&a.id, id).await.unwrap();
            assert_eq!(secrets["token"], format!("secret-{i}"), "{label}");
            // And the old key alone no longer can.
            assert!(matches!(
                s.connector_secrets(&a.id, id).await,
                Err(StoreError::Vault(VaultError::UnknownKey(_)))
            ));
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM credentials WHERE key_id = $1")
            .bind(new.id())
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&row, "n"), 3);

        // A rotation that cannot decrypt changes nothing.
        let stranger = MasterKey::generate();
        let err = s
            .with_vault(Vault::new(stranger.clone(), vec![]))
            .rotate_key(stranger)
            .await;
        assert!(matches!(
            err,
            Err(StoreError::Vault(VaultError::UnknownKey(_)))
        ));
        assert_eq!(
            only_new.connector_secrets(&a.id, &ids[0]).await.unwrap()["token"],
            "secret-0"
        );
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test]
async fn rotate_key_reencrypts_oauth_client_secrets_and_tokens() {
    use switchboard_store::oauth::{NewOAuthApp, OAuthConnectionRecord};
    for backend in common::backends() {
        let old = MasterKey::generate();
        let db = TestDb::open_with_vault(backend, Vault::new(old.clone(), vec![])).await;
        let s = &db.store;
        let label = db.backend.label();
        let (a, _) = common::tenant_with_user(s, "a").await;
        let app = s
            .insert_oauth_app(&NewOAuthApp {
                tenant_id: a.id.clone(),
                name: "idp".into(),
                provider: "test".into(),
                issuer: None,
                authorization_url: "https://idp.example/authorize".into(),
                token_url: "https://idp.example/token".into(),
                revocation_url: None,
                client_id: "client".into(),
                client_secret: Some("client-secret-value".into()),
                scopes: vec!["read".into()],
                extra_params: Default::default(),
                resource: None,
            })
            .await
            .unwrap();
        let connector = s
            .insert_connector(&new_connector(&a.id, "c", "p"))
            .await
            .unwrap();
        let now = switchboard_store::now_ms();
        s.save_oauth_connection(
            &OAuthConnectionRecord {
                tenant_id: a.id.clone(),
                connector_id: connector.id.clone(),
                user_id: String::new(),
                app_id: app.id.clone(),
                status: "connected".into(),
                status_reason: None,
                scope: None,
                resource: None,
                expires_at: None,
                connected_at: now,
                updated_at: now,
            },
            &json!({"access_token": "at-value", "refresh_token": "rt-value"}),
        )
        .await
        .unwrap();
        // Nothing in plaintext at rest.
        let dump = format!(
            "{:?}",
            sqlx_dump(s, "SELECT client_secret AS v FROM oauth_apps UNION ALL SELECT ciphertext AS v FROM credentials").await
        );
        assert!(
            !dump.contains("client-secret-value") && !dump.contains("rt-value"),
            "{label}"
        );

        let new = MasterKey::generate();
        let both = Vault::new(new.clone(), vec![old.clone()]);
        let report = s.with_vault(both).rotate_key(new.clone()).await.unwrap();
        assert_eq!(
            report.reencrypted, 2,
            "{label}: the token set and the client secret"
        );
        let only_new = s.with_vault(Vault::new(new, vec![]));
        assert_eq!(
            only_new
                .oauth_app_secret(&a.id, &app.id)
                .await
                .unwrap()
                .as_deref(),
            Some("client-secret-value"),
            "{label}"
        );
        let tokens = only_new
            .oauth_tokens(&a.id, &connector.id, "")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tokens["refresh_token"], "rt-value", "{label}");
    }
}

async fn sqlx_dump(s: &switchboard_store::Store, sql: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_all(s.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("v").unwrap_or_default())
        .collect()
}
