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
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::{json, Map, Value};

use crate::entities::{event, webhook_delivery, webhook_endpoint};
use crate::ids::ObjectId;
use crate::page::{Page, SortField};
use crate::sql::{placeholders, value_rows};
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
    let endpoint: Endpoint = model.update(db.conn()).await?.try_into()?;
    if endpoint.active {
        // Its pending deliveries (held while it was inactive) may be due now.
        db.outbox_written();
    }
    Ok(endpoint)
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
    pub attempts: i64,
    pub last_status_code: Option<i64>,
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
    let total = crate::page::count(db.conn(), query.clone()).await?;
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
    db.outbox_written();
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
    /// The chargestation (or other order key) whose events this endpoint receives in
    /// order: with `endpoint_id`, the pair a run belongs to.
    pub order_key: String,
    pub url: String,
    pub secret: String,
    /// The event's `_id` (the `webhook-id` header).
    pub event_id: String,
    /// The stored envelope, sent byte for byte as the body.
    pub body: String,
    pub attempts: i64,
    pub window_attempts: i64,
    pub first_attempt_at: Option<i64>,
    /// The lease this claim holds; [`finish_attempts`] only applies while it still does.
    pub lease_until: i64,
}

/// The candidates: the first `$4` pending deliveries of each (endpoint, order key) pair
/// whose head (oldest pending delivery) is due and not leased (or its lease ran out),
/// for an active endpoint; at most `$3` pairs, oldest head first. `$1` is `true`
/// (active), `$2` now.
///
/// The heads come from one pass over the covering index `idx_deliveries_pending`
/// (`MIN(seq)` per pair), and only the chosen pairs' runs are read, each a range of the
/// same index ([`runs_of_pairs`]): a claim that finds every head leased — the common
/// case while a burst is being delivered — costs a scan of the pending index and no
/// more. (Numbering every pending delivery with `ROW_NUMBER()` instead took 10 ms of
/// SQLite's only connection with 5,000 pending deliveries against 3 ms this way.)
const CANDIDATES: &str = "WITH h (h_endpoint, h_key) AS (SELECT d.endpoint_id, d.order_key \
         FROM (SELECT MIN(seq) AS head FROM webhook_deliveries WHERE status = 'pending' \
             GROUP BY endpoint_id, order_key) m \
         JOIN webhook_deliveries d ON d.seq = m.head \
         JOIN webhook_endpoints w ON w.id = d.endpoint_id \
         WHERE w.active = $1 AND d.next_attempt_at <= $2 \
         AND (d.lease_until IS NULL OR d.lease_until < $2) \
         ORDER BY d.seq LIMIT $3) \
     SELECT d.seq, d.endpoint_id, d.order_key, d.next_attempt_at, d.lease_until FROM h \
     {runs} ORDER BY d.endpoint_id, d.order_key, d.seq";

/// The candidates of the pairs `{pairs}` (a `VALUES` list of (endpoint, order key)):
/// the first `$2` pending deliveries of each, for an active endpoint (`$1` is `true`),
/// in order. Whether a pair's head is free is decided by the caller, as for
/// [`CANDIDATES`].
const CANDIDATES_OF_PAIRS: &str = "WITH h (h_endpoint, h_key) AS (VALUES {pairs}) \
     SELECT d.seq, d.endpoint_id, d.order_key, d.next_attempt_at, d.lease_until FROM h \
     JOIN webhook_endpoints w ON w.id = h.h_endpoint AND w.active = $1 \
     {runs} ORDER BY d.endpoint_id, d.order_key, d.seq";

/// The join that reads, as `d`, the first `len` (a parameter) pending deliveries of each
/// pair (`h.h_endpoint`, `h.h_key`), each pair one range of `idx_deliveries_pending`.
/// PostgreSQL reads a correlated `seq IN (... LIMIT n)` by testing every delivery ever
/// made against it (seconds with a long history), so it gets `LATERAL`, which SQLite
/// lacks; SQLite turns the `IN` list into lookups by primary key.
fn runs_of_pairs(postgres: bool, len: &str) -> String {
    const PAIR: &str = "FROM webhook_deliveries x WHERE x.status = 'pending' \
         AND x.endpoint_id = h.h_endpoint AND x.order_key = h.h_key ORDER BY x.seq LIMIT";
    if postgres {
        format!(
            "CROSS JOIN LATERAL (SELECT x.seq, x.endpoint_id, x.order_key, x.next_attempt_at, \
             x.lease_until {PAIR} {len}) d"
        )
    } else {
        format!("JOIN webhook_deliveries d ON d.seq IN (SELECT x.seq {PAIR} {len})")
    }
}

/// Takes the leases of `{seqs}` that are still free: `$1` the new lease, `$2` now. The
/// condition makes claiming safe for several workers on either engine; `{lock}` is
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent instances never wait on (or
/// deadlock with) each other's claims. Returns everything needed to send the leased
/// deliveries: their endpoint's URL and secret and their event's id and body come from
/// subqueries (`NULL` when the endpoint or the event is gone).
const LEASE: &str = "UPDATE webhook_deliveries SET lease_until = $1 \
     WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE seq IN ({seqs}) \
         AND status = 'pending' AND (lease_until IS NULL OR lease_until < $2){lock}) \
     AND status = 'pending' AND (lease_until IS NULL OR lease_until < $2) \
     RETURNING seq, id, endpoint_id, order_key, attempts, window_attempts, first_attempt_at, \
     (SELECT w.url FROM webhook_endpoints w WHERE w.id = webhook_deliveries.endpoint_id) AS url, \
     (SELECT w.secret FROM webhook_endpoints w WHERE w.id = webhook_deliveries.endpoint_id) \
     AS secret, \
     (SELECT e.id FROM events e WHERE e.seq = webhook_deliveries.event_seq) AS event_id, \
     (SELECT e.envelope FROM events e WHERE e.seq = webhook_deliveries.event_seq) AS envelope";

/// Gives back the leases of deliveries a run did not get to: `$1` the lease they hold.
const RELEASE: &str = "UPDATE webhook_deliveries SET lease_until = NULL \
     WHERE seq IN ({seqs}) AND status = 'pending' AND lease_until = $1";

/// Claims, for `lease_ms`, up to `max_runs` runs of deliveries: a run is the head (the
/// oldest pending delivery) of one (endpoint, order key) pair and the pending
/// deliveries right behind it, up to `run_len` in all, in order — each due and not
/// leased; the run stops before the first one that is not. Runs are returned oldest
/// head first.
///
/// Only a pair's head can start a run, and every delivery of a run stays leased until
/// its outcome is recorded or it is [released](release), so events of one
/// chargestation reach an endpoint in order — the worker sends a run's deliveries one
/// after another and stops at the first failure — while other pairs flow freely. A
/// backlog of one pair goes out in runs rather than one claim per event.
///
/// Two statements, whatever the batch size: one read of the candidates, and one
/// `UPDATE ... WHERE seq IN (...) AND <not leased> RETURNING ...` that takes the leases
/// (several workers may race for the same candidates on either engine; each delivery
/// goes to one of them) and returns the endpoints and event bodies with them. A run
/// whose delivery was taken by another worker (or whose endpoint was deleted) is cut
/// before it, and the leases it took behind the cut are given back (one more
/// statement, only then).
///
/// # Errors
/// On database failure.
pub async fn claim_runs(
    db: &Db,
    now_ms: i64,
    max_runs: usize,
    run_len: usize,
    lease_ms: i64,
) -> ModelResult<Vec<Vec<ClaimedDelivery>>> {
    if max_runs == 0 || run_len == 0 {
        return Ok(Vec::new());
    }
    let conn = db.conn();
    let candidates = conn
        .query_all(Statement::from_sql_and_values(
            conn.get_database_backend(),
            CANDIDATES.replace("{runs}", &runs_of_pairs(db.is_postgres(), "$4")),
            [
                true.into(),
                now_ms.into(),
                as_i64(max_runs).into(),
                as_i64(run_len).into(),
            ],
        ))
        .await?;
    let runs = free_runs(candidates, now_ms)?;
    lease_runs(db, conn, &runs, now_ms, lease_ms).await
}

/// Claims the run waiting behind each of `pairs` (endpoint id, order key) — exactly what
/// [`claim_runs`] would claim for those pairs: from the pair's head, if it is due and
/// not leased, up to `run_len` deliveries — on `conn` (the finisher's transaction, see
/// [`finish_attempts`]). Runs are returned oldest head first.
async fn claim_runs_of_pairs<C: ConnectionTrait>(
    db: &Db,
    conn: &C,
    pairs: &[(String, String)],
    now_ms: i64,
    run_len: usize,
    lease_ms: i64,
) -> ModelResult<Vec<Vec<ClaimedDelivery>>> {
    let mut runs = Vec::new();
    // Two parameters per pair, after the two of the statement.
    for chunk in pairs.chunks(FINISH_CHUNK) {
        let mut values: Vec<sea_orm::Value> = vec![true.into(), as_i64(run_len).into()];
        for (endpoint_id, order_key) in chunk {
            values.extend([endpoint_id.clone().into(), order_key.clone().into()]);
        }
        let candidates = conn
            .query_all(Statement::from_sql_and_values(
                conn.get_database_backend(),
                CANDIDATES_OF_PAIRS
                    .replace("{pairs}", &value_rows(3, chunk.len(), 2))
                    .replace("{runs}", &runs_of_pairs(db.is_postgres(), "$2")),
                values,
            ))
            .await?;
        runs.extend(free_runs(candidates, now_ms)?);
    }
    lease_runs(db, conn, &runs, now_ms, lease_ms).await
}

fn as_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Each pair's run out of its candidates (in pair and queue order, from its head): its
/// deliveries up to the first one not due or leased — none when the head is not free.
fn free_runs(candidates: Vec<sea_orm::QueryResult>, now_ms: i64) -> ModelResult<Vec<Vec<i64>>> {
    let mut runs: Vec<Vec<i64>> = Vec::new();
    let mut pair: Option<(String, String)> = None;
    let mut open = false;
    for row in candidates {
        let endpoint: String = row.try_get("", "endpoint_id")?;
        let order_key: String = row.try_get("", "order_key")?;
        let next_attempt_at: i64 = row.try_get("", "next_attempt_at")?;
        let lease_until: Option<i64> = row.try_get("", "lease_until")?;
        let key = Some((endpoint, order_key));
        if key != pair {
            pair = key;
            runs.push(Vec::new());
            open = true;
        }
        let free = next_attempt_at <= now_ms && lease_until.is_none_or(|until| until < now_ms);
        open &= free;
        if open {
            if let Some(run) = runs.last_mut() {
                run.push(row.try_get("", "seq")?);
            }
        }
    }
    runs.retain(|run| !run.is_empty());
    Ok(runs)
}

/// Takes the leases of `runs` (each a pair's deliveries, in order) on `conn` and
/// returns what sending them needs, oldest head first. A run whose delivery was taken
/// by another worker (or whose endpoint or event was deleted) is cut before it, and the
/// leases it took behind the cut are given back.
async fn lease_runs<C: ConnectionTrait>(
    db: &Db,
    conn: &C,
    runs: &[Vec<i64>],
    now_ms: i64,
    lease_ms: i64,
) -> ModelResult<Vec<Vec<ClaimedDelivery>>> {
    let wanted: Vec<i64> = runs.iter().flatten().copied().collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let lease_until = now_ms.saturating_add(lease_ms);
    let lock = if db.is_postgres() {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let mut values: Vec<sea_orm::Value> = vec![lease_until.into(), now_ms.into()];
    values.extend(wanted.iter().map(|&seq| sea_orm::Value::from(seq)));
    let rows = conn
        .query_all(Statement::from_sql_and_values(
            conn.get_database_backend(),
            LEASE
                .replace("{seqs}", &placeholders(3, wanted.len()))
                .replace("{lock}", lock),
            values,
        ))
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // A delivery whose endpoint (or event) was deleted underneath us has nothing to
    // send: it is left out, and its run is cut before it.
    let mut claimed: HashMap<i64, ClaimedDelivery> = HashMap::with_capacity(rows.len());
    for row in rows {
        let (Some(url), Some(secret), Some(event_id), Some(body)) = (
            row.try_get::<Option<String>>("", "url")?,
            row.try_get::<Option<String>>("", "secret")?,
            row.try_get::<Option<String>>("", "event_id")?,
            row.try_get::<Option<String>>("", "envelope")?,
        ) else {
            continue;
        };
        let delivery = ClaimedDelivery {
            seq: row.try_get("", "seq")?,
            id: row.try_get("", "id")?,
            endpoint_id: row.try_get("", "endpoint_id")?,
            order_key: row.try_get("", "order_key")?,
            url,
            secret,
            event_id,
            body,
            attempts: row.try_get("", "attempts")?,
            window_attempts: row.try_get("", "window_attempts")?,
            first_attempt_at: row.try_get("", "first_attempt_at")?,
            lease_until,
        };
        claimed.insert(delivery.seq, delivery);
    }
    let mut out = Vec::with_capacity(runs.len());
    let mut behind_a_cut = Vec::new();
    for run in runs {
        let mut taken = Vec::with_capacity(run.len());
        let mut cut = false;
        for seq in run {
            match claimed.remove(seq) {
                Some(delivery) if !cut => taken.push(delivery),
                Some(delivery) => behind_a_cut.push(delivery),
                None => cut = true,
            }
        }
        if !taken.is_empty() {
            out.push(taken);
        }
    }
    // Behind another worker's lease they are not due before it is done: no signal.
    release_on(conn, &behind_a_cut).await?;
    out.sort_by_key(|run| run[0].seq);
    Ok(out)
}

/// Gives back the leases of claimed deliveries that were not attempted (the rest of a
/// run after a failure or when the next attempt could outlast the lease): they are due
/// again at once, in order, without an attempt counted, and the outbox signal is
/// raised so the worker claims them again. A lease that no longer holds is left alone.
///
/// # Errors
/// On database failure (the leases then simply run out).
pub async fn release(db: &Db, deliveries: &[ClaimedDelivery]) -> ModelResult<()> {
    release_on(db.conn(), deliveries).await?;
    if !deliveries.is_empty() {
        db.outbox_written();
    }
    Ok(())
}

async fn release_on<C: ConnectionTrait>(
    conn: &C,
    deliveries: &[ClaimedDelivery],
) -> ModelResult<()> {
    let mut by_lease: HashMap<i64, Vec<i64>> = HashMap::new();
    for delivery in deliveries {
        by_lease
            .entry(delivery.lease_until)
            .or_default()
            .push(delivery.seq);
    }
    for (lease_until, seqs) in by_lease {
        let mut values: Vec<sea_orm::Value> = vec![lease_until.into()];
        values.extend(seqs.iter().map(|&seq| sea_orm::Value::from(seq)));
        conn.execute(Statement::from_sql_and_values(
            conn.get_database_backend(),
            RELEASE.replace("{seqs}", &placeholders(2, seqs.len())),
            values,
        ))
        .await?;
    }
    Ok(())
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

/// What recording an attempt did besides updating the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FinishEffects {
    /// The claim no longer held (the lease ran out and another worker took over, the
    /// endpoint was disabled, or it was deleted): nothing was recorded.
    pub lost_lease: bool,
    /// This attempt's failure completed `disable_after_ms` of failures: the endpoint
    /// was disabled and every delivery of it still pending is now `failed` (this one
    /// included, whatever the retry policy said).
    pub endpoint_disabled: bool,
}

/// The most attempts written by one statement (8 parameters each; SQLite allows 32,766
/// parameters, PostgreSQL 65,535).
const FINISH_CHUNK: usize = 256;

/// Records a batch of finished attempts in one transaction — a group commit: the
/// worker's finisher collects what ended while the previous batch was being written.
/// Returns each attempt's effects, in the order given.
///
/// Per attempt, exactly what recording it alone would do, in the order given:
///
/// - it applies only while its claim still holds the lease (`status` pending and
///   `lease_until` unchanged), so an attempt that overran its lease never overwrites a
///   newer one; otherwise it is reported as `lost_lease` and changes nothing, also not
///   the endpoint;
/// - the delivery gets its outcome (delivered; pending until the retry time; failed),
///   one more attempt, its retry window opened on a first attempt, and its lease
///   released;
/// - the endpoint's failure clock: a success clears `failing_since`; a failure starts
///   it; a failure that ends `disable_after_ms` or more after it started disables the
///   endpoint (`active: false`), gives that delivery up, and marks every delivery of the
///   endpoint still pending `failed`. Later attempts of that endpoint in the batch leave
///   the endpoint alone; their outcomes stand (a success stays delivered) except that a
///   retry still pending is failed with the rest of the queue.
///
/// Statements: the delivery updates (one `UPDATE ... FROM (VALUES ...) RETURNING seq`
/// per [`FINISH_CHUNK`] attempts, which also tells which leases held and whose
/// endpoints' failure clocks run), then — only when a success stops a running clock —
/// one update clearing them, and — only when the batch holds failures — one read of
/// their endpoints, and one update per endpoint whose state changed.
///
/// After the commit the outbox signal is raised: a delivered head unblocks the next
/// event of its pair, for the worker's next claim. [`finish_attempts_and_continue`]
/// claims those events in the same transaction instead.
///
/// # Errors
/// On database failure (nothing is recorded; the leases run out and the deliveries are
/// tried again).
pub async fn finish_attempts(
    db: &Db,
    batch: &[(&ClaimedDelivery, &AttemptReport)],
    disable_after_ms: i64,
) -> ModelResult<Vec<FinishEffects>> {
    let (effects, _) = finish(db, batch, disable_after_ms, None).await?;
    // A delivered head unblocks the next event of its chargestation.
    db.outbox_written();
    Ok(effects)
}

/// What [`finish_attempts_and_continue`] claims in the transaction that records a batch.
#[derive(Debug, Clone, Copy)]
pub struct Continuation<'a> {
    /// The (endpoint id, order key) pairs whose run was delivered to its end in this
    /// batch: their next events are due the moment the batch commits.
    pub pairs: &'a [(String, String)],
    pub now_ms: i64,
    pub run_len: usize,
    pub lease_ms: i64,
}

/// [`finish_attempts`], and in the same transaction, after the outcomes, the run
/// waiting behind each of `continuation.pairs` is claimed, exactly as [`claim_runs`]
/// would claim it once the batch is recorded (from the pair's head, if due and not
/// leased). The worker sends those runs at once: a chargestation's next events do not
/// wait for a separate claim round (a second turn for the database) after the previous
/// one's outcome was recorded. Order holds as with [`claim_runs`]: only a head starts a
/// run, and only after its predecessors' outcomes are written.
///
/// On SQLite the outbox signal is not raised: whatever this batch unblocked is claimed
/// here (a failed attempt's pair waits for its retry time; a run cut short is
/// [released](release), which raises it), and an event committed after this
/// transaction finds its pair's head free when its own signal wakes the worker (one
/// writer at a time). On PostgreSQL it is raised: an event committed while this
/// transaction ran may be invisible to its claim and its own signal may have woken the
/// worker before this commit made the head free.
///
/// # Errors
/// On database failure (nothing is recorded and nothing claimed; the leases run out
/// and the deliveries are tried again).
pub async fn finish_attempts_and_continue(
    db: &Db,
    batch: &[(&ClaimedDelivery, &AttemptReport)],
    disable_after_ms: i64,
    continuation: Continuation<'_>,
) -> ModelResult<(Vec<FinishEffects>, Vec<Vec<ClaimedDelivery>>)> {
    let finished = finish(db, batch, disable_after_ms, Some(continuation)).await?;
    if db.is_postgres() {
        db.outbox_written();
    }
    Ok(finished)
}

async fn finish(
    db: &Db,
    batch: &[(&ClaimedDelivery, &AttemptReport)],
    disable_after_ms: i64,
    continuation: Option<Continuation<'_>>,
) -> ModelResult<(Vec<FinishEffects>, Vec<Vec<ClaimedDelivery>>)> {
    use std::collections::HashSet;
    let mut effects = vec![FinishEffects::default(); batch.len()];
    if batch.is_empty() {
        return Ok((effects, Vec::new()));
    }
    let backend = db.conn().get_database_backend();
    let txn = db.conn().begin().await?;
    // 1. The deliveries, first: the first statement writes, so SQLite takes its write
    //    lock at once (no read-then-write upgrade), and PostgreSQL locks the rows whose
    //    leases held.
    let mut applied: HashSet<i64> = HashSet::with_capacity(batch.len());
    // Of those, the deliveries whose endpoint's failure clock runs.
    let mut on_failing_endpoint: HashSet<i64> = HashSet::new();
    for chunk in batch.chunks(FINISH_CHUNK) {
        let mut sql = format!(
            "WITH v (d_seq, d_lease, d_status, d_next, d_first, d_code, d_error, d_updated) \
             AS (VALUES {}",
            value_rows(1, chunk.len(), 8)
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 8);
        for (claimed, report) in chunk {
            let (status, next_attempt_at) = delivery_state(report.outcome, report.finished_at);
            values.extend([
                claimed.seq.into(),
                claimed.lease_until.into(),
                status.as_str().into(),
                next_attempt_at.into(),
                claimed.first_attempt_at.unwrap_or(report.started_at).into(),
                report.status_code.map(i32::from).into(),
                report.error.clone().into(),
                report.finished_at.into(),
            ]);
        }
        sql.push_str(
            ") UPDATE webhook_deliveries SET status = v.d_status, attempts = attempts + 1, \
             window_attempts = window_attempts + 1, first_attempt_at = v.d_first, \
             next_attempt_at = v.d_next, lease_until = NULL, last_status_code = v.d_code, \
             last_error = v.d_error, updated_at = v.d_updated \
             FROM v WHERE seq = v.d_seq AND status = 'pending' AND lease_until = v.d_lease \
             RETURNING seq, (SELECT w.failing_since FROM webhook_endpoints w \
                 WHERE w.id = webhook_deliveries.endpoint_id) AS endpoint_failing_since",
        );
        for row in txn
            .query_all(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            let seq = row.try_get::<i64>("", "seq")?;
            applied.insert(seq);
            if row
                .try_get::<Option<i64>>("", "endpoint_failing_since")?
                .is_some()
            {
                on_failing_endpoint.insert(seq);
            }
        }
    }
    for (i, (claimed, _)) in batch.iter().enumerate() {
        effects[i].lost_lease = !applied.contains(&claimed.seq);
    }
    // 2. The endpoints' failure clocks, replayed in the order the attempts finished.
    let failing: HashSet<&str> = batch
        .iter()
        .zip(&effects)
        .filter(|((_, report), e)| !e.lost_lease && report.outcome != AttemptOutcome::Delivered)
        .map(|((claimed, _), _)| claimed.endpoint_id.as_str())
        .collect();
    let succeeded: HashSet<&str> = batch
        .iter()
        .zip(&effects)
        .filter(|((claimed, report), e)| {
            !e.lost_lease
                && report.outcome == AttemptOutcome::Delivered
                && on_failing_endpoint.contains(&claimed.seq)
                && !failing.contains(claimed.endpoint_id.as_str())
        })
        .map(|((claimed, _), _)| claimed.endpoint_id.as_str())
        .collect();
    if !succeeded.is_empty() {
        // Only successes: the clock is cleared without a read — and not written at all
        // where it was not running (the common case).
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(Option::<i64>::None),
            )
            .filter(webhook_endpoint::Column::Id.is_in(succeeded.iter().copied()))
            .filter(webhook_endpoint::Column::FailingSince.is_not_null())
            .exec(&txn)
            .await?;
    }
    if !failing.is_empty() {
        let mut query = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(failing.iter().copied()));
        if db.is_postgres() {
            query = query.lock_exclusive();
        }
        let mut endpoints: HashMap<String, (webhook_endpoint::Model, bool)> = query
            .all(&txn)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), (e, false)))
            .collect();
        let mut given_up = Vec::new();
        let mut disabled_here: HashSet<&str> = HashSet::new();
        for (i, (claimed, report)) in batch.iter().enumerate() {
            let endpoint_id = claimed.endpoint_id.as_str();
            if effects[i].lost_lease
                || !failing.contains(endpoint_id)
                || disabled_here.contains(endpoint_id)
            {
                // After the attempt that disabled its endpoint, an attempt leaves the
                // endpoint as it is (alone, it would have found the endpoint disabled).
                continue;
            }
            let Some((endpoint, changed)) = endpoints.get_mut(endpoint_id) else {
                continue;
            };
            let now = report.finished_at;
            if report.outcome == AttemptOutcome::Delivered {
                if endpoint.failing_since.take().is_some() {
                    *changed = true;
                }
                continue;
            }
            let since = *endpoint.failing_since.get_or_insert_with(|| {
                *changed = true;
                now
            });
            if endpoint.active && now - since >= disable_after_ms {
                disabled_here.insert(endpoint_id);
                endpoint.active = false;
                endpoint.updated_at = now;
                *changed = true;
                effects[i].endpoint_disabled = true;
                if report.outcome != AttemptOutcome::GiveUp {
                    given_up.push((claimed.seq, now));
                }
            }
        }
        for (seq, now) in given_up {
            webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::Status,
                    Expr::value(DeliveryStatus::Failed.as_str()),
                )
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
                .filter(webhook_delivery::Column::Seq.eq(seq))
                .exec(&txn)
                .await?;
        }
        for (endpoint, changed) in endpoints.into_values() {
            if !changed {
                continue;
            }
            let disabled = disabled_here.contains(endpoint.id.as_str());
            let mut update = webhook_endpoint::Entity::update_many()
                .col_expr(
                    webhook_endpoint::Column::FailingSince,
                    Expr::value(endpoint.failing_since),
                )
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id.clone()));
            if disabled {
                update = update
                    .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
                    .col_expr(
                        webhook_endpoint::Column::UpdatedAt,
                        Expr::value(endpoint.updated_at),
                    );
            }
            update.exec(&txn).await?;
            if disabled {
                webhook_delivery::Entity::update_many()
                    .col_expr(
                        webhook_delivery::Column::Status,
                        Expr::value(DeliveryStatus::Failed.as_str()),
                    )
                    .col_expr(
                        webhook_delivery::Column::LastError,
                        Expr::value(
                            "not sent: the endpoint was disabled after failing for too long",
                        ),
                    )
                    .col_expr(
                        webhook_delivery::Column::UpdatedAt,
                        Expr::value(endpoint.updated_at),
                    )
                    .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id.clone()))
                    .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    // 3. What waits behind the runs delivered to their end.
    let runs = match continuation {
        Some(c) if !c.pairs.is_empty() && c.run_len > 0 => {
            claim_runs_of_pairs(db, &txn, c.pairs, c.now_ms, c.run_len, c.lease_ms).await?
        }
        _ => Vec::new(),
    };
    txn.commit().await?;
    Ok((effects, runs))
}

/// A delivery's status and `next_attempt_at` after an attempt with this outcome.
fn delivery_state(outcome: AttemptOutcome, now: i64) -> (DeliveryStatus, i64) {
    match outcome {
        AttemptOutcome::Delivered => (DeliveryStatus::Delivered, now),
        AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, at),
        AttemptOutcome::GiveUp => (DeliveryStatus::Failed, now),
    }
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

/// The worker's queue against a real database ([`crate::test_db`]): claiming heads and
/// recording batches of attempts with every outcome.
#[cfg(test)]
mod queue_tests {
    use super::*;
    use crate::events::{self, EventObject, NewEvent};
    use crate::test_db::{TestDb, T0};

    const LEASE_MS: i64 = 25_000;
    const WINDOW_MS: i64 = 3 * 24 * 60 * 60 * 1000;

    /// Records one attempt: [`finish_attempts`] with a batch of one.
    async fn finish_attempt(
        db: &Db,
        claimed: &ClaimedDelivery,
        report: &AttemptReport,
        disable_after_ms: i64,
    ) -> ModelResult<FinishEffects> {
        let effects = finish_attempts(db, &[(claimed, report)], disable_after_ms).await?;
        Ok(effects.into_iter().next().unwrap_or_default())
    }

    impl TestDb {
        async fn endpoint(&self) -> Endpoint {
            create(
                &self.db,
                NewEndpoint {
                    url: "http://127.0.0.1:9/hook".into(),
                    ..NewEndpoint::default()
                },
            )
            .await
            .unwrap()
        }

        /// Records an event of `station` as the gateway would: in a transaction of its own.
        async fn event(&self, station: &str, n: u32) {
            let txn = self.db.conn().begin().await.unwrap();
            events::record(
                &txn,
                self.db.now_ms(),
                NewEvent {
                    event_type: "chargestation.connector_status.updated".into(),
                    object: EventObject::Chargestation,
                    chargestation_id: Some(station.to_owned()),
                    data: json!({"station": station, "n": n}),
                },
            )
            .await
            .unwrap();
            txn.commit().await.unwrap();
        }

        /// The heads: runs of one.
        async fn claim(&self) -> Vec<ClaimedDelivery> {
            claim_runs(&self.db, self.db.now_ms(), 100, 1, LEASE_MS)
                .await
                .unwrap()
                .into_iter()
                .flatten()
                .collect()
        }

        async fn deliveries(&self, endpoint: &Endpoint) -> Vec<Delivery> {
            let page = Page {
                descending: false,
                limit: 100,
                ..Page::default()
            };
            list_deliveries(&self.db, &endpoint.id, None, &page)
                .await
                .unwrap()
                .0
        }
    }

    /// The chargestation and number of the event a claim carries.
    fn event_of(claimed: &ClaimedDelivery) -> (String, u64) {
        let body: Value = serde_json::from_str(&claimed.body).unwrap();
        (
            body["data"]["station"].as_str().unwrap().to_owned(),
            body["data"]["n"].as_u64().unwrap(),
        )
    }

    fn report(at: i64, outcome: AttemptOutcome) -> AttemptReport {
        let failed = outcome != AttemptOutcome::Delivered;
        AttemptReport {
            started_at: at,
            finished_at: at,
            status_code: Some(if failed { 500 } else { 200 }),
            error: failed.then(|| "the receiver answered HTTP 500".to_owned()),
            outcome,
        }
    }

    #[tokio::test]
    async fn only_the_head_of_each_chargestation_is_claimed_and_a_lease_is_held_until_it_runs_out()
    {
        let t = TestDb::new().await;
        let endpoint = t.endpoint().await;
        for n in 0..3 {
            t.event("A", n).await;
        }
        t.event("B", 10).await;
        assert_eq!(t.deliveries(&endpoint).await.len(), 4);
        let first = t.claim().await;
        assert_eq!(
            first.iter().map(event_of).collect::<Vec<_>>(),
            [("A".to_owned(), 0), ("B".to_owned(), 10)],
            "one head per chargestation, oldest first"
        );
        assert!(first.iter().all(|c| c.lease_until == T0 + LEASE_MS));
        assert!(
            t.claim().await.is_empty(),
            "leased heads are not claimed twice"
        );
        t.clock.advance_ms(LEASE_MS + 1);
        let again = t.claim().await;
        assert_eq!(
            again.iter().map(|c| c.seq).collect::<Vec<_>>(),
            first.iter().map(|c| c.seq).collect::<Vec<_>>(),
            "a lease that ran out is taken over"
        );
        t.done().await;
    }

    #[tokio::test]
    async fn a_run_is_the_backlog_behind_a_head_in_order_up_to_the_first_delivery_not_free() {
        let t = TestDb::new().await;
        let endpoint = t.endpoint().await;
        for n in 0..5 {
            t.event("A", n).await;
        }
        t.event("B", 0).await;
        let runs = |t: &TestDb| {
            let db = t.db.clone();
            async move { claim_runs(&db, db.now_ms(), 10, 3, LEASE_MS).await.unwrap() }
        };
        let events = |runs: &[Vec<ClaimedDelivery>]| -> Vec<Vec<(String, u64)>> {
            runs.iter()
                .map(|run| run.iter().map(event_of).collect())
                .collect()
        };
        let a = |n: u64| ("A".to_owned(), n);
        let first = runs(&t).await;
        assert_eq!(
            events(&first),
            [vec![a(0), a(1), a(2)], vec![("B".to_owned(), 0)]],
            "a pair's first three, oldest head first"
        );
        assert!(runs(&t).await.is_empty(), "every head is leased");

        // A0 fails: it waits for its retry, the rest of its run is given back unsent.
        let now = t.db.now_ms();
        let retry = report(now, AttemptOutcome::RetryAt(now + 1000));
        finish_attempt(&t.db, &first[0][0], &retry, WINDOW_MS)
            .await
            .unwrap();
        release(&t.db, &first[0][1..]).await.unwrap();
        assert!(runs(&t).await.is_empty(), "nothing of A goes before A0");
        t.clock.advance_ms(1000);
        let again = runs(&t).await;
        assert_eq!(events(&again), [vec![a(0), a(1), a(2)]]);
        let attempts: Vec<i64> = t
            .deliveries(&endpoint)
            .await
            .iter()
            .map(|d| d.attempts)
            .collect();
        assert_eq!(attempts, [1, 0, 0, 0, 0, 0], "a release counts no attempt");

        // A0 delivered; A1 given back while A2 is still leased: the run is A1 alone.
        let delivered = report(t.db.now_ms(), AttemptOutcome::Delivered);
        finish_attempt(&t.db, &again[0][0], &delivered, WINDOW_MS)
            .await
            .unwrap();
        release(&t.db, &again[0][1..2]).await.unwrap();
        assert_eq!(events(&runs(&t).await), [vec![a(1)]]);
        t.done().await;
    }

    /// Whether the outbox signal is raised (a permit is waiting), taking it.
    fn signalled(db: &Db) -> bool {
        let signal = db.outbox_signal();
        let notified = signal.notified();
        tokio::pin!(notified);
        // A stored permit completes the first poll; without one the future is pending.
        notified.as_mut().enable()
    }

    /// Records `batch` with [`finish_attempts_and_continue`], continuing the pairs of
    /// `ended` (whose runs the batch completes); the effects and the runs claimed.
    async fn record_and_continue(
        db: &Db,
        batch: &[(&ClaimedDelivery, &AttemptReport)],
        ended: &[&ClaimedDelivery],
        now_ms: i64,
    ) -> (Vec<FinishEffects>, Vec<Vec<ClaimedDelivery>>) {
        let pairs: Vec<(String, String)> = ended
            .iter()
            .map(|c| (c.endpoint_id.clone(), c.order_key.clone()))
            .collect();
        let continuation = Continuation {
            pairs: &pairs,
            now_ms,
            run_len: 32,
            lease_ms: LEASE_MS,
        };
        finish_attempts_and_continue(db, batch, WINDOW_MS, continuation)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn recording_a_batch_claims_the_runs_behind_the_pairs_it_completes_and_no_others() {
        let t = TestDb::new().await;
        let endpoint = t.endpoint().await;
        for (station, n) in [("A", 0), ("A", 1), ("B", 0), ("C", 0), ("D", 0), ("D", 1)] {
            t.event(station, n).await;
        }
        let heads = t.claim().await;
        assert_eq!(heads.len(), 4, "A0, B0, C0, D0");
        assert!(
            heads.iter().all(|c| c.order_key == event_of(c).0),
            "a chargestation's events are ordered by its id"
        );
        // Written while A0 is in flight: behind it.
        t.event("A", 2).await;
        let _ = signalled(&t.db);

        // A0 and B0 delivered and ending their runs, C0 failed, D0 delivered but its run
        // is not over (only A and B are continued).
        let now = t.db.now_ms();
        let delivered = report(now, AttemptOutcome::Delivered);
        let retry = report(now, AttemptOutcome::RetryAt(now + 1000));
        let by_station = |s: &str| heads.iter().find(|c| event_of(c).0 == s).unwrap();
        let (a0, b0, c0, d0) = (
            by_station("A"),
            by_station("B"),
            by_station("C"),
            by_station("D"),
        );
        let (effects, runs) = record_and_continue(
            &t.db,
            &[
                (a0, &delivered),
                (b0, &delivered),
                (c0, &retry),
                (d0, &delivered),
            ],
            &[a0, b0],
            now,
        )
        .await;
        assert!(effects.iter().all(|e| !e.lost_lease));
        let runs: Vec<Vec<(String, u64)>> = runs
            .iter()
            .map(|run| run.iter().map(event_of).collect())
            .collect();
        assert_eq!(
            runs,
            [vec![("A".to_owned(), 1), ("A".to_owned(), 2)]],
            "A's backlog, in order; B has none; C and D were not continued"
        );
        assert_eq!(
            signalled(&t.db),
            t.db.is_postgres(),
            "what the batch unblocked was claimed with it: a signal only on PostgreSQL"
        );
        // D1 is D's only free head now; A1 and A2 are leased to the continuation.
        let next = t.claim().await;
        assert_eq!(
            next.iter().map(event_of).collect::<Vec<_>>(),
            [("D".to_owned(), 1)]
        );

        // A continuation finds nothing for a pair whose head is not due (C waits for its
        // retry) or whose endpoint is disabled (D2, behind the delivered D1).
        let d1 = &next[0];
        t.event("D", 2).await;
        let continue_after = |claimed: &ClaimedDelivery, pair: &ClaimedDelivery| {
            let db = t.db.clone();
            let (claimed, pair, delivered) = (claimed.clone(), pair.clone(), delivered.clone());
            async move {
                record_and_continue(&db, &[(&claimed, &delivered)], &[&pair], now)
                    .await
                    .1
            }
        };
        assert!(continue_after(d1, c0).await.is_empty(), "C0 is not due");
        update(
            &t.db,
            &endpoint.id,
            EndpointPatch {
                active: Some(false),
                ..EndpointPatch::default()
            },
        )
        .await
        .unwrap();
        assert!(
            continue_after(d1, d1).await.is_empty(),
            "D's endpoint is disabled"
        );
        t.done().await;
    }

    #[tokio::test]
    async fn giving_back_a_run_raises_the_outbox_signal() {
        let t = TestDb::new().await;
        t.endpoint().await;
        for n in 0..3 {
            t.event("A", n).await;
        }
        let run = claim_runs(&t.db, t.db.now_ms(), 10, 3, LEASE_MS)
            .await
            .unwrap()
            .remove(0);
        let _ = signalled(&t.db);
        release(&t.db, &[]).await.unwrap();
        assert!(!signalled(&t.db), "nothing given back, nothing to claim");
        release(&t.db, &run[1..]).await.unwrap();
        assert!(signalled(&t.db), "A1 and A2 are due again");
        t.done().await;
    }

    #[tokio::test]
    async fn a_claim_carries_what_sending_needs_and_a_later_success_stops_the_failure_clock() {
        let t = TestDb::new().await;
        let endpoint = t.endpoint().await;
        t.event("A", 0).await;
        t.event("B", 0).await;
        let heads = t.claim().await;
        assert_eq!(heads.len(), 2);
        for head in &heads {
            assert_eq!((&head.url, &head.secret), (&endpoint.url, &endpoint.secret));
            let body: Value = serde_json::from_str(&head.body).unwrap();
            assert_eq!(body["_id"].as_str(), Some(head.event_id.as_str()));
            assert_eq!((head.attempts, head.first_attempt_at), (0, None));
        }
        let now = t.db.now_ms();
        let retry = report(now, AttemptOutcome::RetryAt(now + 1000));
        finish_attempt(&t.db, &heads[0], &retry, WINDOW_MS)
            .await
            .unwrap();
        assert_eq!(
            get(&t.db, &endpoint.id).await.unwrap().failing_since,
            Some(now)
        );
        // A batch of successes only, in a later batch: the clock stops.
        t.clock.advance_ms(10);
        let delivered = report(t.db.now_ms(), AttemptOutcome::Delivered);
        let effects = finish_attempt(&t.db, &heads[1], &delivered, WINDOW_MS)
            .await
            .unwrap();
        assert_eq!(effects, FinishEffects::default());
        assert_eq!(get(&t.db, &endpoint.id).await.unwrap().failing_since, None);
        t.done().await;
    }

    #[tokio::test]
    async fn a_batch_records_each_outcome_only_where_the_lease_still_holds() {
        let t = TestDb::new().await;
        let endpoint = t.endpoint().await;
        t.event("A", 0).await;
        t.event("A", 1).await;
        t.event("B", 0).await;
        t.event("C", 0).await;
        t.event("D", 0).await;
        let stale = t.claim().await;
        assert_eq!(stale.len(), 4);
        // The leases run out and another worker takes the heads over.
        t.clock.advance_ms(LEASE_MS + 1);
        let fresh = t.claim().await;
        assert_eq!(fresh.len(), 4);
        let now = t.db.now_ms();
        let retry_at = now + 5000;
        let (a_stale, b, c, d) = (&stale[0], &fresh[1], &fresh[2], &fresh[3]);
        let delivered = report(now, AttemptOutcome::Delivered);
        let retry = report(now, AttemptOutcome::RetryAt(retry_at));
        let give_up = report(now, AttemptOutcome::GiveUp);
        let effects = finish_attempts(
            &t.db,
            &[
                (a_stale, &delivered),
                (b, &retry),
                (d, &give_up),
                (c, &delivered),
            ],
            WINDOW_MS,
        )
        .await
        .unwrap();
        assert_eq!(
            effects.iter().map(|e| e.lost_lease).collect::<Vec<_>>(),
            [true, false, false, false]
        );
        assert!(effects.iter().all(|e| !e.endpoint_disabled));

        let items = t.deliveries(&endpoint).await;
        let by_seq = |seq: i64| {
            let claimed = fresh.iter().chain(&stale).find(|c| c.seq == seq).unwrap();
            items.iter().find(|d| d.id == claimed.id).unwrap().clone()
        };
        // A: the stale attempt changed nothing; the new claim still holds the lease.
        let a = by_seq(a_stale.seq);
        assert_eq!((a.status.as_str(), a.attempts), ("pending", 0));
        // B: pending until the retry, one attempt, the answer kept.
        let b_row = by_seq(b.seq);
        assert_eq!((b_row.status.as_str(), b_row.attempts), ("pending", 1));
        assert_eq!(b_row.next_attempt_at, retry_at);
        assert_eq!(b_row.last_status_code, Some(500));
        assert!(b_row.last_error.as_deref().unwrap().contains("500"));
        let c_row = by_seq(c.seq);
        assert_eq!((c_row.status.as_str(), c_row.attempts), ("delivered", 1));
        assert_eq!(c_row.last_status_code, Some(200));
        let d_row = by_seq(d.seq);
        assert_eq!((d_row.status.as_str(), d_row.attempts), ("failed", 1));
        // B and D failed, then C succeeded: the endpoint's failure clock is clear again.
        assert_eq!(get(&t.db, &endpoint.id).await.unwrap().failing_since, None);

        // The A head finishes with the lease it holds; then A's second event is the head.
        let a_fresh = &fresh[0];
        let effects = finish_attempt(&t.db, a_fresh, &delivered, WINDOW_MS)
            .await
            .unwrap();
        assert_eq!(effects, FinishEffects::default());
        let next = t.claim().await;
        let seqs: Vec<i64> = next.iter().map(|c| c.seq).collect();
        assert_eq!(next.len(), 1, "B waits for its retry time: {next:?}");
        assert!(seqs[0] > a_fresh.seq);
        assert_eq!(event_of(&next[0]), ("A".to_owned(), 1));
        // B's retry comes due with the clock, with the retry window it opened.
        t.clock.advance_ms(5000);
        let retried = t.claim().await;
        assert_eq!(retried.len(), 1);
        assert_eq!(retried[0].seq, b.seq);
        assert_eq!(retried[0].window_attempts, 1);
        assert_eq!(retried[0].first_attempt_at, Some(now));
        t.done().await;
    }

    #[tokio::test]
    async fn a_failure_at_the_end_of_the_window_disables_the_endpoint_and_fails_its_queue_in_the_same_batch(
    ) {
        let t = TestDb::new().await;
        let endpoint = t.endpoint().await;
        t.event("A", 0).await;
        t.event("A", 1).await;
        t.event("B", 0).await;
        let first = t.claim().await;
        assert_eq!(first.len(), 2);
        // A fails first: the endpoint's failure clock starts; B is still in flight.
        let now = t.db.now_ms();
        let a_retry = report(now, AttemptOutcome::RetryAt(now + 1000));
        let effects = finish_attempt(&t.db, &first[0], &a_retry, WINDOW_MS)
            .await
            .unwrap();
        assert_eq!(effects, FinishEffects::default());
        assert_eq!(
            get(&t.db, &endpoint.id).await.unwrap().failing_since,
            Some(now)
        );

        // Three days of failures later (B's lease long gone and re-claimed with A).
        t.clock.advance_ms(WINDOW_MS);
        let heads = t.claim().await;
        assert_eq!(heads.len(), 2);
        let later = t.db.now_ms();
        let fail = report(later, AttemptOutcome::RetryAt(later + 1000));
        let ok = report(later, AttemptOutcome::Delivered);
        // A's failure tips the endpoint over; B's success in the same batch is recorded
        // but does not revive it.
        let effects = finish_attempts(&t.db, &[(&heads[0], &fail), (&heads[1], &ok)], WINDOW_MS)
            .await
            .unwrap();
        assert!(effects[0].endpoint_disabled && !effects[0].lost_lease);
        assert!(!effects[1].endpoint_disabled && !effects[1].lost_lease);
        let stored = get(&t.db, &endpoint.id).await.unwrap();
        assert!(!stored.active);
        assert_eq!(stored.failing_since, Some(now));
        let items = t.deliveries(&endpoint).await;
        let statuses: Vec<(&str, i64)> = items
            .iter()
            .map(|d| (d.status.as_str(), d.attempts))
            .collect();
        assert_eq!(
            statuses,
            [("failed", 2), ("failed", 0), ("delivered", 1)],
            "{items:#?}"
        );
        assert!(items[0].last_error.as_deref().unwrap().contains("500"));
        assert!(items[1].last_error.as_deref().unwrap().contains("disabled"));
        assert!(t.claim().await.is_empty());
        t.done().await;
    }
}
