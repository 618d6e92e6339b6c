#![allow(dead_code)]

use serde_json::{json, Map, Value};
use switchboard_store::model::{NewConnector, Role, Tenant, User, Visibility};
#[allow(unused_imports)]
pub use switchboard_store::testing::{backends, TestBackend, TestDb};
use switchboard_store::Store;

pub async fn dbs() -> Vec<TestDb> {
    let mut out = Vec::new();
    for b in backends() {
        out.push(TestDb::open(b).await);
    }
    out
}

pub async fn tenant_with_user(store: &Store, name: &str) -> (Tenant, User) {
    let tenant = store.create_tenant(name).await.expect("tenant");
    let user = store
        .create_user(&tenant.id, "alice", Role::Admin, false)
        .await
        .expect("user");
    (tenant, user)
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

pub fn new_connector(tenant_id: &str, name: &str, prefix: &str) -> NewConnector {
    NewConnector {
        tenant_id: tenant_id.to_string(),
        owner_user_id: None,
        name: name.to_string(),
        type_id: "directory".into(),
        description: "test".into(),
        tool_prefix: prefix.to_string(),
        config: obj(json!({"base_url": "https://example.test"})),
        secrets: Map::new(),
        visibility: Visibility::Tenant,
        enabled: true,
    }
}
