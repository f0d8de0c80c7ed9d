//! Charger notifications (CONTRACT §9): FirmwareStatusNotification,
//! SignedFirmwareStatusNotification, DiagnosticsStatusNotification,
//! LogStatusNotification, SecurityEventNotification and SignCertificate requests are
//! stored on the chargestation (`notifications` of its API object: the latest of each
//! kind, the last security events) and emitted as `chargestation.*` events, the state
//! change and its event in one transaction.

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{json, Map, Value};

use crate::chargestations::Chargestation;
use crate::entities::chargestation::Entity;
use crate::events::{self, EventObject, NewEvent};
use crate::time::format_ms;
use crate::{Db, ModelError, ModelResult};

/// How many security events a chargestation keeps (the newest).
pub const SECURITY_EVENTS_KEPT: usize = 50;

/// What a charger notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// FirmwareStatusNotification and SignedFirmwareStatusNotification.
    FirmwareStatus,
    /// DiagnosticsStatusNotification.
    DiagnosticsStatus,
    /// LogStatusNotification.
    LogStatus,
    /// SecurityEventNotification.
    SecurityEvent,
    /// SignCertificate (a CSR to be signed by the operator's CA).
    SignCertificate,
}

impl NotificationKind {
    /// The event type it is emitted as.
    pub fn event_type(self) -> &'static str {
        match self {
            NotificationKind::FirmwareStatus => "chargestation.firmware_status.updated",
            NotificationKind::DiagnosticsStatus => "chargestation.diagnostics_status.updated",
            NotificationKind::LogStatus => "chargestation.log_status.updated",
            NotificationKind::SecurityEvent => "chargestation.security_event",
            NotificationKind::SignCertificate => "chargestation.sign_certificate.requested",
        }
    }

    /// The field of the chargestation's `notifications` it is stored under.
    pub fn field(self) -> &'static str {
        match self {
            NotificationKind::FirmwareStatus => "firmwareStatus",
            NotificationKind::DiagnosticsStatus => "diagnosticsStatus",
            NotificationKind::LogStatus => "logStatus",
            NotificationKind::SecurityEvent => "securityEvents",
            NotificationKind::SignCertificate => "signCertificate",
        }
    }
}

/// Stores a notification on the chargestation and writes its event, in one transaction.
/// `action` is the OCPP action it came with and `payload` its (typed, re-serialised)
/// payload; the stored entry is `{action, ...payload, receivedAt}`. The event's `data`
/// is the chargestation's API object with that entry as `notification`.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn record(
    db: &Db,
    station_id: &str,
    kind: NotificationKind,
    action: &str,
    payload: Value,
    ocpp_base_url: &str,
) -> ModelResult<Value> {
    let now = db.now_ms();
    let mut entry = Map::new();
    entry.insert("action".into(), json!(action));
    if let Value::Object(fields) = payload {
        entry.extend(fields);
    }
    entry.insert("receivedAt".into(), json!(format_ms(now)));
    let entry = Value::Object(entry);

    let txn = db.conn().begin().await?;
    let current = Entity::find_by_id(station_id.to_owned())
        .one(&txn)
        .await?
        .ok_or(ModelError::NotFound("chargestation"))?;
    let mut stored: Map<String, Value> = match current.notifications.as_deref() {
        Some(text) => serde_json::from_str(text)?,
        None => Map::new(),
    };
    if kind == NotificationKind::SecurityEvent {
        let list = stored
            .entry(kind.field())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        if let Value::Array(items) = list {
            items.push(entry.clone());
            let excess = items.len().saturating_sub(SECURITY_EVENTS_KEPT);
            items.drain(..excess);
        }
    } else {
        stored.insert(kind.field().into(), entry.clone());
    }
    let mut model = current.into_active_model();
    model.notifications = Set(Some(Value::Object(stored).to_string()));
    model.last_message_at = Set(Some(now));
    model.updated_at = Set(now);
    let station: Chargestation = model.update(&txn).await?.try_into()?;
    let mut data = station.to_json(ocpp_base_url);
    if let Value::Object(map) = &mut data {
        map.insert("notification".into(), entry.clone());
    }
    events::record(
        &txn,
        now,
        NewEvent {
            event_type: kind.event_type().to_owned(),
            object: EventObject::Chargestation,
            chargestation_id: Some(station_id.to_owned()),
            data,
        },
    )
    .await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(entry)
}
