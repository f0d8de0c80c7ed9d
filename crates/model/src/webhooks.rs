//! Webhook endpoints and their deliveries (CONTRACT §5): the endpoint records the API
//! manages, the rules their fields follow, and the delivery queue the dispatcher's worker
//! drains — claiming due deliveries with a lease, honouring head-of-line order per
//! (endpoint, order key), and recording each attempt's outcome.
//!
//! Events and their delivery rows are written by [`crate::events::record`] inside the
//! transaction of the state change; this module never makes a network request and never
//! decides when to retry (the dispatcher's retry policy does).

use std::collections::HashMap;

use base64::Engine as _;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use serde_json::{json, Map, Value};

use crate::entities::{event, webhook_delivery, webhook_endpoint};
use crate::ids::ObjectId;
use crate::page::{Page, SortField};
use crate::time::format_ms;
use crate::{Db, ModelError, ModelResult};

/// The prefix of generated secrets; for `webhook-signature` the rest is the base64 key.
pub const SECRET_PREFIX: &str = "whsec_";

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// What a deleted or unknown endpoint is called in errors.
const ENDPOINT: &str = "webhook endpoint";
/// What an unknown delivery is called in errors.
const DELIVERY: &str = "webhook delivery";

/// A delivery's state (CONTRACT §8): `pending` includes waiting for a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Reads the API spelling.
    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Field rules
// ---------------------------------------------------------------------------------------

/// Checks an endpoint URL: `http://` or `https://`, a host, an optional numeric port, no
/// whitespace or control characters, at most [`MAX_URL_LEN`] characters.
///
/// # Errors
/// [`ModelError::Invalid`] naming `url` and the rule broken.
pub fn check_url(url: &str) -> ModelResult<()> {
    let invalid = |rule: &str| Err(ModelError::Invalid(format!("'url' {rule}")));
    if url.len() > MAX_URL_LEN {
        return invalid(&format!("must be at most {MAX_URL_LEN} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("must not contain spaces or control characters");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return invalid("must be an absolute http:// or https:// URL");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return invalid(&format!(
            "must use http or https, not '{scheme}' (webhooks are HTTP POSTs)"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((inner, tail)) if !inner.is_empty() => (
                inner,
                match tail {
                    "" => None,
                    t => match t.strip_prefix(':') {
                        Some(p) => Some(p),
                        None => return invalid("has text after the IPv6 address"),
                    },
                },
            ),
            _ => return invalid("has a malformed IPv6 host"),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return invalid("must name a host");
    }
    if !host_port.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '%'))
    {
        return invalid(&format!("has an invalid host '{host}'"));
    }
    if let Some(port) = port {
        if !port.parse::<u16>().is_ok_and(|p| p > 0) {
            return invalid(&format!("has an invalid port '{port}'"));
        }
    }
    Ok(())
}

fn is_type_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks one event filter: `*`, an exact event type (`chargestation.online`: dot-separated
/// segments of lower-case letters, digits and `_`), or a prefix followed by `.*`
/// (`chargestation.*`).
pub fn is_valid_event_filter(filter: &str) -> bool {
    if filter == "*" {
        return true;
    }
    let exact = filter.strip_suffix(".*").unwrap_or(filter);
    exact.split('.').all(is_type_segment)
}

/// Checks an endpoint's event filter list: at least one entry, each valid.
///
/// # Errors
/// [`ModelError::Invalid`] naming the offending entry.
pub fn check_event_filters(filters: &[String]) -> ModelResult<()> {
    if filters.is_empty() {
        return Err(ModelError::Invalid(
            "'events' must list at least one filter (\"*\" for every event)".into(),
        ));
    }
    for (i, filter) in filters.iter().enumerate() {
        if !is_valid_event_filter(filter) {
            return Err(ModelError::Invalid(format!(
                "'events[{i}]' ('{filter}') must be \"*\", an event type such as \
                 \"chargestation.online\", or a prefix such as \"chargestation.*\""
            )));
        }
    }
    Ok(())
}

/// Checks a supplied secret: 8 to 128 printable ASCII characters, kept verbatim.
///
/// # Errors
/// [`ModelError::Invalid`] naming `secret`.
pub fn check_secret(secret: &str) -> ModelResult<()> {
    if !(8..=128).contains(&secret.len()) || !secret.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(ModelError::Invalid(
            "'secret' must be 8 to 128 printable ASCII characters".into(),
        ));
    }
    Ok(())
}

/// A new secret: `whsec_` + base64 of 24 random bytes.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

// ---------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------

/// A webhook endpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub description: Option<String>,
    pub active: bool,
    /// Since when every attempt to this endpoint has failed; `None` while it works.
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<webhook_endpoint::Model> for Endpoint {
    type Error = ModelError;

    fn try_from(m: webhook_endpoint::Model) -> ModelResult<Self> {
        Ok(Endpoint {
            events: serde_json::from_str(&m.events)?,
            id: m.id,
            url: m.url,
            secret: m.secret,
            description: m.description,
            active: m.active,
            failing_since: m.failing_since,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl Endpoint {
    /// The API object; `secret` only when asked for (create and get by id). Absent values
    /// are omitted, never `null`.
    pub fn to_json(&self, with_secret: bool) -> Value {
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("url".into(), json!(self.url));
        o.insert("events".into(), json!(self.events));
        o.insert("active".into(), json!(self.active));
        if let Some(description) = &self.description {
            o.insert("description".into(), json!(description));
        }
        if with_secret {
            o.insert("secret".into(), json!(self.secret));
        }
        if let Some(since) = self.failing_since {
            o.insert("failingSince".into(), json!(format_ms(since)));
        }
        o.insert("createdAt".into(), json!(format_ms(self.created_at)));
        o.insert("updatedAt".into(), json!(format_ms(self.updated_at)));
        Value::Object(o)
    }
}

/// An endpoint to create (`POST /v1.1/webhooks`).
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub url: String,
    /// Defaults to `["*"]`.
    pub events: Option<Vec<String>>,
    /// Generated (`whsec_...`) when absent.
    pub secret: Option<String>,
    pub description: Option<String>,
}

/// Creates an endpoint.
///
/// # Errors
/// [`ModelError::Invalid`] for a bad URL, filter or secret; a database failure.
pub async fn create(db: &Db, new: NewEndpoint) -> ModelResult<Endpoint> {
    check_url(&new.url)?;
    let events = new.events.unwrap_or_else(|| vec!["*".to_owned()]);
    check_event_filters(&events)?;
    let secret = match new.secret {
        Some(secret) => {
            check_secret(&secret)?;
            secret
        }
        None => generate_secret(),
    };
    let now = db.now_ms();
    let model = webhook_endpoint::ActiveModel {
        id: Set(ObjectId::new_at(now).into_string()),
        url: Set(new.url),
        events: Set(serde_json::to_string(&events)?),
        secret: Set(secret),
        description: Set(new.description),
        active: Set(true),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db.conn())
    .await?;
    model.try_into()
}

/// One page of endpoints and the total count.
///
/// # Errors
/// On database failure.
pub async fn list(db: &Db, page: &Page) -> ModelResult<(Vec<Endpoint>, u64)> {
    use webhook_endpoint::{Column, Entity};
    let (rows, total) = crate::page::fetch(
        db,
        Entity::find(),
        page,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::Id,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(Endpoint::try_from)
        .collect::<ModelResult<Vec<_>>>()?;
    Ok((items, total))
}

async fn find_model<C: ConnectionTrait>(
    conn: &C,
    id: &str,
) -> ModelResult<Option<webhook_endpoint::Model>> {
    let Ok(id) = ObjectId::parse(id) else {
        return Ok(None);
    };
    Ok(webhook_endpoint::Entity::find_by_id(id.into_string())
        .one(conn)
        .await?)
}

/// An endpoint by `_id`.
///
/// # Errors
/// [`ModelError::NotFound`] (also for text that is not an id); a database failure.
pub async fn get(db: &Db, id: &str) -> ModelResult<Endpoint> {
    find_model(db.conn(), id)
        .await?
        .ok_or(ModelError::NotFound(ENDPOINT))?
        .try_into()
}

/// Changes to an endpoint (`PATCH`); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
}

/// Applies a patch. Re-activating an endpoint forgets that it was failing, so it gets a
/// fresh three-day window; its deliveries still pending resume.
///
/// # Errors
/// `NotFound`, `Invalid`, or a database failure.
pub async fn update(db: &Db, id: &str, patch: EndpointPatch) -> ModelResult<Endpoint> {
    let current = find_model(db.conn(), id)
        .await?
        .ok_or(ModelError::NotFound(ENDPOINT))?;
    let was_active = current.active;
    let mut model = current.into_active_model();
    if let Some(url) = patch.url {
        check_url(&url)?;
        model.url = Set(url);
    }
    if let Some(events) = patch.events {
        check_event_filters(&events)?;
        model.events = Set(serde_json::to_string(&events)?);
    }
    if let Some(active) = patch.active {
        model.active = Set(active);
        if active && !was_active {
            model.failing_since = Set(None);
        }
    }
    if let Some(description) = patch.description {
        model.description = Set(description);
    }
    model.updated_at = Set(db.now_ms());
    model.update(db.conn()).await?.try_into()
}

/// Deletes an endpoint and its deliveries; returns what was deleted.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn delete(db: &Db, id: &str) -> ModelResult<Endpoint> {
    let txn = db.conn().begin().await?;
    let current = find_model(&txn, id)
        .await?
        .ok_or(ModelError::NotFound(ENDPOINT))?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(current.id.clone()))
        .exec(&txn)
        .await?;
    webhook_endpoint::Entity::delete_by_id(current.id.clone())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    current.try_into()
}

/// Start-up: makes the endpoint declared by settings (`CSMS_WEBHOOK_URL`,
/// `CSMS_WEBHOOK_SECRET`) exist, subscribed to every event and active. An endpoint that
/// already has this URL is updated rather than duplicated; without a configured secret
/// its stored secret is kept (or one is generated the first time).
///
/// # Errors
/// [`ModelError::Invalid`] for a bad URL or secret; a database failure.
pub async fn ensure_declared(db: &Db, url: &str, secret: Option<&str>) -> ModelResult<Endpoint> {
    use webhook_endpoint::{Column, Entity};
    check_url(url)?;
    if let Some(secret) = secret {
        check_secret(secret)?;
    }
    let existing = Entity::find()
        .filter(Column::Url.eq(url))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .one(db.conn())
        .await?;
    let Some(existing) = existing else {
        return create(
            db,
            NewEndpoint {
                url: url.to_owned(),
                events: None,
                secret: secret.map(str::to_owned),
                description: Some("declared by CSMS_WEBHOOK_URL".into()),
            },
        )
        .await;
    };
    let all = serde_json::to_string(&["*"])?;
    let unchanged =
        existing.active && existing.events == all && secret.is_none_or(|s| s == existing.secret);
    if unchanged {
        return existing.try_into();
    }
    let mut model = existing.into_active_model();
    model.events = Set(all);
    model.active = Set(true);
    model.failing_since = Set(None);
    if let Some(secret) = secret {
        model.secret = Set(secret.to_owned());
    }
    model.updated_at = Set(db.now_ms());
    model.update(db.conn()).await?.try_into()
}

// ---------------------------------------------------------------------------------------
// Deliveries: the API view
// ---------------------------------------------------------------------------------------

/// A delivery as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Delivery {
    fn from_rows(d: webhook_delivery::Model, event: Option<&event::Model>) -> Delivery {
        Delivery {
            id: d.id,
            event_id: event.map(|e| e.id.clone()).unwrap_or_default(),
            event_type: event.map(|e| e.r#type.clone()).unwrap_or_default(),
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }

    /// The API object: `{_id, event, type, status, attempts, lastResponseCode?,
    /// lastError?, nextAttemptAt? (while pending), createdAt, updatedAt}`.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("event".into(), json!(self.event_id));
        o.insert("type".into(), json!(self.event_type));
        o.insert("status".into(), json!(self.status));
        o.insert("attempts".into(), json!(self.attempts));
        if let Some(code) = self.last_status_code {
            o.insert("lastResponseCode".into(), json!(code));
        }
        if let Some(error) = &self.last_error {
            o.insert("lastError".into(), json!(error));
        }
        if self.status == DeliveryStatus::Pending.as_str() {
            o.insert(
                "nextAttemptAt".into(),
                json!(format_ms(self.next_attempt_at)),
            );
        }
        o.insert("createdAt".into(), json!(format_ms(self.created_at)));
        o.insert("updatedAt".into(), json!(format_ms(self.updated_at)));
        Value::Object(o)
    }
}

async fn with_events<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<webhook_delivery::Model>,
) -> ModelResult<Vec<Delivery>> {
    let seqs: Vec<i64> = rows.iter().map(|d| d.event_seq).collect();
    let events: HashMap<i64, event::Model> = if seqs.is_empty() {
        HashMap::new()
    } else {
        event::Entity::find()
            .filter(event::Column::Seq.is_in(seqs))
            .all(conn)
            .await?
            .into_iter()
            .map(|e| (e.seq, e))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|d| {
            let event = events.get(&d.event_seq);
            Delivery::from_rows(d, event)
        })
        .collect())
}

/// One page of an endpoint's deliveries (newest first by default) and the total count.
///
/// # Errors
/// `NotFound` for an unknown endpoint; a database failure.
pub async fn list_deliveries(
    db: &Db,
    endpoint_id: &str,
    status: Option<DeliveryStatus>,
    page: &Page,
) -> ModelResult<(Vec<Delivery>, u64)> {
    use webhook_delivery::{Column, Entity};
    let endpoint = find_model(db.conn(), endpoint_id)
        .await?
        .ok_or(ModelError::NotFound(ENDPOINT))?;
    let mut query = Entity::find().filter(Column::EndpointId.eq(endpoint.id));
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    let total = query.clone().count(db.conn()).await?;
    let order = if page.descending {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    if page.sort_by == SortField::UpdatedAt {
        query = query.order_by(Column::UpdatedAt, order.clone());
    }
    let rows = query
        .order_by(Column::Seq, order)
        .offset(page.offset())
        .limit(page.limit)
        .all(db.conn())
        .await?;
    Ok((with_events(db.conn(), rows).await?, total))
}

async fn find_delivery<C: ConnectionTrait>(
    conn: &C,
    endpoint_id: &str,
    delivery_id: &str,
) -> ModelResult<webhook_delivery::Model> {
    use webhook_delivery::{Column, Entity};
    let endpoint = find_model(conn, endpoint_id)
        .await?
        .ok_or(ModelError::NotFound(ENDPOINT))?;
    let Ok(delivery_id) = ObjectId::parse(delivery_id) else {
        return Err(ModelError::NotFound(DELIVERY));
    };
    Entity::find()
        .filter(Column::EndpointId.eq(endpoint.id))
        .filter(Column::Id.eq(delivery_id.into_string()))
        .one(conn)
        .await?
        .ok_or(ModelError::NotFound(DELIVERY))
}

/// Re-queues a delivery (whatever its state) as pending, due now, with a fresh retry
/// window; `attempts` keeps counting. It is sent when it is the oldest pending delivery
/// of its (endpoint, chargestation) pair and the endpoint is active.
///
/// # Errors
/// `NotFound` for an unknown endpoint or delivery; a database failure.
pub async fn redeliver(db: &Db, endpoint_id: &str, delivery_id: &str) -> ModelResult<Delivery> {
    use webhook_delivery::Column;
    let now = db.now_ms();
    let row = find_delivery(db.conn(), endpoint_id, delivery_id).await?;
    let seq = row.seq;
    let mut model = row.into_active_model();
    model.status = Set(DeliveryStatus::Pending.as_str().to_owned());
    model.next_attempt_at = Set(now);
    model.first_attempt_at = Set(None);
    model.window_attempts = Set(0);
    model.updated_at = Set(now);
    model.update(db.conn()).await?;
    let row = webhook_delivery::Entity::find()
        .filter(Column::Seq.eq(seq))
        .one(db.conn())
        .await?
        .ok_or(ModelError::NotFound(DELIVERY))?;
    let mut items = with_events(db.conn(), vec![row]).await?;
    items.pop().ok_or(ModelError::NotFound(DELIVERY))
}

// ---------------------------------------------------------------------------------------
// Deliveries: the worker's queue
// ---------------------------------------------------------------------------------------

/// A delivery claimed by a worker: everything needed to send it, and the lease it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub seq: i64,
    pub id: String,
    pub endpoint_id: String,
    pub url: String,
    pub secret: String,
    /// The event's `_id` (the `webhook-id` header).
    pub event_id: String,
    /// The stored envelope, sent byte for byte as the body.
    pub body: String,
    pub attempts: i32,
    pub window_attempts: i32,
    pub first_attempt_at: Option<i64>,
    /// The lease this claim holds; [`finish_attempt`] only applies while it still does.
    pub lease_until: i64,
}

/// The candidates: pending, due, not leased (or the lease ran out), for an active
/// endpoint, and the oldest pending delivery of their (endpoint, order key) pair.
const CLAIMABLE: &str = "SELECT d.seq FROM webhook_deliveries d \
     JOIN webhook_endpoints w ON w.id = d.endpoint_id \
     WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
     AND (d.lease_until IS NULL OR d.lease_until < $1) \
     AND w.active = $2 \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
         WHERE e.endpoint_id = d.endpoint_id AND e.order_key = d.order_key \
         AND e.status = 'pending' AND e.seq < d.seq) \
     ORDER BY d.seq LIMIT $3";

/// Claims up to `limit` due deliveries for `lease_ms`, oldest first. Only the head (the
/// oldest pending delivery) of each (endpoint, order key) pair can be claimed, so events
/// of one chargestation reach an endpoint in order while other pairs flow freely. The
/// lease is a conditional update (`lease_until IS NULL OR lease_until < now`), which makes
/// claiming safe for several workers on SQLite; on PostgreSQL the candidates are also
/// locked with `FOR UPDATE SKIP LOCKED` so concurrent instances never wait on each other.
///
/// # Errors
/// On database failure.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    limit: u64,
    lease_ms: i64,
) -> ModelResult<Vec<ClaimedDelivery>> {
    use webhook_delivery::{Column, Entity};
    if limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.conn().get_database_backend();
    let sql = if db.is_postgres() {
        format!("{CLAIMABLE} FOR UPDATE OF d SKIP LOCKED")
    } else {
        CLAIMABLE.to_owned()
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease_until = now_ms.saturating_add(lease_ms);
    let txn = db.conn().begin().await?;
    let candidates = txn
        .query_all(Statement::from_sql_and_values(
            backend,
            sql,
            [now_ms.into(), true.into(), limit.into()],
        ))
        .await?;
    let mut claimed_seqs = Vec::with_capacity(candidates.len());
    for row in candidates {
        let seq: i64 = row.try_get("", "seq")?;
        let leased = Entity::update_many()
            .col_expr(Column::LeaseUntil, Expr::value(lease_until))
            .filter(Column::Seq.eq(seq))
            .filter(Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(
                Column::LeaseUntil
                    .is_null()
                    .or(Column::LeaseUntil.lt(now_ms)),
            )
            .exec(&txn)
            .await?;
        if leased.rows_affected == 1 {
            claimed_seqs.push(seq);
        }
    }
    txn.commit().await?;
    if claimed_seqs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = Entity::find()
        .filter(Column::Seq.is_in(claimed_seqs))
        .order_by_asc(Column::Seq)
        .all(db.conn())
        .await?;
    let endpoint_ids: Vec<String> = rows.iter().map(|d| d.endpoint_id.clone()).collect();
    let endpoints: HashMap<String, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let event_seqs: Vec<i64> = rows.iter().map(|d| d.event_seq).collect();
    let events: HashMap<i64, event::Model> = event::Entity::find()
        .filter(event::Column::Seq.is_in(event_seqs))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|e| (e.seq, e))
        .collect();
    let mut claimed = Vec::with_capacity(rows.len());
    for d in rows {
        let (Some(endpoint), Some(event)) =
            (endpoints.get(&d.endpoint_id), events.get(&d.event_seq))
        else {
            // Deleted underneath us (the endpoint with its deliveries): nothing to send.
            continue;
        };
        claimed.push(ClaimedDelivery {
            seq: d.seq,
            id: d.id,
            endpoint_id: d.endpoint_id,
            url: endpoint.url.clone(),
            secret: endpoint.secret.clone(),
            event_id: event.id.clone(),
            body: event.envelope.clone(),
            attempts: d.attempts,
            window_attempts: d.window_attempts,
            first_attempt_at: d.first_attempt_at,
            lease_until,
        });
    }
    Ok(claimed)
}

/// What the worker decided after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed; try again at this time (Unix ms).
    RetryAt(i64),
    /// It failed and the retry window is over: the delivery is `failed`.
    GiveUp,
}

/// One finished attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// When the attempt started (opens the retry window on a first attempt).
    pub started_at: i64,
    /// When it ended (the endpoint's failing clock and `updatedAt`).
    pub finished_at: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub outcome: AttemptOutcome,
}

/// What [`finish_attempt`] did besides updating the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FinishEffects {
    /// The claim no longer held (the lease ran out and another worker took over, or the
    /// endpoint was deleted): nothing was recorded.
    pub lost_lease: bool,
    /// The endpoint had failed for `disable_after_ms` and was disabled; every delivery
    /// of it still pending is now `failed`.
    pub endpoint_disabled: bool,
}

/// Records an attempt's outcome, releases the lease, and keeps the endpoint's failure
/// clock: a success clears it; a failure starts it, and an endpoint whose attempts have
/// all failed for `disable_after_ms` is disabled (`active: false`) with every delivery
/// of it still pending marked `failed` — in one transaction.
///
/// # Errors
/// On database failure.
pub async fn finish_attempt(
    db: &Db,
    claimed: &ClaimedDelivery,
    report: &AttemptReport,
    disable_after_ms: i64,
) -> ModelResult<FinishEffects> {
    use webhook_delivery::{Column, Entity};
    let now = report.finished_at;
    let txn = db.conn().begin().await?;
    let mut effects = FinishEffects::default();
    let mut outcome = report.outcome;
    if outcome != AttemptOutcome::Delivered {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(now))
            .filter(webhook_endpoint::Column::Id.eq(claimed.endpoint_id.clone()))
            .filter(webhook_endpoint::Column::FailingSince.is_null())
            .exec(&txn)
            .await?;
        let endpoint = webhook_endpoint::Entity::find_by_id(claimed.endpoint_id.clone())
            .one(&txn)
            .await?;
        if let Some(endpoint) = endpoint {
            let failing_for = endpoint.failing_since.map_or(0, |since| now - since);
            if endpoint.active && failing_for >= disable_after_ms {
                effects.endpoint_disabled = true;
                outcome = AttemptOutcome::GiveUp;
            }
        }
    }
    let (status, next_attempt_at) = match outcome {
        AttemptOutcome::Delivered => (DeliveryStatus::Delivered, now),
        AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, at),
        AttemptOutcome::GiveUp => (DeliveryStatus::Failed, now),
    };
    let updated = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(
            Column::WindowAttempts,
            Expr::col(Column::WindowAttempts).add(1),
        )
        .col_expr(
            Column::FirstAttemptAt,
            Expr::value(claimed.first_attempt_at.unwrap_or(report.started_at)),
        )
        .col_expr(Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(
            Column::LastStatusCode,
            Expr::value(report.status_code.map(i32::from)),
        )
        .col_expr(Column::LastError, Expr::value(report.error.clone()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Seq.eq(claimed.seq))
        .filter(Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .filter(Column::LeaseUntil.eq(claimed.lease_until))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(FinishEffects {
            lost_lease: true,
            endpoint_disabled: false,
        });
    }
    if outcome == AttemptOutcome::Delivered {
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(Option::<i64>::None),
            )
            .filter(webhook_endpoint::Column::Id.eq(claimed.endpoint_id.clone()))
            .filter(webhook_endpoint::Column::FailingSince.is_not_null())
            .exec(&txn)
            .await?;
    }
    if effects.endpoint_disabled {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
            .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_endpoint::Column::Id.eq(claimed.endpoint_id.clone()))
            .exec(&txn)
            .await?;
        Entity::update_many()
            .col_expr(Column::Status, Expr::value(DeliveryStatus::Failed.as_str()))
            .col_expr(
                Column::LastError,
                Expr::value("not sent: the endpoint was disabled after failing for too long"),
            )
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::EndpointId.eq(claimed.endpoint_id.clone()))
            .filter(Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(effects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        for ok in [
            "http://localhost:8080/hook",
            "https://example.com",
            "HTTPS://example.com/a?b=c#d",
            "http://user:pw@10.0.0.1:9/x",
            "http://[::1]:8080/x",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.com/",
            "example.com/hook",
            "http://",
            "http:///path",
            "http://exa mple.com",
            "http://host:99999/",
            "http://host:port/",
            "http://[::1/",
            "mailto:a@b.c",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(err.to_string().contains("'url'"), "{bad}: {err}");
        }
    }

    #[test]
    fn event_filters_are_star_exact_types_or_prefixes() {
        for ok in [
            "*",
            "chargestation.online",
            "chargestation.*",
            "chargestation.update_configuration.*",
            "transaction.started",
        ] {
            assert!(is_valid_event_filter(ok), "{ok}");
        }
        for bad in [
            "",
            "**",
            ".*",
            "chargestation.",
            "chargestation.*.accepted",
            "Chargestation.Online",
            "chargestation online",
            "chargestation..online",
        ] {
            assert!(!is_valid_event_filter(bad), "{bad}");
        }
        assert!(check_event_filters(&[]).is_err());
        let err = check_event_filters(&["*".into(), "x.*.y".into()]).unwrap_err();
        assert!(err.to_string().contains("events[1]"), "{err}");
    }

    #[test]
    fn secrets_are_8_to_128_printable_ascii_and_generated_ones_are_whsec_base64_of_24_bytes() {
        assert!(check_secret("12345678").is_ok());
        assert!(check_secret(&"x".repeat(128)).is_ok());
        assert!(check_secret("1234567").is_err());
        assert!(check_secret(&"x".repeat(129)).is_err());
        assert!(check_secret("abc\tdefgh").is_err());
        assert!(check_secret("abcdefg\u{e9}").is_err());
        let secret = generate_secret();
        let key = secret.strip_prefix(SECRET_PREFIX).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap();
        assert_eq!(bytes.len(), 24);
        assert!(check_secret(&secret).is_ok());
        assert_ne!(generate_secret(), secret);
    }

    #[test]
    fn delivery_json_omits_absent_fields_and_shows_the_next_attempt_only_while_pending() {
        let mut d = Delivery {
            id: "a".repeat(24),
            event_id: "b".repeat(24),
            event_type: "chargestation.online".into(),
            status: "pending".into(),
            attempts: 0,
            last_status_code: None,
            last_error: None,
            next_attempt_at: 1_683_904_689_613,
            created_at: 1_683_904_689_613,
            updated_at: 1_683_904_689_613,
        };
        let json = d.to_json();
        assert_eq!(json["nextAttemptAt"], "2023-05-12T15:18:09.613Z");
        assert!(json.get("lastResponseCode").is_none() && json.get("lastError").is_none());
        d.status = "delivered".into();
        d.last_status_code = Some(204);
        let json = d.to_json();
        assert!(json.get("nextAttemptAt").is_none());
        assert_eq!(json["lastResponseCode"], 204);
    }
}
