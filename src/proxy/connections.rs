//! Downstream connections, before Pingora reads a byte: at most `max_connections` are served
//! at once (the next gets a 503 and a close), and a new connection's first request header
//! must be complete within the request deadline, so a slow client cannot hold a connection by
//! dribbling a header (Slowloris). Pingora's own read timeout applies per read, not per
//! header, which is why this wrapper exists. Later requests on a kept-alive connection are
//! bounded by Pingora's keep-alive timeout (60 s idle) and per-read timeout instead: Pingora
//! serves them inside one `process_new` call, out of this wrapper's sight.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, Ssl, Stream, UniqueID,
    UniqueIDType,
};
use pingora::server::ShutdownWatch;
use prometheus::IntGauge;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use super::coalesce::FlushHold;
use crate::metrics::Metrics;

const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";

/// Wraps a Pingora app (the proxy) with the connection cap and the header deadline.
pub struct Guarded<A> {
    pub app: Arc<A>,
    pub permits: Arc<Semaphore>,
    pub header_deadline: Duration,
    pub metrics: Arc<Metrics>,
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for Guarded<A> {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        if stream.as_any().is::<GuardedStream>() {
            // Already counted (should Pingora ever hand a kept-alive connection back).
            return self.app.process_new(stream, shutdown).await;
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            self.metrics.connection_refused();
            refuse(stream).await;
            return None;
        };
        let open = self.metrics.open_connections();
        let guarded = GuardedStream::new(stream, permit, self.header_deadline, open);
        self.app.process_new(Box::new(guarded), shutdown).await
    }

    async fn cleanup(&self) {
        self.app.cleanup().await
    }
}

async fn refuse(mut stream: Stream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(BUSY).await;
        let _ = stream.flush().await;
    })
    .await;
    Shutdown::shutdown(&mut *stream).await;
}

/// A connection holding one permit, watching for the end of each request header.
#[derive(Debug)]
pub struct GuardedStream {
    inner: Stream,
    _permit: OwnedSemaphorePermit,
    open: IntGauge,
    /// Running from the connection's start until its first header's blank line is seen.
    timer: Option<Pin<Box<Sleep>>>,
    /// The last three bytes seen, so a CRLFCRLF split across reads is found.
    tail: [u8; 3],
    /// Flushes held while a rewritten answer is written (see `coalesce`).
    hold: FlushHold,
}

impl GuardedStream {
    fn new(
        inner: Stream,
        permit: OwnedSemaphorePermit,
        deadline: Duration,
        open: IntGauge,
    ) -> Self {
        open.inc();
        GuardedStream {
            inner,
            _permit: permit,
            open,
            timer: Some(Box::pin(tokio::time::sleep(deadline))),
            tail: [0; 3],
            hold: FlushHold::default(),
        }
    }

    pub fn flush_hold(&self) -> &FlushHold {
        &self.hold
    }

    fn observe(&mut self, bytes: &[u8]) {
        if self.timer.is_none() || bytes.is_empty() {
            return;
        }
        let head = &bytes[..bytes.len().min(3)];
        let mut seam = [0u8; 6];
        seam[..3].copy_from_slice(&self.tail);
        seam[3..3 + head.len()].copy_from_slice(head);
        let blank_line = |w: &[u8]| w == b"\r\n\r\n";
        if seam[..3 + head.len()].windows(4).any(blank_line) || bytes.windows(4).any(blank_line) {
            self.timer = None;
        }
        for &b in &bytes[bytes.len().saturating_sub(3)..] {
            self.tail = [self.tail[1], self.tail[2], b];
        }
    }
}

impl Drop for GuardedStream {
    fn drop(&mut self) {
        self.open.dec();
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(timer) = this.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request header deadline passed",
                )));
            }
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.observe(&buf.filled()[before..]);
        }
        polled
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.hold.written(&buf[..n.min(buf.len())]);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.hold.flush_passes() {
            // What was written waits in the write buffer; a full buffer still writes through.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            // What was taken is the first `n` bytes across the slices.
            let mut left = n;
            for slice in bufs {
                let taken = left.min(slice.len());
                self.hold.written(&slice[..taken]);
                left -= taken;
                if left == 0 {
                    break;
                }
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for GuardedStream {
    async fn shutdown(&mut self) {
        Shutdown::shutdown(&mut *self.inner).await
    }
}

impl UniqueID for GuardedStream {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

/// The TLS session is the inner stream's: what was negotiated, and who the client certificate
/// says connected.
impl Ssl for GuardedStream {
    fn get_ssl(&self) -> Option<&pingora::protocols::tls::TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<pingora::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<pingora::protocols::ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for GuardedStream {
    fn get_timing_digest(&self) -> Vec<Option<pingora::protocols::TimingDigest>> {
        self.inner.get_timing_digest()
    }
}

impl GetProxyDigest for GuardedStream {
    fn get_proxy_digest(&self) -> Option<Arc<pingora::protocols::raw_connect::ProxyDigest>> {
        self.inner.get_proxy_digest()
    }
}

impl GetSocketDigest for GuardedStream {
    fn get_socket_digest(&self) -> Option<Arc<pingora::protocols::SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: pingora::protocols::SocketDigest) {
        self.inner.set_socket_digest(digest)
    }
}

#[async_trait]
impl Peek for GuardedStream {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}
