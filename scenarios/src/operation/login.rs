//! `login`: the customer's session from Redis (sliding 30-minute expiry); on a miss, sign-in
//! against PostgreSQL (the user by the email's lookup hash, the stored password hash checked
//! for its argon2id format: the seed stores fixed-format hashes, not real ones), the session
//! restored from `user_sessions` (the backup store) or a new one created, then cached again.

use std::sync::Arc;

use redis::AsyncCommands;
use uuid::Uuid;

use super::shared::missing;
use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::Context;
use crate::failure::Failure;

pub struct Login(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "login",
    description: "the session from Redis; on a miss, sign-in against PostgreSQL",
    p95_ms: 150.0,
    p99_ms: 400.0,
    needs: &[Need::Redis],
    build: |ctx| Arc::new(Login(ctx)),
};

const SESSION_SECONDS: i64 = 1800;

impl Operation for Login {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let (u, t) = c.user_for(call);
            let key = format!("shopbench:session:{}:{}", t.id, m.user_id(u));
            let mut redis = c.redis()?;
            let alive: bool = redis.expire(&key, SESSION_SECONDS).await?;
            if alive {
                call.note("session_redis");
                return Ok(());
            }
            let email = generator::rows::users::email(m, u);
            let email_hash = platform::crypto::lookup_hash(&m.lookup_secret, &email);
            let mut tx = c.begin(t.id).await?;
            let Some(user) = tx
                .opt(
                    "SELECT id, password_hash, status FROM shop.users WHERE tenant_id = $1 AND email_hash = $2",
                    &[&t.id, &&email_hash[..]],
                )
                .await?
            else {
                return Err(missing("user", m.user_id(u)));
            };
            let (user_id, password_hash, status): (Uuid, String, String) =
                (user.try_get(0)?, user.try_get(1)?, user.try_get(2)?);
            if !password_hash.starts_with("$argon2id$") {
                return Err(Failure::Business("bad_credentials"));
            }
            if status != "active" {
                return Err(Failure::Business("account_inactive"));
            }
            let existing: Option<Vec<u8>> = tx
                .opt(
                    "SELECT session_token FROM shop.user_sessions
                      WHERE tenant_id = $1 AND user_id = $2 AND expires_at > now()
                      ORDER BY expires_at DESC LIMIT 1",
                    &[&t.id, &user_id],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            let token = match existing {
                Some(token) => {
                    call.note("session_postgres");
                    token
                }
                None => {
                    call.note("session_new");
                    // A session token must be unpredictable: from the OS-seeded generator, not
                    // from the run's reproducible one.
                    let token: [u8; 32] = rand::random();
                    tx.execute(
                        "INSERT INTO shop.user_sessions (tenant_id, user_id, session_token, device_info, user_agent, expires_at)
                         VALUES ($1, $2, $3, '{\"device\": \"shopbench\"}', 'shopbench/1', now() + interval '30 days')",
                        &[&t.id, &user_id, &&token[..]],
                    )
                    .await?;
                    token.to_vec()
                }
            };
            tx.execute(
                "UPDATE shop.users SET last_login_at = now() WHERE tenant_id = $1 AND id = $2",
                &[&t.id, &user_id],
            )
            .await?;
            tx.commit().await?;
            let hex: String = token.iter().map(|b| format!("{b:02x}")).collect();
            let _: () = redis.set_ex(&key, hex, SESSION_SECONDS as u64).await?;
            Ok(())
        })
    }
}
