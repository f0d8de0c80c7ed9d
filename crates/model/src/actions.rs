//! Actions: commands sent (or to be sent) to a chargestation, which double as its
//! persistent FIFO command queue (CONTRACT §3, §8 "Action life").
//!
//! An action is stored `requested`/`queued` when the API accepts it; `mark_sent` writes
//! the `.requested` event when the command goes on the wire; `finish` records the
//! outcome and its event — each state change and its event in one transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::entities::action::{self, Column, Entity};
use crate::events::{self, EventObject, NewEvent};
use crate::ids::ObjectId;
use crate::page::Page;
use crate::sql::update_returning;
use crate::time::format_ms;
use crate::Txn;
use crate::{Db, ModelError, ModelResult};

/// Action types: `chargestation.<name>` for each command (CONTRACT §3, §9).
pub mod types {
    /// ChangeConfiguration.
    pub const UPDATE_CONFIGURATION: &str = "chargestation.update_configuration";
    /// GetConfiguration.
    pub const GET_CONFIGURATION: &str = "chargestation.get_configuration";
    /// Reset.
    pub const RESET: &str = "chargestation.reset";
    /// TriggerMessage, or ExtendedTriggerMessage for the messages only it can trigger.
    pub const TRIGGER_MESSAGE: &str = "chargestation.trigger_message";
    /// UnlockConnector.
    pub const UNLOCK_CONNECTOR: &str = "chargestation.unlock_connector";
    /// ChangeAvailability.
    pub const CHANGE_AVAILABILITY: &str = "chargestation.change_availability";
    /// ClearCache.
    pub const CLEAR_CACHE: &str = "chargestation.clear_cache";
    /// RemoteStartTransaction.
    pub const REMOTE_START: &str = "chargestation.remote_start";
    /// RemoteStopTransaction.
    pub const REMOTE_STOP: &str = "chargestation.remote_stop";
    /// SetChargingProfile.
    pub const SET_CHARGING_PROFILE: &str = "chargestation.set_charging_profile";
    /// ClearChargingProfile.
    pub const CLEAR_CHARGING_PROFILE: &str = "chargestation.clear_charging_profile";
    /// GetCompositeSchedule.
    pub const GET_COMPOSITE_SCHEDULE: &str = "chargestation.get_composite_schedule";
    /// ReserveNow.
    pub const RESERVE_NOW: &str = "chargestation.reserve_now";
    /// CancelReservation.
    pub const CANCEL_RESERVATION: &str = "chargestation.cancel_reservation";
    /// SendLocalList.
    pub const SEND_LOCAL_LIST: &str = "chargestation.send_local_list";
    /// GetLocalListVersion.
    pub const GET_LOCAL_LIST_VERSION: &str = "chargestation.get_local_list_version";
    /// UpdateFirmware.
    pub const UPDATE_FIRMWARE: &str = "chargestation.update_firmware";
    /// GetDiagnostics.
    pub const GET_DIAGNOSTICS: &str = "chargestation.get_diagnostics";
    /// SignedUpdateFirmware (security extension).
    pub const SIGNED_UPDATE_FIRMWARE: &str = "chargestation.signed_update_firmware";
    /// GetLog (security extension).
    pub const GET_LOG: &str = "chargestation.get_log";
    /// InstallCertificate (security extension).
    pub const INSTALL_CERTIFICATE: &str = "chargestation.install_certificate";
    /// GetInstalledCertificateIds (security extension).
    pub const GET_INSTALLED_CERTIFICATE_IDS: &str = "chargestation.get_installed_certificate_ids";
    /// DeleteCertificate (security extension).
    pub const DELETE_CERTIFICATE: &str = "chargestation.delete_certificate";
    /// CertificateSigned (security extension).
    pub const CERTIFICATE_SIGNED: &str = "chargestation.certificate_signed";
    /// DataTransfer.
    pub const DATA_TRANSFER: &str = "chargestation.data_transfer";
    /// Any server-initiated action with a raw payload (the escape hatch).
    pub const OCPP: &str = "chargestation.ocpp";
}

/// Where an action is in its life (CONTRACT §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    /// Accepted by the API, queued or on the wire.
    Requested,
    /// The charger answered positively.
    Completed,
    /// The charger answered negatively.
    Rejected,
    /// No usable answer: timeout, disconnect, CALLERROR, interrupted, cancelled.
    Failed,
}

impl ActionStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Requested => "requested",
            ActionStatus::Completed => "completed",
            ActionStatus::Rejected => "rejected",
            ActionStatus::Failed => "failed",
        }
    }

    /// Reads the API spelling.
    pub fn parse(text: &str) -> Option<ActionStatus> {
        match text {
            "requested" => Some(ActionStatus::Requested),
            "completed" => Some(ActionStatus::Completed),
            "rejected" => Some(ActionStatus::Rejected),
            "failed" => Some(ActionStatus::Failed),
            _ => None,
        }
    }

    /// The outcome event suffix: `accepted` for completed, `rejected` otherwise.
    fn event_suffix(self) -> &'static str {
        match self {
            ActionStatus::Completed => "accepted",
            ActionStatus::Requested => "requested",
            ActionStatus::Rejected | ActionStatus::Failed => "rejected",
        }
    }
}

const QUEUED: &str = "queued";
const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";

/// A stored action.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub seq: i64,
    pub id: String,
    pub action_type: String,
    pub status: ActionStatus,
    pub chargestation_id: String,
    /// What was asked, as shown (write-only values masked).
    pub data: Value,
    /// The charger's answer plus our fields, once there is one.
    pub response_data: Option<Value>,
    pub meta_data: Option<Value>,
    /// `queued`, `in_flight` or `done`.
    pub queue_state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<action::Model> for Action {
    type Error = ModelError;

    fn try_from(m: action::Model) -> ModelResult<Self> {
        Ok(Action {
            status: ActionStatus::parse(&m.status)
                .ok_or_else(|| ModelError::Corrupt(format!("action status {}", m.status)))?,
            data: serde_json::from_str(&m.data)?,
            response_data: m
                .response_data
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            meta_data: m
                .meta_data
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            seq: m.seq,
            id: m.id,
            action_type: m.r#type,
            chargestation_id: m.chargestation_id,
            queue_state: m.queue_state,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// The API (and webhook `data`) shape of an action, exactly the guide's: fields without
/// a value are omitted, never `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionView {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "type")]
    pub action_type: String,
    pub status: String,
    pub chargestation: String,
    pub data: Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub meta_data: Option<Value>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// The body of a configuration change (`POST .../configurations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationChange {
    pub key: String,
    /// A string; numbers and booleans are accepted and sent in string form.
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub meta_data: Option<Value>,
}

impl Action {
    /// The API view.
    pub fn view(&self) -> ActionView {
        ActionView {
            id: self.id.clone(),
            action_type: self.action_type.clone(),
            status: self.status.as_str().to_owned(),
            chargestation: self.chargestation_id.clone(),
            data: self.data.clone(),
            response_data: self.response_data.clone(),
            meta_data: self.meta_data.clone(),
            created_at: format_ms(self.created_at),
            updated_at: format_ms(self.updated_at),
        }
    }

    /// The API object as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }

    /// Whether the action has reached its end.
    pub fn is_done(&self) -> bool {
        self.queue_state == DONE
    }
}

/// An action to queue.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub action_type: String,
    pub chargestation_id: String,
    /// As shown (write-only values masked).
    pub data: Value,
    pub meta_data: Option<Value>,
}

/// The facts [`enqueue`] decides on, in one statement: `$1` the station, `$2` the
/// `done` queue state. How many of its actions are unfinished, and its last action's
/// `seq` and `createdAt`.
const QUEUE_TAIL: &str = "SELECT \
     (SELECT COUNT(*) FROM actions WHERE chargestation_id = $1 AND queue_state <> $2) AS depth, \
     (SELECT seq FROM actions WHERE chargestation_id = $1 ORDER BY seq DESC LIMIT 1) AS last_seq, \
     (SELECT created_at FROM actions WHERE chargestation_id = $1 ORDER BY seq DESC LIMIT 1) \
     AS last_created_at";

/// Inserts an action (`$8` its `createdAt` and `updatedAt`) unless an action of its
/// station (`$4`) was queued after the one whose `seq` is `$9` (0: none), returning the
/// row: the insert of [`enqueue`], guarded so that what it read still holds.
const INSERT_IF_TAIL_UNCHANGED: &str = "INSERT INTO actions \
     (id, type, status, chargestation_id, data, meta_data, queue_state, created_at, updated_at) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8 \
     WHERE NOT EXISTS (SELECT 1 FROM actions WHERE chargestation_id = $4 AND seq > $9) \
     RETURNING *";

/// Queues an action unless the station already has `max_queue` unfinished ones.
///
/// Two statements: one read of the station's queue depth and last action, and one
/// insert that only happens while no other action of the station was queued since that
/// read (`RETURNING` the row); when one was, both are tried again. So the depth check
/// holds and the queue order (`seq`) is also the `createdAt` order without a
/// transaction on SQLite, whose single connection may run other statements between the
/// two. On PostgreSQL both run in a transaction holding the station's advisory lock,
/// one enqueue of a station at a time.
///
/// # Errors
/// [`ModelError::QueueFull`], or a database failure.
pub async fn enqueue(db: &Db, new: NewAction, max_queue: u64) -> ModelResult<Action> {
    if !db.is_postgres() {
        return enqueue_on(db.conn(), db, &new, max_queue).await;
    }
    let txn = db.conn().begin().await?;
    txn.execute(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [format!("csms.actions:{}", new.chargestation_id).into()],
    ))
    .await?;
    let action = enqueue_on(&txn, db, &new, max_queue).await?;
    txn.commit().await?;
    Ok(action)
}

/// [`enqueue`]'s read and guarded insert on `conn`, repeated until the insert happens.
async fn enqueue_on<C: ConnectionTrait>(
    conn: &C,
    db: &Db,
    new: &NewAction,
    max_queue: u64,
) -> ModelResult<Action> {
    loop {
        let tail = conn
            .query_one(sea_orm::Statement::from_sql_and_values(
                conn.get_database_backend(),
                QUEUE_TAIL,
                [new.chargestation_id.clone().into(), DONE.into()],
            ))
            .await?
            .ok_or_else(|| ModelError::Corrupt("the queue read returned no row".into()))?;
        let depth: i64 = tail.try_get("", "depth")?;
        if u64::try_from(depth).unwrap_or(0) >= max_queue {
            return Err(ModelError::QueueFull(format!(
                "the chargestation already has {depth} commands waiting (limit {max_queue}); retry when they have finished"
            )));
        }
        let last_seq: Option<i64> = tail.try_get("", "last_seq")?;
        let last_created_at: Option<i64> = tail.try_get("", "last_created_at")?;
        // `createdAt` never goes backwards along the queue, whatever the clock does.
        let now = last_created_at.map_or(db.now_ms(), |last| db.now_ms().max(last));
        if let Some(action) = insert_if_tail_unchanged(conn, new, now, last_seq).await? {
            return Ok(action);
        }
    }
}

/// Inserts `new` as queued at `now`, unless an action of its station was inserted after
/// the one with `seq` `last_seq` (`None`: after none); returns the stored action.
async fn insert_if_tail_unchanged<C: ConnectionTrait>(
    conn: &C,
    new: &NewAction,
    now: i64,
    last_seq: Option<i64>,
) -> ModelResult<Option<Action>> {
    let inserted = conn
        .query_one(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            INSERT_IF_TAIL_UNCHANGED,
            [
                ObjectId::new_at(now).into_string().into(),
                new.action_type.clone().into(),
                ActionStatus::Requested.as_str().into(),
                new.chargestation_id.clone().into(),
                new.data.to_string().into(),
                new.meta_data.as_ref().map(Value::to_string).into(),
                QUEUED.into(),
                now.into(),
                last_seq.unwrap_or(0).into(),
            ],
        ))
        .await?;
    inserted
        .map(|row| action::Model::from_query_result(&row, "")?.try_into())
        .transpose()
}

/// One action by `_id`.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn get(db: &Db, id: &str) -> ModelResult<Action> {
    Entity::find()
        .filter(Column::Id.eq(id))
        .one(db.conn())
        .await?
        .ok_or(ModelError::NotFound("action"))?
        .try_into()
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub chargestation_id: Option<String>,
    pub action_type: Option<String>,
    pub status: Option<ActionStatus>,
}

/// One page of actions and the total count.
///
/// # Errors
/// On database failure.
pub async fn list(db: &Db, filter: &ListFilter, page: &Page) -> ModelResult<(Vec<Action>, u64)> {
    let mut query = Entity::find();
    if let Some(station) = &filter.chargestation_id {
        query = query.filter(Column::ChargestationId.eq(station.clone()));
    }
    if let Some(kind) = &filter.action_type {
        query = query.filter(Column::Type.eq(kind.clone()));
    }
    if let Some(status) = filter.status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    let (rows, total) = crate::page::fetch(
        db,
        query,
        page,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::Seq,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(Action::try_from)
        .collect::<ModelResult<Vec<_>>>()?;
    Ok((items, total))
}

/// What a station's queue worker decides its next step on.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueHead {
    /// The action that may go next: the oldest queued one, or while the queue is held
    /// after `RebootRequired`, the oldest queued reset.
    pub next: Option<Action>,
    /// How many actions are queued (not yet sent), `next` included.
    pub queued: u64,
    /// Whether a command of the station is on the wire, from any instance.
    pub in_flight: bool,
}

/// The station (`$1`) and its queue in one row: `$2` queued, `$3` in flight, `$4` the
/// reset type; the next action's columns are `NULL` when none may go.
const QUEUE_HEAD: &str = "SELECT \
     (SELECT COUNT(*) FROM actions q WHERE q.chargestation_id = s.id AND q.queue_state = $2) \
     AS queued, \
     (SELECT COUNT(*) FROM actions f WHERE f.chargestation_id = s.id AND f.queue_state = $3) \
     AS in_flight, \
     a.* \
     FROM chargestations s \
     LEFT JOIN actions a ON a.seq = (SELECT n.seq FROM actions n \
         WHERE n.chargestation_id = s.id AND n.queue_state = $2 \
         AND (NOT s.queue_held OR n.type = $4) ORDER BY n.seq LIMIT 1) \
     WHERE s.id = $1";

/// A station's queue head in one statement, or `None` when the station does not exist
/// (it was deleted).
///
/// # Errors
/// On database failure.
pub async fn queue_head(db: &Db, station_id: &str) -> ModelResult<Option<QueueHead>> {
    let Some(row) = db
        .conn()
        .query_one(sea_orm::Statement::from_sql_and_values(
            db.conn().get_database_backend(),
            QUEUE_HEAD,
            [
                station_id.into(),
                QUEUED.into(),
                IN_FLIGHT.into(),
                types::RESET.into(),
            ],
        ))
        .await?
    else {
        return Ok(None);
    };
    let next = match row.try_get::<Option<i64>>("", "seq")? {
        Some(_) => Some(action::Model::from_query_result(&row, "")?.try_into()?),
        None => None,
    };
    Ok(Some(QueueHead {
        next,
        queued: u64::try_from(row.try_get::<i64>("", "queued")?).unwrap_or(0),
        // A count, not `EXISTS`: SQLite's rows give an undeclared expression as an
        // integer, never a boolean (crate::sqlite).
        in_flight: row.try_get::<i64>("", "in_flight")? > 0,
    }))
}

/// Stations that have queued actions (to resume their queues at start-up).
///
/// # Errors
/// On database failure.
pub async fn stations_with_queued(db: &Db) -> ModelResult<Vec<String>> {
    let rows: Vec<String> = Entity::find()
        .select_only()
        .column(Column::ChargestationId)
        .filter(Column::QueueState.eq(QUEUED))
        .distinct()
        .into_tuple()
        .all(db.conn())
        .await?;
    Ok(rows)
}

async fn record_event<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    action: &Action,
    suffix: &str,
) -> ModelResult<()> {
    events::record(
        conn,
        now,
        NewEvent {
            event_type: format!("{}.{suffix}", action.action_type),
            object: EventObject::Action,
            chargestation_id: Some(action.chargestation_id.clone()),
            data: action.to_json(),
        },
    )
    .await?;
    Ok(())
}

/// Applies `update` to action `id` in one statement and returns the action as it is
/// after it.
async fn update_action<C: ConnectionTrait>(
    conn: &C,
    update: sea_orm::UpdateMany<Entity>,
    id: &str,
) -> ModelResult<Action> {
    update_returning(conn, update.filter(Column::Id.eq(id)))
        .await?
        .pop()
        .ok_or(ModelError::NotFound("action"))?
        .try_into()
}

/// The command goes on the wire from `instance`: marks it in flight and writes
/// `.requested`.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn mark_sent(db: &Db, id: &str, instance: &str) -> ModelResult<Action> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let update = Entity::update_many()
        .col_expr(Column::QueueState, Expr::value(IN_FLIGHT))
        .col_expr(Column::SentBy, Expr::value(instance));
    let updated = update_action(&txn, update, id).await?;
    record_event(&txn, now, &updated, "requested").await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(updated)
}

/// Finishes an action with its outcome and writes the outcome event; `also` runs in
/// the same transaction for the state the outcome changes (snapshot, password, hold).
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn finish<F>(
    db: &Db,
    id: &str,
    status: ActionStatus,
    response_data: Value,
    also: F,
) -> ModelResult<Action>
where
    F: for<'t> FnOnce(&'t Txn, i64) -> futures_core_box::BoxFuture<'t, ModelResult<()>>,
{
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .col_expr(Column::ResponseData, Expr::value(response_data.to_string()))
        .col_expr(Column::QueueState, Expr::value(DONE))
        .col_expr(Column::UpdatedAt, Expr::value(now));
    let updated = update_action(&txn, update, id).await?;
    also(&txn, now).await?;
    record_event(&txn, now, &updated, status.event_suffix()).await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(updated)
}

/// A boxed future, for the `also` hook of [`finish`].
pub mod futures_core_box {
    /// `Pin<Box<dyn Future + Send + 'a>>`.
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

/// No extra state change for [`finish`].
pub fn nothing_else(_: &Txn, _: i64) -> futures_core_box::BoxFuture<'_, ModelResult<()>> {
    Box::pin(async { Ok(()) })
}

/// Commands on the wire from an instance that is no longer among `live` (it crashed or
/// stopped) end `failed` with `error: "Interrupted"` and are not re-sent. Returns the
/// stations concerned.
///
/// # Errors
/// On database failure.
pub async fn fail_interrupted(db: &Db, live: &[String]) -> ModelResult<Vec<String>> {
    let stuck = Entity::find()
        .filter(Column::QueueState.eq(IN_FLIGHT))
        .filter(
            sea_orm::Condition::any()
                .add(Column::SentBy.is_null())
                .add(Column::SentBy.is_not_in(live.to_vec())),
        )
        .all(db.conn())
        .await?;
    let mut stations = Vec::new();
    for action in stuck {
        finish(
            db,
            &action.id,
            ActionStatus::Failed,
            json!({"error": "Interrupted", "description": "the server stopped while this command was on the wire; it was not re-sent"}),
            nothing_else,
        )
        .await?;
        stations.push(action.chargestation_id);
    }
    stations.dedup();
    Ok(stations)
}

/// Ends every queued (never sent) action of a station `failed` with
/// `error: "Cancelled"`, emitting only the outcome event. Returns how many.
///
/// # Errors
/// On database failure.
pub async fn cancel_queued(db: &Db, station_id: &str, description: &str) -> ModelResult<u64> {
    let queued = Entity::find()
        .filter(Column::ChargestationId.eq(station_id))
        .filter(Column::QueueState.eq(QUEUED))
        .all(db.conn())
        .await?;
    let count = queued.len() as u64;
    for action in queued {
        finish(
            db,
            &action.id,
            ActionStatus::Failed,
            json!({"error": "Cancelled", "description": description}),
            nothing_else,
        )
        .await?;
    }
    Ok(count)
}

/// Sets or clears the `RebootRequired` hold on a station's queue, in a transaction.
///
/// # Errors
/// On database failure.
pub async fn set_queue_held<C: ConnectionTrait>(
    conn: &C,
    station_id: &str,
    held: bool,
) -> ModelResult<()> {
    use crate::entities::chargestation;
    chargestation::Entity::update_many()
        .col_expr(chargestation::Column::QueueHeld, Expr::value(held))
        .filter(chargestation::Column::Id.eq(station_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Queueing and the queue head against a real database ([`crate::test_db`]).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_db::{TestDb, T0};

    async fn station(t: &TestDb, endpoint: &str) -> String {
        t.station(endpoint).await.id
    }

    fn command(station: &str, action_type: &str, n: u32) -> NewAction {
        NewAction {
            action_type: action_type.to_owned(),
            chargestation_id: station.to_owned(),
            data: json!({"n": n}),
            meta_data: (n == 0).then(|| json!({"by": "test"})),
        }
    }

    async fn head(t: &TestDb, station: &str) -> QueueHead {
        queue_head(&t.db, station).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn enqueue_keeps_the_queue_order_in_created_at_and_refuses_past_the_limit() {
        let t = TestDb::new().await;
        let a = station(&t, "A").await;
        let b = station(&t, "B").await;
        // The first action is stamped 5 s ahead (a clock that went back since).
        t.clock.advance_ms(5000);
        let first = enqueue(&t.db, command(&a, types::RESET, 0), 2)
            .await
            .unwrap();
        t.clock.advance_ms(-5000);
        let second = enqueue(&t.db, command(&a, types::RESET, 1), 2)
            .await
            .unwrap();
        let other = enqueue(&t.db, command(&b, types::RESET, 2), 2)
            .await
            .unwrap();
        assert_eq!((first.created_at, first.updated_at), (T0 + 5000, T0 + 5000));
        assert_eq!(
            (second.created_at, second.updated_at),
            (T0 + 5000, T0 + 5000)
        );
        assert_eq!(
            other.created_at, T0,
            "another station's queue has its own clock"
        );
        assert!(first.seq < second.seq && second.seq < other.seq);
        assert_eq!(
            second,
            get(&t.db, &second.id).await.unwrap(),
            "the stored row"
        );
        assert_eq!(
            (first.status, first.queue_state.as_str()),
            (ActionStatus::Requested, QUEUED)
        );
        assert_eq!(first.meta_data, Some(json!({"by": "test"})));
        assert_eq!(second.meta_data, None);
        assert_eq!(second.data, json!({"n": 1}));

        match enqueue(&t.db, command(&a, types::RESET, 3), 2).await {
            Err(ModelError::QueueFull(message)) => {
                assert!(message.contains("already has 2 commands"), "{message}");
            }
            other => panic!("expected QueueFull, got {other:?}"),
        }
        // A finished action makes room again.
        finish(
            &t.db,
            &first.id,
            ActionStatus::Completed,
            json!({}),
            nothing_else,
        )
        .await
        .unwrap();
        enqueue(&t.db, command(&a, types::RESET, 4), 2)
            .await
            .unwrap();
        t.done().await;
    }

    #[tokio::test]
    async fn the_insert_of_enqueue_does_not_happen_once_the_station_queued_something_since_its_read(
    ) {
        let t = TestDb::new().await;
        let a = station(&t, "A").await;
        let b = station(&t, "B").await;
        let queued = enqueue(&t.db, command(&a, types::RESET, 0), 10)
            .await
            .unwrap();
        // Read before `queued` was inserted: stale.
        let stale = insert_if_tail_unchanged(t.db.conn(), &command(&a, types::RESET, 1), T0, None)
            .await
            .unwrap();
        assert_eq!(stale, None);
        // Another station's queue does not count.
        let elsewhere =
            insert_if_tail_unchanged(t.db.conn(), &command(&b, types::RESET, 2), T0, None)
                .await
                .unwrap();
        assert!(elsewhere.is_some());
        let fresh = insert_if_tail_unchanged(
            t.db.conn(),
            &command(&a, types::RESET, 3),
            T0,
            Some(queued.seq),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(fresh.seq > queued.seq);
        let (listed, total) = list(
            &t.db,
            &ListFilter {
                chargestation_id: Some(a.clone()),
                ..ListFilter::default()
            },
            &Page::default(),
        )
        .await
        .unwrap();
        assert_eq!(total, 2, "{listed:?}");
        t.done().await;
    }

    #[tokio::test]
    async fn the_queue_head_is_the_next_action_that_may_go_with_what_is_queued_and_on_the_wire() {
        let t = TestDb::new().await;
        assert_eq!(queue_head(&t.db, "no-such-station").await.unwrap(), None);
        let a = station(&t, "A").await;
        let b = station(&t, "B").await;
        let empty = QueueHead {
            next: None,
            queued: 0,
            in_flight: false,
        };
        assert_eq!(head(&t, &a).await, empty);

        let change = enqueue(&t.db, command(&a, types::UPDATE_CONFIGURATION, 0), 10)
            .await
            .unwrap();
        let reset = enqueue(&t.db, command(&a, types::RESET, 1), 10)
            .await
            .unwrap();
        enqueue(&t.db, command(&b, types::RESET, 2), 10)
            .await
            .unwrap();
        let first = head(&t, &a).await;
        assert_eq!(first.next.as_ref(), Some(&change), "the oldest goes first");
        assert_eq!((first.queued, first.in_flight), (2, false));

        mark_sent(&t.db, &change.id, "instance-1").await.unwrap();
        let sent = head(&t, &a).await;
        assert_eq!(sent.next.map(|n| n.id), Some(reset.id.clone()));
        assert_eq!((sent.queued, sent.in_flight), (1, true));

        // Held after `RebootRequired`: only a reset may go, even behind a later change.
        finish(
            &t.db,
            &change.id,
            ActionStatus::Completed,
            json!({}),
            nothing_else,
        )
        .await
        .unwrap();
        set_queue_held(t.db.conn(), &a, true).await.unwrap();
        let later = enqueue(&t.db, command(&a, types::UPDATE_CONFIGURATION, 3), 10)
            .await
            .unwrap();
        let held = head(&t, &a).await;
        assert_eq!(held.next.map(|n| n.id), Some(reset.id.clone()));
        assert_eq!((held.queued, held.in_flight), (2, false));
        finish(
            &t.db,
            &reset.id,
            ActionStatus::Completed,
            json!({}),
            nothing_else,
        )
        .await
        .unwrap();
        assert_eq!(
            head(&t, &a).await,
            QueueHead {
                next: None,
                queued: 1,
                in_flight: false,
            },
            "queued, but nothing may go while held"
        );
        set_queue_held(t.db.conn(), &a, false).await.unwrap();
        assert_eq!(head(&t, &a).await.next.map(|n| n.id), Some(later.id));
        t.done().await;
    }
}
