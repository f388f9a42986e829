//! Customers and everything personal about them: data keys, roles, addresses, preferences,
//! sessions. Personal fields are sealed with the user's own data key (AES-256-GCM) and the key is
//! stored wrapped by the key-encryption key; erased users (GDPR) keep their ciphertexts but lose
//! their key and lookup hashes.

use super::{Batch, Table};
use crate::model::{uuid7, Model, DAY_US};
use crate::rng::{key, mix, Stream};

pub const TABLES: &[Table] = &[
    Table::Users,
    Table::UserDataKeys,
    Table::TenantUsers,
    Table::UserAddresses,
    Table::UserPreferences,
    Table::UserSessions,
];

/// Nonce of a sealed field: a column tag and the row's index within the user's data (unique per
/// data key, since each user has their own key).
pub fn nonce(column: u8, index: u64) -> [u8; platform::crypto::NONCE_LEN] {
    let mut n = [0u8; platform::crypto::NONCE_LEN];
    n[0] = column;
    n[4..].copy_from_slice(&index.to_be_bytes());
    n
}

/// Share of users erased under GDPR (1 in 200), and inactive (1 in 50).
pub fn is_erased(h: u64) -> bool {
    h % 200 == 0
}

pub fn addresses(h: u64) -> u64 {
    match mix(h) % 20 {
        0..=13 => 1,
        14..=18 => 2,
        _ => 3,
    }
}

pub fn sessions(h: u64) -> u64 {
    mix(h ^ 5) % 4
}

/// The customer's email (plaintext, before sealing): unique within the tenant.
pub fn email(m: &Model, u: u64) -> String {
    let h = key(m.seed(), Stream::User, u);
    let first = &m.pools.first_names[(h % 2048) as usize];
    let last = &m.pools.last_names[(h / 2048 % 2048) as usize];
    format!(
        "{}.{}{}@example.com",
        first.to_lowercase(),
        last.to_lowercase(),
        u
    )
    .replace([' ', '\''], "")
}

fn country(currency: &str) -> &'static str {
    match currency {
        "EUR" => "DE",
        "GBP" => "GB",
        "CAD" => "CA",
        _ => "US",
    }
}

pub fn users(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let as_of = m.config.as_of_us;
    let mut buf = String::new();
    for u in range {
        let t = m.tenant_of_user(u);
        let h = key(m.seed(), Stream::User, u);
        let id = m.user_id(u);
        let created = m.user_created_us(u);
        let dk = m.data_key(u);
        let erased = is_erased(h);
        let status = if erased {
            "erased"
        } else if h % 50 == 1 {
            "inactive"
        } else {
            "active"
        };
        let first = &m.pools.first_names[(h % 2048) as usize];
        let last = &m.pools.last_names[(h / 2048 % 2048) as usize];
        let email = email(m, u);
        let phone = format!("+1555{:07}", mix(h) % 10_000_000);
        let dob = format!(
            "{}-{:02}-{:02}",
            1950 + h % 55,
            1 + h / 7 % 12,
            1 + h / 91 % 28
        );
        let seal = |col: u8, idx: u64, text: &str, ctx: &[u8]| {
            dk.encrypt_with_nonce(nonce(col, idx), text.as_bytes(), ctx)
        };
        let email_hash = platform::crypto::lookup_hash(&m.lookup_secret, &email);
        let phone_hash = platform::crypto::lookup_hash(&m.lookup_secret, &phone);
        let last_login = created + (mix(h ^ 9) % (as_of - created).max(1) as u64) as i64;
        super::token("$argon2id$v=19$m=19456,t=2,p=1$", mix(h ^ 13), &mut buf);
        let erased_at = erased.then(|| last_login + (as_of - last_login) / 2);
        users_row(
            batch.buffer(Table::Users),
            t.id,
            id,
            &seal(1, 0, &email, b"users.email"),
            (!erased).then_some(&email_hash[..]),
            &buf,
            &seal(2, 0, first, b"users.first_name"),
            &seal(3, 0, last, b"users.last_name"),
            (!erased).then_some(&phone_hash[..]),
            &seal(4, 0, &phone, b"users.phone"),
            &seal(5, 0, &dob, b"users.date_of_birth"),
            status,
            h % 10 != 0,
            h % 3 == 0,
            created,
            erased_at.unwrap_or(last_login),
            Some(last_login),
            erased_at,
            match h % 3 {
                0 => r#"{"signup_source": "web"}"#,
                1 => r#"{"signup_source": "app"}"#,
                _ => r#"{"signup_source": "import"}"#,
            },
        );
        if !erased {
            batch
                .buffer(Table::UserDataKeys)
                .row(5)
                .uuid(t.id)
                .uuid(id)
                .bytea(&m.kek.wrap_with_nonce(nonce(0, u), &dk))
                .text(&m.kek.id)
                .ts_us(created);
        }
        let local = u - t.user_start;
        let role = match local {
            0 => "owner",
            1 => "admin",
            2 | 3 => "staff",
            _ => "user",
        };
        batch
            .buffer(Table::TenantUsers)
            .row(6)
            .uuid(t.id)
            .uuid(uuid7(created / 1000, h ^ 21))
            .uuid(id)
            .text(role)
            .jsonb(if role == "user" {
                "{}"
            } else {
                r#"{"orders": "rw", "catalog": "rw"}"#
            })
            .ts_us(created);
        for k in 0..addresses(h) {
            let ah = key(m.seed(), Stream::Address, u * 4 + k);
            let kind = if k == 1 { "billing" } else { "shipping" };
            let pools = &m.pools;
            let street = &pools.streets[(ah % 2048) as usize];
            let city = &pools.cities[(ah / 2048 % 2048) as usize];
            let state = &pools.states[(ah / 4096 % 2048) as usize];
            let zip = &pools.zips[(ah / 8192 % 2048) as usize];
            let base = 16 + k * 16;
            let b = batch.buffer(Table::UserAddresses);
            b.row(18)
                .uuid(t.id)
                .uuid(uuid7(created / 1000, ah))
                .uuid(id)
                .text(kind)
                .bool(k < 2)
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base),
                    first.as_bytes(),
                    b"user_addresses.first_name",
                ))
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base + 1),
                    last.as_bytes(),
                    b"user_addresses.last_name",
                ))
                .null()
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base + 2),
                    street.as_bytes(),
                    b"user_addresses.address_line_1",
                ))
                .null()
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base + 3),
                    city.as_bytes(),
                    b"user_addresses.city",
                ))
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base + 4),
                    state.as_bytes(),
                    b"user_addresses.state",
                ))
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base + 5),
                    zip.as_bytes(),
                    b"user_addresses.postal_code",
                ))
                .text(country(t.currency))
                .opt_bytea((!erased).then_some(&phone_hash[..]))
                .bytea(&dk.encrypt_with_nonce(
                    nonce(6, base + 6),
                    phone.as_bytes(),
                    b"user_addresses.phone",
                ))
                .ts_us(created)
                .ts_us(created);
        }
        let lang = match t.currency {
            "EUR" => "de",
            "CAD" if h % 3 == 0 => "fr-CA",
            _ => "en",
        };
        batch
            .buffer(Table::UserPreferences)
            .row(10)
            .uuid(t.id)
            .uuid(uuid7(created / 1000, h ^ 31))
            .uuid(id)
            .text(t.currency)
            .text(lang)
            .text("UTC")
            .jsonb(if h % 4 == 0 {
                r#"{"email": false, "sms": false}"#
            } else {
                r#"{"email": true, "sms": false}"#
            })
            .jsonb(r#"{"marketing": false, "analytics": true}"#)
            .ts_us(created)
            .ts_us(created);
        if !erased {
            for s in 0..sessions(h) {
                let sh = key(m.seed(), Stream::Session, u * 4 + s);
                let start = created + (sh % (as_of - created).max(1) as u64) as i64;
                let mut token = [0u8; 32];
                for (i, c) in token.chunks_mut(8).enumerate() {
                    c.copy_from_slice(&mix(sh ^ i as u64).to_be_bytes());
                }
                let ua = &m.pools.user_agents[(sh % 64) as usize];
                batch
                    .buffer(Table::UserSessions)
                    .row(10)
                    .uuid(t.id)
                    .uuid(uuid7(start / 1000, sh))
                    .uuid(id)
                    .bytea(&token)
                    .jsonb(if sh % 2 == 0 {
                        r#"{"device": "mobile"}"#
                    } else {
                        r#"{"device": "desktop"}"#
                    })
                    .inet4([10, (sh >> 8) as u8, (sh >> 16) as u8, (sh >> 24) as u8 | 1])
                    .text(ua)
                    .ts_us(start + 30 * DAY_US)
                    .ts_us(start)
                    .ts_us(start + (sh >> 32) as i64 % DAY_US);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn users_row(
    b: &mut crate::copy::CopyBuffer,
    tenant: uuid::Uuid,
    id: uuid::Uuid,
    email: &[u8],
    email_hash: Option<&[u8]>,
    password_hash: &str,
    first: &[u8],
    last: &[u8],
    phone: Option<&[u8]>,
    encrypted_phone: &[u8],
    dob: &[u8],
    status: &str,
    email_verified: bool,
    phone_verified: bool,
    created: i64,
    updated: i64,
    last_login: Option<i64>,
    erased_at: Option<i64>,
    metadata: &str,
) {
    b.row(18)
        .uuid(tenant)
        .uuid(id)
        .bytea(email)
        .opt_bytea(email_hash)
        .text(password_hash)
        .bytea(first)
        .bytea(last)
        .opt_bytea(phone)
        .bytea(encrypted_phone)
        .bytea(dob)
        .text(status)
        .bool(email_verified)
        .bool(phone_verified)
        .ts_us(created)
        .ts_us(updated)
        .opt_ts_us(last_login)
        .opt_ts_us(erased_at)
        .jsonb(metadata);
}
