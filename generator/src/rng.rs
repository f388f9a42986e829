//! Deterministic randomness: every row draws from its own generator seeded by
//! (seed, table, row index), so a row's values do not depend on which worker made it or when.

use rand::rngs::SmallRng;
use rand::SeedableRng;

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value in [0, 1) from a hash.
#[inline]
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Identifies a stream of values (one per table or per purpose); stable across releases, because
/// changing one changes the generated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    Tenant = 1,
    Category = 2,
    User = 3,
    UserOrders = 4,
    Product = 5,
    Variant = 6,
    Order = 7,
    Payment = 8,
    Event = 9,
    PageView = 10,
    ChEvent = 11,
    ChPageView = 12,
    Pool = 13,
    Session = 14,
    Address = 15,
    Key = 16,
}

/// The hash of (seed, stream, index): the root of everything a row holds.
#[inline]
pub fn key(seed: u64, stream: Stream, index: u64) -> u64 {
    mix(mix(seed ^ ((stream as u64) << 56)) ^ index)
}

/// The generator of one row.
#[inline]
pub fn row_rng(seed: u64, stream: Stream, index: u64) -> SmallRng {
    SmallRng::seed_from_u64(key(seed, stream, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_stream_and_index() {
        assert_ne!(key(1, Stream::User, 5), key(1, Stream::Order, 5));
        assert_ne!(key(1, Stream::User, 5), key(1, Stream::User, 6));
        assert_ne!(key(1, Stream::User, 5), key(2, Stream::User, 5));
        assert_eq!(key(1, Stream::User, 5), key(1, Stream::User, 5));
    }

    #[test]
    fn unit_is_in_range() {
        for i in 0..10_000u64 {
            let u = unit(mix(i));
            assert!((0.0..1.0).contains(&u));
        }
    }
}
