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
use crate::registry::{Registered, SessionHandle};
use crate::{CallFailure, Gateway, GatewayEvent};

/// How often at most `lastMessageAt` is written per connection.
const LAST_MESSAGE_WRITE_EVERY: Duration = Duration::from_secs(10);

pub(crate) fn spawn(
    gateway: Arc<Gateway>,
    station: Chargestation,
    generation: i64,
    session: Session,
    stream: AggregatedMessageStream,
) {
    // The message stream is tied to the worker's single-threaded runtime.
    actix_web::rt::spawn(run(gateway, station, generation, session, stream));
}

enum Ending {
    ClosedByCharger,
    Replaced,
    Shutdown,
    MissedPongs,
    ProtocolError(String),
}

async fn run(
    gateway: Arc<Gateway>,
    station: Chargestation,
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
    shared
        .metrics
        .connected
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
                    Some(Err(e)) => break Ending::ProtocolError(e.to_string()),
                    Some(Ok(message)) => message,
                };
                last_seen = Instant::now();
                match message {
                    AggregatedMessage::Text(text) => {
                        on_text(&ctx, &handle, &mut session_out, &text).await;
                        if last_touch.elapsed() >= LAST_MESSAGE_WRITE_EVERY {
                            last_touch = Instant::now();
                            if let Err(e) = chargestations::touch_last_message(&shared.db, &station.id).await {
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
        Ending::ProtocolError(e) => {
            tracing::warn!(identity = %station.endpoint, error = %e, "WebSocket protocol error; closing")
        }
    }
    let close_code = match ending {
        Ending::Shutdown => CloseCode::Restart,
        Ending::ProtocolError(_) => CloseCode::Protocol,
        Ending::Replaced => CloseCode::Policy,
        _ => CloseCode::Normal,
    };
    gateway.registry.unregister(&station.id, generation);
    handle.fail_all_pending();
    shared
        .metrics
        .connected
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    let _ = session.close(Some(CloseReason::from(close_code))).await;
    match chargestations::mark_disconnected(
        &shared.db,
        &station.id,
        generation,
        &shared.config.public_base_url,
    )
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

async fn send(session: &mut Session, identity: &str, frame: &Frame) {
    let text = frame.to_text();
    tracing::debug!(identity, message_id = frame.message_id(), direction = "out", frame = %text, "ocpp frame");
    if session.text(text).await.is_err() {
        tracing::debug!(identity, "could not send: connection closed");
    }
}

async fn on_text(ctx: &HandlerContext, handle: &SessionHandle, session: &mut Session, text: &str) {
    let identity = handle.identity.as_str();
    ctx.shared
        .metrics
        .frames_in
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match Frame::parse(text) {
        Ok(Frame::Call(call)) => {
            tracing::debug!(identity, action = %call.action, message_id = %call.message_id, direction = "in", frame = %text, "ocpp call");
            let started = Instant::now();
            let answer = match handlers::route(ctx, &call).await {
                Ok(payload) => Frame::CallResult(ocpp::frame::CallResult {
                    message_id: call.message_id.clone(),
                    payload,
                }),
                Err(error) => Frame::CallError(error),
            };
            tracing::info!(
                identity,
                action = %call.action,
                message_id = %call.message_id,
                outcome = if matches!(answer, Frame::CallResult(_)) { "result" } else { "error" },
                latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "served charger call"
            );
            send(session, identity, &answer).await;
        }
        Ok(Frame::CallResult(result)) => match handle.take_pending(&result.message_id) {
            Some(waiter) => {
                let _ = waiter.send(Ok(result.payload));
            }
            None => {
                tracing::warn!(identity, message_id = %result.message_id, "late or unknown CALLRESULT dropped")
            }
        },
        Ok(Frame::CallError(error)) => match handle.take_pending(&error.message_id) {
            Some(waiter) => {
                let _ = waiter.send(Err(CallFailure::CallError {
                    code: error.code,
                    description: error.description,
                }));
            }
            None => {
                tracing::warn!(identity, message_id = %error.message_id, "late or unknown CALLERROR dropped")
            }
        },
        Err(e) => {
            let answer: Option<CallError> = e.to_call_error();
            tracing::warn!(identity, error = %e, "malformed frame");
            if let Some(answer) = answer {
                send(session, identity, &Frame::CallError(answer)).await;
            }
        }
    }
}
