//! What `GET /metrics` reads from the database at scrape time: per-chargestation queue
//! depth and the outbox lag (age of the oldest pending webhook delivery). Shared by
//! every instance on the same database, so any instance reports the same numbers.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::{action, webhook_delivery};
use crate::{Db, ModelResult};

/// Unfinished commands (queued or on the wire) per chargestation id; stations with none
/// are absent.
///
/// # Errors
/// On database failure.
pub async fn queue_depths(db: &Db) -> ModelResult<BTreeMap<String, u64>> {
    let rows: Vec<String> = action::Entity::find()
        .select_only()
        .column(action::Column::ChargestationId)
        .filter(action::Column::QueueState.is_in(["queued", "in_flight"]))
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut depths = BTreeMap::new();
    for station in rows {
        *depths.entry(station).or_insert(0) += 1;
    }
    Ok(depths)
}

/// Milliseconds since the oldest pending webhook delivery was created (0 when none is
/// pending).
///
/// # Errors
/// On database failure.
pub async fn outbox_lag_ms(db: &Db) -> ModelResult<i64> {
    let oldest: Option<i64> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::CreatedAt)
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .order_by_asc(webhook_delivery::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(db.conn())
        .await?;
    Ok(oldest.map_or(0, |created| (db.now_ms() - created).max(0)))
}
