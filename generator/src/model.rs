//! The entity model: which tenant owns which users and products, how many orders each customer
//! places, and every entity's id, all computed from (seed, index). The loader walks it in chunks;
//! the workload engine uses the same functions to pick existing entities (a tenant by its size, a
//! popular product, a customer and their orders) without querying.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::distribution::{allocate, pareto, power_law_weights, Zipf};
use crate::profile::Profile;
use crate::rng::{key, mix, unit, Stream};
use crate::timeline::Timeline;
use crate::vocab::{Pools, DEPARTMENTS};

pub const DAY_US: i64 = 86_400_000_000;
/// Years of order history.
pub const HISTORY_DAYS: i64 = 3 * 365;
/// Days of events kept in PostgreSQL, and sent to ClickHouse.
pub const PG_EVENT_DAYS: i64 = 90;
pub const CH_EVENT_DAYS: i64 = 30;
pub use crate::calibration::{CUSTOMER_PARETO, PRODUCT_ZIPF, TENANT_ALPHA};

/// What a seed is: the profile, the seed, and the instant its history ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedConfig {
    pub profile: Profile,
    pub seed: u64,
    /// The end of the seeded history (Unix microseconds, midnight UTC).
    pub as_of_us: i64,
    /// How many distinct product images are uploaded to the object store.
    pub images: u32,
    /// Base URL of the uploaded images (`http://host:port/bucket`); `s3://shopbench-images` when
    /// no object store is used.
    pub image_base: String,
    /// Product popularity within a tenant: Zipf with this exponent θ (seeds recorded before it
    /// was configurable used 1.0).
    #[serde(default = "legacy_product_zipf")]
    pub product_zipf: f64,
}

fn legacy_product_zipf() -> f64 {
    1.0
}

/// One tenant's share of the data.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub index: u64,
    pub id: Uuid,
    pub created_us: i64,
    pub user_start: u64,
    pub users: u64,
    pub product_start: u64,
    pub products: u64,
    pub category_start: u64,
    pub categories: u64,
    /// Roots of the category tree are local indexes 0..roots.
    pub roots: u64,
    pub zipf: Zipf,
    /// Multiplier for the popularity permutation (coprime with `products`).
    pub perm_mul: u64,
    pub perm_add: u64,
    pub currency: &'static str,
    /// Tax rate in basis points.
    pub tax_bp: i64,
    pub tier: Tier,
}

/// Tenant size tiers for per-tier latency: the tenants holding the first half of all customers
/// are large, the next 35% medium, the rest small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Large,
    Medium,
    Small,
}

#[derive(Clone)]
pub struct Model {
    pub config: SeedConfig,
    pub tenants: Vec<Tenant>,
    /// order_start[u] = the first order index of user u; order_start[users] = orders.
    order_start: Vec<u64>,
    pub history: Timeline,
    pub pg_events: Timeline,
    pub ch_events: Timeline,
    pub pools: Pools,
    /// Secret of the email/phone lookup hashes (derived from the seed: benchmark data only).
    pub lookup_secret: [u8; 32],
    pub kek: platform::crypto::KeyEncryptionKey,
}

/// A UUIDv7 with the given Unix milliseconds and random bits from `h`.
#[inline]
pub fn uuid7(unix_ms: i64, h: u64) -> Uuid {
    let h2 = mix(h);
    let ms = (unix_ms as u64).to_be_bytes();
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms[2..]);
    b[6..14].copy_from_slice(&h.to_be_bytes());
    b[14..].copy_from_slice(&h2.to_be_bytes()[..2]);
    b[6] = 0x70 | (b[6] & 0x0f);
    b[8] = 0x80 | (b[8] & 0x3f);
    Uuid::from_bytes(b)
}

/// Where on the traffic curve user `u` signed up: sign-ups follow the curve, skewed early so that
/// most customers have history.
fn user_signup_quantile(seed: u64, u: u64) -> f64 {
    let x = unit(key(seed, Stream::User, u));
    x * x
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Model {
    pub fn new(config: SeedConfig) -> Self {
        let p = &config.profile;
        let seed = config.seed;
        let history = Timeline::new(config.as_of_us, (HISTORY_DAYS * 24) as usize);
        let pg_events = Timeline::new(config.as_of_us, (PG_EVENT_DAYS * 24) as usize);
        let ch_events = Timeline::new(config.as_of_us, (CH_EVENT_DAYS * 24) as usize);
        let n = p.tenants as usize;
        let weights = power_law_weights(n, TENANT_ALPHA);
        let users = allocate(p.users, &weights, 5);
        let products = allocate(p.products, &power_law_weights(n, TENANT_ALPHA * 0.9), 10);
        let (mut us, mut ps, mut cs) = (0, 0, 0);
        let mut tenants = Vec::with_capacity(n);
        let mut cum_users = 0u64;
        for t in 0..n {
            let h = key(seed, Stream::Tenant, t as u64);
            let created_us = history.start_us() - 30 * DAY_US - (h % 700) as i64 * DAY_US
                + (mix(h) % DAY_US as u64) as i64;
            let categories = (products[t] / 150).clamp(6, 400);
            let np = products[t];
            let mut perm_mul = (mix(h ^ 7) % np).max(1);
            while gcd(perm_mul, np) != 1 {
                perm_mul += 1;
            }
            let tier = if (cum_users as f64) < 0.5 * p.users as f64 {
                Tier::Large
            } else if (cum_users as f64) < 0.85 * p.users as f64 {
                Tier::Medium
            } else {
                Tier::Small
            };
            cum_users += users[t];
            let (currency, tax_bp) = match h % 10 {
                0..=5 => ("USD", [0, 500, 825][(h >> 8) as usize % 3]),
                6 | 7 => ("EUR", 1900),
                8 => ("GBP", 2000),
                _ => ("CAD", 1300),
            };
            tenants.push(Tenant {
                index: t as u64,
                id: uuid7(created_us / 1000, h),
                created_us,
                user_start: us,
                users: users[t],
                product_start: ps,
                products: np,
                category_start: cs,
                categories,
                roots: (categories / 6).clamp(3, DEPARTMENTS.len() as u64),
                zipf: Zipf::new(np, config.product_zipf),
                perm_mul,
                perm_add: mix(h ^ 11) % np,
                currency,
                tax_bp,
                tier,
            });
            us += users[t];
            ps += np;
            cs += categories;
        }
        // Orders per customer: Pareto weights times the share of the traffic curve after the
        // customer signed up (a customer of last week has had less time to buy than one of three
        // years ago), the exact total shared by largest remainder. Without the exposure, late
        // customers would crowd all their orders into the history's last days, and those days
        // would not follow the traffic curve.
        let mean = p.orders as f64 / p.users as f64;
        let cap = 50.0 * mean.max(1.0);
        let weights: Vec<f64> = (0..p.users)
            .map(|u| {
                let created = history.at(user_signup_quantile(seed, u));
                pareto(unit(key(seed, Stream::UserOrders, u)), CUSTOMER_PARETO).min(cap)
                    * (1.0 - history.cdf(created))
            })
            .collect();
        let counts = allocate(p.orders, &weights, 0);
        let mut order_start = Vec::with_capacity(counts.len() + 1);
        let mut acc = 0;
        for c in counts {
            order_start.push(acc);
            acc += c;
        }
        order_start.push(acc);
        let secret = |purpose: u64| {
            let mut out = [0u8; 32];
            for (i, chunk) in out.chunks_mut(8).enumerate() {
                chunk
                    .copy_from_slice(&key(seed, Stream::Key, purpose * 4 + i as u64).to_be_bytes());
            }
            out
        };
        Model {
            pools: Pools::new(seed),
            lookup_secret: secret(1),
            kek: platform::crypto::KeyEncryptionKey::new(format!("seed-{seed}"), secret(2)),
            config,
            tenants,
            order_start,
            history,
            pg_events,
            ch_events,
        }
    }

    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    pub fn profile(&self) -> &Profile {
        &self.config.profile
    }

    /// The tenant holding global index `i` of a range computed by `start`.
    fn tenant_by(&self, i: u64, start: impl Fn(&Tenant) -> u64) -> &Tenant {
        let t = self.tenants.partition_point(|t| start(t) <= i) - 1;
        &self.tenants[t]
    }

    pub fn tenant_of_user(&self, u: u64) -> &Tenant {
        self.tenant_by(u, |t| t.user_start)
    }

    pub fn tenant_of_product(&self, p: u64) -> &Tenant {
        self.tenant_by(p, |t| t.product_start)
    }

    pub fn tenant_of_category(&self, c: u64) -> &Tenant {
        self.tenant_by(c, |t| t.category_start)
    }

    // ---- users ----

    pub fn user_created_us(&self, u: u64) -> i64 {
        self.history.at(user_signup_quantile(self.seed(), u))
    }

    pub fn user_id(&self, u: u64) -> Uuid {
        uuid7(
            self.user_created_us(u) / 1000,
            key(self.seed(), Stream::User, u) ^ 1,
        )
    }

    /// The orders of user `u`: a range of global order indexes.
    pub fn user_orders(&self, u: u64) -> std::ops::Range<u64> {
        self.order_start[u as usize]..self.order_start[u as usize + 1]
    }

    /// The user placing order `o`.
    pub fn user_of_order(&self, o: u64) -> u64 {
        (self.order_start.partition_point(|&s| s <= o) - 1) as u64
    }

    pub fn data_key(&self, u: u64) -> platform::crypto::DataKey {
        let mut k = [0u8; 32];
        for (i, chunk) in k.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(
                &key(self.seed(), Stream::Key, (u + 1) * 1_000 + i as u64).to_be_bytes(),
            );
        }
        platform::crypto::DataKey::from_bytes(k)
    }

    // ---- catalog ----

    pub fn category_id(&self, t: &Tenant, local: u64) -> Uuid {
        let c = t.category_start + local;
        uuid7(
            t.created_us / 1000 + local as i64,
            key(self.seed(), Stream::Category, c),
        )
    }

    /// Parent of a category (local index): roots have none; the others form a 4-ary tree.
    pub fn category_parent(t: &Tenant, local: u64) -> Option<u64> {
        if local < t.roots {
            None
        } else {
            Some((local - t.roots) / 4)
        }
    }

    /// The department (index into `DEPARTMENTS`) of a category: its root's.
    pub fn category_department(&self, t: &Tenant, mut local: u64) -> usize {
        while let Some(parent) = Self::category_parent(t, local) {
            local = parent;
        }
        ((local + t.index) % DEPARTMENTS.len() as u64) as usize
    }

    pub fn product_created_us(&self, t: &Tenant, p: u64) -> i64 {
        t.created_us + (key(self.seed(), Stream::Product, p) % (30 * DAY_US as u64)) as i64
    }

    pub fn product_id(&self, p: u64) -> Uuid {
        let t = self.tenant_of_product(p);
        uuid7(
            self.product_created_us(t, p) / 1000,
            key(self.seed(), Stream::Product, p) ^ 1,
        )
    }

    /// The product of popularity rank `rank` (0 = best seller) within tenant `t`: global index.
    pub fn product_by_rank(&self, t: &Tenant, rank: u64) -> u64 {
        t.product_start + (rank * t.perm_mul + t.perm_add) % t.products
    }

    /// A product's category (local index within its tenant).
    pub fn product_category(&self, t: &Tenant, p: u64) -> u64 {
        mix(key(self.seed(), Stream::Product, p) ^ 3) % t.categories
    }

    /// Number of variants of product `p` (1–4).
    pub fn variants(&self, p: u64) -> u64 {
        match key(self.seed(), Stream::Variant, p) % 20 {
            0..=7 => 1,
            8..=12 => 2,
            13..=16 => 3,
            _ => 4,
        }
    }

    pub fn variant_id(&self, t: &Tenant, p: u64, v: u64) -> Uuid {
        uuid7(
            self.product_created_us(t, p) / 1000,
            key(self.seed(), Stream::Variant, p * 8 + v + 1),
        )
    }

    /// Number of images of product `p` (1–3).
    pub fn images(&self, p: u64) -> u64 {
        1 + key(self.seed(), Stream::Variant, p) / 20 % 3
    }

    /// Price of a variant in units of 10⁻⁴ (log-normal per department, rounded to .99 or .00).
    pub fn variant_price(&self, t: &Tenant, p: u64, v: u64) -> i64 {
        let dept = &DEPARTMENTS[self.category_department(t, self.product_category(t, p))];
        let h = key(self.seed(), Stream::Product, p) ^ 5;
        let base =
            crate::distribution::log_normal(unit(h), unit(mix(h)), dept.median_cents, dept.sigma);
        let cents = (base * (1.0 + 0.1 * v as f64)).clamp(99.0, 5_000_000.0) as i64;
        let cents = if h % 3 == 0 {
            cents / 100 * 100
        } else {
            cents / 100 * 100 + 99
        };
        cents * 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Scale;

    pub fn tiny() -> Model {
        Model::new(SeedConfig {
            profile: Profile::of(Scale::Tiny),
            seed: 42,
            as_of_us: 1_764_547_200_000_000,
            images: 8,
            image_base: "s3://shopbench-images".into(),
            product_zipf: PRODUCT_ZIPF,
        })
    }

    #[test]
    fn orders_add_up_and_users_own_ranges() {
        let m = tiny();
        let users = m.profile().users;
        assert_eq!(m.user_orders(users - 1).end, m.profile().orders);
        for o in [0, 1, 777, m.profile().orders - 1] {
            let u = m.user_of_order(o);
            assert!(m.user_orders(u).contains(&o));
        }
    }

    #[test]
    fn uuid7_carries_the_time() {
        let id = uuid7(1_700_000_000_123, 99);
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(secs * 1000 + nanos as u64 / 1_000_000, 1_700_000_000_123);
    }

    #[test]
    fn tenants_are_skewed_and_cover_everything() {
        let m = tiny();
        let t = &m.tenants;
        assert!(t[0].users > t[t.len() - 1].users * 3);
        assert_eq!(t.iter().map(|t| t.users).sum::<u64>(), m.profile().users);
        assert_eq!(
            t.iter().map(|t| t.products).sum::<u64>(),
            m.profile().products
        );
        let last = &t[t.len() - 1];
        assert_eq!(m.tenant_of_user(m.profile().users - 1).index, last.index);
        // The popularity permutation is a bijection.
        let first = &t[0];
        let mut seen: Vec<u64> = (0..first.products)
            .map(|r| m.product_by_rank(first, r))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len() as u64, first.products);
    }
}
