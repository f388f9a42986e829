//! The distributions against the model's calibrated parameters: tenant skew, items per order,
//! declines, cancellations and returns, the holiday season's days, the evening peak, abandoned
//! carts and product popularity, each with its source (calibration.rs).

use sqlx::{PgPool, Row};

use super::{scalar_f64, scalar_i64, share_ok, Report};
use crate::calibration::{self as cal, source_of};
use crate::distribution::{mean, ITEMS_PER_ORDER};
use crate::error::{db, Result};
use crate::lifecycle;
use crate::load::clickhouse::Target;
use crate::model::Model;

/// Orders, at least one (a denominator).
async fn orders(pool: &PgPool) -> Result<f64> {
    Ok(scalar_i64(pool, "SELECT count(*) FROM shop.orders")
        .await?
        .max(1) as f64)
}

/// The largest tenants' share of customers (exact) and of orders (customers' share, give or
/// take the Pareto tail of heavy buyers).
pub(super) async fn tenant_share(m: &Model, pool: &PgPool) -> Result<Report> {
    let mut r = Report::default();
    let orders = orders(pool).await?;
    let top_n = (m.tenants.len() as f64 / 10.0).ceil() as usize;
    let expected_top: f64 = m.tenants.iter().take(top_n).map(|t| t.users).sum::<u64>() as f64
        / m.profile().users as f64;
    let top_ids: Vec<uuid::Uuid> = m.tenants.iter().take(top_n).map(|t| t.id).collect();
    let top_users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shop.users WHERE tenant_id = ANY($1)")
            .bind(&top_ids)
            .fetch_one(pool)
            .await
            .map_err(db("verify: tenant share"))?;
    let top_share = top_users as f64 / m.profile().users as f64;
    r.add(
        format!("top 10% of tenants ({top_n}) hold their share of customers"),
        (top_share - expected_top).abs() < 1e-9,
        format!(
            "{:.1}% (model {:.1}%)",
            100.0 * top_share,
            100.0 * expected_top
        ),
    );
    let top_orders: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shop.orders WHERE tenant_id = ANY($1)")
            .bind(&top_ids)
            .fetch_one(pool)
            .await
            .map_err(db("verify: tenant order share"))?;
    let order_share = top_orders as f64 / orders;
    r.add(
        "top 10% of tenants: their share of orders",
        (order_share - expected_top).abs() <= 0.15,
        format!(
            "{:.1}% (model: their customers' share, {:.1}%)",
            100.0 * order_share,
            100.0 * expected_top
        ),
    );
    Ok(r)
}

pub(super) async fn items_per_order(pool: &PgPool) -> Result<Report> {
    let orders = orders(pool).await?;
    let items = scalar_f64(pool, "SELECT avg(n)::float8 FROM (SELECT count(*) AS n FROM shop.order_items GROUP BY tenant_id, order_id) x").await?;
    let expected_items = mean(&ITEMS_PER_ORDER);
    let sd = 1.3;
    let mut r = Report::default();
    r.add(
        "items per order",
        (items - expected_items).abs() <= 5.0 * sd / orders.sqrt() + 0.05,
        format!("{items:.2} (model {expected_items:.2})"),
    );
    Ok(r)
}

/// `created_at < to_timestamp(…)` for rows older than `days` before the seed's end.
fn older_than(m: &Model, days: i64) -> String {
    format!(
        "created_at < to_timestamp({})",
        (m.config.as_of_us - days * crate::model::DAY_US) / 1_000_000
    )
}

/// Orders matching `filter` (at least 1, a denominator).
async fn count_orders(pool: &PgPool, filter: &str) -> Result<f64> {
    Ok(scalar_i64(
        pool,
        &format!("SELECT count(*) FROM shop.orders WHERE {filter}"),
    )
    .await?
    .max(1) as f64)
}

/// First payment attempts declined.
pub(super) async fn declines(pool: &PgPool) -> Result<Report> {
    let mut r = Report::default();
    let payments = scalar_i64(pool, "SELECT count(*) FROM shop.payments")
        .await?
        .max(1) as f64;
    let first_attempts_declined = scalar_f64(pool,
        "SELECT (count(*) FILTER (WHERE status = 'failed'))::float8 / greatest(count(*), 1) FROM \
           (SELECT DISTINCT ON (tenant_id, order_id) status FROM shop.payments ORDER BY tenant_id, order_id, created_at) first").await?;
    r.sourced(
        "first payment attempts declined",
        share_ok(first_attempts_declined, lifecycle::DECLINE_RATE, payments),
        format!(
            "{:.1}% (model {:.1}%)",
            100.0 * first_attempts_declined,
            100.0 * lifecycle::DECLINE_RATE
        ),
        source_of("first payment attempts declined"),
    );
    Ok(r)
}

/// Cancellations and returns of orders old enough to have run their course.
pub(super) async fn lifecycle_checks(m: &Model, pool: &PgPool) -> Result<Report> {
    let mut r = Report::default();
    let old = older_than(m, 90);
    let old_orders = count_orders(pool, &old).await?;
    let cancelled = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE status = 'cancelled'))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {old}")).await?;
    let retry = lifecycle::RETRY_DECLINE_RATE;
    let expected_cancel = lifecycle::CANCEL_RATE * (1.0 - lifecycle::DECLINE_RATE * retry * retry)
        + lifecycle::DECLINE_RATE * retry * retry;
    r.sourced(
        "orders older than 90 days cancelled",
        share_ok(cancelled, expected_cancel, old_orders),
        format!(
            "{:.2}% (model {:.2}%)",
            100.0 * cancelled,
            100.0 * expected_cancel
        ),
        source_of("orders cancelled after payment"),
    );
    // Returns: orders placed in the holiday season are returned HOLIDAY_RETURN_FACTOR as often.
    let season_share = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE extract(month FROM created_at AT TIME ZONE 'UTC') >= 11))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {old}")).await?;
    let season = 1.0 + (lifecycle::HOLIDAY_RETURN_FACTOR - 1.0) * season_share;
    let refunded = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE status = 'refunded'))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {old}")).await?;
    let expected_refund = lifecycle::REFUND_RATE * season * (1.0 - expected_cancel);
    r.sourced(
        "orders older than 90 days refunded in full",
        share_ok(refunded, expected_refund, old_orders),
        format!(
            "{:.2}% (model {:.2}%, {:.1}% of them placed in a holiday season)",
            100.0 * refunded,
            100.0 * expected_refund,
            100.0 * season_share
        ),
        source_of("delivered orders returned in full"),
    );
    // The returned share of sales value: refunds over captures of the old orders' payments. The
    // tolerance widens with the spread of order values (a value-weighted share).
    let row = sqlx::query(&format!(
        "SELECT coalesce(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0)::float8 AS refunded, \
                coalesce(sum(t.amount) FILTER (WHERE t.transaction_type = 'capture'), 0)::float8 AS captured, \
                (SELECT count(*) FROM shop.payments p WHERE p.order_{old} AND p.status IN ('captured', 'refunded', 'partially_refunded', 'charged_back'))::float8 AS n, \
                (SELECT coalesce(stddev(amount) / nullif(avg(amount), 0), 0) FROM shop.payments p WHERE p.order_{old} AND p.status IN ('captured', 'refunded', 'partially_refunded', 'charged_back'))::float8 AS cv \
           FROM shop.payment_transactions t JOIN shop.payments p ON (p.tenant_id, p.id) = (t.tenant_id, t.payment_id) \
          WHERE p.order_{old} AND t.status = 'succeeded'"
    ))
    .fetch_one(pool)
    .await
    .map_err(db("verify: returned share of sales"))?;
    let (refunded_value, captured_value, n, cv): (f64, f64, f64, f64) = (
        row.get("refunded"),
        row.get("captured"),
        row.get("n"),
        row.get("cv"),
    );
    let share = refunded_value / captured_value.max(1.0);
    let expected = cal::RETURNED_VALUE_SHARE;
    // The model is calibrated to the figure within a point (lifecycle.rs test), plus sampling.
    let tolerance =
        0.01 + 5.0 * (expected * (1.0 - expected) * (1.0 + cv * cv) / n.max(1.0)).sqrt();
    r.sourced(
        "returned share of sales (orders older than 90 days)",
        (share - expected).abs() <= tolerance,
        format!(
            "{:.1}% of captured value refunded (published {:.1}%, tolerance ±{:.1} points)",
            100.0 * share,
            100.0 * expected,
            100.0 * tolerance
        ),
        source_of("returned share of sales"),
    );
    let stale = scalar_i64(pool, &format!("SELECT count(*) FROM shop.orders WHERE {old} AND status IN ('pending', 'paid', 'processing')")).await?;
    r.add(
        "old orders are not left pending",
        stale == 0,
        format!("{stale} old orders pending, paid or processing"),
    );
    Ok(r)
}

/// Orders per day of the holiday season against ordinary October days, pooled over every season
/// in the history, and the evening peak's share of orders.
pub(super) async fn calendar_checks(m: &Model, pool: &PgPool) -> Result<Report> {
    let mut r = Report::default();
    use chrono::{Datelike, NaiveDate};
    let first = chrono::DateTime::from_timestamp_micros(m.history.start_us())
        .expect("valid time")
        .date_naive();
    let last = chrono::DateTime::from_timestamp_micros(m.config.as_of_us)
        .expect("valid time")
        .date_naive();
    let day_us = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_micros()
    };
    // The model's weight of a day: the sum of its hours' weights.
    let weight = |d: NaiveDate| -> f64 {
        let h0 = ((day_us(d) - m.history.start_us()) / 3_600_000_000) as usize;
        (h0..h0 + 24).map(|h| m.history.hour_weight(h)).sum()
    };
    let mut named: Vec<(&str, &str, Vec<NaiveDate>)> = vec![
        ("Cyber Monday", "Cyber Monday (the peak day)", vec![]),
        ("Black Friday", "Black Friday", vec![]),
        ("Thanksgiving", "Thanksgiving", vec![]),
    ];
    let mut october = Vec::new();
    for year in first.year()..=last.year() {
        let week = crate::timeline::CyberWeek::of(year);
        // Four whole weeks of October (every weekday the same number of times), all in the history.
        let oct: Vec<NaiveDate> = (0..28)
            .map(|d| {
                NaiveDate::from_ymd_opt(year, 10, 4).expect("date") + chrono::Duration::days(d)
            })
            .collect();
        if oct[0] <= first || week.cyber_monday >= last {
            continue;
        }
        october.extend(oct);
        named[0].2.push(week.cyber_monday);
        named[1].2.push(week.black_friday);
        named[2].2.push(week.thanksgiving);
    }
    if october.is_empty() {
        r.add(
            "holiday season days",
            true,
            "no whole season in the history: nothing to compare",
        );
    } else {
        let count_days = |days: &[NaiveDate]| -> String {
            days.iter()
                .map(|d| {
                    format!(
                        "(created_at >= to_timestamp({}) AND created_at < to_timestamp({}))",
                        day_us(*d) / 1_000_000,
                        day_us(*d) / 1_000_000 + 86_400
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let ordinary = scalar_i64(
            pool,
            &format!(
                "SELECT count(*) FROM shop.orders WHERE {}",
                count_days(&october)
            ),
        )
        .await? as f64;
        let ordinary_weight: f64 = october.iter().map(|d| weight(*d)).sum();
        let ordinary_expected = expected_orders(m, &october);
        for (label, parameter, days) in &named {
            let observed = scalar_i64(
                pool,
                &format!(
                    "SELECT count(*) FROM shop.orders WHERE {}",
                    count_days(days)
                ),
            )
            .await? as f64;
            let days_weight: f64 = days.iter().map(|d| weight(*d)).sum();
            // Per day against October's mean day; what the model expects (the traffic curve, and
            // customers who signed up since October buying too); the traffic curve alone.
            let per_day = |n: f64, days: usize| n / days as f64;
            let ratio = per_day(observed, days.len()) / per_day(ordinary, october.len()).max(1e-9);
            let expected = per_day(expected_orders(m, days), days.len())
                / per_day(ordinary_expected, october.len());
            let curve = per_day(days_weight, days.len()) / per_day(ordinary_weight, october.len());
            // Both counts are Poisson: the ratio's relative error is sqrt(1/a + 1/b).
            let rel = (1.0 / observed.max(1.0) + 1.0 / ordinary.max(1.0)).sqrt();
            r.sourced(
                format!("{label}: orders against an October day"),
                (ratio / expected - 1.0).abs() <= 5.0 * rel + 0.02,
                format!(
                    "{ratio:.2}× ({observed:.0} orders over {} seasons; model {expected:.2}×, the traffic curve alone {curve:.2}×)",
                    days.len()
                ),
                source_of(parameter),
            );
        }
    }

    // The evening peak: the share of orders placed 20:00–22:00 against the model's.
    let (a, b) = cal::EVENING_PEAK_HOURS;
    let mut peak_weight = 0.0;
    let mut all_weight = 0.0;
    for h in 0..m.history.hours() {
        let w = m.history.hour_weight(h);
        let hour = (h + (m.history.start_us() / 3_600_000_000) as usize) % 24;
        all_weight += w;
        if (a..b).contains(&hour) {
            peak_weight += w;
        }
    }
    let expected = peak_weight / all_weight;
    let seeded = older_than(m, 0);
    let orders = count_orders(pool, &seeded).await?;
    let share = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE extract(hour FROM created_at AT TIME ZONE 'UTC') >= {a} AND extract(hour FROM created_at AT TIME ZONE 'UTC') < {b}))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {seeded}")).await?;
    let per_hour_mean = 1.0 / 24.0;
    r.sourced(
        format!("evening peak {a}:00–{b}:00 share of orders"),
        share_ok(share, expected, orders),
        format!(
            "{:.2}% = {:.2}× the day's mean rate (model {:.2}%, {:.2}×)",
            100.0 * share,
            share / (b - a) as f64 / per_hour_mean,
            100.0 * expected,
            expected / (b - a) as f64 / per_hour_mean
        ),
        source_of("evening peak, 20:00–22:00"),
    );
    Ok(r)
}

/// The expected number of orders placed on `days`: each customer's orders are drawn from the
/// traffic curve after their sign-up, so a day's expectation is the sum over customers of their
/// order count times that day's share of the curve after their sign-up.
fn expected_orders(m: &Model, days: &[chrono::NaiveDate]) -> f64 {
    let bounds: Vec<(i64, i64)> = days
        .iter()
        .map(|d| {
            let start = d
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_micros();
            (start, start + crate::model::DAY_US)
        })
        .collect();
    let mut total = 0.0;
    for u in 0..m.profile().users {
        let n = m.user_orders(u).count() as f64;
        if n == 0.0 {
            continue;
        }
        let created = m.user_created_us(u);
        let before = m.history.cdf(created);
        let remaining = 1.0 - before;
        if remaining <= 0.0 {
            continue;
        }
        for &(a, b) in &bounds {
            if b <= created {
                continue;
            }
            let share = m.history.cdf(b) - m.history.cdf(a.max(created));
            total += n * share / remaining;
        }
    }
    total
}

/// The share of `carts` that never reached an order, in `store`'s events, against the model's.
fn abandonment(r: &mut Report, store: &str, carts: u64, ordered: u64, source: &'static str) {
    let share = 1.0 - ordered as f64 / (carts as f64).max(1.0);
    r.sourced(
        format!("carts abandoned ({store} events)"),
        share_ok(share, cal::CART_ABANDONMENT, carts as f64),
        format!(
            "{:.1}% of {carts} carts without an order (model {:.1}%)",
            100.0 * share,
            100.0 * cal::CART_ABANDONMENT
        ),
        source,
    );
}

/// Abandoned carts: sessions with a cart and no checkout, in ClickHouse (with their page views)
/// and in PostgreSQL's events.
pub(super) async fn cart_checks(
    m: &Model,
    pool: &PgPool,
    clickhouse: Option<&Target>,
) -> Result<Report> {
    let mut r = Report::default();
    let source = source_of("carts abandoned");
    let as_of_s = m.config.as_of_us / 1_000_000;
    let row = sqlx::query(&format!(
        "SELECT count(*) FILTER (WHERE cart) AS carts, count(*) FILTER (WHERE cart AND ordered) AS ordered \
           FROM (SELECT session_id, bool_or(event_type = 'cart.add') AS cart, bool_or(event_type = 'checkout.complete') AS ordered \
                   FROM shop.events WHERE created_at < to_timestamp({as_of_s}) GROUP BY session_id) s"
    ))
    .fetch_one(pool)
    .await
    .map_err(db("verify: carts in the events"))?;
    let (carts, ordered): (i64, i64) = (row.get("carts"), row.get("ordered"));
    abandonment(&mut r, "PostgreSQL", carts as u64, ordered as u64, source);
    if let Some(t) = clickhouse {
        let (carts, ordered, abandoned, with_views) =
            crate::load::clickhouse::carts(t, as_of_s).await?;
        abandonment(&mut r, "ClickHouse", carts, ordered, source);
        r.add(
            "abandoned carts leave page views (ClickHouse)",
            with_views == abandoned,
            format!("{with_views} of {abandoned} abandoned carts' sessions have page views"),
        );
    }
    Ok(r)
}

/// Product popularity in the largest tenant: the share of order lines on the top 1% of ranks
/// against Zipf with the seed's θ.
pub(super) async fn popularity_check(m: &Model, pool: &PgPool) -> Result<Report> {
    let mut r = Report::default();
    let t = &m.tenants[0];
    let theta = m.config.product_zipf;
    let k = (t.products / 100).max(1);
    let h = |n: u64| (1..=n).map(|i| (i as f64).powf(-theta)).sum::<f64>();
    let expected_top_products = h(k) / h(t.products);
    let top_products: Vec<uuid::Uuid> = (0..k)
        .map(|r| m.product_id(m.product_by_rank(t, r)))
        .collect();
    let row = sqlx::query(
        "SELECT count(*) FILTER (WHERE product_id = ANY($2)) AS top, count(*) AS all_items FROM shop.order_items WHERE tenant_id = $1",
    )
    .bind(t.id)
    .bind(&top_products)
    .fetch_one(pool)
    .await
    .map_err(db("verify: product popularity"))?;
    let (top, all): (i64, i64) = (row.get("top"), row.get("all_items"));
    let observed = top as f64 / all.max(1) as f64;
    // Distinct products per order make the top ranks slightly less frequent than independent draws.
    r.sourced(
        format!("top 1% of products ({k}) in the largest tenant"),
        observed <= expected_top_products + 0.02 && observed >= expected_top_products * 0.7 - 0.02,
        format!(
            "{:.1}% of its order lines (Zipf θ {theta:.2}: {:.1}%)",
            100.0 * observed,
            100.0 * expected_top_products
        ),
        source_of("product popularity exponent θ (default; seed --product-zipf)"),
    );
    Ok(r)
}
