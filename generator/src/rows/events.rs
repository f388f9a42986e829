//! Behavioural events and page views kept in PostgreSQL (the last 90 days). Event `i` of `n`
//! happens at the i-th quantile of the traffic curve, so events are in time order by index and a
//! chunk fills one stretch of a monthly partition.

use super::{Batch, Table};
use crate::model::{uuid7, Model, Tenant};
use crate::rng::{key, mix, unit, Stream};
use crate::rows::catalog::zipf_word;
use crate::timeline::Timeline;
use crate::vocab::EVENT_TYPES;

pub const EVENT_TABLES: &[Table] = &[Table::Events];
pub const PAGE_VIEW_TABLES: &[Table] = &[Table::PageViews];

/// Who did something: a customer drawn uniformly (so tenants weigh by their size), or an
/// anonymous visitor (30%).
pub struct Actor<'a> {
    pub tenant: &'a Tenant,
    pub user: Option<u64>,
    pub session: uuid::Uuid,
    pub product: u64,
}

pub fn actor<'a>(m: &'a Model, h: u64) -> Actor<'a> {
    let u = h % m.profile().users;
    let tenant = m.tenant_of_user(u);
    let mut rng = crate::rng::Draw::new(mix(h ^ 77));
    let product = m.product_by_rank(tenant, tenant.zipf.sample(&mut rng));
    Actor {
        tenant,
        user: (mix(h) % 10 >= 3).then_some(u),
        session: uuid7(0, mix(h ^ 0x5e55)),
        product,
    }
}

/// The instant of item `i` of `n` spread over `timeline`, in whole milliseconds.
pub fn instant(timeline: &Timeline, i: u64, n: u64) -> i64 {
    timeline.at((i as f64 + 0.5) / n as f64) / 1000 * 1000
}

pub fn event_type(h: u64) -> &'static str {
    EVENT_TYPES[zipf_word(EVENT_TYPES.len(), unit(mix(h ^ 3)))]
}

pub fn events(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let n = m.profile().pg_events;
    let b = batch.buffer(Table::Events);
    for i in range {
        let h = key(m.seed(), Stream::Event, i);
        let a = actor(m, h);
        let at = instant(&m.pg_events, i, n);
        let kind = event_type(h);
        let data = if kind.starts_with("product")
            || kind.starts_with("cart")
            || kind.starts_with("wishlist")
        {
            format!(r#"{{"product_id": "{}"}}"#, m.product_id(a.product))
        } else if kind == "search.query" {
            format!(
                r#"{{"terms": "{}"}}"#,
                crate::vocab::ADJECTIVES[zipf_word(crate::vocab::ADJECTIVES.len(), unit(h))]
            )
        } else {
            "{}".to_string()
        };
        b.row(7)
            .uuid(a.tenant.id)
            .uuid(uuid7(at / 1000, h))
            .opt_uuid(a.user.map(|u| m.user_id(u)))
            .uuid(a.session)
            .text(kind)
            .jsonb(&data)
            .ts_us(at);
    }
}

pub fn page_views(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let n = m.profile().pg_page_views;
    let b = batch.buffer(Table::PageViews);
    for i in range {
        let h = key(m.seed(), Stream::PageView, i);
        let a = actor(m, h);
        let at = instant(&m.pg_events, i, n);
        let pid = m.product_id(a.product);
        b.row(10)
            .uuid(a.tenant.id)
            .uuid(uuid7(at / 1000, h))
            .opt_uuid(a.user.map(|u| m.user_id(u)))
            .uuid(a.session)
            .text(&format!("/products/{pid}"))
            .text("Product")
            .opt_text((h % 3 == 0).then_some("https://www.google.com/"))
            .text(&m.pools.user_agents[(h % 64) as usize])
            .inet4([198, 51, (h >> 8) as u8 % 100, (h >> 16) as u8 | 1])
            .ts_us(at);
    }
}
