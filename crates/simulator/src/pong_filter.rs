//! A byte-stream wrapper that can silently drop the WebSocket pong frames we send.
//!
//! tungstenite answers every ping automatically while reading, and offers no switch to
//! turn that off. To simulate a charger whose pongs never arrive (so the server's
//! missed-pong logic fires) while still reading everything the server sends (CALLs,
//! pings to count, a close), the TCP stream is wrapped: once the handshake is done
//! ([`FilterSwitches::framing`] set), outgoing bytes are scanned frame by frame
//! (client frames are small-header, masked, never interleaved at byte level) and pong
//! frames (opcode 0xA) are discarded while [`FilterSwitches::drop_pongs`] is set.
//!
//! Reading is passed through untouched. This module knows nothing of OCPP.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const PONG_OPCODE: u8 = 0xA;

/// Flags shared between the wrapper and its owner.
#[derive(Clone, Debug, Default)]
pub(crate) struct FilterSwitches {
    /// Set once the HTTP handshake is finished: from then on bytes are WebSocket frames.
    pub framing: Arc<AtomicBool>,
    /// Drop outgoing pong frames while set.
    pub drop_pongs: Arc<AtomicBool>,
}

/// Where the scanner is within the outgoing frame sequence.
#[derive(Debug)]
enum Scan {
    /// Collecting a frame header (at most 14 bytes).
    Header { buf: [u8; 14], len: usize },
    /// Inside a payload of which `remaining` bytes are still to come.
    Payload { remaining: u64, keep: bool },
}

impl Default for Scan {
    fn default() -> Self {
        Scan::Header {
            buf: [0; 14],
            len: 0,
        }
    }
}

/// Splits outgoing bytes into frames and keeps all but the dropped pongs.
#[derive(Debug, Default)]
pub(crate) struct FrameScanner {
    scan: Scan,
}

/// The header length implied by the first two bytes of a frame.
fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    2 + ext + mask
}

fn payload_len(header: &[u8]) -> u64 {
    match header[1] & 0x7f {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&header[2..10]);
            u64::from_be_bytes(bytes)
        }
        n => u64::from(n),
    }
}

impl FrameScanner {
    /// Feeds `input`, appending the bytes to keep to `out`.
    pub(crate) fn feed(&mut self, mut input: &[u8], drop_pongs: bool, out: &mut Vec<u8>) {
        while !input.is_empty() {
            match &mut self.scan {
                Scan::Header { buf, len } => {
                    let needed = if *len < 2 { 2 } else { header_len(buf[1]) };
                    let take = (needed - *len).min(input.len());
                    buf[*len..*len + take].copy_from_slice(&input[..take]);
                    *len += take;
                    input = &input[take..];
                    if *len < 2 || *len < header_len(buf[1]) {
                        continue;
                    }
                    let header = &buf[..*len];
                    let keep = !(drop_pongs && header[0] & 0x0f == PONG_OPCODE);
                    if keep {
                        out.extend_from_slice(header);
                    }
                    let remaining = payload_len(header);
                    self.scan = if remaining == 0 {
                        Scan::default()
                    } else {
                        Scan::Payload { remaining, keep }
                    };
                }
                Scan::Payload { remaining, keep } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    if *keep {
                        out.extend_from_slice(&input[..take]);
                    }
                    *remaining -= take as u64;
                    input = &input[take..];
                    if *remaining == 0 {
                        self.scan = Scan::default();
                    }
                }
            }
        }
    }
}

/// The wrapped stream.
#[derive(Debug)]
pub(crate) struct PongFilter<S> {
    inner: S,
    switches: FilterSwitches,
    scanner: FrameScanner,
    /// Bytes accepted from the writer but not yet handed to `inner`.
    pending: Vec<u8>,
}

impl<S> PongFilter<S> {
    pub(crate) fn new(inner: S, switches: FilterSwitches) -> Self {
        PongFilter {
            inner,
            switches,
            scanner: FrameScanner::default(),
            pending: Vec::new(),
        }
    }
}

impl<S: AsyncWrite + Unpin> PongFilter<S> {
    /// Writes `pending` to the inner stream until it is empty.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PongFilter<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PongFilter<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if !this.switches.framing.load(Ordering::SeqCst) {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        let drop_pongs = this.switches.drop_pongs.load(Ordering::SeqCst);
        this.scanner.feed(buf, drop_pongs, &mut this.pending);
        // Try to pass the bytes on now; whatever stays is written by the next
        // write or flush (tungstenite always flushes after writing).
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A masked client frame with `opcode` and `payload` (mask key fixed; payload not
    /// actually masked, which does not matter to the scanner).
    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= usize::from(u16::MAX) => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend_from_slice(payload);
        out
    }

    fn run(stream: &[u8], chunk: usize, drop_pongs: bool) -> Vec<u8> {
        let mut scanner = FrameScanner::default();
        let mut out = Vec::new();
        for piece in stream.chunks(chunk) {
            scanner.feed(piece, drop_pongs, &mut out);
        }
        out
    }

    #[test]
    fn pongs_are_dropped_at_any_chunk_boundary_and_other_frames_kept() {
        let text = frame(0x1, b"[2,\"1\",\"Heartbeat\",{}]");
        let pong = frame(PONG_OPCODE, b"ping-data");
        let empty_pong = frame(PONG_OPCODE, b"");
        let big = frame(0x2, &vec![7u8; 70_000]);
        let medium = frame(0x1, &vec![b'x'; 300]);
        let mut stream = Vec::new();
        for part in [&text, &pong, &big, &empty_pong, &medium, &pong, &text] {
            stream.extend_from_slice(part);
        }
        let mut expected = Vec::new();
        for part in [&text, &big, &medium, &text] {
            expected.extend_from_slice(part);
        }
        for chunk in [1, 2, 3, 7, 13, 100, 4096, stream.len()] {
            assert_eq!(run(&stream, chunk, true), expected, "chunk {chunk}");
            assert_eq!(run(&stream, chunk, false), stream, "chunk {chunk}");
        }
    }
}
