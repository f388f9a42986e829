//! An order's life, as a pure function of its index: when it was placed, what it holds, how far it
//! got by the seed's end (`as_of`), and the payments and ledger rows that got it there.
//!
//! Ledger rows come in pairs for every gateway call, the request (`pending`) and the answer
//! (`succeeded`/`failed`), because the ledger is append-only: a status is never updated in place.
//! Split shipments capture in two parts; chargebacks arrive as one row from the issuer.

use uuid::Uuid;

use crate::distribution::{discrete, ITEMS_PER_ORDER};
use crate::model::{uuid7, Model, Tenant, DAY_US};
use crate::rng::{key, Draw, Stream};

const MINUTE_US: i64 = 60_000_000;
const HOUR_US: i64 = 60 * MINUTE_US;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Paid,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Processing => "processing",
            Status::Shipped => "shipped",
            Status::Delivered => "delivered",
            Status::Cancelled => "cancelled",
            Status::Refunded => "refunded",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub product: u64,
    pub variant: u64,
    pub quantity: i32,
    /// 10⁻⁴ units
    pub unit_price: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct LedgerRow {
    pub kind: &'static str,
    pub status: &'static str,
    pub amount: i64,
    pub at_us: i64,
}

#[derive(Debug, Clone)]
pub struct Payment {
    pub status: &'static str,
    pub method: &'static str,
    pub provider: &'static str,
    pub created_us: i64,
    pub updated_us: i64,
    pub ledger: Vec<LedgerRow>,
    pub declined: bool,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub index: u64,
    pub user: u64,
    pub id: Uuid,
    /// Unix microseconds, whole milliseconds (the id's timestamp).
    pub created_us: i64,
    pub items: Vec<Item>,
    pub subtotal: i64,
    pub tax: i64,
    pub shipping: i64,
    pub discount: i64,
    pub total: i64,
    pub status: Status,
    /// Every status reached, with its time, in order.
    pub history: Vec<(Status, i64)>,
    pub shipped_us: Option<i64>,
    pub delivered_us: Option<i64>,
    pub payments: Vec<Payment>,
}

impl Payment {
    /// A gateway call: the request (`pending`) at `at_us`, its answer `answer_after_us` later.
    fn call(&mut self, kind: &'static str, amount: i64, at_us: i64, answer_after_us: i64) {
        self.ledger.push(LedgerRow {
            kind,
            status: "pending",
            amount,
            at_us,
        });
        let answered = at_us + answer_after_us;
        self.ledger.push(LedgerRow {
            kind,
            status: "succeeded",
            amount,
            at_us: answered,
        });
        self.updated_us = answered;
    }
}

impl Order {
    pub fn updated_us(&self) -> i64 {
        self.history.last().map(|h| h.1).unwrap_or(self.created_us)
    }

    pub fn ledger_rows(&self) -> usize {
        self.payments.iter().map(|p| p.ledger.len()).sum()
    }
}

const METHODS: [(&str, &str, u32); 6] = [
    ("credit_card", "stripe", 55),
    ("debit_card", "adyen", 15),
    ("paypal", "paypal", 15),
    ("wallet", "stripe", 10),
    ("bank_transfer", "adyen", 3),
    ("gift_card", "braintree", 2),
];

/// Shares the lifecycle draws from (values and sources in calibration.rs); `verify` checks the
/// loaded data against them.
pub use crate::calibration::{
    CANCEL_RATE, CHARGEBACK_RATE, DECLINE_RATE, DISCOUNT_RATE, HOLIDAY_RETURN_FACTOR,
    PARTIAL_REFUND_RATE, REFUND_RATE, RETRY_DECLINE_RATE,
};

/// The return rates of an order placed at `created_us`: (full, partial), higher for orders placed
/// in the holiday season.
pub fn return_rates(created_us: i64) -> (f64, f64) {
    use chrono::Datelike;
    let month = chrono::DateTime::from_timestamp_micros(created_us)
        .map(|t| t.month())
        .unwrap_or(1);
    let factor = if month >= 11 {
        HOLIDAY_RETURN_FACTOR
    } else {
        1.0
    };
    (REFUND_RATE * factor, PARTIAL_REFUND_RATE * factor)
}

impl Model {
    /// The whole order `o` placed by user `u` (the caller knows `u` from walking the users).
    pub fn order(&self, o: u64, u: u64, tenant: &Tenant) -> Order {
        let seed = self.seed();
        let mut rng = Draw::new(key(seed, Stream::Order, o));
        let not_before = self.user_created_us(u);
        let created_us = self.history.after(not_before, rng.unit()) / 1000 * 1000;
        let id = uuid7(created_us / 1000, key(seed, Stream::Order, o) ^ 1);

        // Items: distinct products by popularity, a variant each.
        let n = discrete(&ITEMS_PER_ORDER, rng.unit()).min(tenant.products as u32);
        let mut items: Vec<Item> = Vec::with_capacity(n as usize);
        while items.len() < n as usize {
            let product = self.product_by_rank(tenant, tenant.zipf.sample(&mut rng));
            if items.iter().any(|i| i.product == product) {
                continue;
            }
            let variant = rng.below(self.variants(product));
            let quantity = match rng.below(100) {
                0..=79 => 1,
                80..=94 => 2,
                _ => 3,
            };
            items.push(Item {
                product,
                variant,
                quantity,
                unit_price: self.variant_price(tenant, product, variant),
            });
        }
        let subtotal: i64 = items.iter().map(|i| i.unit_price * i.quantity as i64).sum();
        let to_cent = |units: i64| (units + 50) / 100 * 100;
        let tax = to_cent(subtotal * tenant.tax_bp / 10_000);
        let shipping = if subtotal >= 50 * 10_000 { 0 } else { 49_900 };
        let discount = if rng.chance(DISCOUNT_RATE) {
            to_cent(subtotal / 10)
        } else {
            0
        };
        let total = subtotal + tax + shipping - discount;

        // Stages, each some time after the previous one. A stage counts when it began two hours
        // before the seed's end, so that its ledger answers (seconds to an hour later) are in too.
        let as_of = self.config.as_of_us - 2 * HOUR_US;
        let paid_at = created_us + rng.range(MINUTE_US..30 * MINUTE_US);
        let processing_at = paid_at + rng.range(2 * HOUR_US..24 * HOUR_US);
        let shipped_at = processing_at + rng.range(12 * HOUR_US..72 * HOUR_US);
        let delivered_at = shipped_at + rng.range(DAY_US..5 * DAY_US);
        let cancel = rng.chance(CANCEL_RATE);
        let cancelled_at = paid_at + rng.range(HOUR_US..12 * HOUR_US);
        let after_delivery = rng.unit();
        let refunded_at = delivered_at + rng.range(2 * DAY_US..20 * DAY_US);
        let charged_back_at = delivered_at + rng.range(10 * DAY_US..60 * DAY_US);

        // Payment attempts: the first declines with DECLINE_RATE, retries with
        // RETRY_DECLINE_RATE, at most three.
        let (method, provider, _) = {
            let mut pick = rng.below(100) as u32;
            let mut chosen = METHODS[0];
            for m in METHODS {
                if pick < m.2 {
                    chosen = m;
                    break;
                }
                pick -= m.2;
            }
            chosen
        };
        let mut payments = Vec::with_capacity(1);
        let mut attempt_at = created_us + rng.range(10_000_000..60_000_000);
        let mut declined_all = true;
        for attempt in 0..3 {
            if attempt_at >= as_of {
                break;
            }
            let decline_p = if attempt == 0 {
                DECLINE_RATE
            } else {
                RETRY_DECLINE_RATE
            };
            let declined = rng.chance(decline_p);
            let answer = (attempt_at + rng.range(200_000..3_000_000)).min(as_of - 1);
            let mut ledger = vec![LedgerRow {
                kind: "authorize",
                status: "pending",
                amount: total,
                at_us: attempt_at,
            }];
            if declined {
                ledger.push(LedgerRow {
                    kind: "authorize",
                    status: "failed",
                    amount: total,
                    at_us: answer,
                });
                payments.push(Payment {
                    status: "failed",
                    method,
                    provider,
                    created_us: attempt_at,
                    updated_us: answer,
                    ledger,
                    declined: true,
                });
                attempt_at = answer + rng.range(MINUTE_US..10 * MINUTE_US);
                continue;
            }
            declined_all = false;
            payments.push(Payment {
                status: "pending",
                method,
                provider,
                created_us: attempt_at,
                updated_us: attempt_at,
                ledger,
                declined: false,
            });
            break;
        }
        let paid_at = paid_at.max(attempt_at + 5_000_000);

        let mut history = vec![(Status::Pending, created_us)];
        let mut shipped_us = None;
        let mut delivered_us = None;
        let gave_up = declined_all && !payments.is_empty() && payments.len() == 3;
        if gave_up {
            let at = payments[2].updated_us + HOUR_US;
            if at < as_of {
                history.push((Status::Cancelled, at));
            }
        } else if let Some(p) = payments.iter_mut().find(|p| !p.declined) {
            let answer = p.created_us + 1_500_000;
            if paid_at < as_of && answer < as_of {
                p.ledger.push(LedgerRow {
                    kind: "authorize",
                    status: "succeeded",
                    amount: total,
                    at_us: answer,
                });
                p.status = "authorized";
                p.updated_us = answer;
                history.push((Status::Paid, paid_at));
                if cancel {
                    if cancelled_at < as_of {
                        history.push((Status::Cancelled, cancelled_at));
                        p.call("void", total, cancelled_at, 1_000_000);
                        p.status = "voided";
                    }
                } else if processing_at < as_of {
                    history.push((Status::Processing, processing_at));
                    if shipped_at < as_of {
                        history.push((Status::Shipped, shipped_at));
                        shipped_us = Some(shipped_at);
                        // Split shipment for 3+ lines: two captures that add up to the total.
                        let parts: Vec<i64> = if items.len() >= 3 {
                            let first = total / 2 / 100 * 100;
                            vec![first, total - first]
                        } else {
                            vec![total]
                        };
                        let mut at = shipped_at;
                        for part in parts {
                            p.call("capture", part, at, 2_000_000);
                            at += HOUR_US;
                        }
                        p.status = "captured";
                        if delivered_at < as_of {
                            history.push((Status::Delivered, delivered_at));
                            delivered_us = Some(delivered_at);
                            let (full, partial) = return_rates(created_us);
                            if after_delivery < full && refunded_at < as_of {
                                history.push((Status::Refunded, refunded_at));
                                p.call("refund", total, refunded_at, 3_000_000);
                                p.status = "refunded";
                            } else if after_delivery < full + partial && refunded_at < as_of {
                                let line = items[0].unit_price.min(total / 2 / 100 * 100);
                                p.call("refund", line, refunded_at, 3_000_000);
                                p.status = "partially_refunded";
                            } else if after_delivery > 1.0 - CHARGEBACK_RATE
                                && charged_back_at < as_of
                            {
                                p.ledger.push(LedgerRow {
                                    kind: "chargeback",
                                    status: "succeeded",
                                    amount: total,
                                    at_us: charged_back_at,
                                });
                                p.status = "charged_back";
                                p.updated_us = charged_back_at;
                            }
                        }
                    }
                }
            }
        }
        let status = history.last().map(|h| h.0).unwrap_or(Status::Pending);
        Order {
            index: o,
            user: u,
            id,
            created_us,
            items,
            subtotal,
            tax,
            shipping,
            discount,
            total,
            status,
            history,
            shipped_us,
            delivered_us,
            payments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SeedConfig;
    use crate::profile::{Profile, Scale};

    #[test]
    fn orders_are_consistent() {
        let m = Model::new(SeedConfig {
            profile: Profile::of(Scale::Tiny),
            seed: 1,
            as_of_us: 1_764_547_200_000_000,
            images: 4,
            image_base: "s3://x".into(),
            product_zipf: crate::model::PRODUCT_ZIPF,
        });
        let mut ledger = 0;
        let mut delivered = 0;
        let n = m.profile().orders;
        for o in 0..n {
            let u = m.user_of_order(o);
            let t = m.tenant_of_user(u);
            let order = m.order(o, u, t);
            assert_eq!(order.id, m.order(o, u, t).id);
            assert!(order.created_us >= m.user_created_us(u));
            assert!(order.created_us < m.config.as_of_us);
            assert_eq!(
                order.total,
                order.subtotal + order.tax + order.shipping - order.discount
            );
            assert!(order.history.windows(2).all(|w| w[0].1 <= w[1].1));
            for p in &order.payments {
                let sum = |kind: &str| -> i64 {
                    p.ledger
                        .iter()
                        .filter(|l| l.kind == kind && l.status == "succeeded")
                        .map(|l| l.amount)
                        .sum()
                };
                if matches!(
                    p.status,
                    "captured" | "refunded" | "partially_refunded" | "charged_back"
                ) {
                    assert_eq!(sum("capture"), order.total);
                }
                assert!(sum("refund") <= sum("capture"));
                assert!(p
                    .ledger
                    .iter()
                    .all(|l| l.at_us >= order.created_us && l.at_us < m.config.as_of_us));
            }
            ledger += order.ledger_rows();
            delivered += (order.status == Status::Delivered) as u64;
        }
        let per_order = ledger as f64 / n as f64;
        assert!(
            (4.0..6.0).contains(&per_order),
            "{per_order} ledger rows per order"
        );
        assert!(delivered as f64 > 0.7 * n as f64);
    }

    #[test]
    fn returns_are_the_published_share_of_sales() {
        let m = Model::new(SeedConfig {
            profile: Profile::of(Scale::Small),
            seed: 7,
            as_of_us: 1_764_547_200_000_000,
            images: 4,
            image_base: "s3://x".into(),
            product_zipf: crate::model::PRODUCT_ZIPF,
        });
        let old = m.config.as_of_us - 90 * DAY_US;
        let (mut captured, mut refunded) = (0i128, 0i128);
        for o in 0..m.profile().orders {
            let u = m.user_of_order(o);
            let order = m.order(o, u, m.tenant_of_user(u));
            if order.created_us >= old {
                continue;
            }
            for l in order.payments.iter().flat_map(|p| &p.ledger) {
                if l.status == "succeeded" {
                    match l.kind {
                        "capture" => captured += l.amount as i128,
                        "refund" => refunded += l.amount as i128,
                        _ => {}
                    }
                }
            }
        }
        let share = refunded as f64 / captured as f64;
        assert!(
            (share - crate::calibration::RETURNED_VALUE_SHARE).abs() < 0.01,
            "{:.2}% of captured value refunded",
            100.0 * share
        );
    }
}
