//! The OCPP message log: every frame in and out of a charger connection, already masked
//! by the gateway, written in batches by its writer task and read by
//! `GET /v1.1/chargestations/{id}/messages` (docs/message-log.md).
//!
//! Retention: per chargestation at most `max_per_station` rows, none older than
//! `max_age_ms`, both enforced by [`prune_station`] and [`prune_older_than`].

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{json, Map, Value};

use crate::entities::message_log::{self, Column, Entity};
use crate::ids::ObjectId;
use crate::page::Page;
use crate::time::format_ms;
use crate::{Db, ModelResult};

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Charger → server.
    In,
    /// Server → charger.
    Out,
}

impl Direction {
    /// The API spelling (`in`, `out`).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    /// Reads the API spelling.
    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// The OCPP-J message type of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    /// `[2, id, action, payload]`.
    Call,
    /// `[3, id, payload]`.
    CallResult,
    /// `[4, id, code, description, details]`.
    CallError,
}

impl FrameType {
    /// The API spelling (`CALL`, `CALLRESULT`, `CALLERROR`).
    pub fn as_str(self) -> &'static str {
        match self {
            FrameType::Call => "CALL",
            FrameType::CallResult => "CALLRESULT",
            FrameType::CallError => "CALLERROR",
        }
    }

    /// The type of an OCPP-J message type number (2, 3, 4).
    pub fn from_number(number: u64) -> Option<FrameType> {
        match number {
            2 => Some(FrameType::Call),
            3 => Some(FrameType::CallResult),
            4 => Some(FrameType::CallError),
            _ => None,
        }
    }

    fn parse(text: &str) -> Option<FrameType> {
        match text {
            "CALL" => Some(FrameType::Call),
            "CALLRESULT" => Some(FrameType::CallResult),
            "CALLERROR" => Some(FrameType::CallError),
            _ => None,
        }
    }
}

/// A frame to store: everything but the `_id`, decided by the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The chargestation `_id`.
    pub chargestation_id: String,
    /// The charger identity (`endpoint`).
    pub identity: String,
    pub direction: Direction,
    /// `None` when the frame is not a recognisable OCPP-J message.
    pub frame_type: Option<FrameType>,
    /// The action of a CALL, or of the CALL an answer answers, when known.
    pub action: Option<String>,
    pub message_id: Option<String>,
    /// The whole frame as JSON text (masked), stored as it is: the gateway does not
    /// re-serialise frames that had nothing to mask; a frame that is not JSON is a JSON
    /// string of its text.
    pub payload: String,
    /// When the frame was read or written, Unix milliseconds.
    pub timestamp: i64,
    /// On the answer of an answered CALL: milliseconds since the CALL.
    pub round_trip_ms: Option<i64>,
}

impl NewMessage {
    /// The stored frame with `_id` `id` (its payload read back into JSON), as the live
    /// stream shows it.
    pub fn into_stored(self, id: String) -> Message {
        let payload =
            serde_json::from_str(&self.payload).unwrap_or_else(|_| Value::String(self.payload));
        Message {
            id,
            seq: 0,
            chargestation_id: self.chargestation_id,
            identity: self.identity,
            direction: self.direction,
            frame_type: self.frame_type,
            action: self.action,
            message_id: self.message_id,
            payload,
            timestamp: self.timestamp,
            round_trip_ms: self.round_trip_ms,
        }
    }
}

/// A stored frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The `_id`.
    pub id: String,
    /// Insertion order (a tie-breaker for equal timestamps).
    pub seq: i64,
    pub chargestation_id: String,
    pub identity: String,
    pub direction: Direction,
    pub frame_type: Option<FrameType>,
    pub action: Option<String>,
    pub message_id: Option<String>,
    pub payload: Value,
    pub timestamp: i64,
    pub round_trip_ms: Option<i64>,
}

impl Message {
    /// The API view; absent values are omitted.
    pub fn to_json(&self) -> Value {
        let mut item = Map::new();
        item.insert("_id".into(), json!(self.id));
        item.insert("chargestation".into(), json!(self.chargestation_id));
        item.insert("identity".into(), json!(self.identity));
        item.insert("direction".into(), json!(self.direction.as_str()));
        if let Some(kind) = self.frame_type {
            item.insert("type".into(), json!(kind.as_str()));
        }
        if let Some(action) = &self.action {
            item.insert("action".into(), json!(action));
        }
        if let Some(message_id) = &self.message_id {
            item.insert("message_id".into(), json!(message_id));
        }
        item.insert("payload".into(), self.payload.clone());
        item.insert("timestamp".into(), json!(format_ms(self.timestamp)));
        if let Some(ms) = self.round_trip_ms {
            item.insert("round_trip_ms".into(), json!(ms));
        }
        Value::Object(item)
    }
}

impl From<message_log::Model> for Message {
    fn from(row: message_log::Model) -> Message {
        let payload =
            serde_json::from_str(&row.payload).unwrap_or_else(|_| Value::String(row.payload));
        Message {
            id: row.id,
            seq: row.seq,
            chargestation_id: row.chargestation_id,
            identity: row.identity,
            direction: Direction::parse(&row.direction).unwrap_or(Direction::In),
            frame_type: row.frame_type.as_deref().and_then(FrameType::parse),
            action: row.action,
            message_id: row.message_id,
            payload,
            timestamp: row.timestamp,
            round_trip_ms: row.round_trip_ms,
        }
    }
}

/// Stores a batch in one statement and returns the `_id`s given to its frames, in the
/// batch's order.
///
/// # Errors
/// On database failure (nothing of the batch is stored).
pub async fn insert_batch(db: &Db, batch: &[NewMessage]) -> ModelResult<Vec<String>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for new in batch {
        let id = ObjectId::new_at(new.timestamp).to_string();
        rows.push(message_log::ActiveModel {
            id: Set(id.clone()),
            chargestation_id: Set(new.chargestation_id.clone()),
            identity: Set(new.identity.clone()),
            direction: Set(new.direction.as_str().to_owned()),
            frame_type: Set(new.frame_type.map(|t| t.as_str().to_owned())),
            action: Set(new.action.clone()),
            message_id: Set(new.message_id.clone()),
            payload: Set(new.payload.clone()),
            timestamp: Set(new.timestamp),
            round_trip_ms: Set(new.round_trip_ms),
            ..Default::default()
        });
        ids.push(id);
    }
    Entity::insert_many(rows).exec(db.conn()).await?;
    Ok(ids)
}

/// List filters; the station is required.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// The chargestation `_id`.
    pub chargestation_id: String,
    /// Only frames of this action (exact).
    pub action: Option<String>,
    pub direction: Option<Direction>,
    /// Only frames at or after this Unix millisecond.
    pub from_ms: Option<i64>,
    /// Only frames at or before this Unix millisecond.
    pub to_ms: Option<i64>,
}

/// One page of a station's frames (sorted by timestamp, newest first by default) and
/// the total count.
///
/// # Errors
/// On database failure.
pub async fn list(db: &Db, filter: &ListFilter, page: &Page) -> ModelResult<(Vec<Message>, u64)> {
    let mut query =
        Entity::find().filter(Column::ChargestationId.eq(filter.chargestation_id.clone()));
    if let Some(action) = &filter.action {
        query = query.filter(Column::Action.eq(action.clone()));
    }
    if let Some(direction) = filter.direction {
        query = query.filter(Column::Direction.eq(direction.as_str()));
    }
    if let Some(from) = filter.from_ms {
        query = query.filter(Column::Timestamp.gte(from));
    }
    if let Some(to) = filter.to_ms {
        query = query.filter(Column::Timestamp.lte(to));
    }
    let (rows, total) = crate::page::fetch(
        db,
        query,
        page,
        Column::Timestamp,
        Column::Timestamp,
        Column::Seq,
    )
    .await?;
    Ok((rows.into_iter().map(Message::from).collect(), total))
}

/// A station's frames stored after the frame `after_id` (of the same station), oldest
/// first, at most `limit`; empty when `after_id` is not one of the station's frames.
/// (A live stream resuming from `Last-Event-ID`.)
///
/// # Errors
/// On database failure.
pub async fn stored_after(
    db: &Db,
    station_id: &str,
    after_id: &str,
    limit: u64,
) -> ModelResult<Vec<Message>> {
    let after = Entity::find()
        .select_only()
        .column(Column::Seq)
        .filter(Column::ChargestationId.eq(station_id))
        .filter(Column::Id.eq(after_id))
        .into_tuple::<i64>()
        .one(db.conn())
        .await?;
    let Some(after) = after else {
        return Ok(Vec::new());
    };
    let rows = Entity::find()
        .filter(Column::ChargestationId.eq(station_id))
        .filter(Column::Seq.gt(after))
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db.conn())
        .await?;
    Ok(rows.into_iter().map(Message::from).collect())
}

/// Deletes every frame older than `cutoff_ms` (all stations); returns how many.
///
/// # Errors
/// On database failure.
pub async fn prune_older_than(db: &Db, cutoff_ms: i64) -> ModelResult<u64> {
    let result = Entity::delete_many()
        .filter(Column::Timestamp.lt(cutoff_ms))
        .exec(db.conn())
        .await?;
    Ok(result.rows_affected)
}

/// Keeps only the newest `keep` frames of one station; returns how many were deleted.
///
/// # Errors
/// On database failure.
pub async fn prune_station(db: &Db, station_id: &str, keep: u64) -> ModelResult<u64> {
    if keep == 0 {
        let result = Entity::delete_many()
            .filter(Column::ChargestationId.eq(station_id))
            .exec(db.conn())
            .await?;
        return Ok(result.rows_affected);
    }
    // The oldest row still kept; everything older goes.
    let oldest_kept = Entity::find()
        .select_only()
        .column(Column::Timestamp)
        .column(Column::Seq)
        .filter(Column::ChargestationId.eq(station_id))
        .order_by_desc(Column::Timestamp)
        .order_by_desc(Column::Seq)
        .offset(keep - 1)
        .limit(1)
        .into_model::<Position>()
        .one(db.conn())
        .await?;
    let Some(Position { timestamp, seq }) = oldest_kept else {
        return Ok(0);
    };
    let result = Entity::delete_many()
        .filter(Column::ChargestationId.eq(station_id))
        .filter(
            Condition::any().add(Column::Timestamp.lt(timestamp)).add(
                Condition::all()
                    .add(Column::Timestamp.eq(timestamp))
                    .add(Column::Seq.lt(seq)),
            ),
        )
        .exec(db.conn())
        .await?;
    Ok(result.rows_affected)
}

/// Where a frame sits in a station's log. Read by name: SQLite's rows are not read by
/// position (crate::sqlite).
#[derive(Debug, FromQueryResult)]
struct Position {
    timestamp: i64,
    seq: i64,
}

#[derive(Debug, FromQueryResult)]
struct StationCount {
    chargestation_id: String,
}

/// The stations holding more than `max` frames.
///
/// # Errors
/// On database failure.
pub async fn stations_over(db: &Db, max: u64) -> ModelResult<Vec<String>> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let rows = Entity::find()
        .select_only()
        .column(Column::ChargestationId)
        .group_by(Column::ChargestationId)
        .having(Expr::expr(Func::count(Expr::col(Column::Seq))).gt(max))
        .into_model::<StationCount>()
        .all(db.conn())
        .await?;
    Ok(rows.into_iter().map(|r| r.chargestation_id).collect())
}
