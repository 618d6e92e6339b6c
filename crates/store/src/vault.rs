//! Encryption of secrets at rest: AES-256-GCM under a keyring of master keys.
//!
//! Ciphertexts carry the id of the key that produced them so keys can be rotated
//! without a flag day: the primary key encrypts, older keys only decrypt. Every
//! encryption binds an AAD string naming the row it belongs to, so a ciphertext
//! copied into another row fails to decrypt.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

const FORMAT_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Errors never include plaintext or key material, only ids and shapes.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("invalid master key: {0}")]
    InvalidKey(String),
    #[error("ciphertext was encrypted with unknown key id {0}")]
    UnknownKey(String),
    #[error("decryption failed (wrong key, wrong context or tampered data)")]
    Decrypt,
    #[error("malformed ciphertext: {0}")]
    Malformed(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// A 256-bit master key. Deliberately prints nothing of the bytes in `Debug`.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id={})", self.id())
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        MasterKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }

    /// Accepts what operators are likely to paste: 64 hex characters, or base64 in
    /// any common flavour (standard or url-safe, padded or not).
    pub fn from_encoded(s: &str) -> Result<Self, VaultError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(VaultError::InvalidKey("the key is empty".into()));
        }
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes =
                decode_hex(s).ok_or_else(|| VaultError::InvalidKey("invalid hex".into()))?;
            return Self::from_slice(&bytes);
        }
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s).ok())
            .ok_or_else(|| {
                VaultError::InvalidKey(
                    "expected 32 bytes encoded as base64 or as 64 hex characters".into(),
                )
            })?;
        Self::from_slice(&decoded)
    }

    fn from_slice(bytes: &[u8]) -> Result<Self, VaultError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            VaultError::InvalidKey(format!("expected exactly 32 bytes, got {}", bytes.len()))
        })?;
        Ok(MasterKey(arr))
    }

    /// Standard base64, the format of `master.key`.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Public fingerprint: first 16 hex chars of SHA-256 of the key bytes.
    pub fn id(&self) -> String {
        let digest = Sha256::digest(self.0);
        let mut hex = encode_hex(&digest);
        hex.truncate(16);
        hex
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }
}

struct Keyring {
    primary_id: String,
    primary: Aes256Gcm,
    /// All keys, primary included, by id.
    by_id: HashMap<String, Aes256Gcm>,
    /// Kept so a rotation can build a new keyring that still reads old data.
    keys: Vec<MasterKey>,
}

/// The keyring. Cloning is cheap and shares the keys.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Keyring>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.inner.by_id.keys().collect();
        ids.sort();
        f.debug_struct("Vault")
            .field("primary", &self.inner.primary_id)
            .field("keys", &ids)
            .finish()
    }
}

impl Vault {
    pub fn new(primary: MasterKey, older: Vec<MasterKey>) -> Self {
        let primary_id = primary.id();
        let mut by_id = HashMap::new();
        let mut keys = vec![primary.clone()];
        by_id.insert(primary_id.clone(), primary.cipher());
        for key in older {
            let id = key.id();
            if let std::collections::hash_map::Entry::Vacant(slot) = by_id.entry(id) {
                slot.insert(key.cipher());
                keys.push(key);
            }
        }
        Vault {
            inner: Arc::new(Keyring {
                primary_id,
                primary: primary.cipher(),
                by_id,
                keys,
            }),
        }
    }

    pub fn primary_key_id(&self) -> String {
        self.inner.primary_id.clone()
    }

    /// The encrypting key, e.g. to carry it into a new keyring as a decrypt-only key.
    pub fn primary_key(&self) -> MasterKey {
        self.inner.keys[0].clone()
    }

    /// A 32-byte subkey for another purpose (e.g. signing cursors), so the install needs
    /// only one secret. HMAC-SHA256 keyed by the primary key over `label`; distinct
    /// labels give independent keys. Rotating the master key changes derived keys too.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.inner.keys[0].0)
            .expect("HMAC accepts keys of any length");
        mac.update(b"switchboard derive-key v1\0");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Ids of every key in the ring, primary first.
    pub fn key_ids(&self) -> Vec<String> {
        self.inner.keys.iter().map(MasterKey::id).collect()
    }

    /// A keyring with `new_primary` encrypting and every current key still decrypting.
    pub fn rotated(&self, new_primary: MasterKey) -> Vault {
        Vault::new(new_primary, self.inner.keys.clone())
    }

    pub fn encrypt(&self, plaintext: &[u8], aad: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .inner
            .primary
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            // AES-GCM only fails for inputs beyond ~64 GiB, far outside any secret.
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        format!(
            "{FORMAT_VERSION}:{}:{}",
            self.inner.primary_id,
            STANDARD.encode(blob)
        )
    }

    pub fn decrypt(&self, ciphertext: &str, aad: &str) -> Result<Vec<u8>, VaultError> {
        let (key_id, blob) = parse_ciphertext(ciphertext)?;
        let cipher = self
            .inner
            .by_id
            .get(key_id)
            .ok_or_else(|| VaultError::UnknownKey(key_id.to_string()))?;
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Decrypt)
    }

    pub fn encrypt_json(&self, value: &serde_json::Value, aad: &str) -> String {
        self.encrypt(value.to_string().as_bytes(), aad)
    }

    pub fn decrypt_json(
        &self,
        ciphertext: &str,
        aad: &str,
    ) -> Result<serde_json::Value, VaultError> {
        let bytes = self.decrypt(ciphertext, aad)?;
        // The serde error could quote the payload, so it is dropped on purpose.
        serde_json::from_slice(&bytes)
            .map_err(|_| VaultError::Malformed("decrypted payload is not valid JSON".into()))
    }
}

/// Reads the key id without decrypting, e.g. to report which rows still use an old key.
pub fn ciphertext_key_id(ciphertext: &str) -> Option<&str> {
    parse_ciphertext(ciphertext).ok().map(|(id, _)| id)
}

fn parse_ciphertext(ciphertext: &str) -> Result<(&str, Vec<u8>), VaultError> {
    let mut parts = ciphertext.splitn(3, ':');
    let (Some(version), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(VaultError::Malformed("expected v1:<keyid>:<data>".into()));
    };
    if version != FORMAT_VERSION {
        return Err(VaultError::Malformed(format!(
            "unsupported format {version:?}"
        )));
    }
    if key_id.len() != 16 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VaultError::Malformed("invalid key id".into()));
    }
    let blob = STANDARD
        .decode(body)
        .map_err(|_| VaultError::Malformed("data is not base64".into()))?;
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed("data too short".into()));
    }
    Ok((key_id, blob))
}

/// Loads the keyring from the environment and `data_dir`.
///
/// The primary key is `env_key` when given, otherwise `<data_dir>/master.key`, created
/// (0600) on first run so a fresh install works without configuration. Decrypt-only
/// keys come from `env_previous` and from the files a rotation leaves behind
/// (`master.key.<id>.retired`, and `master.key.next` if a rotation was interrupted).
pub fn load_vault(
    data_dir: &Path,
    env_key: Option<String>,
    env_previous: Option<String>,
) -> Result<Vault, VaultError> {
    let env_key = env_key.filter(|k| !k.trim().is_empty());
    let primary = match env_key {
        Some(k) => MasterKey::from_encoded(&k).map_err(|e| {
            VaultError::InvalidKey(format!("SWITCHBOARD_MASTER_KEY: {}", inner_message(e)))
        })?,
        None => load_or_create_primary(data_dir)?,
    };

    let mut older = Vec::new();
    if let Some(prev) = env_previous.filter(|k| !k.trim().is_empty()) {
        for part in prev.split(',').filter(|p| !p.trim().is_empty()) {
            older.push(MasterKey::from_encoded(part).map_err(|e| {
                VaultError::InvalidKey(format!(
                    "SWITCHBOARD_MASTER_KEY_PREVIOUS: {}",
                    inner_message(e)
                ))
            })?);
        }
    }
    if data_dir.is_dir() {
        let entries =
            std::fs::read_dir(data_dir).map_err(|e| io_err(data_dir, "cannot list", e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_err(data_dir, "cannot list", e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let retired = name.starts_with("master.key.") && name.ends_with(".retired");
            if retired || name == "master.key.next" {
                paths.push(entry.path());
            }
        }
        paths.sort();
        for path in paths {
            older.push(read_key_file(&path)?);
        }
    }
    Ok(Vault::new(primary, older))
}

fn load_or_create_primary(data_dir: &Path) -> Result<MasterKey, VaultError> {
    let path = data_dir.join("master.key");
    if path.exists() {
        warn_if_readable_by_others(&path);
        return read_key_file(&path);
    }
    std::fs::create_dir_all(data_dir).map_err(|e| io_err(data_dir, "cannot create", e))?;
    let key = MasterKey::generate();
    write_key_file(&path, &key).map_err(|e| io_err(&path, "cannot write", e))?;
    tracing::info!(path = %path.display(), key_id = %key.id(), "generated a new master key");
    Ok(key)
}

fn read_key_file(path: &Path) -> Result<MasterKey, VaultError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, "cannot read", e))?;
    MasterKey::from_encoded(&text)
        .map_err(|e| VaultError::InvalidKey(format!("{}: {}", path.display(), inner_message(e))))
}

fn inner_message(e: VaultError) -> String {
    match e {
        VaultError::InvalidKey(m) => m,
        other => other.to_string(),
    }
}

fn io_err(path: &Path, what: &str, source: io::Error) -> VaultError {
    VaultError::Io {
        context: format!("{what} {}", path.display()),
        source,
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "master key file is accessible by group or others; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes a key file readable only by its owner. The content goes to a 0600 temp file
/// in the same directory first and is renamed into place, so a crash never leaves a
/// half-written key and the key is never briefly world-readable.
pub fn write_key_file(path: &Path, key: &MasterKey) -> io::Result<()> {
    write_key_file_text(path, &key.encode())
}

/// Like [`write_key_file`] for any secret text (e.g. the first admin API key): owner-only
/// permissions from the first byte, atomic replacement.
pub fn write_key_file_text(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "key path has no file name"))?;
    let mut suffix = [0u8; 6];
    OsRng.fill_bytes(&mut suffix);
    let tmp = dir.join(format!(".{name}.{}.tmp", encode_hex(&suffix)));

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    // An odd trailing character makes `get` fail, so no separate length check.
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key_bytes() {
        let key = MasterKey::from_bytes([7u8; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("7, 7"));
        assert!(!shown.contains(&key.encode()));
        assert!(shown.contains(&key.id()));
    }

    #[test]
    fn derived_keys_depend_on_label_and_key() {
        let key = MasterKey::generate();
        let a = Vault::new(key.clone(), vec![]);
        let b = Vault::new(key, vec![MasterKey::generate()]);
        assert_eq!(a.derive_key("x"), b.derive_key("x"));
        assert_ne!(a.derive_key("x"), a.derive_key("y"));
        assert_ne!(
            a.derive_key("x"),
            Vault::new(MasterKey::generate(), vec![]).derive_key("x")
        );
    }

    #[test]
    fn roundtrip_and_aad_binding() {
        let vault = Vault::new(MasterKey::generate(), vec![]);
        let c = vault.encrypt(b"hello", "a");
        assert_eq!(vault.decrypt(&c, "a").unwrap(), b"hello");
        assert!(matches!(vault.decrypt(&c, "b"), Err(VaultError::Decrypt)));
        assert_ne!(c, vault.encrypt(b"hello", "a"), "nonce must be random");
    }
}
