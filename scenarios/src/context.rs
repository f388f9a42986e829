//! What operations run against, and how they pick entities. Every service a run uses is a real
//! one: the application role's pool (row-level security, the tenant set per transaction), a batch
//! pool for jobs a real platform runs apart (the `product_analytics` refresh), Redis, ClickHouse,
//! the S3 store and the search backend. Entities come from the generator's model by index math:
//! a customer uniformly (so tenants follow the power law of their customer bases), products by
//! the tenant's Zipf popularity, a customer's orders from the model's order ranges.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use generator::rng::Draw;
use rand::Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use generator::model::{Model, Tenant};
use generator::rng::{key, Stream};

use crate::db::{Db, Tx};
use crate::failure::Failure;

/// The S3 object store product images are uploaded to.
#[derive(Clone)]
pub struct ObjectStore {
    pub bucket: rusty_s3::Bucket,
    pub credentials: Option<rusty_s3::Credentials>,
    pub http: reqwest::Client,
    /// Public base URL of the bucket (path style), for `product_images.url`.
    pub base_url: String,
}

#[derive(Clone)]
pub enum SearchBackend {
    /// `shop.search_products`: PostgreSQL full-text search with trigram fallback.
    Postgres,
    /// Elasticsearch/OpenSearch `products` index (`SEARCH_URL`), written by the seed.
    Elastic {
        url: url::Url,
        http: reqwest::Client,
    },
}

impl SearchBackend {
    pub fn name(&self) -> &'static str {
        match self {
            SearchBackend::Postgres => "postgres",
            SearchBackend::Elastic { .. } => "elasticsearch",
        }
    }
}

/// The simulated payment gateway: its answer takes a log-normal time (outside any database
/// transaction) and declines a share of authorizations.
#[derive(Debug, Clone, Copy)]
pub struct Gateway {
    pub median: Duration,
    pub sigma: f64,
    pub decline_rate: f64,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            median: Duration::from_millis(40),
            sigma: 0.5,
            decline_rate: generator::lifecycle::DECLINE_RATE,
        }
    }
}

impl Gateway {
    pub async fn call(&self, rng: &mut Draw) {
        let ms = generator::distribution::log_normal(
            rng.random(),
            rng.random(),
            self.median.as_secs_f64() * 1e3,
            self.sigma,
        );
        tokio::time::sleep(Duration::from_secs_f64(ms.min(5_000.0) / 1e3)).await;
    }
}

/// An order placed during the run, waiting for its payment or its fulfilment.
#[derive(Debug, Clone)]
pub struct Placed {
    pub tenant: usize,
    pub user: u64,
    pub order_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub total: Decimal,
    pub currency: &'static str,
    /// (variant id, quantity), in the order stock is locked.
    pub items: Vec<(Uuid, i32)>,
}

/// Orders handed from one operation to the next (checkout → payment → fulfilment). Bounded: the
/// oldest are forgotten when nobody takes them.
#[derive(Default)]
pub struct Queue(Mutex<VecDeque<Placed>>);

impl Queue {
    const LIMIT: usize = 10_000;

    pub fn push(&self, p: Placed) {
        let mut q = self.0.lock().expect("queue lock");
        if q.len() >= Self::LIMIT {
            q.pop_front();
        }
        q.push_back(p);
    }

    pub fn pop(&self) -> Option<Placed> {
        self.0.lock().expect("queue lock").pop_front()
    }
}

pub struct Context {
    pub model: Arc<Model>,
    /// The application role (`shopbench_app`): RLS applies, the tenant is set per transaction.
    pub app: Db,
    /// The batch role (`shopbench_loader`) for the `product_analytics` refresh.
    pub batch: Option<Db>,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub clickhouse: Option<clickhouse::Client>,
    pub store: Option<ObjectStore>,
    pub search: SearchBackend,
    pub gateway: Gateway,
    /// Black Friday: products are picked among the tenant's `hot` best sellers only.
    pub hot: Option<u64>,
    /// Shared by every lane's copy of the context (one shop).
    pub to_pay: Arc<Queue>,
    pub to_fulfil: Arc<Queue>,
    /// Random per session, mixed into the ids of the rows a run creates: two generators running
    /// the same seed at the same moment (a rerun of a shard beside its first run, two CI jobs)
    /// never create the same id. The schedule and the entities picked stay the seed's.
    pub salt: u64,
}

/// Money in the schema's numeric(19,4) from the generator's 10⁻⁴ units.
pub fn money(units: i64) -> Decimal {
    Decimal::new(units, 4)
}

pub fn timestamp(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).expect("timestamps of the model are in range")
}

impl Context {
    /// The application role's pool over the seeded data's model, and nothing else: the other
    /// services are added by the caller where the mix needs them.
    pub fn new(model: Arc<Model>, app: Db) -> Context {
        Context {
            model,
            app,
            batch: None,
            redis: None,
            clickhouse: None,
            store: None,
            search: SearchBackend::Postgres,
            gateway: Gateway::default(),
            hot: None,
            to_pay: Arc::default(),
            to_fulfil: Arc::default(),
            salt: rand::random(),
        }
    }

    /// The id of a row this run creates at `unix_ms`: a UUIDv7 from the operation's draw `h`
    /// and this session's salt.
    pub fn new_id(&self, unix_ms: i64, h: u64) -> Uuid {
        generator::model::uuid7(unix_ms, h ^ self.salt)
    }

    /// This context for each client thread: the application pool opened again on the lane's
    /// runtime (`connections` spread over the lanes), every other service and the hand-over
    /// queues shared.
    pub async fn on_lanes(
        &self,
        lanes: &crate::lanes::Lanes,
        connections: usize,
    ) -> Result<Vec<Arc<Context>>, crate::db::ConnectError> {
        let per_lane = connections.div_ceil(lanes.len()).max(1);
        let mut contexts = Vec::new();
        for lane in lanes.handles() {
            let app = self.app.clone();
            let app = lane
                .spawn(async move { app.reopen(per_lane).await })
                .await
                .expect("a lane runs until it is dropped")?;
            contexts.push(Arc::new(Context {
                model: self.model.clone(),
                app,
                batch: self.batch.clone(),
                redis: self.redis.clone(),
                clickhouse: self.clickhouse.clone(),
                store: self.store.clone(),
                search: self.search.clone(),
                gateway: self.gateway,
                hot: self.hot,
                to_pay: self.to_pay.clone(),
                to_fulfil: self.to_fulfil.clone(),
                salt: self.salt,
            }));
        }
        Ok(contexts)
    }

    /// A customer who can sign in (erased customers cannot), uniformly over all customers.
    pub fn pick_user(&self, rng: &mut Draw) -> u64 {
        let users = self.model.profile().users;
        loop {
            let u = rng.random_range(0..users);
            if !generator::rows::users::is_erased(key(self.model.seed(), Stream::User, u)) {
                return u;
            }
        }
    }

    /// A customer who has placed orders.
    pub fn pick_customer(&self, rng: &mut Draw) -> u64 {
        for _ in 0..64 {
            let u = self.pick_user(rng);
            if !self.model.user_orders(u).is_empty() {
                return u;
            }
        }
        self.model
            .user_of_order(rng.random_range(0..self.model.profile().orders))
    }

    /// A tenant with the probability of its share of customers (the power law).
    pub fn pick_tenant(&self, rng: &mut Draw) -> &Tenant {
        let u = rng.random_range(0..self.model.profile().users);
        self.model.tenant_of_user(u)
    }

    /// A product of tenant `t` by popularity (Zipf), or among the hot best sellers.
    pub fn pick_product(&self, t: &Tenant, rng: &mut Draw) -> u64 {
        let rank = match self.hot {
            Some(hot) => t.zipf.sample(rng) % hot.min(t.products).max(1),
            None => t.zipf.sample(rng),
        };
        self.model.product_by_rank(t, rank)
    }

    /// A customer who can sign in and their tenant; the call is tagged with the tenant's tier.
    pub fn user_for(&self, call: &mut crate::operation::Call) -> (u64, &Tenant) {
        let u = self.pick_user(&mut call.rng);
        let t = self.model.tenant_of_user(u);
        call.tier = Some(t.tier.into());
        (u, t)
    }

    /// A customer with orders and their tenant; the call is tagged with the tenant's tier.
    pub fn customer_for(&self, call: &mut crate::operation::Call) -> (u64, &Tenant) {
        let u = self.pick_customer(&mut call.rng);
        let t = self.model.tenant_of_user(u);
        call.tier = Some(t.tier.into());
        (u, t)
    }

    /// A tenant by the power law; the call is tagged with its tier.
    pub fn tenant_for(&self, call: &mut crate::operation::Call) -> &Tenant {
        let t = self.pick_tenant(&mut call.rng);
        call.tier = Some(t.tier.into());
        t
    }

    /// Begins a transaction as the application role with the tenant set for it alone (see
    /// [`crate::db`]).
    pub async fn begin(&self, tenant: Uuid) -> Result<Tx, Failure> {
        self.app.begin(tenant).await
    }

    pub fn redis(&self) -> Result<redis::aio::ConnectionManager, Failure> {
        self.redis.clone().ok_or(Failure::Unavailable("redis"))
    }

    pub fn clickhouse(&self) -> Result<&clickhouse::Client, Failure> {
        self.clickhouse
            .as_ref()
            .ok_or(Failure::Unavailable("clickhouse"))
    }
}

/// Runs a transaction body again after a serialization failure or deadlock (up to 3 attempts),
/// counting the retries on the call.
#[macro_export]
macro_rules! retrying {
    ($call:expr, $body:expr) => {{
        let mut attempt = 0;
        loop {
            match $body.await {
                Err(f) if f.is_retryable() && attempt < 2 => {
                    attempt += 1;
                    $call.retries += 1;
                }
                other => break other,
            }
        }
    }};
}
