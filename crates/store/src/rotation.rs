//! Master-key rotation: every ciphertext is re-encrypted under the new key in one
//! transaction, so the database never mixes keys after a successful rotation and a
//! failure leaves it untouched.

use crate::connectors::credential_aad;
use crate::model::RotationReport;
use crate::vault::{MasterKey, Vault};
use crate::{cols, now_ms, Backend, Result, Store};

impl Store {
    /// Decrypts with this store's keyring and re-encrypts under `new_primary`. The
    /// store keeps its current vault; switch with `with_vault` afterwards.
    ///
    /// The keyring may already have `new_primary` as its primary (the CLI passes a
    /// vault holding both keys); `old_key_id` is then the first other key in the ring.
    pub async fn rotate_key(&self, new_primary: MasterKey) -> Result<RotationReport> {
        let new_key_id = new_primary.id();
        let old_key_id = self
            .vault
            .key_ids()
            .into_iter()
            .find(|id| *id != new_key_id)
            .unwrap_or_else(|| new_key_id.clone());
        let target = Vault::new(new_primary, Vec::new());
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Sqlite {
            // Take the write lock up front: a SQLite transaction that reads and then
            // upgrades to writing can fail with SQLITE_BUSY if another writer slips in.
            sqlx::query("UPDATE credentials SET key_id = key_id WHERE 1 = 0")
                .execute(&mut *tx)
                .await?;
        }
        let rows = sqlx::query(
            "SELECT id, tenant_id, connector_id, user_id, kind, ciphertext FROM credentials",
        )
        .fetch_all(&mut *tx)
        .await?;
        let now = now_ms();
        for row in &rows {
            let aad = credential_aad(
                &cols::string(row, "tenant_id")?,
                &cols::string(row, "connector_id")?,
                &cols::string(row, "user_id")?,
                &cols::string(row, "kind")?,
            );
            let plaintext = self
                .vault
                .decrypt(&cols::string(row, "ciphertext")?, &aad)?;
            sqlx::query(
                "UPDATE credentials SET ciphertext = $1, key_id = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(target.encrypt(&plaintext, &aad))
            .bind(&new_key_id)
            .bind(now)
            .bind(cols::string(row, "id")?)
            .execute(&mut *tx)
            .await?;
        }
        // OAuth client secrets: same keyring, AAD bound to the app row.
        let apps = sqlx::query(
            "SELECT id, tenant_id, client_secret FROM oauth_apps WHERE client_secret IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &apps {
            let id = cols::string(row, "id")?;
            let aad = crate::oauth::oauth_app_aad(&cols::string(row, "tenant_id")?, &id);
            let plaintext = self
                .vault
                .decrypt(&cols::string(row, "client_secret")?, &aad)?;
            sqlx::query(
                "UPDATE oauth_apps SET client_secret = $1, key_id = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(target.encrypt(&plaintext, &aad))
            .bind(&new_key_id)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(RotationReport {
            reencrypted: rows.len() + apps.len(),
            new_key_id,
            old_key_id,
        })
    }
}
