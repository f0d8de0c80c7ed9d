//! Several csms instances on one database (CONTRACT §7): each instance registers itself
//! and keeps a heartbeat; an instance whose heartbeat is older than the lease is dead,
//! and the survivors release what it held — its chargers go offline (with
//! `chargestation.offline`) and its commands on the wire end `Interrupted`. Webhook
//! deliveries it had claimed come back by their own lease.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entities::instance::{self, Column, Entity};
use crate::{actions, chargestations, Db, ModelResult};

/// Registers this instance as alive.
///
/// # Errors
/// On database failure.
pub async fn register(db: &Db, id: &str) -> ModelResult<()> {
    let now = db.now_ms();
    instance::ActiveModel {
        id: Set(id.to_owned()),
        started_at: Set(now),
        heartbeat_at: Set(now),
    }
    .insert(db.conn())
    .await?;
    Ok(())
}

/// Renews this instance's heartbeat (re-registering it if a peer reaped it).
///
/// # Errors
/// On database failure.
pub async fn heartbeat(db: &Db, id: &str) -> ModelResult<()> {
    let result = Entity::update_many()
        .col_expr(Column::HeartbeatAt, Expr::value(db.now_ms()))
        .filter(Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    if result.rows_affected == 0 {
        register(db, id).await?;
    }
    Ok(())
}

/// Removes this instance (graceful stop).
///
/// # Errors
/// On database failure.
pub async fn deregister(db: &Db, id: &str) -> ModelResult<()> {
    Entity::delete_by_id(id.to_owned()).exec(db.conn()).await?;
    Ok(())
}

/// What a reap released.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Released {
    /// Stations marked offline.
    pub stations: Vec<String>,
    /// Stations whose command on the wire ended `Interrupted`.
    pub interrupted: Vec<String>,
}

/// Releases what dead instances held. `me` is always alive; with `only_me`, every other
/// instance counts as dead (SQLite: one instance per database file).
///
/// # Errors
/// On database failure.
pub async fn reap(
    db: &Db,
    me: &str,
    lease_ms: i64,
    only_me: bool,
    ocpp_base_url: &str,
) -> ModelResult<Released> {
    let now = db.now_ms();
    let mut live: Vec<String> = if only_me {
        Vec::new()
    } else {
        Entity::find()
            .filter(Column::HeartbeatAt.gte(now - lease_ms))
            .all(db.conn())
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    if !live.iter().any(|id| id == me) {
        live.push(me.to_owned());
    }
    Entity::delete_many()
        .filter(Column::Id.is_not_in(live.clone()))
        .exec(db.conn())
        .await?;
    let stations = chargestations::release_orphans(db, &live, ocpp_base_url).await?;
    let interrupted = actions::fail_interrupted(db, &live).await?;
    Ok(Released {
        stations,
        interrupted,
    })
}
