//! Tenants, users and API keys.

use serde::{Deserialize, Serialize};
use switchboard_contract::ConnectorError;
use switchboard_store::model::{ApiKey, NewAuditEntry, Principal, Role, Tenant, User};

use super::connectors::rfc3339;
use super::{store_error, Caller, Hub};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantInput {
    pub name: String,
    /// Name of the tenant's first admin user. Default `admin`.
    #[serde(default)]
    pub admin_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyInput {
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        KeyView {
            id: k.id,
            name: k.name,
            user_id: k.user_id,
            scopes: k.scopes,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
        }
    }
}

/// A new key: the token is shown here once and never again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    pub key: KeyView,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewTenant {
    pub tenant_id: String,
    pub name: String,
    pub admin_user_id: String,
    /// The first admin's API key, shown once.
    pub api_key: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub user_id: String,
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
    /// The user's first API key, shown once.
    pub api_key: String,
}

fn validate_label(what: &str, v: &str) -> Result<(), ConnectorError> {
    let ok = !v.trim().is_empty() && v.len() <= 100 && !v.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(ConnectorError::invalid_input(format!(
            "{what} must be 1 to 100 printable characters"
        )))
    }
}

impl Caller {
    pub fn from_principal(p: &Principal) -> Self {
        Caller {
            tenant_id: p.tenant.id.clone(),
            user_id: p.user.id.clone(),
            key_id: Some(p.key.id.clone()),
            role: p.user.role,
            platform_admin: p.user.platform_admin,
        }
    }
}

impl Hub {
    /// On a store with no tenant: the default tenant, a platform admin, and its key.
    pub async fn bootstrap(&self) -> Result<Option<String>, ConnectorError> {
        if self.store().tenant_count().await.map_err(store_error)? > 0 {
            return Ok(None);
        }
        let tenant: Tenant = self
            .store()
            .create_tenant("default")
            .await
            .map_err(store_error)?;
        let admin: User = self
            .store()
            .create_user(&tenant.id, "admin", Role::Admin, true)
            .await
            .map_err(store_error)?;
        let (_, token) = self
            .store()
            .create_api_key(&tenant.id, &admin.id, "bootstrap admin key", &[])
            .await
            .map_err(store_error)?;
        Ok(Some(token))
    }

    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>, ConnectorError> {
        use sha2::{Digest, Sha256};
        let fingerprint: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(caller) = self.inner.auth_cache.get(&fingerprint) {
            return Ok(Some(caller));
        }
        let p = self
            .store()
            .authenticate(token)
            .await
            .map_err(store_error)?;
        let caller = p.as_ref().map(Caller::from_principal);
        if let Some(c) = &caller {
            self.inner.auth_cache.insert(fingerprint, c.clone());
        }
        Ok(caller)
    }

    pub async fn create_tenant(
        &self,
        caller: &Caller,
        input: TenantInput,
    ) -> Result<NewTenant, ConnectorError> {
        caller.require_platform_admin("creating a tenant")?;
        validate_label("tenant name", &input.name)?;
        let admin_name = input.admin_name.unwrap_or_else(|| "admin".into());
        validate_label("admin name", &admin_name)?;
        let tenant = self
            .store()
            .create_tenant(input.name.trim())
            .await
            .map_err(store_error)?;
        let user = self
            .store()
            .create_user(&tenant.id, &admin_name, Role::Admin, false)
            .await
            .map_err(store_error)?;
        let (_, token) = self
            .store()
            .create_api_key(&tenant.id, &user.id, "first admin key", &[])
            .await
            .map_err(store_error)?;
        self.audit_change(
            caller,
            "tenant.create",
            "tenant",
            &tenant.id,
            serde_json::json!({"name": tenant.name}),
        );
        Ok(NewTenant {
            tenant_id: tenant.id,
            name: tenant.name,
            admin_user_id: user.id,
            api_key: token,
        })
    }

    pub async fn create_user(
        &self,
        caller: &Caller,
        input: UserInput,
    ) -> Result<NewUser, ConnectorError> {
        caller.require_admin("adding a user")?;
        validate_label("user name", &input.name)?;
        let user = self
            .store()
            .create_user(&caller.tenant_id, input.name.trim(), input.role, false)
            .await
            .map_err(store_error)?;
        let (_, token) = self
            .store()
            .create_api_key(&caller.tenant_id, &user.id, "first key", &[])
            .await
            .map_err(store_error)?;
        self.audit_change(
            caller,
            "user.create",
            "user",
            &user.id,
            serde_json::json!({"name": user.name, "role": user.role}),
        );
        Ok(NewUser {
            user_id: user.id,
            name: user.name,
            role: user.role,
            api_key: token,
        })
    }

    /// A new key for the caller's own user.
    pub async fn create_key(
        &self,
        caller: &Caller,
        input: KeyInput,
    ) -> Result<NewKey, ConnectorError> {
        validate_label("key name", &input.name)?;
        let (key, token) = self
            .store()
            .create_api_key(
                &caller.tenant_id,
                &caller.user_id,
                input.name.trim(),
                &input.scopes,
            )
            .await
            .map_err(store_error)?;
        self.audit_change(
            caller,
            "key.create",
            "api_key",
            &key.id,
            serde_json::json!({"name": key.name}),
        );
        Ok(NewKey {
            key: key.into(),
            token,
        })
    }

    /// Admins see every key of the tenant; members their own.
    pub async fn list_keys(&self, caller: &Caller) -> Result<Vec<KeyView>, ConnectorError> {
        let keys = self
            .store()
            .list_api_keys(&caller.tenant_id)
            .await
            .map_err(store_error)?;
        Ok(keys
            .into_iter()
            .filter(|k| caller.is_admin() || k.user_id == caller.user_id)
            .map(KeyView::from)
            .collect())
    }

    pub async fn revoke_key(&self, caller: &Caller, id: &str) -> Result<(), ConnectorError> {
        let keys = self
            .store()
            .list_api_keys(&caller.tenant_id)
            .await
            .map_err(store_error)?;
        let key = keys
            .into_iter()
            .find(|k| k.id == id && (caller.is_admin() || k.user_id == caller.user_id))
            .ok_or_else(|| {
                ConnectorError::not_found(format!("no API key '{id}' in this tenant"))
            })?;
        self.store()
            .revoke_api_key(&caller.tenant_id, &key.id)
            .await
            .map_err(store_error)?;
        self.inner.auth_cache.clear();
        self.audit_change(
            caller,
            "key.revoke",
            "api_key",
            &key.id,
            serde_json::json!({"name": key.name}),
        );
        Ok(())
    }

    pub(crate) fn audit_change(
        &self,
        caller: &Caller,
        action: &str,
        kind: &str,
        id: &str,
        detail: serde_json::Value,
    ) {
        self.audit().record(NewAuditEntry {
            tenant_id: caller.tenant_id.clone(),
            actor_user_id: Some(caller.user_id.clone()),
            actor_key_id: caller.key_id.clone(),
            action: action.to_string(),
            target_kind: kind.to_string(),
            target_id: Some(id.to_string()),
            connector_id: None,
            command: None,
            outcome: "ok".into(),
            error_code: None,
            duration_ms: None,
            detail: Some(detail),
        });
    }
}
