//! ClickHouse rows (RowBinary through the `clickhouse` crate): the event and page-view firehose
//! of the last 30 days, one chunk per hour, and one sales fact per order line.

use serde::Serialize;
use uuid::Uuid;

use crate::calibration::SESSION_EVENTS;
use crate::model::{uuid7, Model};
use crate::rng::{key, Stream};
use crate::rows::events::{session_of, Visitors};

#[derive(Debug, Clone, Serialize, clickhouse::Row)]
pub struct EventRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub tenant_id: Uuid,
    pub created_at: u32,
    pub event_type: String,
    #[serde(with = "clickhouse::serde::uuid")]
    pub event_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub user_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub session_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub product_id: Uuid,
    pub properties: String,
}

#[derive(Debug, Clone, Serialize, clickhouse::Row)]
pub struct PageViewRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub tenant_id: Uuid,
    pub created_at: u32,
    #[serde(with = "clickhouse::serde::uuid")]
    pub view_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub user_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub session_id: Uuid,
    pub page_url: String,
    pub page_title: String,
    pub referrer: String,
    pub user_agent: String,
    pub ip_address: String,
}

#[derive(Debug, Clone, Serialize, clickhouse::Row)]
pub struct OrderFactRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub tenant_id: Uuid,
    pub created_at: u32,
    #[serde(with = "clickhouse::serde::uuid")]
    pub order_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub order_item_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub user_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub product_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub variant_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub category_id: Uuid,
    pub quantity: u32,
    /// Decimal(18, 4) as its raw Int64
    pub unit_price: i64,
    pub line_total: i64,
    pub currency: [u8; 3],
    pub status: String,
    pub version: u64,
}

/// Events per hour of the 30-day window: the exact total shared by the traffic curve.
pub fn per_hour(m: &Model, total: u64) -> Vec<u64> {
    let tl = &m.ch_events;
    let weights: Vec<f64> = (0..tl.hours()).map(|h| tl.hour_weight(h)).collect();
    crate::distribution::allocate(total, &weights, 0)
}

/// Events `part` (a sub-range of 0..count) of the `count` events of one hour; `first` is the
/// global index of the hour's first event.
pub fn events(
    m: &Model,
    hour: usize,
    first: u64,
    count: u64,
    part: std::ops::Range<u64>,
    out: &mut Vec<EventRow>,
) {
    let start = m.ch_events.hour_start_us(hour) / 1_000_000;
    let mut visitors = Visitors::new(Stream::ChVisit);
    for j in part {
        let i = first + j;
        let h = key(m.seed(), Stream::ChEvent, i);
        let v = visitors.of(m, i / SESSION_EVENTS);
        let at = start + (j * 3600 / count.max(1)) as i64;
        let kind = v.event(i % SESSION_EVENTS, h);
        out.push(EventRow {
            tenant_id: v.tenant.id,
            created_at: at as u32,
            event_type: kind.to_string(),
            event_id: uuid7(at * 1000, h),
            user_id: v.user.unwrap_or(Uuid::nil()),
            session_id: v.session,
            product_id: m.product_id(v.product(m, h)),
            properties: if kind == "checkout.complete" {
                format!(r#"{{"value": {}}}"#, 10 + h % 300)
            } else {
                String::new()
            },
        });
    }
}

pub fn page_views(
    m: &Model,
    hour: usize,
    first: u64,
    count: u64,
    part: std::ops::Range<u64>,
    out: &mut Vec<PageViewRow>,
) {
    let start = m.ch_events.hour_start_us(hour) / 1_000_000;
    let mut visitors = Visitors::new(Stream::ChVisit);
    for j in part {
        let i = first + j;
        let h = key(m.seed(), Stream::ChPageView, i);
        let p = m.profile();
        let v = visitors.of(m, session_of(i, p.ch_page_views, p.ch_events));
        let at = start + (j * 3600 / count.max(1)) as i64;
        let pid = m.product_id(v.product(m, h));
        out.push(PageViewRow {
            tenant_id: v.tenant.id,
            created_at: at as u32,
            view_id: uuid7(at * 1000, h),
            user_id: v.user.unwrap_or(Uuid::nil()),
            session_id: v.session,
            page_url: format!("/products/{pid}"),
            page_title: "Product".to_string(),
            referrer: if h % 3 == 0 {
                "https://www.google.com/"
            } else {
                ""
            }
            .to_string(),
            user_agent: m.pools.user_agents[(h % 64) as usize].clone(),
            ip_address: format!("198.51.{}.{}", (h >> 8) % 100, (h >> 16) as u8 | 1),
        });
    }
}

/// One fact per order line of the orders in `range`.
pub fn order_facts(m: &Model, range: std::ops::Range<u64>, out: &mut Vec<OrderFactRow>) {
    crate::rows::orders::for_each_order(m, range, |o, t| {
        let h = key(m.seed(), Stream::Order, o.index);
        let user_id = m.user_id(o.user);
        let cur = t.currency.as_bytes();
        for (i, item) in o.items.iter().enumerate() {
            out.push(OrderFactRow {
                tenant_id: t.id,
                created_at: (o.created_us / 1_000_000) as u32,
                order_id: o.id,
                order_item_id: uuid7(o.created_us / 1000, h ^ (100 + i as u64)),
                user_id,
                product_id: m.product_id(item.product),
                variant_id: m.variant_id(t, item.product, item.variant),
                category_id: m.category_id(t, m.product_category(t, item.product)),
                quantity: item.quantity as u32,
                unit_price: item.unit_price,
                line_total: item.unit_price * item.quantity as i64,
                currency: [cur[0], cur[1], cur[2]],
                status: o.status.as_str().to_string(),
                version: 1,
            });
        }
    });
}
