//! Behavioural events and page views kept in PostgreSQL (the last 90 days). Event `i` of `n`
//! happens at the i-th quantile of the traffic curve, so events are in time order by index and a
//! chunk fills one stretch of a monthly partition.
//!
//! Events come in sessions: `SESSION_EVENTS` consecutive indexes are one visitor's session, which
//! browses, or puts something in the cart and leaves (an abandoned cart), or checks out. Page
//! views are spread over the same sessions (view `j` of `m` belongs to the session at the same
//! quantile), so an abandoned cart leaves its cart events and page views and no checkout.

use super::{Batch, Table};
use crate::calibration::{
    ANONYMOUS_SESSION_RATE, CART_ABANDONMENT, CART_SESSION_RATE, SESSION_EVENTS,
};
use crate::model::{uuid7, Model, Tenant};
use crate::rng::{key, mix, unit, Stream};
use crate::rows::catalog::zipf_word;
use crate::timeline::Timeline;
use crate::vocab::BROWSE_EVENTS;

pub const EVENT_TABLES: &[Table] = &[Table::Events];
pub const PAGE_VIEW_TABLES: &[Table] = &[Table::PageViews];

/// How a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    /// Views, searches, a wishlist: no cart.
    Browse,
    /// Something in the cart, no order (half of them leave at the checkout).
    Abandoned,
    /// Cart, checkout, order.
    Ordered,
}

impl Journey {
    /// The journey of the session with hash `hs`.
    pub fn of(hs: u64) -> Journey {
        let u = unit(mix(hs ^ 0xca27));
        if u < CART_SESSION_RATE * (1.0 - CART_ABANDONMENT) {
            Journey::Ordered
        } else if u < CART_SESSION_RATE {
            Journey::Abandoned
        } else {
            Journey::Browse
        }
    }

    /// The type of the session's event at `position` (0..SESSION_EVENTS); `h` is the event's own
    /// hash, for the browsing events.
    pub fn event(self, hs: u64, position: u64, h: u64) -> &'static str {
        let last = SESSION_EVENTS - 1;
        match (self, position) {
            (Journey::Browse, _) | (_, 0) => browse_event(h),
            (_, 1) => "cart.add",
            (Journey::Ordered, p) if p == last => "checkout.complete",
            (Journey::Ordered, p) if p == last - 1 => "checkout.start",
            (Journey::Abandoned, p) if p == last - 1 && hs % 2 == 0 => "checkout.start",
            (_, 3) if hs % 3 == 0 => "cart.add",
            (Journey::Abandoned, 4) if hs % 5 == 0 => "cart.remove",
            _ => browse_event(h),
        }
    }
}

/// A browsing event type: product views most often, then searches, categories …
pub fn browse_event(h: u64) -> &'static str {
    BROWSE_EVENTS[zipf_word(BROWSE_EVENTS.len(), unit(mix(h ^ 3)))]
}

/// Who is browsing in a session: a customer drawn uniformly (so tenants weigh by their size), or
/// an anonymous visitor, with the session's id and journey. Consecutive events share a session,
/// so the loops keep the last one (`Visitors`) instead of recomputing it per event.
pub struct Visitor<'a> {
    /// The session's index in its table.
    pub index: u64,
    /// The session's hash (its journey's draws).
    pub hash: u64,
    pub tenant: &'a Tenant,
    /// The signed-in customer's id.
    pub user: Option<uuid::Uuid>,
    pub session: uuid::Uuid,
    pub journey: Journey,
}

impl<'a> Visitor<'a> {
    pub fn new(m: &'a Model, stream: Stream, index: u64) -> Self {
        let hs = key(m.seed(), stream, index);
        let u = hs % m.profile().users;
        Visitor {
            index,
            hash: hs,
            tenant: m.tenant_of_user(u),
            user: (unit(mix(hs)) >= ANONYMOUS_SESSION_RATE).then(|| m.user_id(u)),
            session: uuid7(0, mix(hs ^ 0x5e55)),
            journey: Journey::of(hs),
        }
    }

    /// The product an event with hash `h` is about: by popularity within the tenant.
    pub fn product(&self, m: &Model, h: u64) -> u64 {
        let mut rng = crate::rng::Draw::new(mix(h ^ 77));
        m.product_by_rank(self.tenant, self.tenant.zipf.sample(&mut rng))
    }

    /// The type of this session's event at `position`, with hash `h`.
    pub fn event(&self, position: u64, h: u64) -> &'static str {
        self.journey.event(self.hash, position, h)
    }
}

/// The sessions of one stream, the last one kept.
pub struct Visitors<'a> {
    stream: Stream,
    current: Option<Visitor<'a>>,
}

impl<'a> Visitors<'a> {
    pub fn new(stream: Stream) -> Self {
        Visitors {
            stream,
            current: None,
        }
    }

    /// Session `index`'s visitor.
    pub fn of(&mut self, m: &'a Model, index: u64) -> &Visitor<'a> {
        if self.current.as_ref().is_none_or(|v| v.index != index) {
            self.current = Some(Visitor::new(m, self.stream, index));
        }
        self.current.as_ref().expect("just set")
    }
}

/// The session (index) of item `j` of `m` spread over the sessions of `events` events.
pub fn session_of(j: u64, m: u64, events: u64) -> u64 {
    let sessions = events.div_ceil(SESSION_EVENTS).max(1);
    ((j as u128 * sessions as u128) / m.max(1) as u128) as u64
}

/// The instant of item `i` of `n` spread over `timeline`, in whole milliseconds.
pub fn instant(timeline: &Timeline, i: u64, n: u64) -> i64 {
    timeline.at((i as f64 + 0.5) / n as f64) / 1000 * 1000
}

pub fn events(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let n = m.profile().pg_events;
    let b = batch.buffer(Table::Events);
    let mut visitors = Visitors::new(Stream::Visit);
    for i in range {
        let h = key(m.seed(), Stream::Event, i);
        let v = visitors.of(m, i / SESSION_EVENTS);
        let at = instant(&m.pg_events, i, n);
        let kind = v.event(i % SESSION_EVENTS, h);
        let data = if kind.starts_with("product")
            || kind.starts_with("cart")
            || kind.starts_with("wishlist")
        {
            format!(r#"{{"product_id": "{}"}}"#, m.product_id(v.product(m, h)))
        } else if kind == "search.query" {
            format!(
                r#"{{"terms": "{}"}}"#,
                crate::vocab::ADJECTIVES[zipf_word(crate::vocab::ADJECTIVES.len(), unit(h))]
            )
        } else {
            "{}".to_string()
        };
        b.row(7)
            .uuid(v.tenant.id)
            .uuid(uuid7(at / 1000, h))
            .opt_uuid(v.user)
            .uuid(v.session)
            .text(kind)
            .jsonb(&data)
            .ts_us(at);
    }
}

pub fn page_views(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let n = m.profile().pg_page_views;
    let b = batch.buffer(Table::PageViews);
    let mut visitors = Visitors::new(Stream::Visit);
    for i in range {
        let h = key(m.seed(), Stream::PageView, i);
        let v = visitors.of(m, session_of(i, n, m.profile().pg_events));
        let at = instant(&m.pg_events, i, n);
        let pid = m.product_id(v.product(m, h));
        b.row(10)
            .uuid(v.tenant.id)
            .uuid(uuid7(at / 1000, h))
            .opt_uuid(v.user)
            .uuid(v.session)
            .text(&format!("/products/{pid}"))
            .text("Product")
            .opt_text((h % 3 == 0).then_some("https://www.google.com/"))
            .text(&m.pools.user_agents[(h % 64) as usize])
            .inet4([198, 51, (h >> 8) as u8 % 100, (h >> 16) as u8 | 1])
            .ts_us(at);
    }
}
