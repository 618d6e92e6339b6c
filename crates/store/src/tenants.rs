use sqlx::any::AnyRow;

use crate::cols;
use crate::error::is_unique_violation;
use crate::model::{Role, Tenant, User};
use crate::{new_id, now_ms, Result, Store, StoreError};

pub(crate) fn tenant_from_row(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: cols::string(row, "id")?,
        name: cols::string(row, "name")?,
        created_at: cols::int(row, "created_at")?,
    })
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: cols::string(row, "id")?,
        tenant_id: cols::string(row, "tenant_id")?,
        name: cols::string(row, "name")?,
        role: Role::parse(&cols::string(row, "role")?)?,
        platform_admin: cols::boolean(row, "platform_admin")?,
        created_at: cols::int(row, "created_at")?,
    })
}

pub(crate) const USER_COLUMNS: &str = "id, tenant_id, name, role, platform_admin, created_at";

impl Store {
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("tenant name must not be empty".into()));
        }
        let tenant = Tenant {
            id: new_id(),
            name: name.to_string(),
            created_at: now_ms(),
        };
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(tenant.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("a tenant named '{name}' already exists"))
                } else {
                    e.into()
                }
            })?;
        Ok(tenant)
    }

    pub async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    pub async fn get_tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        sqlx::query("SELECT id, name, created_at FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        sqlx::query("SELECT id, name, created_at FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(tenant_from_row)
            .collect()
    }

    pub async fn tenant_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM tenants")
            .fetch_one(&self.pool)
            .await?;
        cols::int(&row, "n")
    }

    pub async fn create_user(
        &self,
        tenant_id: &str,
        name: &str,
        role: Role,
        platform_admin: bool,
    ) -> Result<User> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("user name must not be empty".into()));
        }
        if self.get_tenant(tenant_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("tenant {tenant_id}")));
        }
        let user = User {
            id: new_id(),
            tenant_id: tenant_id.to_string(),
            name: name.to_string(),
            role,
            platform_admin,
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO users (id, tenant_id, name, role, platform_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&user.id)
        .bind(&user.tenant_id)
        .bind(&user.name)
        .bind(role.as_str())
        .bind(cols::flag(platform_admin))
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!(
                    "a user named '{name}' already exists in this tenant"
                ))
            } else {
                e.into()
            }
        })?;
        Ok(user)
    }

    pub async fn get_user(&self, tenant_id: &str, id: &str) -> Result<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    pub async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY name"
        ))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }
}
