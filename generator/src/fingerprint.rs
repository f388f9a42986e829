//! The data fingerprint: equal fingerprints, equal data. SHA-256 over the seed's configuration
//! (less the object store's address), its plan, and the digest of a sample of the data generated
//! from them (`sample.rs`), so a change in how rows are generated changes the fingerprint even
//! when the configuration does not, and `compare` sees it.

use sha2::{Digest, Sha256};

use crate::model::Model;
use crate::plan::Plan;

pub fn of(model: &Model, plan: &Plan) -> String {
    // The object store's address is where the images live, not what the data is: two seeds that
    // differ only in the managed S3 port (chosen at `up`) hold the same data.
    let mut config = model.config.clone();
    config.image_base = String::new();
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(&config).expect("the config serializes"));
    hasher.update(serde_json::to_vec(plan).expect("the plan serializes"));
    hasher.update(crate::sample::digest(&crate::sample::tables(model)));
    hex::encode(hasher.finalize())
}
