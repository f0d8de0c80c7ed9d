//! Actions: commands sent (or to be sent) to a chargestation, which double as its
//! persistent FIFO command queue (CONTRACT §3, §8 "Action life").
//!
//! An action is stored `requested`/`queued` when the API accepts it; `mark_sent` writes
//! the `.requested` event when the command goes on the wire; `finish` records the
//! outcome and its event — each state change and its event in one transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::entities::action::{self, Column, Entity};
use crate::events::{self, EventObject, NewEvent};
use crate::ids::ObjectId;
use crate::page::Page;
use crate::sql::update_returning;
use crate::time::format_ms;
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

/// Queues an action unless the station already has `max_queue` unfinished ones.
///
/// # Errors
/// [`ModelError::QueueFull`], or a database failure.
pub async fn enqueue(db: &Db, new: NewAction, max_queue: u64) -> ModelResult<Action> {
    let txn = db.conn().begin().await?;
    if db.is_postgres() {
        // One station's commands are queued one transaction at a time, so the depth
        // check holds and the queue order (`seq`) is also the `createdAt` order.
        // SQLite has a single writer already.
        txn.execute(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("csms.actions:{}", new.chargestation_id).into()],
        ))
        .await?;
    }
    let depth = Entity::find()
        .filter(Column::ChargestationId.eq(new.chargestation_id.clone()))
        .filter(Column::QueueState.ne(DONE))
        .count(&txn)
        .await?;
    if depth >= max_queue {
        return Err(ModelError::QueueFull(format!(
            "the chargestation already has {depth} commands waiting (limit {max_queue}); retry when they have finished"
        )));
    }
    let last = Entity::find()
        .filter(Column::ChargestationId.eq(new.chargestation_id.clone()))
        .order_by_desc(Column::Seq)
        .one(&txn)
        .await?;
    let now = last.map_or(db.now_ms(), |last| db.now_ms().max(last.created_at));
    let inserted = action::ActiveModel {
        id: Set(ObjectId::new_at(now).into_string()),
        r#type: Set(new.action_type),
        status: Set(ActionStatus::Requested.as_str().into()),
        chargestation_id: Set(new.chargestation_id),
        data: Set(new.data.to_string()),
        wire_data: Set(None),
        response_data: Set(None),
        meta_data: Set(new.meta_data.map(|m| m.to_string())),
        queue_state: Set(QUEUED.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    inserted.try_into()
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

/// The oldest queued action of a station; with `only_resets`, the oldest queued reset
/// (a queue held after `RebootRequired` lets only a reset through).
///
/// # Errors
/// On database failure.
pub async fn next_queued(
    db: &Db,
    station_id: &str,
    only_resets: bool,
) -> ModelResult<Option<Action>> {
    let mut query = Entity::find()
        .filter(Column::ChargestationId.eq(station_id))
        .filter(Column::QueueState.eq(QUEUED));
    if only_resets {
        query = query.filter(Column::Type.eq(types::RESET));
    }
    query
        .order_by_asc(Column::Seq)
        .one(db.conn())
        .await?
        .map(Action::try_from)
        .transpose()
}

/// Whether a station has any queued (not yet sent) action.
///
/// # Errors
/// On database failure.
pub async fn has_queued(db: &Db, station_id: &str) -> ModelResult<bool> {
    Ok(Entity::find()
        .filter(Column::ChargestationId.eq(station_id))
        .filter(Column::QueueState.eq(QUEUED))
        .count(db.conn())
        .await?
        > 0)
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
    F: for<'t> FnOnce(
        &'t DatabaseTransaction,
        i64,
    ) -> futures_core_box::BoxFuture<'t, ModelResult<()>>,
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
pub fn nothing_else(
    _: &DatabaseTransaction,
    _: i64,
) -> futures_core_box::BoxFuture<'_, ModelResult<()>> {
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

/// Whether a command of this station is on the wire (from any instance).
///
/// # Errors
/// On database failure.
pub async fn has_in_flight(db: &Db, station_id: &str) -> ModelResult<bool> {
    Ok(Entity::find()
        .filter(Column::ChargestationId.eq(station_id))
        .filter(Column::QueueState.eq(IN_FLIGHT))
        .count(db.conn())
        .await?
        > 0)
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
