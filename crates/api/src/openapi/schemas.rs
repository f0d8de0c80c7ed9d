//! Documenting-only types: the shapes of the API's request bodies and responses, for
//! the OpenAPI document. The handlers read bodies by hand (`crate::body`) and answer with
//! the `to_json` views of `model`; these types only describe them (so `model` and `ocpp`
//! stay free of utoipa), and `scripts/api-fuzz` checks the answers against them.
//!
//! Fields that may be absent are `Option`s, never sent as `null`.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The JSON `null` (the `result` of an error).
#[derive(Debug, Serialize)]
pub struct Null;

impl PartialSchema for Null {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for Null {}

/// Every error: `{ok:false, message, result:null}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"ok": false, "message": "chargestation not found", "result": null}))]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub ok: bool,
    /// What went wrong; for a 422, it names the field.
    pub message: String,
    pub result: Null,
}

/// A success: `{ok:true, message, result}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `true`.
    pub ok: bool,
    pub message: String,
    pub result: T,
}

/// A page of a list: `result` is the page, the total is in `X-Total-Count`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListEnvelope<T> {
    /// Always `true`.
    pub ok: bool,
    pub message: String,
    pub result: Vec<T>,
}

/// `security` of a chargestation body.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityInput {
    /// How the charger authenticates.
    #[serde(rename = "type")]
    pub security_type: Option<SecurityType>,
    /// The Basic-auth password (generated when absent); requires `type`.
    pub password: Option<String>,
}

/// How a charger authenticates at the handshake.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecurityType {
    None,
    BasicAuth,
    ClientCertificate,
}

/// `POST /v1.1/chargestations`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"endpoint": "CP-1", "security": {"type": "basic_auth"}}))]
pub struct NewChargestation {
    /// The identity the charger connects with (the last segment of its URL).
    pub endpoint: String,
    pub protocol: Option<String>,
    pub active: Option<bool>,
    pub security: Option<SecurityInput>,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
    /// Accept a handshake without the `ocpp1.6` subprotocol.
    pub lenient_handshake: Option<bool>,
}

/// `PATCH /v1.1/chargestations/{id}`: only the fields given change; `meta_data: null`
/// removes it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"active": false}))]
pub struct ChargestationPatch {
    pub active: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
    pub security: Option<SecurityInput>,
    pub lenient_handshake: Option<bool>,
}

/// The `security` of a chargestation; `password` only right after it was set or
/// generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityView {
    #[serde(rename = "type")]
    pub security_type: SecurityType,
    pub password: Option<String>,
}

/// A connector's last StatusNotification.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorStatus {
    pub connector_id: i64,
    pub status: String,
    pub error_code: String,
    pub info: Option<String>,
    pub vendor_error_code: Option<String>,
    pub timestamp: String,
}

/// A chargestation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Chargestation {
    #[serde(rename = "_id")]
    pub id: String,
    pub endpoint: String,
    pub protocol: String,
    pub online: bool,
    pub active: bool,
    /// The last BootNotification's payload.
    #[serde(rename = "bootInfo")]
    #[schema(value_type = Option<Object>)]
    pub boot_info: Option<Value>,
    pub connectors: Vec<ConnectorStatus>,
    /// The last configuration upload, key → value.
    #[schema(value_type = Option<Object>)]
    pub configuration: Option<Value>,
    /// The URL the charger connects to.
    pub connection_url: String,
    pub security: SecurityView,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub notifications: Option<Value>,
    #[serde(rename = "lastConnectAt")]
    pub last_connect_at: Option<String>,
    #[serde(rename = "lastDisconnectAt")]
    pub last_disconnect_at: Option<String>,
    #[serde(rename = "lastMessageAt")]
    pub last_message_at: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// An action (a command to a charger) and its outcome, as the guide shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Action {
    #[serde(rename = "_id")]
    pub id: String,
    /// `chargestation.update_configuration`, `chargestation.unlock_connector`, ...
    #[serde(rename = "type")]
    pub action_type: String,
    /// `requested`, `completed`, `rejected` or `failed`.
    pub status: String,
    /// The station's `_id`.
    pub chargestation: String,
    /// What was asked (write-only values masked).
    #[schema(value_type = Object)]
    pub data: Value,
    /// The charger's answer, once there is one.
    #[schema(value_type = Option<Object>)]
    pub response_data: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// `POST`/`PATCH /v1.1/chargestations/{id}/configurations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigurationChange {
    /// The configuration key.
    pub key: String,
    /// A string; numbers and booleans are sent in string form.
    #[schema(value_type = ConfigurationValue)]
    pub value: Value,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
}

/// A configuration value: a string, a number or a boolean.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConfigurationValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// `POST /v1.1/chargestations/{id}/reset`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "Soft"}))]
pub struct ResetRequest {
    /// `Hard` or `Soft`.
    #[serde(rename = "type")]
    pub reset_type: String,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
}

/// A row of `/configurations/details`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigurationDetail {
    /// `core`, `local_auth`, ... or `Unknown` for vendor keys.
    pub category: String,
    pub description: String,
    pub name: String,
    /// The desired profile's value (absent outside the profile).
    #[serde(rename = "desiredValue")]
    #[schema(value_type = Option<Value>)]
    pub desired_value: Option<Value>,
    pub value: String,
    pub writable: bool,
    pub editable: bool,
}

/// A row of `/configurations/drift`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriftItem {
    pub key: String,
    pub value: String,
    #[serde(rename = "desiredValue")]
    #[schema(value_type = Value)]
    pub desired_value: Value,
    pub writable: bool,
    pub enforced: bool,
}

/// The body of a command: the OCPP request's fields (see the OCPP 1.6 specification of
/// the action) plus an optional `meta_data` object kept with the action.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"connectorId": 1}))]
pub struct CommandRequest {
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
}

/// An idTag's status.
#[derive(Debug, Serialize, ToSchema)]
pub enum TokenStatus {
    Accepted,
    Blocked,
    Expired,
    Invalid,
}

/// `POST /v1.1/tokens`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"idTag": "04A1B2C3", "status": "Accepted"}))]
pub struct NewToken {
    #[serde(rename = "idTag")]
    pub id_tag: String,
    pub status: Option<TokenStatus>,
    /// RFC 3339.
    #[serde(rename = "expiryDate")]
    pub expiry_date: Option<String>,
    #[serde(rename = "parentIdTag")]
    pub parent_id_tag: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
}

/// `PATCH /v1.1/tokens/{id}`: `null` removes an optional field; `idTag` cannot change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "Blocked"}))]
pub struct TokenPatch {
    pub status: Option<TokenStatus>,
    #[serde(rename = "expiryDate")]
    pub expiry_date: Option<String>,
    #[serde(rename = "parentIdTag")]
    pub parent_id_tag: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
}

/// An idTag.
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "idTag")]
    pub id_tag: String,
    /// `Expired` once `expiryDate` has passed.
    pub status: TokenStatus,
    #[serde(rename = "expiryDate")]
    pub expiry_date: Option<String>,
    #[serde(rename = "parentIdTag")]
    pub parent_id_tag: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub meta_data: Option<Value>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// A transaction (`meterValues` on `GET /v1.1/transactions/{id}` only).
#[derive(Debug, Serialize, ToSchema)]
pub struct Transaction {
    #[serde(rename = "_id")]
    pub id: String,
    /// The OCPP transactionId.
    #[serde(rename = "transactionId")]
    pub transaction_id: i64,
    pub chargestation: String,
    #[serde(rename = "connectorId")]
    pub connector_id: i64,
    #[serde(rename = "idTag")]
    pub id_tag: String,
    #[serde(rename = "idTagStatus")]
    pub id_tag_status: String,
    #[serde(rename = "meterStart")]
    pub meter_start: i64,
    #[serde(rename = "startTimestamp")]
    pub start_timestamp: String,
    #[serde(rename = "reservationId")]
    pub reservation_id: Option<i64>,
    #[serde(rename = "meterStop")]
    pub meter_stop: Option<i64>,
    /// Wh, `meterStop - meterStart`.
    pub energy: Option<i64>,
    #[serde(rename = "stopTimestamp")]
    pub stop_timestamp: Option<String>,
    #[serde(rename = "stopReason")]
    pub stop_reason: Option<String>,
    #[serde(rename = "stopIdTag")]
    pub stop_id_tag: Option<String>,
    pub active: bool,
    #[serde(rename = "meterValues")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub meter_values: Option<Vec<Value>>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// `POST /v1.1/webhooks`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"url": "https://example.com/csms-events", "events": ["*"]}))]
pub struct NewWebhook {
    /// An `http` or `https` URL.
    pub url: String,
    /// Event types to deliver (`*` for all; the default).
    pub events: Option<Vec<String>>,
    /// The HMAC secret (generated, `whsec_...`, when absent).
    pub secret: Option<String>,
    pub description: Option<String>,
}

/// `PATCH /v1.1/webhooks/{id}`: the secret cannot change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"active": true}))]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

/// A webhook endpoint (`secret` on create and get only).
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    #[serde(rename = "_id")]
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub description: Option<String>,
    pub secret: Option<String>,
    #[serde(rename = "failingSince")]
    pub failing_since: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// One delivery of an event to a webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    #[serde(rename = "_id")]
    pub id: String,
    /// The event's `_id`.
    pub event: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    #[serde(rename = "lastResponseCode")]
    pub last_response_code: Option<i64>,
    #[serde(rename = "lastError")]
    pub last_error: Option<String>,
    /// When `status` is `pending`.
    #[serde(rename = "nextAttemptAt")]
    pub next_attempt_at: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// An event as delivered to a webhook endpoint (signed, see docs/webhooks.md): `data`
/// is the action (or the object) the event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEvent {
    #[serde(rename = "_id")]
    pub id: String,
    #[schema(value_type = Object)]
    pub data: Value,
    /// What `data` is: `action`, ...
    pub object: String,
    /// `chargestation.update_configuration.requested`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

/// `/health` and `/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: String,
}

/// `in`: charger → server; `out`: server → charger.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

/// The OCPP-J message type of a frame.
#[derive(Debug, Serialize, ToSchema)]
pub enum FrameType {
    #[serde(rename = "CALL")]
    Call,
    #[serde(rename = "CALLRESULT")]
    CallResult,
    #[serde(rename = "CALLERROR")]
    CallError,
}

/// One OCPP frame of the message log (docs/message-log.md).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"_id": "6565a0c1e4b0a1b2c3d4e5f6", "chargestation": "6565a0b0e4b0a1b2c3d4e5f0",
    "identity": "CP-1", "direction": "in", "type": "CALL", "action": "Heartbeat",
    "message_id": "19", "payload": [2, "19", "Heartbeat", {}],
    "timestamp": "2026-11-25T10:00:00.123Z"}))]
pub struct LoggedMessage {
    #[serde(rename = "_id")]
    pub id: String,
    /// The station's `_id`.
    pub chargestation: String,
    /// The charger's identity.
    pub identity: String,
    pub direction: Direction,
    /// Absent when the frame was not a valid OCPP-J message.
    #[serde(rename = "type")]
    pub frame_type: Option<FrameType>,
    /// The action; for an answer, the action of the CALL it answers (absent if unknown).
    pub action: Option<String>,
    pub message_id: Option<String>,
    /// The whole OCPP-J frame (secrets masked), or its text if it was not JSON.
    #[schema(value_type = Value)]
    pub payload: Value,
    pub timestamp: String,
    /// On the answer to a CALL: the time from the CALL to it.
    pub round_trip_ms: Option<i64>,
}
