//! One task per charger connection: reads frames, serves the charger's CALLs through
//! the handlers, hands answers to our waiting CALLs, pings, and cleans up — touching
//! only its own generation's state, so a replaced connection never harms its successor.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use model::chargestations::{self, Chargestation};
use ocpp::frame::{CallError, Frame};
use tokio::time::Instant;

use crate::handlers::{self, HandlerContext};
use crate::message_log::masked_text;
use crate::registry::{PendingCall, Registered, SessionHandle};
use crate::{CallFailure, Gateway, GatewayEvent};
use model::message_log::Direction;

/// How often at most `lastMessageAt` is written per connection.
const LAST_MESSAGE_WRITE_EVERY: Duration = Duration::from_secs(10);
/// How long the close frame may wait for room on a connection the charger stopped reading.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

pub(crate) fn spawn(
    gateway: Arc<Gateway>,
    station: Chargestation,
    generation: i64,
    session: Session,
    stream: AggregatedMessageStream,
) {
    // Only what the connection needs lives on with it, not the whole record (whose
    // configuration snapshot and boot info can be large).
    let station = Station {
        id: station.id,
        endpoint: station.endpoint,
    };
    // The message stream is tied to the worker's single-threaded runtime.
    actix_web::rt::spawn(run(gateway, station, generation, session, stream));
}

/// The station a connection speaks for.
struct Station {
    /// The chargestation `_id`.
    id: String,
    /// The charger identity.
    endpoint: String,
}

enum Ending {
    ClosedByCharger,
    Replaced,
    Shutdown,
    MissedPongs,
    /// An answer could not be written for `missed_pongs` ping intervals: the charger
    /// keeps sending but stopped reading.
    NotReading,
    ProtocolError(CloseCode, String),
}

/// The close code for a WebSocket-level error (RFC 6455 §7.4.1): 1009 for a frame or
/// message over `max_frame_bytes`, 1007 for a text message that is not UTF-8, 1002
/// for anything else.
fn close_code_for(error: &actix_ws::ProtocolError) -> CloseCode {
    match error {
        actix_ws::ProtocolError::Overflow => CloseCode::Size,
        // actix-ws reports both as I/O errors: an over-long fragmented message by its
        // text, invalid UTF-8 as `InvalidData`.
        actix_ws::ProtocolError::Io(e) if e.to_string().contains("maximum continuation size") => {
            CloseCode::Size
        }
        actix_ws::ProtocolError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            CloseCode::Invalid
        }
        _ => CloseCode::Protocol,
    }
}

async fn run(
    gateway: Arc<Gateway>,
    station: Station,
    generation: i64,
    session: Session,
    mut stream: AggregatedMessageStream,
) {
    let shared = gateway.shared.clone();
    let handle = SessionHandle {
        station_id: station.id.clone(),
        identity: station.endpoint.clone(),
        generation,
        session: session.clone(),
        pending: Default::default(),
        call_slot: Default::default(),
        close: shared.shutdown.child_token(),
    };
    match gateway.registry.register(handle.clone()) {
        Registered::Current { replaced } => {
            if let Some(old) = replaced {
                tracing::info!(identity = %station.endpoint, "a new connection replaces the old one");
                old.close.cancel();
            }
        }
        Registered::Stale => {
            tracing::info!(identity = %station.endpoint, "a newer connection won the race; closing this one");
            let _ = session
                .close(Some(CloseReason::from(CloseCode::Policy)))
                .await;
            return;
        }
    }
    shared.metrics.charger_connected();
    tracing::info!(identity = %station.endpoint, generation, "charger connected");
    let _ = gateway.events.send(GatewayEvent::Connected {
        station_id: station.id.clone(),
    });
    let ctx = HandlerContext {
        shared: shared.clone(),
        station_id: station.id.clone(),
        identity: station.endpoint.clone(),
        events: gateway.events.clone(),
    };

    let ping_every = shared.config.ping_interval;
    let dead_after = ping_every * shared.config.missed_pongs.max(1);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut last_seen = Instant::now();
    let mut last_touch = Instant::now();
    let mut session_out = session.clone();

    let ending = loop {
        tokio::select! {
            () = handle.close.cancelled() => {
                break if shared.shutdown.is_cancelled() { Ending::Shutdown } else { Ending::Replaced };
            }
            message = stream.recv() => {
                let message = match message {
                    None => break Ending::ClosedByCharger,
                    Some(Err(e)) => break Ending::ProtocolError(close_code_for(&e), e.to_string()),
                    Some(Ok(message)) => message,
                };
                last_seen = Instant::now();
                match message {
                    AggregatedMessage::Text(text) => {
                        // Boxed: the handlers' futures (database calls) are large, and
                        // unboxed they would be part of this task for the connection's
                        // whole life; boxed they take memory only while a frame is served.
                        let served = Box::pin(on_text(&ctx, &handle, &mut session_out, &text, dead_after)).await;
                        drop(text);
                        if !served {
                            break Ending::NotReading;
                        }
                        if last_touch.elapsed() >= LAST_MESSAGE_WRITE_EVERY {
                            last_touch = Instant::now();
                            // Boxed for the same reason as `on_text`.
                            if let Err(e) = Box::pin(chargestations::touch_last_message(&shared.db, &station.id)).await {
                                tracing::warn!(identity = %station.endpoint, error = %e, "could not record lastMessageAt");
                            }
                        }
                    }
                    AggregatedMessage::Binary(bytes) => {
                        tracing::warn!(identity = %station.endpoint, len = bytes.len(), "binary frame dropped: OCPP-J uses text frames");
                    }
                    AggregatedMessage::Ping(bytes) => {
                        let _ = session_out.pong(&bytes).await;
                    }
                    AggregatedMessage::Pong(_) => {}
                    AggregatedMessage::Close(_) => break Ending::ClosedByCharger,
                }
            }
            _ = ping.tick() => {
                if last_seen.elapsed() >= dead_after {
                    break Ending::MissedPongs;
                }
                if session_out.ping(b"").await.is_err() {
                    break Ending::ClosedByCharger;
                }
            }
        }
    };

    // Boxed: the clean-up's futures (the socket close, the database write) would
    // otherwise be part of this task for the connection's whole life.
    Box::pin(clean_up(
        &gateway, &station, generation, &handle, session, ending,
    ))
    .await;
}

/// After the connection ended: unregister, fail our waiting CALLs, close the socket
/// (bounded), and mark the station offline unless a newer connection took over.
async fn clean_up(
    gateway: &Gateway,
    station: &Station,
    generation: i64,
    handle: &SessionHandle,
    session: Session,
    ending: Ending,
) {
    let shared = &gateway.shared;
    match &ending {
        Ending::ClosedByCharger => {
            tracing::info!(identity = %station.endpoint, "charger closed the connection")
        }
        Ending::Replaced => {
            tracing::info!(identity = %station.endpoint, "connection replaced by a newer one")
        }
        Ending::Shutdown => {
            tracing::info!(identity = %station.endpoint, "closing connection for shutdown")
        }
        Ending::MissedPongs => {
            tracing::warn!(identity = %station.endpoint, "no answer to pings; marking offline")
        }
        Ending::NotReading => {
            tracing::warn!(identity = %station.endpoint, "charger stopped reading our answers; closing")
        }
        Ending::ProtocolError(_, e) => {
            tracing::warn!(identity = %station.endpoint, error = %e, "WebSocket protocol error; closing")
        }
    }
    let close_code = match ending {
        Ending::Shutdown => CloseCode::Restart,
        Ending::ProtocolError(code, _) => code,
        Ending::Replaced => CloseCode::Policy,
        _ => CloseCode::Normal,
    };
    gateway.registry.unregister(&station.id, generation);
    handle.fail_all_pending();
    shared.metrics.charger_disconnected();
    // Bounded: a charger that stopped reading leaves no room for the close frame.
    let _ = tokio::time::timeout(
        CLOSE_GRACE,
        session.close(Some(CloseReason::from(close_code))),
    )
    .await;
    // Committed together with the other connections, boots and disconnections waiting.
    match shared
        .group_commit
        .mark_disconnected(&station.id, generation, &shared.config.public_base_url)
        .await
    {
        Ok(true) => {
            let _ = gateway.events.send(GatewayEvent::Disconnected {
                station_id: station.id.clone(),
            });
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(identity = %station.endpoint, error = %e, "could not record the disconnection")
        }
    }
}

/// Sends a frame's text; `false` when it could not be handed to the socket within
/// `deadline` (the charger stopped reading), so the connection must end.
async fn send(
    session: &mut Session,
    identity: &str,
    message_id: &str,
    text: String,
    deadline: Duration,
) -> bool {
    tracing::debug!(identity, message_id, direction = "out", frame = %masked_text(&text), "ocpp frame");
    match tokio::time::timeout(deadline, session.text(text)).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => {
            tracing::debug!(identity, "could not send: connection closed");
            true
        }
        Err(_) => false,
    }
}

/// Handles one text frame; `false` when the connection must end (see [`send`]).
async fn on_text(
    ctx: &HandlerContext,
    handle: &SessionHandle,
    session: &mut Session,
    text: &str,
    send_deadline: Duration,
) -> bool {
    let identity = handle.identity.as_str();
    let shared = &ctx.shared;
    let station_id = handle.station_id.as_str();
    shared.metrics.frame_in();
    match Frame::parse(text) {
        Ok(Frame::Call(call)) => {
            tracing::debug!(identity, action = %call.action, message_id = %call.message_id, direction = "in", frame = %masked_text(text), "ocpp call");
            let started = Instant::now();
            shared.capture_frame(station_id, identity, Direction::In, text, None, None);
            let answer = match handlers::route(ctx, &call).await {
                Ok(payload) => Frame::CallResult(ocpp::frame::CallResult {
                    message_id: call.message_id.clone(),
                    payload,
                }),
                Err(error) => Frame::CallError(error),
            };
            let outcome = if matches!(answer, Frame::CallResult(_)) {
                "result"
            } else {
                "error"
            };
            // Unknown actions share one label: a charger must not grow the series set.
            let action_label = match &answer {
                Frame::CallError(e) if e.code == ocpp::ErrorCode::NotImplemented => "other",
                _ => call.action.as_str(),
            };
            ctx.shared.metrics.inbound(action_label, outcome);
            tracing::info!(
                identity,
                action = %call.action,
                message_id = %call.message_id,
                outcome,
                latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "served charger call"
            );
            let answer_text = answer.to_text();
            shared.capture_frame(
                station_id,
                identity,
                Direction::Out,
                &answer_text,
                Some(&call.action),
                Some(started.elapsed()),
            );
            return send(
                session,
                identity,
                &call.message_id,
                answer_text,
                send_deadline,
            )
            .await;
        }
        Ok(Frame::CallResult(result)) => {
            let pending = handle.take_pending(&result.message_id);
            capture_answer(ctx, handle, text, pending.as_ref());
            match pending {
                Some(waiter) => {
                    let _ = waiter.responder.send(Ok(result.payload));
                }
                None => {
                    tracing::warn!(identity, message_id = %result.message_id, "late or unknown CALLRESULT dropped")
                }
            }
        }
        Ok(Frame::CallError(error)) => {
            let pending = handle.take_pending(&error.message_id);
            capture_answer(ctx, handle, text, pending.as_ref());
            match pending {
                Some(waiter) => {
                    let _ = waiter.responder.send(Err(CallFailure::CallError {
                        code: error.code,
                        description: error.description,
                    }));
                }
                None => {
                    tracing::warn!(identity, message_id = %error.message_id, "late or unknown CALLERROR dropped")
                }
            }
        }
        Err(e) => {
            shared.capture_frame(station_id, identity, Direction::In, text, None, None);
            let answer: Option<CallError> = e.to_call_error();
            tracing::warn!(identity, error = %e, "malformed frame");
            shared.metrics.inbound("unknown", "malformed");
            if let Some(answer) = answer {
                let message_id = answer.message_id.clone();
                let answer_text = Frame::CallError(answer).to_text();
                if shared.config.message_log.is_enabled() {
                    shared.capture_frame(
                        station_id,
                        identity,
                        Direction::Out,
                        &answer_text,
                        malformed_call_action(text).as_deref(),
                        None,
                    );
                }
                return send(session, identity, &message_id, answer_text, send_deadline).await;
            }
        }
    }
    true
}

/// Captures a charger's answer to one of our CALLs, named by the CALL's action and
/// timed from it when the CALL is still awaited (a late answer has neither).
fn capture_answer(
    ctx: &HandlerContext,
    handle: &SessionHandle,
    text: &str,
    pending: Option<&PendingCall>,
) {
    ctx.shared.capture_frame(
        &handle.station_id,
        &handle.identity,
        Direction::In,
        text,
        pending.map(|p| p.action.as_str()),
        pending.map(|p| p.sent_at.elapsed()),
    );
}

/// The action of a malformed frame that still looks like a CALL (`[2, id, "Action", …]`),
/// so the message log can name the CALLERROR answering it.
fn malformed_call_action(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let items = value.as_array()?;
    (items.first()?.as_u64()? == 2)
        .then(|| items.get(2)?.as_str().map(str::to_owned))
        .flatten()
}
