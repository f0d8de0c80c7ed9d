//! The transactional outbox: webhook events are written here in the same transaction
//! as the state change that caused them, with one delivery row per matching endpoint.
//! Delivery itself is the dispatcher's job; this module does no network I/O.

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Set, Statement,
};
use serde_json::Value;

use crate::entities::{event, webhook_delivery};
use crate::ids::ObjectId;
use crate::time::format_ms;
use crate::{ModelError, ModelResult};

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
/// [`record_many`] with one event: the same statements, no more.
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
    let mut envelopes = record_many(conn, now_ms, vec![event]).await?;
    envelopes.pop().ok_or(ModelError::Corrupt(
        "recording an event returned no envelope".into(),
    ))
}

/// Writes `events` and their deliveries using `conn` (pass the open transaction), in
/// the order given: their `seq`, the order webhooks deliver them in, follows it.
/// Returns the envelopes, in the same order.
///
/// A constant number of statements however many events: on PostgreSQL one taking the
/// chargestations' advisory locks, one reading the chargestations' last `createdAt` and
/// the active endpoints, one multi-row insert of the events and one multi-row insert of
/// the deliveries (the inserts split only past the engine's parameter limit; there is no
/// delivery insert when no endpoint wants the events).
///
/// After committing that transaction, call [`crate::Db::outbox_written`] so the webhook
/// worker looks at once instead of at its next poll.
///
/// # Errors
/// On database failure.
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    now_ms: i64,
    events: Vec<NewEvent>,
) -> ModelResult<Vec<Value>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let stations: BTreeSet<&str> = events
        .iter()
        .filter_map(|event| event.chargestation_id.as_deref())
        .collect();
    if conn.get_database_backend() == DbBackend::Postgres {
        lock_order_keys(conn, &events).await?;
    }
    let OutboxReads {
        last_created,
        endpoints,
    } = outbox_reads(conn, &stations).await?;
    let rows: Vec<EventRow> = events
        .into_iter()
        .map(|event| {
            // `createdAt` never goes backwards for one chargestation, even when two
            // writers read the clock in one order and commit in the other.
            let created_at = event
                .chargestation_id
                .as_ref()
                .and_then(|station| last_created.get(station))
                .map_or(now_ms, |&last| now_ms.max(last));
            EventRow::new(event, created_at)
        })
        .collect::<ModelResult<_>>()?;
    let seqs = insert_events(conn, &rows).await?;
    let deliveries: Vec<webhook_delivery::ActiveModel> = rows
        .iter()
        .zip(&seqs)
        .flat_map(|(row, &seq)| {
            endpoints
                .iter()
                .filter(|(_, filters)| filter_matches(filters, &row.event_type))
                .map(move |(endpoint_id, _)| row.delivery(endpoint_id, seq))
        })
        .collect();
    for chunk in deliveries.chunks(max_rows(conn, DELIVERY_PARAMS)) {
        webhook_delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(rows.into_iter().map(|row| row.envelope).collect())
}

/// Columns bound per row of the multi-row inserts (every column but `seq`).
const EVENT_PARAMS: usize = 6;
const DELIVERY_PARAMS: usize = 14;

/// The rows of a multi-row insert of `params_per_row` bound values each that stay under
/// the engine's limit on parameters per statement.
fn max_rows<C: ConnectionTrait>(conn: &C, params_per_row: usize) -> usize {
    let limit = match conn.get_database_backend() {
        DbBackend::Postgres => 65_535,
        // SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32.
        _ => 32_766,
    };
    limit / params_per_row
}

/// Takes the PostgreSQL advisory lock of every chargestation concerned (`""` for events
/// about none), in one statement.
///
/// One chargestation's events are recorded one transaction at a time, so their delivery
/// order (`seq`) is their commit order: the webhook worker can never see a later event
/// before an earlier one that is still committing (ADR 0004). SQLite has a single
/// writer already. The locks are taken in the order of their lock ids (the volatile
/// lock function is evaluated after the sort), the same order in every transaction,
/// so two instances recording events of the same stations never deadlock.
async fn lock_order_keys<C: ConnectionTrait>(conn: &C, events: &[NewEvent]) -> ModelResult<()> {
    let keys: BTreeSet<String> = events
        .iter()
        .map(|event| {
            format!(
                "csms.events:{}",
                event.chargestation_id.as_deref().unwrap_or("")
            )
        })
        .collect();
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(h) FROM \
         (SELECT DISTINCT hashtext(k) AS h FROM json_array_elements_text($1::json) AS k) AS keys \
         ORDER BY h",
        [serde_json::to_string(&keys)?.into()],
    ))
    .await?;
    Ok(())
}

// The stations travel as one JSON array parameter: one statement text whatever their
// number (prepared once), and no parameter limit. The correlated subquery is one probe
// of `idx_events_station` per station, from its high end. The active endpoints (`$2`
// is `true`) follow in the same result, their rows told apart by a `NULL` station.
const OUTBOX_READS_POSTGRES: &str = "SELECT s.k AS station, \
     (SELECT e.created_at FROM events AS e WHERE e.chargestation_id = s.k \
      ORDER BY e.seq DESC LIMIT 1) AS last_created_at, \
     CAST(NULL AS TEXT) AS endpoint_id, CAST(NULL AS TEXT) AS endpoint_events \
     FROM json_array_elements_text($1::json) AS s(k) \
     UNION ALL SELECT NULL, NULL, w.id, w.events FROM webhook_endpoints AS w WHERE w.active = $2";
const OUTBOX_READS_SQLITE: &str = "SELECT s.value AS station, \
     (SELECT e.created_at FROM events AS e WHERE e.chargestation_id = s.value \
      ORDER BY e.seq DESC LIMIT 1) AS last_created_at, \
     CAST(NULL AS TEXT) AS endpoint_id, CAST(NULL AS TEXT) AS endpoint_events \
     FROM json_each($1) AS s \
     UNION ALL SELECT NULL, NULL, w.id, w.events FROM webhook_endpoints AS w WHERE w.active = $2";

/// What [`record_many`] reads before writing.
struct OutboxReads {
    /// The `created_at` of the last event (highest `seq`) of each station that has one.
    last_created: HashMap<String, i64>,
    /// The active endpoints' ids and event filters.
    endpoints: Vec<(String, Vec<String>)>,
}

/// The last `created_at` of each of `stations` and the active endpoints, in one
/// statement whatever the number of stations: per station, one probe of
/// `idx_events_station` (m0006) from its high end, reading only the time.
async fn outbox_reads<C: ConnectionTrait>(
    conn: &C,
    stations: &BTreeSet<&str>,
) -> ModelResult<OutboxReads> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => OUTBOX_READS_POSTGRES,
        _ => OUTBOX_READS_SQLITE,
    };
    let rows = conn
        .query_all(Statement::from_sql_and_values(
            backend,
            sql,
            [serde_json::to_string(stations)?.into(), true.into()],
        ))
        .await?;
    let mut reads = OutboxReads {
        last_created: HashMap::with_capacity(stations.len()),
        endpoints: Vec::new(),
    };
    for row in rows {
        match row.try_get::<Option<String>>("", "station")? {
            Some(station) => {
                if let Some(created_at) = row.try_get::<Option<i64>>("", "last_created_at")? {
                    reads.last_created.insert(station, created_at);
                }
            }
            None => {
                let events: String = row.try_get("", "endpoint_events")?;
                let filters: Vec<String> = serde_json::from_str(&events).unwrap_or_default();
                reads
                    .endpoints
                    .push((row.try_get("", "endpoint_id")?, filters));
            }
        }
    }
    Ok(reads)
}

/// An event about to be inserted, its envelope built.
struct EventRow {
    id: String,
    event_type: String,
    object: EventObject,
    chargestation_id: Option<String>,
    envelope: Value,
    created_at: i64,
}

impl EventRow {
    fn new(event: NewEvent, created_at: i64) -> ModelResult<EventRow> {
        let id = ObjectId::new_at(created_at).into_string();
        let envelope = serde_json::to_value(Envelope {
            id: id.clone(),
            data: event.data,
            object: event.object.as_str().to_owned(),
            event_type: event.event_type.clone(),
            created_at: format_ms(created_at),
        })?;
        Ok(EventRow {
            id,
            event_type: event.event_type,
            object: event.object,
            chargestation_id: event.chargestation_id,
            envelope,
            created_at,
        })
    }

    fn model(&self) -> event::ActiveModel {
        event::ActiveModel {
            id: Set(self.id.clone()),
            r#type: Set(self.event_type.clone()),
            object: Set(self.object.as_str().to_owned()),
            chargestation_id: Set(self.chargestation_id.clone()),
            envelope: Set(self.envelope.to_string()),
            created_at: Set(self.created_at),
            ..Default::default()
        }
    }

    /// The pending delivery of this event (stored as `event_seq`) to an endpoint.
    fn delivery(&self, endpoint_id: &str, event_seq: i64) -> webhook_delivery::ActiveModel {
        webhook_delivery::ActiveModel {
            id: Set(ObjectId::new_at(self.created_at).into_string()),
            endpoint_id: Set(endpoint_id.to_owned()),
            event_seq: Set(event_seq),
            order_key: Set(self.chargestation_id.clone().unwrap_or_default()),
            status: Set("pending".to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(self.created_at),
            lease_until: Set(None),
            last_status_code: Set(None),
            last_error: Set(None),
            created_at: Set(self.created_at),
            updated_at: Set(self.created_at),
            ..Default::default()
        }
    }
}

/// Inserts the events with multi-row `INSERT ... RETURNING seq, id`; returns their `seq`
/// in the order of `rows`. The rows are inserted in that order, so `seq` grows with it;
/// `RETURNING` lists them in no promised order, hence matched back by `id`.
async fn insert_events<C: ConnectionTrait>(conn: &C, rows: &[EventRow]) -> ModelResult<Vec<i64>> {
    let mut seq_by_id = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(max_rows(conn, EVENT_PARAMS)) {
        let mut insert = event::Entity::insert_many(chunk.iter().map(EventRow::model));
        QueryTrait::query(&mut insert)
            .returning(Query::returning().columns([event::Column::Seq, event::Column::Id]));
        let statement = conn.get_database_backend().build(insert.as_query());
        for returned in conn.query_all(statement).await? {
            seq_by_id.insert(
                returned.try_get::<String>("", "id")?,
                returned.try_get::<i64>("", "seq")?,
            );
        }
    }
    rows.iter()
        .map(|row| {
            seq_by_id.get(&row.id).copied().ok_or_else(|| {
                ModelError::Corrupt(format!("the insert of event {} returned no seq", row.id))
            })
        })
        .collect()
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

/// Recording against a real database ([`crate::test_db`]).
#[cfg(test)]
mod record_tests {
    use sea_orm::QueryOrder;
    use serde_json::json;

    use super::*;
    use crate::test_db::{TestDb, T0};
    use crate::webhooks::{self, EndpointPatch, NewEndpoint};

    fn station_event(station: Option<&str>, event_type: &str, n: usize) -> NewEvent {
        NewEvent {
            event_type: event_type.to_owned(),
            object: EventObject::Chargestation,
            chargestation_id: station.map(str::to_owned),
            data: json!({"n": n}),
        }
    }

    async fn endpoint(t: &TestDb, events: &[&str]) -> String {
        webhooks::create(
            &t.db,
            NewEndpoint {
                url: "http://127.0.0.1:9/hook".into(),
                events: Some(events.iter().map(|e| (*e).to_owned()).collect()),
                ..NewEndpoint::default()
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn record_many_committed(t: &TestDb, events: Vec<NewEvent>) -> Vec<Value> {
        let txn = t.db.conn().begin().await.unwrap();
        let envelopes = record_many(&txn, t.db.now_ms(), events).await.unwrap();
        txn.commit().await.unwrap();
        envelopes
    }

    async fn stored_events(t: &TestDb) -> Vec<event::Model> {
        event::Entity::find()
            .order_by_asc(event::Column::Seq)
            .all(t.db.conn())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn record_many_keeps_the_given_order_and_created_at_never_goes_backwards_per_station() {
        let t = TestDb::new().await;
        // A's last event is 5 s ahead of the clock (a writer that read the clock later
        // committed first).
        t.clock.advance_ms(5000);
        let txn = t.db.conn().begin().await.unwrap();
        record(&txn, t.db.now_ms(), station_event(Some("A"), "x.y", 0))
            .await
            .unwrap();
        txn.commit().await.unwrap();
        t.clock.advance_ms(-5000);

        let batch = vec![
            station_event(Some("A"), "x.y", 1),
            station_event(Some("B"), "x.y", 2),
            station_event(Some("A"), "x.y", 3),
            station_event(None, "x.y", 4),
            station_event(Some("B"), "x.y", 5),
        ];
        let envelopes = record_many_committed(&t, batch).await;
        let created: Vec<&str> = envelopes
            .iter()
            .map(|e| e["createdAt"].as_str().unwrap())
            .collect();
        let (ahead, now) = (format_ms(T0 + 5000), format_ms(T0));
        assert_eq!(created, [&ahead, &now, &ahead, &now, &now]);

        let stored = stored_events(&t).await;
        assert_eq!(stored.len(), 6);
        let numbers: Vec<u64> = stored
            .iter()
            .map(|row| {
                let envelope: Value = serde_json::from_str(&row.envelope).unwrap();
                envelope["data"]["n"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5], "seq follows the given order");
        for (row, envelope) in stored[1..].iter().zip(&envelopes) {
            assert_eq!(
                serde_json::from_str::<Value>(&row.envelope).unwrap(),
                *envelope
            );
            assert_eq!(row.id, envelope["_id"].as_str().unwrap());
        }
        let a_times: Vec<i64> = stored
            .iter()
            .filter(|row| row.chargestation_id.as_deref() == Some("A"))
            .map(|row| row.created_at)
            .collect();
        assert_eq!(a_times, [T0 + 5000, T0 + 5000, T0 + 5000]);
        t.done().await;
    }

    #[tokio::test]
    async fn record_many_writes_one_delivery_per_matching_active_endpoint() {
        let t = TestDb::new().await;
        let all = endpoint(&t, &["*"]).await;
        let online = endpoint(&t, &["chargestation.online"]).await;
        let inactive = endpoint(&t, &["*"]).await;
        webhooks::update(
            &t.db,
            &inactive,
            EndpointPatch {
                active: Some(false),
                ..EndpointPatch::default()
            },
        )
        .await
        .unwrap();
        // More deliveries than one SQLite insert takes (32,766 / 14 columns).
        let n = 2500;
        let batch = (0..n)
            .map(|i| {
                let event_type = if i % 2 == 0 {
                    "chargestation.online"
                } else {
                    "chargestation.offline"
                };
                station_event(Some(["A", "B", "C"][i % 3]), event_type, i)
            })
            .collect();
        let envelopes = record_many_committed(&t, batch).await;
        assert_eq!(envelopes.len(), n);
        let stored = stored_events(&t).await;
        let seq_of: HashMap<&str, i64> = stored.iter().map(|e| (e.id.as_str(), e.seq)).collect();
        let seqs: Vec<i64> = envelopes
            .iter()
            .map(|e| seq_of[e["_id"].as_str().unwrap()])
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "seq in the given order"
        );

        let deliveries = webhook_delivery::Entity::find()
            .order_by_asc(webhook_delivery::Column::Seq)
            .all(t.db.conn())
            .await
            .unwrap();
        let to = |endpoint: &str| {
            deliveries
                .iter()
                .filter(|d| d.endpoint_id == endpoint)
                .collect::<Vec<_>>()
        };
        assert_eq!(to(&all).len(), n);
        assert_eq!(to(&online).len(), n.div_ceil(2));
        assert!(to(&inactive).is_empty());
        for delivery in to(&all) {
            let event = stored.iter().find(|e| e.seq == delivery.event_seq).unwrap();
            assert_eq!(
                delivery.order_key,
                event.chargestation_id.clone().unwrap_or_default()
            );
            assert_eq!(
                (delivery.status.as_str(), delivery.attempts),
                ("pending", 0)
            );
            assert_eq!(delivery.next_attempt_at, event.created_at);
        }
        for delivery in to(&online) {
            let event = stored.iter().find(|e| e.seq == delivery.event_seq).unwrap();
            assert_eq!(event.r#type, "chargestation.online");
        }
        t.done().await;
    }

    #[tokio::test]
    async fn record_many_builds_the_envelope_record_builds() {
        let t = TestDb::new().await;
        let txn = t.db.conn().begin().await.unwrap();
        let single = record(
            &txn,
            T0,
            station_event(Some("A"), "chargestation.online", 7),
        )
        .await
        .unwrap();
        let many = record_many(
            &txn,
            T0,
            vec![station_event(Some("A"), "chargestation.online", 7)],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let without_id = |envelope: &Value| {
            let mut envelope = envelope.clone();
            let id = envelope.as_object_mut().unwrap().remove("_id").unwrap();
            assert!(ObjectId::parse(id.as_str().unwrap()).is_ok());
            envelope
        };
        assert_eq!(without_id(&single), without_id(&many[0]));
        assert_eq!(
            without_id(&single),
            json!({
                "data": {"n": 7},
                "object": "chargestation",
                "type": "chargestation.online",
                "createdAt": format_ms(T0),
            })
        );
        let keys: Vec<&String> = single.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["_id", "data", "object", "type", "createdAt"]);
        assert!(record_many(t.db.conn(), T0, Vec::new())
            .await
            .unwrap()
            .is_empty());
        t.done().await;
    }

    /// SQLite: the last `createdAt` of each station is an index probe, not a scan.
    #[tokio::test]
    async fn the_last_created_at_of_each_station_is_read_from_the_index() {
        let t = TestDb::new().await;
        if t.db.is_postgres() {
            t.done().await;
            return;
        }
        let plan =
            t.db.conn()
                .query_all(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    format!("EXPLAIN QUERY PLAN {OUTBOX_READS_SQLITE}"),
                    [r#"["A","B"]"#.into(), true.into()],
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String>("", "detail").unwrap())
                .collect::<Vec<_>>()
                .join("\n");
        assert!(
            plan.contains("SEARCH e USING INDEX idx_events_station (chargestation_id=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN e"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        t.done().await;
    }
}
