//! The data fingerprint: equal fingerprints, equal data. SHA-256 over the seed's configuration
//! (less the object store's address), its plan, and the digest of a sample of the data generated
//! from them (`sample.rs`), so a change in how rows are generated changes the fingerprint even
//! when the configuration does not, and `compare` sees it.

use sha2::{Digest, Sha256};

use crate::model::SeedConfig;
use crate::plan::Plan;

/// The configuration as JSON, less the object store's address: where the images live is not
/// what the data is (two seeds that differ only in the managed S3 port, chosen at `up`, hold the
/// same data).
fn recipe(config: &SeedConfig) -> Vec<u8> {
    let mut config = config.clone();
    config.image_base = String::new();
    serde_json::to_vec(&config).expect("the config serializes")
}

/// `sample`: the digest of the data's sample (`sample::digest`).
pub fn of(config: &SeedConfig, plan: &Plan, sample: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(recipe(config));
    hasher.update(serde_json::to_vec(plan).expect("the plan serializes"));
    hasher.update(sample);
    hex::encode(hasher.finalize())
}

/// The run id of a seed of `config`: its bulk-load window's id and the mark on every audit
/// entry it writes as data. Derived from the configuration (less the object store's address),
/// so a resumed seed finds its window again and every job writes the same bytes.
pub fn run_id(config: &SeedConfig) -> uuid::Uuid {
    let digest = Sha256::digest(recipe(config));
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = 0x80 | (b[6] & 0x0f); // version 8: custom
    b[8] = 0x80 | (b[8] & 0x3f); // RFC 4122 variant
    uuid::Uuid::from_bytes(b)
}

/// SHA-256 of the configuration (less the object store's address), recorded when the window opens.
pub fn config_digest(config: &SeedConfig) -> String {
    hex::encode(Sha256::digest(recipe(config)))
}
