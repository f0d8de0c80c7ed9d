//! One task per charger connection: reads frames, serves the charger's CALLs through
//! the handlers, hands answers to our waiting CALLs, pings, and cleans up — touching
//! only its own generation's state, so a replaced connection never harms its successor.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use model::chargestations;
use ocpp::frame::{CallError, Frame};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::handlers::{self, HandlerContext};
use crate::message_log::masked_text;
use crate::registry::{PendingCall, Registered, Session, SessionHandle};
use crate::upgrade::Admitted;
use crate::{CallFailure, Gateway, GatewayEvent};
use model::message_log::Direction;

/// How often at most `lastMessageAt` is written per connection.
const LAST_MESSAGE_WRITE_EVERY: Duration = Duration::from_secs(10);
/// How long the close frame may wait for room on a connection the charger stopped reading.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The WebSocket settings of a charger connection: messages (continuations aggregated)
/// and frames up to `max_frame_bytes`; unmasked client frames are a protocol error.
pub(crate) fn websocket_config(max_frame_bytes: usize) -> WebSocketConfig {
    WebSocketConfig {
        max_message_size: Some(max_frame_bytes),
        max_frame_size: Some(max_frame_bytes),
        ..WebSocketConfig::default()
    }
}

/// Serves an admitted charger's WebSocket until it ends. `early` holds the bytes read
/// past the handshake's request head.
pub(crate) async fn serve<S>(gateway: &Gateway, admitted: Admitted, stream: S, early: Vec<u8>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Only what the connection needs lives on with it, not the whole record (whose
    // configuration snapshot and boot info can be large).
    let Admitted {
        station,
        generation,
    } = admitted;
    let session = Session::new(
        station.id,
        station.endpoint,
        generation,
        gateway.shared.shutdown.child_token(),
    );
    let config = websocket_config(gateway.shared.config.max_frame_bytes);
    let ws = WebSocketStream::from_partially_read(stream, early, Role::Server, Some(config)).await;
    run(gateway, session, ws).await;
}

enum Ending {
    ClosedByCharger,
    Replaced,
    Shutdown,
    MissedPongs,
    /// A frame could not be written for `missed_pongs` ping intervals: the charger
    /// keeps sending but stopped reading.
    NotReading,
    ProtocolError(CloseCode, String),
}

/// How a read error ends the connection (RFC 6455 §7.4.1): 1009 for a frame or message
/// over `max_frame_bytes`, 1007 for a text message that is not UTF-8, 1002 for any other
/// protocol violation; a connection that failed or closed under us gets no close frame.
fn ending_for(error: WsError) -> Ending {
    let code = match &error {
        WsError::Capacity(CapacityError::MessageTooLong { .. } | CapacityError::TooManyHeaders) => {
            CloseCode::Size
        }
        WsError::Utf8 => CloseCode::Invalid,
        WsError::Protocol(
            tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        )
        | WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Io(_) => return Ending::ClosedByCharger,
        _ => CloseCode::Protocol,
    };
    Ending::ProtocolError(code, error.to_string())
}

async fn run<S>(gateway: &Gateway, session: SessionHandle, mut ws: WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = &gateway.shared;
    match gateway.registry.register(Arc::clone(&session)) {
        Registered::Current { replaced } => {
            if let Some(old) = replaced {
                tracing::info!(identity = %session.identity, "a new connection replaces the old one");
                old.close.cancel();
            }
        }
        Registered::Stale => {
            tracing::info!(identity = %session.identity, "a newer connection won the race; closing this one");
            close(&mut ws, CloseCode::Policy).await;
            return;
        }
    }
    shared.metrics.charger_connected();
    tracing::info!(identity = %session.identity, generation = session.generation, "charger connected");
    let _ = gateway.events.send(GatewayEvent::Connected {
        station_id: session.station_id.clone(),
    });
    let ctx = HandlerContext {
        shared: shared.clone(),
        station_id: session.station_id.clone(),
        identity: session.identity.clone(),
        events: gateway.events.clone(),
    };

    let ping_every = shared.config.ping_interval;
    let dead_after = ping_every * shared.config.missed_pongs.max(1);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut last_seen = Instant::now();
    let mut last_touch = Instant::now();

    let ending = loop {
        tokio::select! {
            () = session.close.cancelled() => {
                break if shared.shutdown.is_cancelled() { Ending::Shutdown } else { Ending::Replaced };
            }
            () = session.outbox_ready() => {
                if let Some(text) = session.take_outbox() {
                    if !send(&mut ws, &session.identity, text, dead_after).await {
                        break Ending::NotReading;
                    }
                }
            }
            message = ws.next() => {
                let message = match message {
                    None => break Ending::ClosedByCharger,
                    Some(Err(e)) => break ending_for(e),
                    Some(Ok(message)) => message,
                };
                last_seen = Instant::now();
                match message {
                    Message::Text(text) => {
                        // Boxed: the handlers' futures (database calls) are large, and
                        // unboxed they would be part of this task for the connection's
                        // whole life; boxed they take memory only while a frame is served.
                        let served = Box::pin(on_text(&ctx, &session, &mut ws, &text, dead_after)).await;
                        drop(text);
                        if !served {
                            break Ending::NotReading;
                        }
                        if last_touch.elapsed() >= LAST_MESSAGE_WRITE_EVERY {
                            last_touch = Instant::now();
                            // Boxed for the same reason as `on_text`.
                            if let Err(e) = Box::pin(chargestations::touch_last_message(&shared.db, &session.station_id)).await {
                                tracing::warn!(identity = %session.identity, error = %e, "could not record lastMessageAt");
                            }
                        }
                    }
                    Message::Binary(bytes) => {
                        tracing::warn!(identity = %session.identity, len = bytes.len(), "binary frame dropped: OCPP-J uses text frames");
                    }
                    // Pings are answered by tungstenite itself, on its next read or write.
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    Message::Close(_) => break Ending::ClosedByCharger,
                }
            }
            _ = ping.tick() => {
                if last_seen.elapsed() >= dead_after {
                    break Ending::MissedPongs;
                }
                if !write(&mut ws, Message::Ping(Vec::new()), dead_after).await {
                    break Ending::NotReading;
                }
            }
        }
    };

    // Boxed: the clean-up's futures (the socket close, the database write) would
    // otherwise be part of this task for the connection's whole life.
    Box::pin(clean_up(gateway, &session, ws, ending)).await;
}

/// Sends a close frame with `code`, waiting at most [`CLOSE_GRACE`] for room to write it.
async fn close<S>(ws: &mut WebSocketStream<S>, code: CloseCode)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: "".into(),
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, ws.close(Some(frame))).await;
}

/// After the connection ended: unregister, fail our waiting CALLs, close the socket
/// (bounded), and mark the station offline unless a newer connection took over.
async fn clean_up<S>(
    gateway: &Gateway,
    session: &Session,
    mut ws: WebSocketStream<S>,
    ending: Ending,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = &gateway.shared;
    let identity = session.identity.as_str();
    match &ending {
        Ending::ClosedByCharger => {
            tracing::info!(identity, "charger closed the connection")
        }
        Ending::Replaced => {
            tracing::info!(identity, "connection replaced by a newer one")
        }
        Ending::Shutdown => {
            tracing::info!(identity, "closing connection for shutdown")
        }
        Ending::MissedPongs => {
            tracing::warn!(identity, "no answer to pings; marking offline")
        }
        Ending::NotReading => {
            tracing::warn!(identity, "charger stopped reading; closing")
        }
        Ending::ProtocolError(_, e) => {
            tracing::warn!(identity, error = %e, "WebSocket protocol error; closing")
        }
    }
    let close_code = match ending {
        Ending::Shutdown => CloseCode::Restart,
        Ending::ProtocolError(code, _) => code,
        Ending::Replaced => CloseCode::Policy,
        _ => CloseCode::Normal,
    };
    gateway
        .registry
        .unregister(&session.station_id, session.generation);
    session.fail_all_pending();
    shared.metrics.charger_disconnected();
    // Bounded: a charger that stopped reading leaves no room for the close frame.
    close(&mut ws, close_code).await;
    drop(ws);
    // Committed together with the other connections, boots and disconnections waiting.
    match shared
        .group_commit
        .mark_disconnected(
            &session.station_id,
            session.generation,
            &shared.config.public_base_url,
        )
        .await
    {
        Ok(true) => {
            let _ = gateway.events.send(GatewayEvent::Disconnected {
                station_id: session.station_id.clone(),
            });
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(identity, error = %e, "could not record the disconnection")
        }
    }
}

/// Writes one message; `false` when it could not be written within `deadline` (the
/// charger stopped reading), so the connection must end. A write to a connection that
/// already failed counts as written: the next read ends the connection.
async fn write<S>(ws: &mut WebSocketStream<S>, message: Message, deadline: Duration) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(deadline, ws.send(message)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "could not send: connection closed");
            true
        }
        Err(_) => false,
    }
}

/// Sends a frame's text (see [`write`]).
async fn send<S>(
    ws: &mut WebSocketStream<S>,
    identity: &str,
    text: String,
    deadline: Duration,
) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tracing::debug!(identity, direction = "out", frame = %masked_text(&text), "ocpp frame");
    write(ws, Message::Text(text), deadline).await
}

/// Handles one text frame; `false` when the connection must end (see [`send`]).
async fn on_text<S>(
    ctx: &HandlerContext,
    handle: &Session,
    ws: &mut WebSocketStream<S>,
    text: &str,
    send_deadline: Duration,
) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
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
            return send(ws, identity, answer_text, send_deadline).await;
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
                return send(ws, identity, answer_text, send_deadline).await;
            }
        }
    }
    true
}

/// Captures a charger's answer to one of our CALLs, named by the CALL's action and
/// timed from it when the CALL is still awaited (a late answer has neither).
fn capture_answer(
    ctx: &HandlerContext,
    handle: &Session,
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
