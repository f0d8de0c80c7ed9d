//! The transactional outbox: webhook events are written here in the same transaction
//! as the state change that caused them, with one delivery row per matching endpoint.
//! Delivery itself is the dispatcher's job; this module does no network I/O.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use crate::entities::{event, webhook_delivery, webhook_endpoint};
use crate::ids::ObjectId;
use crate::time::format_ms;
use crate::ModelResult;

/// What an event is about, the envelope's `object` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventObject {
    Action,
    Chargestation,
    Transaction,
}

impl EventObject {
    /// The envelope spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventObject::Action => "action",
            EventObject::Chargestation => "chargestation",
            EventObject::Transaction => "transaction",
        }
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// E.g. `chargestation.online`, `chargestation.update_configuration.accepted`.
    pub event_type: String,
    pub object: EventObject,
    /// The chargestation the event concerns; events for one chargestation are delivered
    /// in order per endpoint.
    pub chargestation_id: Option<String>,
    /// The envelope's `data`.
    pub data: Value,
}

/// The webhook envelope, exactly the guide's: `{_id, data, object, type, createdAt}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    #[serde(rename = "_id")]
    pub id: String,
    pub data: Value,
    pub object: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

/// Whether an endpoint's event filter list selects `event_type`: `*`, an exact type,
/// or `prefix.*`.
pub fn filter_matches(filters: &[String], event_type: &str) -> bool {
    filters.iter().any(|filter| {
        filter == "*"
            || filter == event_type
            || filter.strip_suffix(".*").is_some_and(|prefix| {
                event_type
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
    })
}

/// Writes an event and its deliveries using `conn` (pass the open transaction).
/// Returns the envelope.
///
/// After committing that transaction, call [`crate::Db::outbox_written`] so the webhook
/// worker looks at once instead of at its next poll.
///
/// # Errors
/// On database failure.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    now_ms: i64,
    event: NewEvent,
) -> ModelResult<Value> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // One chargestation's events are recorded one transaction at a time, so their
        // delivery order (`seq`) is their commit order: the webhook worker can never see
        // a later event before an earlier one that is still committing (ADR 0004).
        // SQLite has a single writer already.
        let key = format!(
            "csms.events:{}",
            event.chargestation_id.as_deref().unwrap_or("")
        );
        conn.execute(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [key.into()],
        ))
        .await?;
    }
    // `createdAt` never goes backwards for one chargestation, even when two writers
    // read the clock in one order and commit in the other. One probe of
    // `idx_events_station` (m0006), reading only the time.
    let now_ms = match &event.chargestation_id {
        Some(station) => {
            use sea_orm::{QueryOrder, QuerySelect};
            let last: Option<i64> = event::Entity::find()
                .select_only()
                .column(event::Column::CreatedAt)
                .filter(event::Column::ChargestationId.eq(station.clone()))
                .order_by_desc(event::Column::Seq)
                .into_tuple()
                .one(conn)
                .await?;
            last.map_or(now_ms, |last| now_ms.max(last))
        }
        None => now_ms,
    };
    let id = ObjectId::new_at(now_ms).into_string();
    let envelope = serde_json::to_value(Envelope {
        id: id.clone(),
        data: event.data,
        object: event.object.as_str().to_owned(),
        event_type: event.event_type.clone(),
        created_at: format_ms(now_ms),
    })?;
    // `insert(...).exec` rather than `ActiveModel::insert`: one statement, not an insert
    // and a read-back (this runs for every event, on the writer's transaction).
    let event_seq = event::Entity::insert(event::ActiveModel {
        id: Set(id),
        r#type: Set(event.event_type.clone()),
        object: Set(event.object.as_str().to_owned()),
        chargestation_id: Set(event.chargestation_id.clone()),
        envelope: Set(envelope.to_string()),
        created_at: Set(now_ms),
        ..Default::default()
    })
    .exec(conn)
    .await?
    .last_insert_id;
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Active.eq(true))
        .all(conn)
        .await?;
    let deliveries: Vec<webhook_delivery::ActiveModel> = endpoints
        .into_iter()
        .filter(|endpoint| {
            let filters: Vec<String> = serde_json::from_str(&endpoint.events).unwrap_or_default();
            filter_matches(&filters, &event.event_type)
        })
        .map(|endpoint| webhook_delivery::ActiveModel {
            id: Set(ObjectId::new_at(now_ms).into_string()),
            endpoint_id: Set(endpoint.id),
            event_seq: Set(event_seq),
            order_key: Set(event.chargestation_id.clone().unwrap_or_default()),
            status: Set("pending".to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now_ms),
            lease_until: Set(None),
            last_status_code: Set(None),
            last_error: Set(None),
            created_at: Set(now_ms),
            updated_at: Set(now_ms),
            ..Default::default()
        })
        .collect();
    if !deliveries.is_empty() {
        webhook_delivery::Entity::insert_many(deliveries)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(envelope)
}

/// Every event envelope recorded for a chargestation, oldest first.
///
/// # Errors
/// On database failure.
pub async fn for_chargestation(db: &crate::Db, chargestation_id: &str) -> ModelResult<Vec<Value>> {
    use sea_orm::QueryOrder;
    event::Entity::find()
        .filter(event::Column::ChargestationId.eq(chargestation_id))
        .order_by_asc(event::Column::Seq)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|row| serde_json::from_str(&row.envelope).map_err(Into::into))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn star_exact_and_prefix_filters_select_events() {
        let t = "chargestation.update_configuration.accepted";
        assert!(filter_matches(&f(&["*"]), t));
        assert!(filter_matches(&f(&[t]), t));
        assert!(filter_matches(&f(&["chargestation.*"]), t));
        assert!(filter_matches(
            &f(&["chargestation.update_configuration.*"]),
            t
        ));
        assert!(!filter_matches(&f(&["chargestation.update_config.*"]), t));
        assert!(!filter_matches(&f(&["transaction.*"]), t));
        assert!(!filter_matches(&f(&[]), t));
    }
}
