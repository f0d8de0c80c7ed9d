//! Transactions: charging sessions as chargers report them with StartTransaction,
//! MeterValues and StopTransaction (CONTRACT §9), and their API view.
//!
//! The OCPP transactionId is the row's auto-increment key, so it is unique per server
//! and survives restarts. `transaction.started` and `transaction.ended` are written in
//! the same database transaction as the change they announce. Meter values are kept
//! one row per OCPP `MeterValue`, also when they belong to no known transaction.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{json, Map, Value};

use crate::entities::meter_value;
use crate::entities::transaction::{self, Column, Entity};
use crate::events::{self, EventObject, NewEvent};
use crate::ids::ObjectId;
use crate::page::Page;
use crate::time::format_ms;
use crate::{Db, ModelError, ModelResult};

/// Event types.
pub mod event_types {
    /// A charger started a transaction.
    pub const STARTED: &str = "transaction.started";
    /// A charger stopped a transaction.
    pub const ENDED: &str = "transaction.ended";
}

/// A stored transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// The OCPP transactionId.
    pub transaction_id: i64,
    pub id: String,
    pub chargestation_id: String,
    pub connector_id: i64,
    pub id_tag: String,
    /// What StartTransaction answered for the idTag.
    pub id_tag_status: String,
    pub meter_start: i64,
    /// As the charger sent it.
    pub start_timestamp: String,
    pub reservation_id: Option<i64>,
    pub meter_stop: Option<i64>,
    pub stop_timestamp: Option<String>,
    pub stop_reason: Option<String>,
    pub stop_id_tag: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<transaction::Model> for Transaction {
    fn from(m: transaction::Model) -> Self {
        Transaction {
            transaction_id: m.transaction_id,
            id: m.id,
            chargestation_id: m.chargestation_id,
            connector_id: m.connector_id,
            id_tag: m.id_tag,
            id_tag_status: m.id_tag_status,
            meter_start: m.meter_start,
            start_timestamp: m.start_timestamp,
            reservation_id: m.reservation_id,
            meter_stop: m.meter_stop,
            stop_timestamp: m.stop_timestamp,
            stop_reason: m.stop_reason,
            stop_id_tag: m.stop_id_tag,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl Transaction {
    /// The API object: `{_id, transactionId, chargestation, connectorId, idTag,
    /// idTagStatus, meterStart, startTimestamp, reservationId?, meterStop?,
    /// stopTimestamp?, stopReason?, stopIdTag?, energy?, active, meterValues?,
    /// createdAt, updatedAt}`. `energy` is `meterStop - meterStart` (Wh) once stopped;
    /// `meterValues` only when given.
    pub fn to_json(&self, meter_values: Option<Vec<Value>>) -> Value {
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("transactionId".into(), json!(self.transaction_id));
        o.insert("chargestation".into(), json!(self.chargestation_id));
        o.insert("connectorId".into(), json!(self.connector_id));
        o.insert("idTag".into(), json!(self.id_tag));
        o.insert("idTagStatus".into(), json!(self.id_tag_status));
        o.insert("meterStart".into(), json!(self.meter_start));
        o.insert("startTimestamp".into(), json!(self.start_timestamp));
        if let Some(reservation) = self.reservation_id {
            o.insert("reservationId".into(), json!(reservation));
        }
        if let Some(stop) = self.meter_stop {
            o.insert("meterStop".into(), json!(stop));
            o.insert("energy".into(), json!(stop - self.meter_start));
        }
        for (name, value) in [
            ("stopTimestamp", &self.stop_timestamp),
            ("stopReason", &self.stop_reason),
            ("stopIdTag", &self.stop_id_tag),
        ] {
            if let Some(value) = value {
                o.insert(name.into(), json!(value));
            }
        }
        o.insert("active".into(), json!(self.active));
        if let Some(values) = meter_values {
            o.insert("meterValues".into(), Value::Array(values));
        }
        o.insert("createdAt".into(), json!(format_ms(self.created_at)));
        o.insert("updatedAt".into(), json!(format_ms(self.updated_at)));
        Value::Object(o)
    }
}

/// A StartTransaction to record.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    pub chargestation_id: String,
    pub connector_id: i64,
    pub id_tag: String,
    pub id_tag_status: String,
    pub meter_start: i64,
    pub start_timestamp: String,
    pub reservation_id: Option<i64>,
}

fn event(event_type: &str, transaction: &Transaction) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        object: EventObject::Transaction,
        chargestation_id: Some(transaction.chargestation_id.clone()),
        data: transaction.to_json(None),
    }
}

/// Records a started transaction and writes `transaction.started`, in one database
/// transaction. Returns it with its new transactionId.
///
/// # Errors
/// On database failure.
pub async fn start(db: &Db, new: NewTransaction) -> ModelResult<Transaction> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let inserted: Transaction = transaction::ActiveModel {
        id: Set(ObjectId::new_at(now).into_string()),
        chargestation_id: Set(new.chargestation_id),
        connector_id: Set(new.connector_id),
        id_tag: Set(new.id_tag),
        id_tag_status: Set(new.id_tag_status),
        meter_start: Set(new.meter_start),
        start_timestamp: Set(new.start_timestamp),
        reservation_id: Set(new.reservation_id),
        meter_stop: Set(None),
        stop_timestamp: Set(None),
        stop_reason: Set(None),
        stop_id_tag: Set(None),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?
    .into();
    events::record(&txn, now, event(event_types::STARTED, &inserted)).await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(inserted)
}

/// One OCPP `MeterValue`: its timestamp (as sent) and its sampled values (JSON array).
#[derive(Debug, Clone, PartialEq)]
pub struct MeterReading {
    pub timestamp: String,
    pub sampled_value: Value,
}

async fn insert_readings<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    chargestation_id: &str,
    connector_id: i64,
    transaction_id: Option<i64>,
    readings: Vec<MeterReading>,
) -> ModelResult<()> {
    for reading in readings {
        meter_value::ActiveModel {
            chargestation_id: Set(chargestation_id.to_owned()),
            connector_id: Set(connector_id),
            transaction_id: Set(transaction_id),
            timestamp: Set(reading.timestamp),
            sampled_value: Set(reading.sampled_value.to_string()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Keeps the meter values of a MeterValues request.
///
/// # Errors
/// On database failure.
pub async fn add_meter_values(
    db: &Db,
    chargestation_id: &str,
    connector_id: i64,
    transaction_id: Option<i64>,
    readings: Vec<MeterReading>,
) -> ModelResult<()> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    insert_readings(
        &txn,
        now,
        chargestation_id,
        connector_id,
        transaction_id,
        readings,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A StopTransaction to record.
#[derive(Debug, Clone)]
pub struct StopTransaction {
    pub chargestation_id: String,
    pub transaction_id: i64,
    pub meter_stop: i64,
    pub stop_timestamp: String,
    pub stop_reason: Option<String>,
    pub stop_id_tag: Option<String>,
    /// `transactionData`.
    pub readings: Vec<MeterReading>,
}

/// Records a stopped transaction, keeps its `transactionData` and writes
/// `transaction.ended`, in one database transaction. Returns `None` for a transaction
/// this chargestation never started (the charger is still answered); a repeated stop
/// changes nothing and writes no event.
///
/// # Errors
/// On database failure.
pub async fn stop(db: &Db, stop: StopTransaction) -> ModelResult<Option<Transaction>> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let Some(current) = Entity::find_by_id(stop.transaction_id)
        .filter(Column::ChargestationId.eq(stop.chargestation_id.clone()))
        .one(&txn)
        .await?
    else {
        insert_readings(
            &txn,
            now,
            &stop.chargestation_id,
            0,
            Some(stop.transaction_id),
            stop.readings,
        )
        .await?;
        txn.commit().await?;
        return Ok(None);
    };
    if !current.active {
        txn.rollback().await?;
        return Ok(Some(current.into()));
    }
    let connector_id = current.connector_id;
    let mut model = current.into_active_model();
    model.meter_stop = Set(Some(stop.meter_stop));
    model.stop_timestamp = Set(Some(stop.stop_timestamp));
    model.stop_reason = Set(stop.stop_reason);
    model.stop_id_tag = Set(stop.stop_id_tag);
    model.active = Set(false);
    model.updated_at = Set(now);
    let updated: Transaction = model.update(&txn).await?.into();
    insert_readings(
        &txn,
        now,
        &stop.chargestation_id,
        connector_id,
        Some(stop.transaction_id),
        stop.readings,
    )
    .await?;
    events::record(&txn, now, event(event_types::ENDED, &updated)).await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(Some(updated))
}

/// A transaction by `_id` or by its transactionId.
///
/// # Errors
/// [`ModelError::NotFound`] or a database failure.
pub async fn get(db: &Db, id_or_number: &str) -> ModelResult<Transaction> {
    let found = if let Ok(number) = id_or_number.parse::<i64>() {
        Entity::find_by_id(number).one(db.conn()).await?
    } else {
        Entity::find()
            .filter(Column::Id.eq(id_or_number))
            .one(db.conn())
            .await?
    };
    found
        .map(Transaction::from)
        .ok_or(ModelError::NotFound("transaction"))
}

/// The meter values of a transaction, oldest first, in OCPP shape
/// (`{timestamp, sampledValue}`).
///
/// # Errors
/// On database failure or a corrupt row.
pub async fn meter_values(db: &Db, transaction: &Transaction) -> ModelResult<Vec<Value>> {
    meter_value::Entity::find()
        .filter(meter_value::Column::TransactionId.eq(transaction.transaction_id))
        .filter(meter_value::Column::ChargestationId.eq(transaction.chargestation_id.clone()))
        .order_by_asc(meter_value::Column::Seq)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|row| {
            let sampled: Value = serde_json::from_str(&row.sampled_value)?;
            Ok(json!({"timestamp": row.timestamp, "sampledValue": sampled}))
        })
        .collect()
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub chargestation_id: Option<String>,
    pub active: Option<bool>,
}

/// One page of transactions and the total count.
///
/// # Errors
/// On database failure.
pub async fn list(
    db: &Db,
    filter: &ListFilter,
    page: &Page,
) -> ModelResult<(Vec<Transaction>, u64)> {
    let mut query = Entity::find();
    if let Some(station) = &filter.chargestation_id {
        query = query.filter(Column::ChargestationId.eq(station.clone()));
    }
    if let Some(active) = filter.active {
        query = query.filter(Column::Active.eq(active));
    }
    let (rows, total) = crate::page::fetch(
        db,
        query,
        page,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::TransactionId,
    )
    .await?;
    Ok((rows.into_iter().map(Transaction::from).collect(), total))
}
