mod common;

use switchboard_store::model::Role;
use switchboard_store::StoreError;

#[tokio::test]
async fn tenants_and_users() {
    for db in common::dbs().await {
        let s = &db.store;
        let label = db.backend.label();
        assert_eq!(s.tenant_count().await.unwrap(), 0);
        let a = s.create_tenant("acme").await.unwrap();
        let b = s.create_tenant("beta").await.unwrap();
        assert!(
            matches!(s.create_tenant("acme").await, Err(StoreError::Conflict(_))),
            "{label}"
        );
        let names: Vec<_> = s
            .list_tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["acme", "beta"]);
        assert_eq!(s.tenant_count().await.unwrap(), 2);
        assert!(s.get_tenant("nope").await.unwrap().is_none());

        let u = s
            .create_user(&a.id, "alice", Role::Member, true)
            .await
            .unwrap();
        let got = s.get_user(&a.id, &u.id).await.unwrap().unwrap();
        assert_eq!(got.role, Role::Member);
        assert!(got.platform_admin);
        assert!(
            s.get_user(&b.id, &u.id).await.unwrap().is_none(),
            "user leaked across tenants"
        );
        assert!(matches!(
            s.create_user(&a.id, "alice", Role::Admin, false).await,
            Err(StoreError::Conflict(_))
        ));
        // Same name in another tenant is fine.
        s.create_user(&b.id, "alice", Role::Admin, false)
            .await
            .unwrap();
        assert!(matches!(
            s.create_user("missing", "bob", Role::Admin, false).await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn api_keys_authenticate_and_revoke() {
    for db in common::dbs().await {
        let s = &db.store;
        let label = db.backend.label();
        let (tenant, user) = common::tenant_with_user(s, "acme").await;
        let scopes = vec![
            "connectors:read".to_string(),
            "connectors:execute".to_string(),
        ];
        let (key, token) = s
            .create_api_key(&tenant.id, &user.id, "ci", &scopes)
            .await
            .unwrap();
        assert!(token.starts_with("sb_"));
        assert_eq!(token.len(), 3 + 32 + 1 + 43);
        assert_eq!(key.scopes, scopes);

        let p = s.authenticate(&token).await.unwrap().expect("valid token");
        assert_eq!(p.tenant.id, tenant.id);
        assert_eq!(p.user.id, user.id);
        assert_eq!(p.key.id, key.id);
        assert!(p.key.last_used_at.is_some(), "{label}");

        // Right id, wrong secret.
        let mut forged = token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(s.authenticate(&forged).await.unwrap().is_none(), "{label}");

        for bad in [
            "",
            "sb_",
            "garbage",
            "sb_x_y",
            "Bearer sb_",
            &token[..token.len() - 1],
            "sb_🙂🙂🙂",
        ] {
            assert!(
                s.authenticate(bad).await.unwrap().is_none(),
                "{label}: {bad:?}"
            );
        }

        let listed = s.list_api_keys(&tenant.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        let other = s.create_tenant("other").await.unwrap();
        assert!(s.list_api_keys(&other.id).await.unwrap().is_empty());
        assert!(
            !s.revoke_api_key(&other.id, &key.id).await.unwrap(),
            "cross-tenant revoke"
        );

        assert!(s.revoke_api_key(&tenant.id, &key.id).await.unwrap());
        assert!(
            !s.revoke_api_key(&tenant.id, &key.id).await.unwrap(),
            "already revoked"
        );
        assert!(
            s.authenticate(&token).await.unwrap().is_none(),
            "{label}: revoked key accepted"
        );
        assert!(s.list_api_keys(&tenant.id).await.unwrap()[0]
            .revoked_at
            .is_some());
    }
}
