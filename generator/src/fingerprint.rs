//! The data fingerprint: equal fingerprints, equal data. SHA-256 over the seed's configuration
//! (less the object store's address), its plan, and the digest of a sample of the data generated
//! from them (`sample.rs`), so a change in how rows are generated changes the fingerprint even
//! when the configuration does not, and `compare` sees it.

use sha2::{Digest, Sha256};

use crate::model::SeedConfig;
use crate::plan::Plan;

/// `sample`: the digest of the data's sample (`sample::digest`).
pub fn of(config: &SeedConfig, plan: &Plan, sample: &str) -> String {
    // The object store's address is where the images live, not what the data is: two seeds that
    // differ only in the managed S3 port (chosen at `up`) hold the same data.
    let mut config = config.clone();
    config.image_base = String::new();
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(&config).expect("the config serializes"));
    hasher.update(serde_json::to_vec(plan).expect("the plan serializes"));
    hasher.update(sample);
    hex::encode(hasher.finalize())
}
