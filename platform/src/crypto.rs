//! Application-side encryption of personal data (GDPR).
//!
//! Each user has a random 256-bit [`DataKey`]; personal fields are sealed with AES-256-GCM under
//! it (`nonce(12) || ciphertext || tag(16)`). The data key is stored in `shop.user_data_keys`
//! only wrapped by a [`KeyEncryptionKey`] that the application holds and the database never sees
//! (no key travels through a GUC, a query text or a log). Erasing a user deletes the wrapped key:
//! the ciphertexts everywhere, backups included, can no longer be opened (crypto-shredding).
//! [`lookup_hash`] (HMAC-SHA-256 under an application secret) finds a user by email or phone
//! without decrypting anything.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is shorter than a nonce and a tag ({0} bytes)")]
    Truncated(usize),
    #[error("ciphertext does not open under this key (wrong key, wrong context or tampered)")]
    Unauthentic,
}

pub const NONCE_LEN: usize = 12;

/// A user's data key.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

fn seal(key: &[u8; 32], nonce: [u8; NONCE_LEN], plaintext: &[u8], context: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: context,
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open(key: &[u8; 32], blob: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if blob.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Truncated(blob.len()));
    }
    let (nonce, sealed) = blob.split_at(NONCE_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: context,
            },
        )
        .map_err(|_| CryptoError::Unauthentic)
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        DataKey(key)
    }

    /// A key from given bytes (the generator derives keys deterministically from its seed).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(bytes)
    }

    /// Seals `plaintext`; `context` (e.g. `b"users.email"`) is authenticated, so a ciphertext
    /// moved to another column does not open.
    pub fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        seal(&self.0, nonce, plaintext, context)
    }

    /// Seals with a caller-chosen nonce, for deterministic data generation. The caller must never
    /// use one nonce twice under the same key (the generator derives it from table, column and row).
    pub fn encrypt_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        context: &[u8],
    ) -> Vec<u8> {
        seal(&self.0, nonce, plaintext, context)
    }

    pub fn decrypt(&self, blob: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open(&self.0, blob, context)
    }
}

/// The application's key-encryption key, identified by `id` so keys can be rotated.
#[derive(Clone)]
pub struct KeyEncryptionKey {
    pub id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyEncryptionKey({}, ***)", self.id)
    }
}

impl KeyEncryptionKey {
    pub fn new(id: impl Into<String>, key: [u8; 32]) -> Self {
        KeyEncryptionKey { id: id.into(), key }
    }

    /// The wrapped form of `data_key` stored in `shop.user_data_keys.wrapped_key` (60 bytes).
    pub fn wrap(&self, data_key: &DataKey) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        seal(&self.key, nonce, &data_key.0, self.id.as_bytes())
    }

    /// `wrap` with a caller-chosen nonce, for deterministic data generation (one nonce per data key).
    pub fn wrap_with_nonce(&self, nonce: [u8; NONCE_LEN], data_key: &DataKey) -> Vec<u8> {
        seal(&self.key, nonce, &data_key.0, self.id.as_bytes())
    }

    pub fn unwrap_key(&self, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        let bytes = open(&self.key, wrapped, self.id.as_bytes())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Unauthentic)?;
        Ok(DataKey(key))
    }
}

/// HMAC-SHA-256 of a normalised value (trimmed, lower-cased): the lookup hash stored beside a
/// ciphertext (`users.email_hash`, `users.phone`).
pub fn lookup_hash(secret: &[u8], value: &str) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(value.trim().to_lowercase().as_bytes());
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_context_binding() {
        let key = DataKey::generate();
        let blob = key.encrypt(b"alice@example.com", b"users.email");
        assert_eq!(
            key.decrypt(&blob, b"users.email").unwrap(),
            b"alice@example.com"
        );
        assert_eq!(
            key.decrypt(&blob, b"users.phone"),
            Err(CryptoError::Unauthentic)
        );
        assert_eq!(
            DataKey::generate().decrypt(&blob, b"users.email"),
            Err(CryptoError::Unauthentic)
        );
        assert_eq!(
            key.decrypt(&blob[..10], b"users.email"),
            Err(CryptoError::Truncated(10))
        );
    }

    #[test]
    fn wrapped_keys_open_only_under_their_kek() {
        let kek = KeyEncryptionKey::new("kek-1", [7u8; 32]);
        let key = DataKey::generate();
        let wrapped = kek.wrap(&key);
        assert_eq!(wrapped.len(), 60);
        let blob = key.encrypt(b"x", b"c");
        assert_eq!(
            kek.unwrap_key(&wrapped)
                .unwrap()
                .decrypt(&blob, b"c")
                .unwrap(),
            b"x"
        );
        assert!(KeyEncryptionKey::new("kek-2", [7u8; 32])
            .unwrap_key(&wrapped)
            .is_err());
    }

    #[test]
    fn lookup_hash_normalises() {
        assert_eq!(
            lookup_hash(b"s", " Alice@Example.com "),
            lookup_hash(b"s", "alice@example.com")
        );
        assert_ne!(lookup_hash(b"s", "a@x"), lookup_hash(b"t", "a@x"));
    }
}
