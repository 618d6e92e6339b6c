mod common;

use serde_json::json;
use switchboard_store::model::{AuditQuery, IdempotencyBegin, NewAuditEntry};
use switchboard_store::now_ms;

#[tokio::test]
async fn idempotency_lifecycle() {
    for db in common::dbs().await {
        let s = &db.store;
        let label = db.backend.label();
        let (a, _) = common::tenant_with_user(s, "a").await;
        let (b, _) = common::tenant_with_user(s, "b").await;
        let begin = |tenant: String, key: &'static str, ttl: i64| {
            let s = s.clone();
            async move {
                s.idempotency_begin(&tenant, "execute", key, "h1", ttl)
                    .await
                    .unwrap()
            }
        };

        assert_eq!(
            begin(a.id.clone(), "k1", 60_000).await,
            IdempotencyBegin::Started,
            "{label}"
        );
        assert_eq!(
            begin(a.id.clone(), "k1", 60_000).await,
            IdempotencyBegin::InProgress
        );
        // Keys are per tenant.
        assert_eq!(
            begin(b.id.clone(), "k1", 60_000).await,
            IdempotencyBegin::Started
        );

        let response = json!({"ok": true, "data": [1, 2]});
        s.idempotency_complete(&a.id, "execute", "k1", &response)
            .await
            .unwrap();
        assert_eq!(
            begin(a.id.clone(), "k1", 60_000).await,
            IdempotencyBegin::Replay {
                request_hash: "h1".into(),
                response
            }
        );

        // Abandon frees a pending key.
        assert_eq!(
            begin(a.id.clone(), "k2", 60_000).await,
            IdempotencyBegin::Started
        );
        s.idempotency_abandon(&a.id, "execute", "k2").await.unwrap();
        assert_eq!(
            begin(a.id.clone(), "k2", 60_000).await,
            IdempotencyBegin::Started
        );

        // Expired records are treated as absent.
        assert_eq!(
            begin(a.id.clone(), "k3", 0).await,
            IdempotencyBegin::Started
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(
            begin(a.id.clone(), "k3", 60_000).await,
            IdempotencyBegin::Started,
            "{label}"
        );

        assert_eq!(s.purge_expired(now_ms()).await.unwrap(), 0);
        assert_eq!(s.purge_expired(now_ms() + 120_000).await.unwrap(), 4);
        assert_eq!(
            begin(a.id.clone(), "k1", 60_000).await,
            IdempotencyBegin::Started
        );
    }
}

#[tokio::test]
async fn audit_append_and_list() {
    for db in common::dbs().await {
        let s = &db.store;
        let label = db.backend.label();
        let (a, user) = common::tenant_with_user(s, "a").await;
        let (b, _) = common::tenant_with_user(s, "b").await;
        for i in 0..5 {
            s.append_audit(&NewAuditEntry {
                tenant_id: a.id.clone(),
                actor_user_id: Some(user.id.clone()),
                action: if i % 2 == 0 {
                    "connector.execute"
                } else {
                    "connector.create"
                }
                .into(),
                target_kind: "connector".into(),
                connector_id: Some(if i < 3 { "c1" } else { "c2" }.into()),
                command: Some(format!("cmd{i}")),
                outcome: "ok".into(),
                duration_ms: Some(i),
                detail: Some(json!({ "i": i })),
                ..Default::default()
            })
            .await
            .unwrap();
        }
        s.append_audit(&NewAuditEntry {
            tenant_id: b.id.clone(),
            action: "connector.execute".into(),
            target_kind: "connector".into(),
            outcome: "error".into(),
            error_code: Some("upstream_error".into()),
            ..Default::default()
        })
        .await
        .unwrap();

        let all = s.list_audit(&a.id, &AuditQuery::default()).await.unwrap();
        let cmds: Vec<_> = all.iter().map(|e| e.command.clone().unwrap()).collect();
        assert_eq!(
            cmds,
            ["cmd4", "cmd3", "cmd2", "cmd1", "cmd0"],
            "{label}: newest first"
        );
        assert_eq!(all[0].detail, Some(json!({"i": 4})));
        assert_eq!(all[0].duration_ms, Some(4));

        let q = |limit, before, connector_id: Option<&str>, action: Option<&str>| AuditQuery {
            limit,
            before,
            connector_id: connector_id.map(Into::into),
            action: action.map(Into::into),
        };
        assert_eq!(
            s.list_audit(&a.id, &q(2, None, None, None))
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            s.list_audit(&a.id, &q(0, None, None, None))
                .await
                .unwrap()
                .len(),
            1,
            "clamped"
        );
        assert_eq!(
            s.list_audit(&a.id, &q(10_000, None, None, None))
                .await
                .unwrap()
                .len(),
            5
        );
        assert_eq!(
            s.list_audit(&a.id, &q(100, None, Some("c2"), None))
                .await
                .unwrap()
                .len(),
            2
        );
        let exec = s
            .list_audit(&a.id, &q(100, None, Some("c1"), Some("connector.execute")))
            .await
            .unwrap();
        assert_eq!(exec.len(), 2);
        let future = now_ms() + 1_000;
        assert_eq!(
            s.list_audit(&a.id, &q(100, Some(future), None, None))
                .await
                .unwrap()
                .len(),
            5
        );
        assert!(s
            .list_audit(&a.id, &q(100, Some(0), None, None))
            .await
            .unwrap()
            .is_empty());

        let other = s.list_audit(&b.id, &AuditQuery::default()).await.unwrap();
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].error_code.as_deref(), Some("upstream_error"));
        assert_eq!(other[0].detail, None);
    }
}
