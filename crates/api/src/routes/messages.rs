//! The OCPP message log of one chargestation (docs/message-log.md):
//! `GET /v1.1/chargestations/{id}/messages` (filters `action`, `direction`, `from`, `to`;
//! the list pagination) and `GET /v1.1/chargestations/{id}/messages/stream`, Server-Sent
//! Events of the frames this instance stores from now on.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::Stream;
use model::chargestations;
use model::message_log::{self, Direction, ListFilter, Message};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use crate::body::Query;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::openapi as doc_params;
use crate::openapi::schemas as doc;
use crate::ApiState;

/// How often the stream sends a `: keep-alive` comment (it also finds a client gone).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The most stored frames a resumed stream (`Last-Event-ID`) replays.
pub const RESUME_LIMIT: u64 = 1000;

/// An RFC 3339 query parameter; a `+` offset left unencoded (read as a space) still
/// counts as `+`.
fn time_param(query: &Query, name: &str) -> ApiResult<Option<i64>> {
    query
        .get(name)
        .map(|text| {
            model::time::parse_rfc3339_ms(&text.replace(' ', "+")).ok_or_else(|| {
                ApiError::Unprocessable(format!("'{name}' must be an RFC 3339 date-time"))
            })
        })
        .transpose()
}

/// A page of a station's frames, newest first.
///
/// # Errors
/// 404 for an unknown station; 422 for a bad filter or pagination parameter.
#[utoipa::path(get, path = "/v1.1/chargestations/{id}/messages", tag = "messages", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity)."), ("action" = Option<String>, Query, description = "Only this action."), ("direction" = Option<doc::Direction>, Query), ("from" = Option<String>, Query, format = DateTime, description = "Stored at or after (RFC 3339)."), ("to" = Option<String>, Query, format = DateTime, description = "Stored at or before (RFC 3339)."), doc_params::Pagination), responses((status = 200, description = "Newest first.", body = doc::ListEnvelope<doc::LoggedMessage>, headers(("X-Total-Count" = u64, description = "The number of matching items."))), (status = 404), (status = 422)))]
pub async fn list(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = Query::parse(req.query_string());
    let direction = query
        .get("direction")
        .map(|d| {
            Direction::parse(d)
                .ok_or_else(|| ApiError::Unprocessable("'direction' must be in or out".into()))
        })
        .transpose()?;
    let from_ms = time_param(&query, "from")?;
    let to_ms = time_param(&query, "to")?;
    let page = query.page()?;
    let station = chargestations::get(&state.db, &id).await?;
    let filter = ListFilter {
        chargestation_id: station.id,
        action: query.get("action").map(str::to_owned),
        direction,
        from_ms,
        to_ms,
    };
    let (items, total) = message_log::list(&state.db, &filter, &page).await?;
    Ok(envelope::list(
        items.iter().map(Message::to_json).collect(),
        total,
    ))
}

/// Server-Sent Events of the station's new frames: `id`, `event: message`, `data` (the
/// list item on one line), and a keep-alive comment every [`KEEP_ALIVE`]. With a
/// `Last-Event-ID` header (an `EventSource` reconnecting), the frames stored since that
/// one come first (at most [`RESUME_LIMIT`]). Ends when the client goes away or the app
/// stops; a subscriber too slow for the feed skips frames.
///
/// # Errors
/// 404 for an unknown station.
#[utoipa::path(get, path = "/v1.1/chargestations/{id}/messages/stream", tag = "messages", params(("id" = String, Path, example = "CP-1", description = "The station's `_id` or its endpoint (identity)."), ("Last-Event-ID" = Option<String>, Header, description = "Resume: the frames stored after this one come first.")), responses((status = 200, description = "Server-Sent Events: `id: <_id>`, `event: message`, `data: <the list item>`; a `: keep-alive` comment every 15 s.", content_type = "text/event-stream", body = String), (status = 404)))]
pub async fn stream(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let station = chargestations::get(&state.db, &id).await?;
    // Subscribed before answering (and before reading the backlog): every frame stored
    // after the headers is delivered.
    let receiver = state.message_log.subscribe();
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let backlog = match last_event_id {
        Some(after) => {
            message_log::stored_after(&state.db, &station.id, after, RESUME_LIMIT).await?
        }
        None => Vec::new(),
    };
    let events = live_events(
        receiver,
        backlog,
        station.id,
        state.shutdown.clone(),
        KEEP_ALIVE,
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events))
}

/// One Server-Sent Event for a stored frame.
fn event(message: &Message) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: message\ndata: {}\n\n",
        message.id,
        message.to_json()
    ))
}

struct Live {
    receiver: broadcast::Receiver<Message>,
    /// Stored frames to send first (a resumed stream), oldest first.
    backlog: VecDeque<Message>,
    /// The backlog's ids: the live feed may carry them too.
    replayed: HashSet<String>,
    station_id: String,
    stop: CancellationToken,
    keep_alive: tokio::time::Interval,
}

/// The event stream of one station's frames: `backlog`, then those from `receiver`; the
/// first keep-alive comment goes out at once, so the client sees the stream open.
fn live_events(
    receiver: broadcast::Receiver<Message>,
    backlog: Vec<Message>,
    station_id: String,
    stop: CancellationToken,
    keep_alive: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let mut interval = tokio::time::interval(keep_alive);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let live = Live {
        receiver,
        replayed: backlog.iter().map(|m| m.id.clone()).collect(),
        backlog: backlog.into(),
        station_id,
        stop,
        keep_alive: interval,
    };
    futures_util::stream::unfold(live, |mut live| async move {
        if live.stop.is_cancelled() {
            return None;
        }
        if let Some(message) = live.backlog.pop_front() {
            return Some((Ok(event(&message)), live));
        }
        loop {
            tokio::select! {
                () = live.stop.cancelled() => return None,
                _ = live.keep_alive.tick() => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), live));
                }
                received = live.receiver.recv() => match received {
                    Ok(message)
                        if message.chargestation_id == live.station_id
                            && !live.replayed.contains(&message.id) =>
                    {
                        return Some((Ok(event(&message)), live));
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(skipped)) => {
                        tracing::debug!(skipped, station = %live.station_id, "message stream subscriber lagged; frames skipped");
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    })
}
