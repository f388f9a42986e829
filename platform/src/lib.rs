//! # shopbench-platform
//!
//! The ground every other part of shopbench stands on: where the servers are, how to reach them
//! without leaking a password, the local servers shopbench runs itself when none is configured,
//! and the schema it provisions on them.
//!
//! ## Layout
//!
//! - `error.rs`: [`Error`], each variant with its context and an [`ErrorKind`] (bad input or
//!   environment) that the binary maps to an exit code.
//! - `secret.rs`: [`SecretUrl`] (a URL whose `Display` hides the password) and the process-wide
//!   scrubber that removes every known secret from text before it is printed.
//! - `config.rs`: [`Settings`]: flags > environment > `shopbench.toml` > managed defaults, for
//!   PostgreSQL, Redis, ClickHouse, search and S3.
//! - `services/`: managed local servers under `.shopbench/` (PostgreSQL cluster, Redis,
//!   ClickHouse, SeaweedFS S3): find the binaries, start on free loopback ports, survive between
//!   commands, stop on `down`, report `status`.
//! - `schema/`: the embedded SQL of `schema/` at the repository root; `apply` (ordered,
//!   checksummed migrations), `check` (drift, unindexed foreign keys, duplicate indexes, RLS and
//!   grant audit), the ClickHouse tables.
//! - `objects.rs`: objects in an S3 bucket ([`objects::Objects`]: put, get, list, create the
//!   bucket) and `s3://bucket/prefix/` locations ([`objects::S3Path`]).
//! - `crypto.rs`: application-side encryption of personal data with per-user data keys
//!   (GDPR crypto-shredding) and lookup hashes.

pub mod config;
pub mod crypto;
pub mod error;
pub mod objects;
pub mod schema;
pub mod secret;
pub mod services;

pub use config::{Overrides, Settings};
pub use error::{Error, ErrorKind};
pub use secret::SecretUrl;
