//! Chargestations: the stored record, its API view (CONTRACT §2), and the data-access
//! functions the API and the gateway use. Connection state changes write their
//! `chargestation.*` events in the same transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, QueryTrait, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::{masked, ReportedKey};
use crate::entities::chargestation::{self, Column, Entity};
use crate::events::{self, EventObject, NewEvent};
use crate::ids::{ChargestationIdentity, ObjectId};
use crate::page::Page;
use crate::password::{check_station_password, hash_password, random_secret, verify_password};
use crate::sql::{update_returning, value_rows};
use crate::time::format_ms;
use crate::{Db, ModelError, ModelResult};

/// How a charger proves who it is (CONTRACT §2, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityType {
    /// No credentials (security profile 0).
    None,
    /// HTTP Basic auth, username = identity (profiles 1 and 2).
    BasicAuth,
    /// A TLS client certificate (profile 3).
    ClientCertificate,
}

impl SecurityType {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityType::None => "none",
            SecurityType::BasicAuth => "basic_auth",
            SecurityType::ClientCertificate => "client_certificate",
        }
    }

    fn from_stored(text: &str) -> SecurityType {
        match text {
            "basic_auth" => SecurityType::BasicAuth,
            "client_certificate" => SecurityType::ClientCertificate,
            _ => SecurityType::None,
        }
    }
}

/// One connector's last reported status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatus {
    pub connector_id: i64,
    pub status: String,
    pub error_code: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vendor_error_code: Option<String>,
    pub timestamp: String,
}

/// A chargestation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Chargestation {
    pub id: String,
    pub endpoint: String,
    pub protocol: String,
    pub active: bool,
    pub online: bool,
    pub boot_info: Option<Value>,
    pub boot_count: i64,
    pub connectors: Vec<ConnectorStatus>,
    /// The last configuration upload (write-only values masked).
    pub configuration: Option<Vec<ReportedKey>>,
    pub security_type: SecurityType,
    password_hash: Option<String>,
    pub lenient_handshake: bool,
    pub meta_data: Option<Value>,
    pub connection_generation: i64,
    pub last_connect_at: Option<i64>,
    pub last_disconnect_at: Option<i64>,
    pub last_message_at: Option<i64>,
    pub queue_held: bool,
    /// The latest charger notifications (firmware, diagnostics, log, security events,
    /// certificate signing requests), see [`crate::notifications`].
    pub notifications: Option<Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<chargestation::Model> for Chargestation {
    type Error = ModelError;

    fn try_from(m: chargestation::Model) -> ModelResult<Self> {
        Ok(Chargestation {
            boot_info: m
                .boot_info
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            connectors: serde_json::from_str(&m.connectors)?,
            configuration: m
                .configuration
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            meta_data: m
                .meta_data
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            security_type: SecurityType::from_stored(&m.security_type),
            id: m.id,
            endpoint: m.endpoint,
            protocol: m.protocol,
            active: m.active,
            online: m.online,
            boot_count: m.boot_count,
            password_hash: m.password_hash,
            lenient_handshake: m.lenient_handshake,
            connection_generation: m.connection_generation,
            last_connect_at: m.last_connect_at,
            last_disconnect_at: m.last_disconnect_at,
            last_message_at: m.last_message_at,
            queue_held: m.queue_held,
            notifications: m
                .notifications
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl Chargestation {
    /// Whether `password` is this station's Basic-auth password.
    pub fn password_matches(&self, password: &str) -> bool {
        self.password_hash
            .as_deref()
            .is_some_and(|stored| verify_password(stored, password))
    }

    /// The API object (CONTRACT §2); absent values are omitted, never `null`.
    /// `ocpp_base_url` is the charger-facing base, e.g. `ws://host:9000/ocpp`.
    pub fn to_json(&self, ocpp_base_url: &str) -> Value {
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("endpoint".into(), json!(self.endpoint));
        o.insert("protocol".into(), json!(self.protocol));
        o.insert("online".into(), json!(self.online));
        o.insert("active".into(), json!(self.active));
        if let Some(boot) = &self.boot_info {
            o.insert("bootInfo".into(), boot.clone());
        }
        o.insert("connectors".into(), json!(self.connectors));
        if let Some(configuration) = &self.configuration {
            let map: Map<String, Value> = configuration
                .iter()
                .map(|entry| {
                    (
                        entry.key.clone(),
                        json!(entry.value.as_deref().unwrap_or("")),
                    )
                })
                .collect();
            o.insert("configuration".into(), Value::Object(map));
        }
        o.insert(
            "connection_url".into(),
            json!(format!(
                "{}/{}",
                ocpp_base_url.trim_end_matches('/'),
                percent_encode_segment(&self.endpoint)
            )),
        );
        o.insert(
            "security".into(),
            json!({"type": self.security_type.as_str()}),
        );
        if let Some(meta) = &self.meta_data {
            o.insert("meta_data".into(), meta.clone());
        }
        if let Some(notifications) = &self.notifications {
            o.insert("notifications".into(), notifications.clone());
        }
        for (name, value) in [
            ("lastConnectAt", self.last_connect_at),
            ("lastDisconnectAt", self.last_disconnect_at),
            ("lastMessageAt", self.last_message_at),
        ] {
            if let Some(ms) = value {
                o.insert(name.into(), json!(format_ms(ms)));
            }
        }
        o.insert("createdAt".into(), json!(format_ms(self.created_at)));
        o.insert("updatedAt".into(), json!(format_ms(self.updated_at)));
        Value::Object(o)
    }
}

fn percent_encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A chargestation to create (`POST /v1.1/chargestations`).
#[derive(Debug, Clone, Default)]
pub struct NewChargestation {
    pub endpoint: String,
    pub protocol: Option<String>,
    pub active: Option<bool>,
    pub security_type: Option<SecurityType>,
    pub password: Option<String>,
    pub meta_data: Option<Value>,
    pub lenient_handshake: Option<bool>,
}

/// The supported OCPP protocol.
pub const PROTOCOL_OCPP16: &str = "ocpp1.6";

/// Creates a chargestation. Returns it and, for `basic_auth` without a given password,
/// the generated password (shown once).
///
/// # Errors
/// [`ModelError::Invalid`] for a bad endpoint, protocol or password;
/// [`ModelError::Conflict`] when the endpoint exists.
pub async fn create(
    db: &Db,
    new: NewChargestation,
) -> ModelResult<(Chargestation, Option<String>)> {
    let identity = ChargestationIdentity::parse(&new.endpoint)?;
    let protocol = new.protocol.unwrap_or_else(|| PROTOCOL_OCPP16.to_owned());
    if protocol != PROTOCOL_OCPP16 {
        return Err(ModelError::Invalid(format!(
            "protocol must be \"{PROTOCOL_OCPP16}\""
        )));
    }
    let security = new.security_type.unwrap_or(SecurityType::None);
    let (hash, generated) = password_for(security, new.password.as_deref())?;
    if find_by_endpoint(db, identity.as_str()).await?.is_some() {
        return Err(ModelError::Conflict(format!(
            "a chargestation with endpoint '{}' already exists",
            identity.as_str()
        )));
    }
    let now = db.now_ms();
    let model = chargestation::ActiveModel {
        id: Set(ObjectId::new_at(now).into_string()),
        endpoint: Set(identity.as_str().to_owned()),
        protocol: Set(protocol),
        active: Set(new.active.unwrap_or(true)),
        online: Set(false),
        boot_info: Set(None),
        boot_count: Set(0),
        connectors: Set("[]".into()),
        configuration: Set(None),
        security_type: Set(security.as_str().to_owned()),
        password_hash: Set(hash),
        lenient_handshake: Set(new.lenient_handshake.unwrap_or(false)),
        meta_data: Set(new.meta_data.map(|m| m.to_string())),
        connection_generation: Set(0),
        last_connect_at: Set(None),
        last_disconnect_at: Set(None),
        last_message_at: Set(None),
        queue_held: Set(false),
        held_by: Set(None),
        notifications: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = model.insert(db.conn()).await.map_err(|e| {
        if e.to_string().to_ascii_lowercase().contains("unique") {
            ModelError::Conflict(format!(
                "a chargestation with endpoint '{}' already exists",
                identity.as_str()
            ))
        } else {
            ModelError::Db(e)
        }
    })?;
    Ok((inserted.try_into()?, generated))
}

/// The password hash to store for a security type, and the generated password if one
/// had to be made.
fn password_for(
    security: SecurityType,
    given: Option<&str>,
) -> ModelResult<(Option<String>, Option<String>)> {
    match (security, given) {
        (SecurityType::BasicAuth, Some(password)) => {
            check_station_password(password).map_err(ModelError::Invalid)?;
            Ok((Some(hash_password(password)), None))
        }
        (SecurityType::BasicAuth, None) => {
            let generated = random_secret(20);
            Ok((Some(hash_password(&generated)), Some(generated)))
        }
        (_, Some(_)) => Err(ModelError::Invalid(
            "security.password is only allowed with security.type \"basic_auth\"".into(),
        )),
        (_, None) => Ok((None, None)),
    }
}

/// Finds by `_id`, or by OCPP identity as a convenience (CONTRACT §1).
///
/// # Errors
/// On database failure.
pub async fn find(db: &Db, id_or_endpoint: &str) -> ModelResult<Option<Chargestation>> {
    // Every API call on a chargestation starts here: read on the reader connection.
    let conn = db.reader();
    if let Ok(id) = ObjectId::parse(id_or_endpoint) {
        if let Some(found) = Entity::find_by_id(id.into_string()).one(conn).await? {
            return Ok(Some(found.try_into()?));
        }
    }
    find_by_endpoint_on(conn, id_or_endpoint).await
}

/// Finds by OCPP identity.
///
/// # Errors
/// On database failure.
pub async fn find_by_endpoint(db: &Db, endpoint: &str) -> ModelResult<Option<Chargestation>> {
    find_by_endpoint_on(db.conn(), endpoint).await
}

async fn find_by_endpoint_on<C: ConnectionTrait>(
    conn: &C,
    endpoint: &str,
) -> ModelResult<Option<Chargestation>> {
    Entity::find()
        .filter(Column::Endpoint.eq(endpoint))
        .one(conn)
        .await?
        .map(Chargestation::try_from)
        .transpose()
}

/// Finds many by OCPP identity in one query: the stations found, by identity.
///
/// # Errors
/// On database failure.
pub async fn find_by_endpoints(
    db: &Db,
    endpoints: &[String],
) -> ModelResult<HashMap<String, Chargestation>> {
    let mut found = HashMap::with_capacity(endpoints.len());
    for chunk in endpoints.chunks(IDS_PER_READ) {
        for row in Entity::find()
            .filter(Column::Endpoint.is_in(chunk.iter().cloned()))
            .all(db.conn())
            .await?
        {
            let station = Chargestation::try_from(row)?;
            found.insert(station.endpoint.clone(), station);
        }
    }
    Ok(found)
}

/// Finds by `_id` or identity, or fails with `NotFound`.
///
/// # Errors
/// [`ModelError::NotFound`] or a database failure.
pub async fn get(db: &Db, id_or_endpoint: &str) -> ModelResult<Chargestation> {
    find(db, id_or_endpoint)
        .await?
        .ok_or(ModelError::NotFound("chargestation"))
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub online: Option<bool>,
    pub endpoint: Option<String>,
}

/// One page of chargestations and the total count.
///
/// # Errors
/// On database failure.
pub async fn list(
    db: &Db,
    filter: &ListFilter,
    page: &Page,
) -> ModelResult<(Vec<Chargestation>, u64)> {
    let mut query = Entity::find();
    if let Some(online) = filter.online {
        query = query.filter(Column::Online.eq(online));
    }
    if let Some(endpoint) = &filter.endpoint {
        query = query.filter(Column::Endpoint.eq(endpoint.clone()));
    }
    let (rows, total) = crate::page::fetch(
        db,
        query,
        page,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::Id,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(Chargestation::try_from)
        .collect::<ModelResult<Vec<_>>>()?;
    Ok((items, total))
}

/// Changes to a chargestation (`PATCH`); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ChargestationPatch {
    pub active: Option<bool>,
    /// `Some(None)` removes the meta data.
    pub meta_data: Option<Option<Value>>,
    pub security_type: Option<SecurityType>,
    pub password: Option<String>,
    pub lenient_handshake: Option<bool>,
}

/// Applies a patch. Returns the updated station and a generated password when the
/// station was switched to `basic_auth` without one.
///
/// # Errors
/// `NotFound`, `Invalid`, or a database failure.
pub async fn update(
    db: &Db,
    id: &str,
    patch: ChargestationPatch,
) -> ModelResult<(Chargestation, Option<String>)> {
    let current = Entity::find_by_id(id.to_owned())
        .one(db.conn())
        .await?
        .ok_or(ModelError::NotFound("chargestation"))?;
    let current_security = SecurityType::from_stored(&current.security_type);
    let mut model = current.clone().into_active_model();
    let mut generated = None;
    if let Some(active) = patch.active {
        model.active = Set(active);
    }
    if let Some(meta) = patch.meta_data {
        model.meta_data = Set(meta.map(|m| m.to_string()));
    }
    if let Some(lenient) = patch.lenient_handshake {
        model.lenient_handshake = Set(lenient);
    }
    let new_security = patch.security_type.unwrap_or(current_security);
    if patch.security_type.is_some() || patch.password.is_some() {
        let keep_existing = new_security == SecurityType::BasicAuth
            && current_security == SecurityType::BasicAuth
            && patch.password.is_none()
            && current.password_hash.is_some();
        if !keep_existing {
            let (hash, made) = password_for(new_security, patch.password.as_deref())?;
            model.password_hash = Set(hash);
            generated = made;
        }
        model.security_type = Set(new_security.as_str().to_owned());
    }
    model.updated_at = Set(db.now_ms());
    let updated = model.update(db.conn()).await?;
    Ok((updated.try_into()?, generated))
}

/// Generates and stores a new Basic-auth password; returns it (shown once).
///
/// # Errors
/// `NotFound`; `Invalid` when the station does not use `basic_auth`.
pub async fn reset_password(db: &Db, id: &str) -> ModelResult<(Chargestation, String)> {
    let current = Entity::find_by_id(id.to_owned())
        .one(db.conn())
        .await?
        .ok_or(ModelError::NotFound("chargestation"))?;
    if current.security_type != SecurityType::BasicAuth.as_str() {
        return Err(ModelError::Invalid(
            "reset_password needs security.type \"basic_auth\"; PATCH the security first".into(),
        ));
    }
    let password = random_secret(20);
    let mut model = current.into_active_model();
    model.password_hash = Set(Some(hash_password(&password)));
    model.updated_at = Set(db.now_ms());
    let updated = model.update(db.conn()).await?;
    Ok((updated.try_into()?, password))
}

/// Replaces the Basic-auth password (an `AuthorizationKey` the charger accepted),
/// switching a station with security `none` to `basic_auth`.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn set_password<C: ConnectionTrait>(
    conn: &C,
    now_ms: i64,
    id: &str,
    password: &str,
) -> ModelResult<()> {
    let update = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash_password(password)))
        .col_expr(
            Column::SecurityType,
            Expr::value(SecurityType::BasicAuth.as_str()),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now_ms));
    update_one(conn, update, id).await
}

/// Applies `update` to station `id` in one statement, without reading it back.
///
/// # Errors
/// `NotFound` when there is no such station, or a database failure.
async fn update_one<C: ConnectionTrait>(
    conn: &C,
    update: sea_orm::UpdateMany<Entity>,
    id: &str,
) -> ModelResult<()> {
    let result = update.filter(Column::Id.eq(id)).exec(conn).await?;
    if result.rows_affected == 0 {
        return Err(ModelError::NotFound("chargestation"));
    }
    Ok(())
}

/// Deletes a chargestation.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn delete(db: &Db, id: &str) -> ModelResult<()> {
    let result = Entity::delete_by_id(id.to_owned()).exec(db.conn()).await?;
    if result.rows_affected == 0 {
        return Err(ModelError::NotFound("chargestation"));
    }
    Ok(())
}

/// Creates a station for an unknown identity that connected while auto-registration is
/// on (security `none`).
///
/// # Errors
/// As [`create`]; a concurrent creation of the same identity is not an error.
pub async fn auto_register(db: &Db, endpoint: &str) -> ModelResult<Chargestation> {
    match create(
        db,
        NewChargestation {
            endpoint: endpoint.to_owned(),
            ..Default::default()
        },
    )
    .await
    {
        Ok((station, _)) => Ok(station),
        Err(ModelError::Conflict(_)) => get(db, endpoint).await,
        Err(e) => Err(e),
    }
}

fn station_event(
    id: &str,
    event_type: &str,
    station: &Chargestation,
    ocpp_base_url: &str,
) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        object: EventObject::Chargestation,
        chargestation_id: Some(id.to_owned()),
        data: station.to_json(ocpp_base_url),
    }
}

/// Records a new connection held by `instance`: bumps the connection generation, marks
/// the station online and writes `chargestation.online`, in one transaction. Returns
/// the new generation, which [`mark_disconnected`] must present.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn mark_connected(
    db: &Db,
    id: &str,
    ocpp_base_url: &str,
    instance: &str,
) -> ModelResult<i64> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let (generation, event) = mark_connected_in(&txn, now, id, ocpp_base_url, instance).await?;
    events::record(&txn, now, event).await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(generation)
}

/// [`mark_connected`]'s state change inside the caller's transaction (a group commit
/// writes many connections in one): one `UPDATE ... RETURNING *`. Returns the new
/// generation and the `chargestation.online` event, which the caller records (a group
/// commit records the events of the whole group together).
///
/// # Errors
/// `NotFound` or a database failure.
pub(crate) async fn mark_connected_in<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    id: &str,
    ocpp_base_url: &str,
    instance: &str,
) -> ModelResult<(i64, NewEvent)> {
    let row = update_returning(
        conn,
        connect_update(now, instance).filter(Column::Id.eq(id)),
    )
    .await?
    .pop()
    .ok_or(ModelError::NotFound("chargestation"))?;
    Ok(connected(row.try_into()?, ocpp_base_url))
}

/// What a connection changes: the generation bump, online, held by `instance`.
fn connect_update(now: i64, instance: &str) -> sea_orm::UpdateMany<Entity> {
    Entity::update_many()
        .col_expr(
            Column::ConnectionGeneration,
            Expr::col(Column::ConnectionGeneration).add(1),
        )
        .col_expr(Column::Online, Expr::value(true))
        .col_expr(Column::HeldBy, Expr::value(instance))
        .col_expr(Column::LastConnectAt, Expr::value(now))
        .col_expr(Column::LastMessageAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
}

/// A connected station's new generation and its `chargestation.online` event.
fn connected(station: Chargestation, ocpp_base_url: &str) -> (i64, NewEvent) {
    let event = station_event(&station.id, "chargestation.online", &station, ocpp_base_url);
    (station.connection_generation, event)
}

/// [`mark_connected_in`] for many stations held by one `instance`, set-based: one
/// `UPDATE ... WHERE id IN (...) RETURNING *` per thousand stations. Returns each
/// station's new generation and event by id; a station that does not exist is absent.
///
/// # Errors
/// On database failure.
pub(crate) async fn mark_connected_many<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    ids: &[&str],
    ocpp_base_url: &str,
    instance: &str,
) -> ModelResult<HashMap<String, (i64, NewEvent)>> {
    let mut connected_by_id = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_READ) {
        let update = connect_update(now, instance).filter(Column::Id.is_in(chunk.iter().copied()));
        for row in update_returning(conn, update).await? {
            let station: Chargestation = row.try_into()?;
            connected_by_id.insert(station.id.clone(), connected(station, ocpp_base_url));
        }
    }
    Ok(connected_by_id)
}

/// [`record_boot_in`] for many stations, set-based: one `UPDATE ... FROM (VALUES ...)
/// RETURNING id, boot_count` per thousand boots. Returns each station's boot count by
/// id; a station that does not exist is absent (its boot count is 0, as alone).
///
/// # Errors
/// On database failure.
pub(crate) async fn record_boots_many<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    boots: &[(&str, &Value)],
) -> ModelResult<HashMap<String, i64>> {
    let mut counts = HashMap::with_capacity(boots.len());
    for chunk in boots.chunks(IDS_PER_READ) {
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 2 + 2);
        for (id, boot_info) in chunk {
            values.extend([(*id).to_owned().into(), boot_info.to_string().into()]);
        }
        let (held, time) = (values.len() + 1, values.len() + 2);
        let sql = format!(
            "WITH v (v_id, v_boot) AS (VALUES {}) UPDATE chargestations \
             SET boot_info = v.v_boot, boot_count = boot_count + 1, \
             queue_held = ${held}, last_message_at = ${time}, updated_at = ${time} \
             FROM v WHERE id = v.v_id RETURNING id, boot_count",
            value_rows(1, chunk.len(), 2)
        );
        values.extend([false.into(), now.into()]);
        let rows = conn
            .query_all(sea_orm::Statement::from_sql_and_values(
                conn.get_database_backend(),
                sql,
                values,
            ))
            .await?;
        for row in rows {
            counts.insert(
                row.try_get::<String>("", "id")?,
                row.try_get::<i64>("", "boot_count")?,
            );
        }
    }
    Ok(counts)
}

/// Records the end of the connection of `generation`: marks the station offline and
/// writes `chargestation.offline` — unless a newer connection has taken over, in which
/// case nothing changes (the generation guard). Returns whether it applied.
///
/// # Errors
/// On database failure.
pub async fn mark_disconnected(
    db: &Db,
    id: &str,
    generation: i64,
    ocpp_base_url: &str,
) -> ModelResult<bool> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let event = mark_disconnected_in(&txn, now, id, generation, ocpp_base_url).await?;
    let applied = event.is_some();
    if let Some(event) = event {
        events::record(&txn, now, event).await?;
    }
    txn.commit().await?;
    if applied {
        db.outbox_written();
    }
    Ok(applied)
}

/// [`mark_disconnected`]'s state change inside the caller's transaction (a group commit
/// writes many in one): one `UPDATE ... RETURNING *`. Returns, when it applied, the
/// `chargestation.offline` event, which the caller records.
///
/// # Errors
/// On database failure.
pub(crate) async fn mark_disconnected_in<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    id: &str,
    generation: i64,
    ocpp_base_url: &str,
) -> ModelResult<Option<NewEvent>> {
    let update = Entity::update_many()
        .col_expr(Column::Online, Expr::value(false))
        .col_expr(Column::HeldBy, Expr::value(Option::<String>::None))
        .col_expr(Column::LastDisconnectAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::ConnectionGeneration.eq(generation))
        .filter(Column::Online.eq(true));
    let Some(row) = update_returning(conn, update).await?.pop() else {
        return Ok(None);
    };
    let station: Chargestation = row.try_into()?;
    Ok(Some(station_event(
        id,
        "chargestation.offline",
        &station,
        ocpp_base_url,
    )))
}

/// Marks offline (writing `chargestation.offline`) every online station whose
/// connection is not held by one of the `live` instances — their holder died or stopped.
/// Returns the station ids.
///
/// # Errors
/// On database failure.
pub async fn release_orphans(
    db: &Db,
    live: &[String],
    ocpp_base_url: &str,
) -> ModelResult<Vec<String>> {
    let orphans = Entity::find()
        .filter(Column::Online.eq(true))
        .filter(
            sea_orm::Condition::any()
                .add(Column::HeldBy.is_null())
                .add(Column::HeldBy.is_not_in(live.to_vec())),
        )
        .all(db.conn())
        .await?;
    let mut released = Vec::new();
    for orphan in orphans {
        let now = db.now_ms();
        let txn = db.conn().begin().await?;
        let result = Entity::update_many()
            .col_expr(Column::Online, Expr::value(false))
            .col_expr(Column::HeldBy, Expr::value(Option::<String>::None))
            .col_expr(Column::LastDisconnectAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(orphan.id.clone()))
            .filter(Column::ConnectionGeneration.eq(orphan.connection_generation))
            .filter(Column::Online.eq(true))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            txn.rollback().await?;
            continue;
        }
        let station: Chargestation = Entity::find_by_id(orphan.id.clone())
            .one(&txn)
            .await?
            .ok_or(ModelError::NotFound("chargestation"))?
            .try_into()?;
        events::record(
            &txn,
            now,
            station_event(&orphan.id, "chargestation.offline", &station, ocpp_base_url),
        )
        .await?;
        txn.commit().await?;
        db.outbox_written();
        released.push(orphan.id);
    }
    Ok(released)
}

/// Stores a BootNotification's fields and counts the boot; returns the boot count
/// after this boot (1 = the first boot ever seen). Also releases a `RebootRequired`
/// hold on the station's command queue.
///
/// # Errors
/// On database failure.
pub async fn record_boot(db: &Db, id: &str, boot_info: Value) -> ModelResult<i64> {
    record_boot_in(db.conn(), db.now_ms(), id, &boot_info).await
}

/// [`record_boot`] on the caller's connection or transaction (a group commit writes
/// many boots in one transaction).
///
/// # Errors
/// On database failure.
pub(crate) async fn record_boot_in<C: ConnectionTrait>(
    conn: &C,
    now: i64,
    id: &str,
    boot_info: &Value,
) -> ModelResult<i64> {
    // One statement (`UPDATE ... RETURNING`, SQLite ≥ 3.35 and PostgreSQL), not a
    // transaction of an update and a read: a reconnect storm boots thousands at once
    // (docs/benchmarks.md).
    let mut update = Entity::update_many()
        .col_expr(Column::BootInfo, Expr::value(boot_info.to_string()))
        .col_expr(Column::BootCount, Expr::col(Column::BootCount).add(1))
        .col_expr(Column::QueueHeld, Expr::value(false))
        .col_expr(Column::LastMessageAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id));
    QueryTrait::query(&mut update).returning_col(Column::BootCount);
    let statement = conn.get_database_backend().build(update.as_query());
    let count = match conn.query_one(statement).await? {
        Some(row) => row.try_get::<i64>("", "boot_count")?,
        None => 0,
    };
    Ok(count)
}

/// Stores one connector's status and writes `chargestation.connector_status.updated`.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn record_connector_status(
    db: &Db,
    id: &str,
    status: ConnectorStatus,
    ocpp_base_url: &str,
) -> ModelResult<()> {
    let now = db.now_ms();
    let txn = db.conn().begin().await?;
    let mut statuses = ConnectorStatuses::read(&txn, [id]).await?;
    let event = statuses.apply(&txn, now, id, status, ocpp_base_url).await?;
    statuses.write_all(&txn).await?;
    events::record(&txn, now, event).await?;
    txn.commit().await?;
    db.outbox_written();
    Ok(())
}

/// StatusNotifications applied in memory to the stations they concern, inside the
/// caller's transaction: the stations are read together (one `SELECT ... WHERE id IN`),
/// each status applies on top of the ones before it, and each station changed is
/// written back with one `UPDATE` by [`ConnectorStatuses::write_all`]. A group commit
/// stores a whole group's statuses this way; [`record_connector_status`] stores one.
#[derive(Debug)]
pub(crate) struct ConnectorStatuses {
    /// By id: the station as the statuses applied so far left it (and whether that is
    /// not written yet), or `None` for a station that does not exist. A station that is
    /// not here is read when a status concerns it.
    stations: BTreeMap<String, Option<Pending>>,
}

#[derive(Debug)]
struct Pending {
    station: Chargestation,
    unwritten: bool,
}

/// Ids per `SELECT ... WHERE id IN (...)`, far below every engine's parameter limit.
const IDS_PER_READ: usize = 1000;

/// Stations per set-based connector write (4 parameters each), far below every
/// engine's parameter limit.
const STATIONS_PER_WRITE: usize = 1000;

impl ConnectorStatuses {
    /// Reads the stations `ids` name, in one statement (per thousand stations).
    ///
    /// # Errors
    /// On database failure.
    pub(crate) async fn read<'a, C: ConnectionTrait>(
        conn: &C,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> ModelResult<ConnectorStatuses> {
        let ids: BTreeSet<&str> = ids.into_iter().collect();
        let mut stations: BTreeMap<String, Option<Pending>> =
            ids.iter().map(|&id| (id.to_owned(), None)).collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        for chunk in ids.chunks(IDS_PER_READ) {
            for row in Entity::find()
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?
            {
                let station = Chargestation::try_from(row)?;
                stations.insert(
                    station.id.clone(),
                    Some(Pending {
                        station,
                        unwritten: false,
                    }),
                );
            }
        }
        Ok(ConnectorStatuses { stations })
    }

    /// Applies `status` to station `id` (in memory) and returns its
    /// `chargestation.connector_status.updated` event: the station as it is after this
    /// status, plus the `connector`.
    ///
    /// # Errors
    /// `NotFound`, or a database failure reading a station not read before.
    pub(crate) async fn apply<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        now: i64,
        id: &str,
        status: ConnectorStatus,
        ocpp_base_url: &str,
    ) -> ModelResult<NewEvent> {
        if !self.stations.contains_key(id) {
            let found = Entity::find_by_id(id.to_owned())
                .one(conn)
                .await?
                .map(Chargestation::try_from)
                .transpose()?
                .map(|station| Pending {
                    station,
                    unwritten: false,
                });
            self.stations.insert(id.to_owned(), found);
        }
        let Some(Some(pending)) = self.stations.get_mut(id) else {
            return Err(ModelError::NotFound("chargestation"));
        };
        let station = &mut pending.station;
        station
            .connectors
            .retain(|c| c.connector_id != status.connector_id);
        station.connectors.push(status.clone());
        station.connectors.sort_by_key(|c| c.connector_id);
        station.last_message_at = Some(now);
        station.updated_at = now;
        pending.unwritten = true;
        let mut data = station.to_json(ocpp_base_url);
        if let Value::Object(map) = &mut data {
            map.insert("connector".into(), json!(status));
        }
        Ok(NewEvent {
            event_type: "chargestation.connector_status.updated".into(),
            object: EventObject::Chargestation,
            chargestation_id: Some(id.to_owned()),
            data,
        })
    }

    /// Another write is about to change station `id`: writes its statuses now (so that
    /// write sees them) and forgets the station (so a later status reads it again,
    /// with that write's change).
    ///
    /// # Errors
    /// On database failure.
    pub(crate) async fn release<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        id: &str,
    ) -> ModelResult<()> {
        if let Some(Some(pending)) = self.stations.remove(id) {
            if pending.unwritten {
                write_connectors(conn, &[&pending.station]).await?;
            }
        }
        Ok(())
    }

    /// Writes every station changed and not yet written, by [`write_connectors`].
    ///
    /// # Errors
    /// On database failure.
    pub(crate) async fn write_all<C: ConnectionTrait>(&mut self, conn: &C) -> ModelResult<()> {
        let mut unwritten: Vec<&mut Pending> = self
            .stations
            .values_mut()
            .flatten()
            .filter(|pending| pending.unwritten)
            .collect();
        let stations: Vec<&Chargestation> = unwritten.iter().map(|p| &p.station).collect();
        write_connectors(conn, &stations).await?;
        for pending in &mut unwritten {
            pending.unwritten = false;
        }
        Ok(())
    }
}

/// Writes stations' connectors and the times a status changes, without sea-orm's
/// read-back (the new rows are known): one `UPDATE ... FROM (VALUES ...)` per
/// [`STATIONS_PER_WRITE`] stations, nothing for none.
///
/// # Errors
/// On database failure.
async fn write_connectors<C: ConnectionTrait>(
    conn: &C,
    stations: &[&Chargestation],
) -> ModelResult<()> {
    for chunk in stations.chunks(STATIONS_PER_WRITE) {
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 4);
        for station in chunk {
            values.extend([
                station.id.clone().into(),
                serde_json::to_string(&station.connectors)?.into(),
                station.last_message_at.into(),
                station.updated_at.into(),
            ]);
        }
        let sql = format!(
            "WITH v (v_id, v_connectors, v_last, v_updated) AS (VALUES {}) \
             UPDATE chargestations SET connectors = v.v_connectors, \
             last_message_at = v.v_last, updated_at = v.v_updated FROM v WHERE id = v.v_id",
            value_rows(1, chunk.len(), 4)
        );
        conn.execute(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Records that a message arrived from the station.
///
/// # Errors
/// On database failure.
pub async fn touch_last_message(db: &Db, id: &str) -> ModelResult<()> {
    Entity::update_many()
        .col_expr(Column::LastMessageAt, Expr::value(db.now_ms()))
        .filter(Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Stores a configuration upload: `replace` swaps the whole snapshot (a full upload),
/// otherwise the reported keys are updated or added (named keys, a verification read).
/// Write-only values are stored masked.
///
/// One `UPDATE` for a full upload; otherwise a read of the current snapshot first.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn store_configuration<C: ConnectionTrait>(
    conn: &C,
    now_ms: i64,
    id: &str,
    reported: &[ReportedKey],
    replace: bool,
) -> ModelResult<()> {
    let mut snapshot: Vec<ReportedKey> = if replace {
        Vec::new()
    } else {
        let current: Option<String> = Entity::find_by_id(id.to_owned())
            .select_only()
            .column(Column::Configuration)
            .into_tuple()
            .one(conn)
            .await?
            .ok_or(ModelError::NotFound("chargestation"))?;
        current
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?
            .unwrap_or_default()
    };
    for key in reported {
        let key = ReportedKey {
            key: key.key.clone(),
            readonly: key.readonly,
            value: key.value.as_deref().map(|v| masked(&key.key, v).to_owned()),
        };
        match snapshot.iter_mut().find(|k| k.key == key.key) {
            Some(existing) => *existing = key,
            None => snapshot.push(key),
        }
    }
    let update = Entity::update_many()
        .col_expr(
            Column::Configuration,
            Expr::value(serde_json::to_string(&snapshot)?),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now_ms));
    update_one(conn, update, id).await
}

/// Writes of the dispatcher's outcomes against a real database ([`crate::test_db`]).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_db::{TestDb, T0};

    fn key(key: &str, value: &str) -> ReportedKey {
        ReportedKey {
            key: key.to_owned(),
            readonly: false,
            value: Some(value.to_owned()),
        }
    }

    #[tokio::test]
    async fn a_stored_configuration_merges_named_keys_and_a_full_upload_replaces_it() {
        let t = TestDb::new().await;
        let station = t.station("CP1").await;
        let upload = [
            key("HeartbeatInterval", "900"),
            key("AuthorizationKey", "s3cr3t"),
        ];
        store_configuration(t.db.conn(), T0 + 1, &station.id, &upload, true)
            .await
            .unwrap();
        let read_back = [key("HeartbeatInterval", "901"), key("VendorKey", "x")];
        store_configuration(t.db.conn(), T0 + 2, &station.id, &read_back, false)
            .await
            .unwrap();
        let stored = get(&t.db, &station.id).await.unwrap();
        let masked_key = key("AuthorizationKey", masked("AuthorizationKey", "s3cr3t"));
        assert_eq!(
            stored.configuration,
            Some(vec![
                key("HeartbeatInterval", "901"),
                masked_key,
                key("VendorKey", "x"),
            ]),
            "updated in place, new keys appended, write-only values masked"
        );
        assert_eq!(stored.updated_at, T0 + 2);

        store_configuration(t.db.conn(), T0 + 3, &station.id, &[key("A", "1")], true)
            .await
            .unwrap();
        let stored = get(&t.db, &station.id).await.unwrap();
        assert_eq!(stored.configuration, Some(vec![key("A", "1")]));
        assert_eq!(stored.updated_at, T0 + 3);

        for replace in [true, false] {
            assert!(matches!(
                store_configuration(t.db.conn(), T0, "no-such-station", &upload, replace).await,
                Err(ModelError::NotFound("chargestation"))
            ));
        }
        t.done().await;
    }

    #[tokio::test]
    async fn a_new_password_switches_the_station_to_basic_auth() {
        let t = TestDb::new().await;
        let station = t.station("CP1").await;
        assert_eq!(station.security_type, SecurityType::None);
        set_password(t.db.conn(), T0 + 7, &station.id, "a-long-enough-key")
            .await
            .unwrap();
        let stored = get(&t.db, &station.id).await.unwrap();
        assert_eq!(stored.security_type, SecurityType::BasicAuth);
        assert!(stored.password_matches("a-long-enough-key"));
        assert!(!stored.password_matches("another-long-key"));
        assert_eq!(stored.updated_at, T0 + 7);
        assert!(matches!(
            set_password(t.db.conn(), T0, "no-such-station", "a-long-enough-key").await,
            Err(ModelError::NotFound("chargestation"))
        ));
        t.done().await;
    }
}
