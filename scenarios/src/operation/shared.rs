//! What several operations share: the order status history row, and the failure of a row the
//! model says exists but the database does not have.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Tx;
use crate::failure::Failure;

/// A row the model says exists was not found: the data and the model disagree.
pub fn missing(what: &str, id: Uuid) -> Failure {
    Failure::service(
        "data",
        "missing_row",
        format!("{what} {id} is not in the database"),
    )
}

/// Appends `status` to the order's history (in the caller's transaction).
pub async fn history(
    tx: &mut Tx,
    tenant: Uuid,
    order: Uuid,
    created_at: DateTime<Utc>,
    status: &str,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO shop.order_status_history (tenant_id, order_id, order_created_at, status)
         VALUES ($1, $2, $3, $4)",
        &[&tenant, &order, &created_at, &status],
    )
    .await?;
    Ok(())
}
