//! Every parameter of the data model in one place: its value, its unit and where it comes from (a
//! published figure, a figure derived from published ones, the specification, or an assumption and
//! why). The generator reads its constants from here; `parameters()` lists them for the README's
//! table (kept equal to it by `tests/calibration.rs`) and `verify` prints the source beside each
//! distribution it checks.
//!
//! Sources were read on 2026-12-05 through the pages named; where only secondary reports of a
//! figure could be found, the source says so.

use std::fmt;

use crate::distribution::mean;

// ---- Traffic over time (timeline.rs) ----

/// Total growth of traffic from the first to the last hour of the 3-year history.
pub const GROWTH: f64 = 2.5;

/// Relative traffic per hour of day (UTC stands for the stores' local time): quiet nights and an
/// evening peak whose two hours 20:00–22:00 run at 1.71× the day's mean rate (Adobe, Cyber Monday
/// 2024: $15.8M a minute at 8–10 pm against $13.3B / 1,440 minutes = $9.24M).
pub const DAILY: [f64; 24] = [
    0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.55, 0.75, 0.9, 1.0, 1.05, 1.1, 1.05, 1.0, 1.0, 1.05,
    1.15, 1.3, 1.45, 1.4, 1.355, 1.0, 0.6,
];
/// The evening peak's hours (start, end exclusive) and the published ratio they are set to.
pub const EVENING_PEAK_HOURS: (usize, usize) = (20, 22);
pub const EVENING_PEAK_RATIO: f64 = 15.8e6 / (13.3e9 / 1440.0);

/// Relative traffic per weekday, Monday first (normalised to a mean of 1 where used).
pub const WEEKLY: [f64; 7] = [1.0, 0.96, 0.97, 1.0, 1.07, 1.12, 1.1];

/// Adobe's 2024 US holiday season (Nov 1 – Dec 31): $240.8B over 61 days.
const SEASON_DAILY_USD: f64 = 240.8e9 / 61.0;
/// The season's average day against an ordinary day: Adobe's season average ($3.95B) over the
/// Census Bureau's not seasonally adjusted Q1 2024 e-commerce ($268.1B over 91 days, $2.95B).
pub const SEASON_LEVEL: f64 = SEASON_DAILY_USD / (268.1e9 / 91.0);
/// Named days against the season's average day (Adobe 2024): Thanksgiving $6.1B, Black Friday
/// $10.8B, the weekend between $10.9B for two days, Cyber Monday $13.3B.
pub const THANKSGIVING: f64 = 6.1e9 / SEASON_DAILY_USD;
pub const BLACK_FRIDAY: f64 = 10.8e9 / SEASON_DAILY_USD;
pub const CYBER_WEEKEND: f64 = 10.9e9 / 2.0 / SEASON_DAILY_USD;
pub const CYBER_MONDAY: f64 = 13.3e9 / SEASON_DAILY_USD;
/// Christmas Eve to Boxing Day and New Year's Day against an ordinary day.
pub const QUIET_DAYS: f64 = 0.6;
/// A mid-July sale (July 11–12) against an ordinary day.
pub const SUMMER_SALE: f64 = 1.8;

// ---- Entities (model.rs) ----

/// Tenant sizes follow 1/rank^alpha (products: 0.9 alpha).
pub const TENANT_ALPHA: f64 = 1.0;
/// Product popularity within a tenant: Zipf with this exponent unless `seed --product-zipf`
/// says otherwise (YCSB's `ZipfianGenerator.ZIPFIAN_CONSTANT`).
pub const PRODUCT_ZIPF: f64 = 0.99;
/// Orders per customer: Pareto with this shape, capped at 50× the mean.
pub const CUSTOMER_PARETO: f64 = 1.3;

// ---- An order's life (lifecycle.rs, distribution.rs) ----

/// Items per order: 1–8, mean 2.5.
pub const ITEMS_PER_ORDER: [(u32, f64); 8] = [
    (1, 0.25),
    (2, 0.30),
    (3, 0.22),
    (4, 0.12),
    (5, 0.06),
    (6, 0.03),
    (7, 0.015),
    (8, 0.005),
];
/// First payment attempts declined by the issuer or the gateway's fraud screen.
pub const DECLINE_RATE: f64 = 0.12;
/// Retries (at most two more) declined.
pub const RETRY_DECLINE_RATE: f64 = 0.3;
pub const CANCEL_RATE: f64 = 0.03;
/// Delivered orders returned in full, and in part (one unit of a line), outside the season.
pub const REFUND_RATE: f64 = 0.143;
pub const PARTIAL_REFUND_RATE: f64 = 0.09;
/// Returns of orders placed in the holiday season (Nov 1 – Dec 31) against the annual rate.
pub const HOLIDAY_RETURN_FACTOR: f64 = 1.17;
/// The share of sales value returned, which the two refund rates are set to give.
pub const RETURNED_VALUE_SHARE: f64 = 0.169;
pub const CHARGEBACK_RATE: f64 = 0.003;
pub const DISCOUNT_RATE: f64 = 0.07;

// ---- Sessions and carts (rows/events.rs) ----

/// Events per browsing session (consecutive event indexes form a session).
pub const SESSION_EVENTS: u64 = 8;
/// Sessions that put something in the cart.
pub const CART_SESSION_RATE: f64 = 0.10;
/// Carts that never reach an order (Baymard's average of 49 studies: 70.19%).
pub const CART_ABANDONMENT: f64 = 0.70;
/// Sessions of visitors who are not signed in.
pub const ANONYMOUS_SESSION_RATE: f64 = 0.3;

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// A published figure, quoted.
    Published,
    /// Computed from published figures.
    Derived,
    /// Required by the specification.
    Specification,
    /// The team's choice; the source says why.
    Assumption,
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Basis::Published => "published",
            Basis::Derived => "derived",
            Basis::Specification => "specification",
            Basis::Assumption => "assumption",
        })
    }
}

/// One parameter: what it is, its value as shown, its unit, and its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: &'static str,
    pub value: String,
    pub unit: &'static str,
    pub basis: Basis,
    pub source: &'static str,
}

const ADOBE: &str = "Adobe Digital Insights, Cyber Monday 2024 recap (news.adobe.com, 2024-12-03)";
const CENSUS: &str =
    "US Census Bureau, Quarterly Retail E-Commerce Sales, 1st quarter 2024 (release CB24-76)";
const NRF: &str = "NRF and Happy Returns, 2024 Consumer Returns in the Retail Industry (2024-12-04), as reported by Chain Store Age and DC Velocity; NRF's own page not reachable from here";
const YCSB: &str = "YCSB, core/src/main/java/site/ycsb/generator/ZipfianGenerator.java: ZIPFIAN_CONSTANT = 0.99 (github.com/brianfrankcooper/YCSB)";
const BAYMARD: &str = "Baymard Institute, Cart Abandonment Rate (baymard.com/lists/cart-abandonment-rate): 70.19%, the average of 49 studies; read through secondary summaries, baymard.com not reachable from here";

/// The full citations behind the table's short ones.
pub const SOURCES: [&str; 5] = [ADOBE, CENSUS, NRF, YCSB, BAYMARD];

fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn times(x: f64) -> String {
    format!("{x:.2}×")
}

/// The evening peak's rate against the day's mean, from `DAILY`.
pub fn evening_peak_ratio() -> f64 {
    let (a, b) = EVENING_PEAK_HOURS;
    let peak = DAILY[a..b].iter().sum::<f64>() / (b - a) as f64;
    peak / (DAILY.iter().sum::<f64>() / 24.0)
}

/// Every parameter of the data model, in the order of the README's table.
pub fn parameters() -> Vec<Parameter> {
    use Basis::*;
    let p = |name, value: String, unit, basis, source| Parameter {
        name,
        value,
        unit,
        basis,
        source,
    };
    vec![
        p(
            "history",
            "3".into(),
            "years of orders",
            Specification,
            "the specification: 100M orders over 3 years, 1B events a month",
        ),
        p(
            "growth over the history",
            times(GROWTH),
            "last hour / first hour",
            Assumption,
            "a growing platform (≈36% a year); the US market as a whole grew 8.6% year on year in Q1 2024 (Census, CB24-76)",
        ),
        p(
            "evening peak, 20:00–22:00",
            times(evening_peak_ratio()),
            "of the day's mean rate",
            Published,
            "Adobe 2024: Cyber Monday's 8–10 pm peak, $15.8M a minute against the day's $13.3B (1.71×); the same curve shapes every day (assumption)",
        ),
        p(
            "night trough, 03:00–05:00",
            times(DAILY[3] / (DAILY.iter().sum::<f64>() / 24.0)),
            "of the day's mean rate",
            Assumption,
            "quiet nights; no published hourly curve found",
        ),
        p(
            "weekday factors, Mon–Sun",
            WEEKLY
                .iter()
                .map(|w| format!("{:.2}", w * 7.0 / WEEKLY.iter().sum::<f64>()))
                .collect::<Vec<_>>()
                .join(" "),
            "of the week's mean day",
            Assumption,
            "a busier end of the week; no published figure found",
        ),
        p(
            "holiday season's average day (Nov 1 – Dec 31)",
            times(SEASON_LEVEL),
            "of an ordinary day",
            Derived,
            "Adobe 2024 season $240.8B / 61 days = $3.95B a day, over Census Q1 2024 (not seasonally adjusted) $268.1B / 91 days = $2.95B; the two measure slightly different scopes",
        ),
        p(
            "Thanksgiving",
            times(THANKSGIVING * SEASON_LEVEL),
            "of an ordinary day",
            Derived,
            "Adobe 2024: $6.1B = 1.55× the season's average day",
        ),
        p(
            "Black Friday",
            times(BLACK_FRIDAY * SEASON_LEVEL),
            "of an ordinary day",
            Derived,
            "Adobe 2024: $10.8B = 2.74× the season's average day",
        ),
        p(
            "Saturday and Sunday after Black Friday",
            times(CYBER_WEEKEND * SEASON_LEVEL),
            "of an ordinary day",
            Derived,
            "Adobe 2024: $10.9B for the two days = 1.38× the season's average day each",
        ),
        p(
            "Cyber Monday (the peak day)",
            times(CYBER_MONDAY * SEASON_LEVEL),
            "of an ordinary day",
            Derived,
            "Adobe 2024: $13.3B = 3.37× the season's average day, the year's biggest online day",
        ),
        p(
            "Dec 24–26 and Jan 1",
            times(QUIET_DAYS),
            "of an ordinary day",
            Assumption,
            "quiet holidays; no published daily figure found",
        ),
        p(
            "mid-July sale (Jul 11–12)",
            times(SUMMER_SALE),
            "of an ordinary day",
            Assumption,
            "a Prime Day-like summer event; Adobe's Prime Day figures were not confirmed here",
        ),
        p(
            "tenant size exponent",
            format!("{TENANT_ALPHA:.2}"),
            "1/rank^α",
            Assumption,
            "merchant sizes on a platform follow a power law (a few large, a long tail); no per-platform figure published",
        ),
        p(
            "product popularity exponent θ (default; seed --product-zipf)",
            format!("{PRODUCT_ZIPF:.2}"),
            "Zipf 1/rank^θ",
            Published,
            "YCSB's ZipfianGenerator.ZIPFIAN_CONSTANT = 0.99 (brianfrankcooper/YCSB); long-tail sales follow a power law (Brynjolfsson, Hu, Smith, \"The Longer Tail\", 2010; not re-read here)",
        ),
        p(
            "orders per customer, Pareto shape",
            format!("{CUSTOMER_PARETO:.2}"),
            "α (cap 50× the mean)",
            Assumption,
            "80/20-like repeat buying; the mean (100 orders per customer) is the specification's 100M orders over 1M users, far above Olist's ≈1.03 (Brazilian marketplace data set)",
        ),
        p(
            "items per order (1–8)",
            format!("{:.2}", mean(&ITEMS_PER_ORDER)),
            "order lines, mean",
            Assumption,
            "a general-merchandise basket between Olist's ≈1.1 lines and Instacart's ≈10 (grocery); neither data set re-read here",
        ),
        p(
            "first payment attempts declined",
            percent(DECLINE_RATE),
            "of first attempts",
            Published,
            "card-not-present declines are roughly 10–15% of e-commerce attempts (secondary sources only: a range, not a measurement)",
        ),
        p(
            "retries declined",
            percent(RETRY_DECLINE_RATE),
            "of retries (at most two)",
            Assumption,
            "a retry after a decline mostly fails again; no published figure found",
        ),
        p(
            "orders cancelled after payment",
            percent(CANCEL_RATE),
            "of paid orders",
            Assumption,
            "no published figure found",
        ),
        p(
            "returned share of sales",
            percent(RETURNED_VALUE_SHARE),
            "of sales value",
            Published,
            "NRF 2024: retailers expect 16.9% of annual sales to be returned ($890B)",
        ),
        p(
            "delivered orders returned in full",
            percent(REFUND_RATE),
            "of delivered orders",
            Derived,
            "with partial returns, gives the NRF's 16.9% of sales value (generator/src/lifecycle.rs test)",
        ),
        p(
            "delivered orders returned in part",
            percent(PARTIAL_REFUND_RATE),
            "of delivered orders",
            Assumption,
            "one unit of one line; the split between full and partial returns is not published",
        ),
        p(
            "holiday-season orders' returns",
            times(HOLIDAY_RETURN_FACTOR),
            "of the annual rate",
            Published,
            "NRF 2024: holiday return rate 17% above the annual rate (same reports)",
        ),
        p(
            "chargebacks",
            percent(CHARGEBACK_RATE),
            "of delivered orders",
            Assumption,
            "card networks' monitoring thresholds start near 0.9%; a healthy merchant is well below",
        ),
        p(
            "orders with a discount",
            percent(DISCOUNT_RATE),
            "of orders (10% off)",
            Assumption,
            "no published figure found",
        ),
        p(
            "events per session",
            SESSION_EVENTS.to_string(),
            "events",
            Assumption,
            "a short visit: a few product and category views, a search, perhaps a cart",
        ),
        p(
            "sessions with a cart",
            percent(CART_SESSION_RATE),
            "of sessions",
            Assumption,
            "add-to-cart rates of several percent to ≈10% are commonly quoted; none confirmed here",
        ),
        p(
            "carts abandoned",
            percent(CART_ABANDONMENT),
            "of carts",
            Published,
            "Baymard Institute, average of 49 studies: 70.19% (read through secondary summaries; baymard.com not reachable from here)",
        ),
        p(
            "anonymous sessions",
            percent(ANONYMOUS_SESSION_RATE),
            "of sessions",
            Assumption,
            "visitors who browse without signing in",
        ),
    ]
}

/// The source of the parameter called `name` (for `verify`'s checks).
pub fn source_of(name: &str) -> &'static str {
    parameters()
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.source)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evening_peak_is_adobes() {
        assert!((EVENING_PEAK_RATIO - 1.71).abs() < 0.01);
        assert!(
            (evening_peak_ratio() - EVENING_PEAK_RATIO).abs() < 0.01,
            "{}",
            evening_peak_ratio()
        );
    }

    // Cyber Monday the peak, Black Friday next, the season above an ordinary day: checked when
    // the crate compiles.
    const _: () = assert!(CYBER_MONDAY > BLACK_FRIDAY && BLACK_FRIDAY > THANKSGIVING);
    const _: () = assert!(BLACK_FRIDAY > CYBER_WEEKEND && SEASON_LEVEL > 1.0);

    #[test]
    fn every_parameter_has_a_source_and_a_unique_name() {
        let all = parameters();
        for p in &all {
            assert!(!p.source.is_empty() && !p.unit.is_empty(), "{}", p.name);
        }
        let mut names: Vec<_> = all.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
