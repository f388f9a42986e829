//! `cart`: the shopper's cart as a Redis hash (variant → quantity, 7-day expiry): add a line,
//! sometimes remove one, read the cart back, in one atomic pipeline.

use std::sync::Arc;

use rand::Rng;

use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::Context;

pub struct Cart(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "cart",
    description: "the cart as a Redis hash: add, sometimes remove, read back",
    p95_ms: 50.0,
    p99_ms: 150.0,
    needs: &[Need::Redis],
    build: |ctx| Arc::new(Cart(ctx)),
};

const CART_SECONDS: i64 = 7 * 24 * 3600;

impl Operation for Cart {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let (u, t) = c.user_for(call);
            let p = c.pick_product(t, &mut call.rng);
            let v = call.rng.random_range(0..m.variants(p));
            let variant = m.variant_id(t, p, v).to_string();
            let key = format!("shopbench:cart:{}:{}", t.id, m.user_id(u));
            let mut redis = c.redis()?;
            let mut pipe = redis::pipe();
            pipe.atomic();
            if call.rng.random_bool(0.2) {
                pipe.hdel(&key, &variant).ignore();
            } else {
                pipe.hincr(&key, &variant, call.rng.random_range(1..=2))
                    .ignore();
            }
            pipe.expire(&key, CART_SECONDS).ignore();
            pipe.hgetall(&key);
            let (_lines,): (std::collections::HashMap<String, i64>,) =
                pipe.query_async(&mut redis).await?;
            Ok(())
        })
    }
}
