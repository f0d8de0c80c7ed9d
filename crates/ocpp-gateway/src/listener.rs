//! The charger listener: accepts connections on the tokio runtime, speaks TLS when
//! configured (`wss`, security profiles 2 and 3), reads the WebSocket handshake
//! (`upgrade`) and hands each admitted charger to its connection task (`connection`).
//!
//! It is built for many mostly idle connections: one task per connection holding the
//! socket, tungstenite's buffers and the session, and nothing else (no HTTP framework
//! buffers or per-frame channels; docs/benchmarks.md has the figures).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;

use crate::connection;
use crate::upgrade::{self, Admitted, HeadError, Status, VerifiedClientCertificate};
use crate::Gateway;

/// How long a charger has for its TLS handshake, and then for its request head, before
/// the connection is dropped (a stalled handshake must not hold a socket).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a shutdown waits for the connections to close before it gives up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long accepting pauses after an accept error (typically: out of file
/// descriptors), so the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

impl Gateway {
    /// Serves chargers on `listener` (with TLS when `tls` is given) until the gateway's
    /// shutdown token is cancelled; then stops accepting and waits (at most five
    /// seconds) for the connections to close.
    pub async fn serve(&self, listener: TcpListener, tls: Option<Arc<rustls::ServerConfig>>) {
        let tls = tls.map(TlsAcceptor::from);
        let shutdown = self.shared.shutdown.clone();
        let connections = TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(accept(self.clone(), stream, peer, tls.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not accept a charger connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            }
        }
        drop(listener);
        connections.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = connections.len(),
                "charger connections still open after the shutdown grace"
            );
        }
    }
}

/// One accepted connection, from the TLS handshake to the end of the WebSocket.
async fn accept(gateway: Gateway, stream: TcpStream, peer: SocketAddr, tls: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    match tls {
        // Boxed: the handshake's state (the head being read, its timer) is freed once
        // the charger is admitted, instead of staying part of the connection's task.
        None => {
            if let Some((stream, admitted, early)) =
                Box::pin(handshake(&gateway, stream, peer, None)).await
            {
                connection::serve(&gateway, admitted, stream, early).await;
            }
        }
        // Boxed: a TLS connection's state is larger, and unboxed every plain
        // connection's task would reserve room for it.
        Some(acceptor) => Box::pin(accept_tls(&gateway, stream, peer, acceptor)).await,
    }
}

/// [`accept`] for a TLS listener: the TLS handshake, with the client certificate.
async fn accept_tls(gateway: &Gateway, stream: TcpStream, peer: SocketAddr, acceptor: TlsAcceptor) {
    match tokio::time::timeout(REQUEST_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => {
            let certificate = client_certificate(stream.get_ref().1);
            if let Some((stream, admitted, early)) =
                handshake(gateway, stream, peer, certificate).await
            {
                connection::serve(gateway, admitted, stream, early).await;
            }
        }
        Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
    }
}

/// The verified client certificate a charger presented, if it presented one (the TLS
/// layer has checked it against `CSMS_OCPP_TLS_CLIENT_CA`).
fn client_certificate(connection: &rustls::ServerConnection) -> Option<VerifiedClientCertificate> {
    let leaf = connection.peer_certificates()?.first()?;
    Some(VerifiedClientCertificate {
        common_name: common_name(leaf),
    })
}

/// The subject common name (CN) of a DER certificate.
pub fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

/// Reads and answers the handshake: the stream, the admitted charger and the bytes read
/// past the request head, or `None` when it was refused (the refusal is written).
async fn handshake<S>(
    gateway: &Gateway,
    mut stream: S,
    peer: SocketAddr,
    certificate: Option<VerifiedClientCertificate>,
) -> Option<(S, Admitted, Vec<u8>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let refusal = match tokio::time::timeout(REQUEST_TIMEOUT, upgrade::read_head(&mut stream)).await
    {
        Ok(Ok((head, early))) => {
            let admitted =
                upgrade::answer(gateway, &mut stream, &head, peer.ip(), certificate.as_ref()).await;
            return admitted.map(|admitted| (stream, admitted, early));
        }
        Ok(Err(HeadError::Closed)) => return None,
        Ok(Err(HeadError::Malformed)) => Status::BadRequest,
        Ok(Err(HeadError::TooLarge)) => Status::HeadTooLarge,
        Err(_) => {
            tracing::info!(%peer, "handshake timed out");
            Status::RequestTimeout
        }
    };
    upgrade::refuse(&mut stream, refusal).await;
    None
}
