//! `analytics_ingest`: a batch of 200 storefront events (views, searches, cart and checkout
//! steps, by the same actor and popularity model as the seed) inserted into ClickHouse in one
//! RowBinary INSERT, as an ingestion service flushing its buffer does.

use std::sync::Arc;

use rand::Rng;
use uuid::Uuid;

use generator::calibration::SESSION_EVENTS;
use generator::rows::analytics::EventRow;
use generator::rows::events::Journey;

use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::Context;

pub struct AnalyticsIngest(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "analytics_ingest",
    description: "200 storefront events in one ClickHouse insert",
    p95_ms: 300.0,
    p99_ms: 800.0,
    needs: &[Need::ClickHouse],
    build: |ctx| Arc::new(AnalyticsIngest(ctx)),
};

pub const BATCH: usize = 200;

impl Operation for AnalyticsIngest {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let client = c.clickhouse()?;
            let t = c.tenant_for(call);
            let now = chrono::Utc::now();
            let (secs, ms) = (now.timestamp() as u32, now.timestamp_millis());
            let mut insert = client.insert::<EventRow>("events").await?;
            // Sessions of SESSION_EVENTS events each, as the seed writes them: browsing, an
            // abandoned cart, or a checkout (generator/src/rows/events.rs).
            let (mut hs, mut session, mut u) = (0, Uuid::nil(), 0);
            for i in 0..BATCH as u64 {
                let position = i % SESSION_EVENTS;
                if position == 0 {
                    hs = call.rng.random();
                    session = Uuid::from_u128(call.rng.random());
                    u = t.user_start + hs % t.users;
                }
                let h: u64 = call.rng.random();
                let kind = Journey::of(hs).event(hs, position, h);
                let row = EventRow {
                    tenant_id: t.id,
                    created_at: secs,
                    event_type: kind.to_string(),
                    event_id: c.new_id(ms, h),
                    user_id: m.user_id(u),
                    session_id: session,
                    product_id: m.product_id(c.pick_product(t, &mut call.rng)),
                    properties: if kind == "checkout.complete" {
                        format!(r#"{{"value": {}}}"#, 10 + h % 300)
                    } else {
                        String::new()
                    },
                };
                insert.write(&row).await?;
            }
            insert.end().await?;
            Ok(())
        })
    }
}
