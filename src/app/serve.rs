//! The accept loop: hyper-util's server (HTTP/1 and HTTP/2 on one port, with upgrades) with a
//! timer, so a request's headers must arrive within `HEADER_READ_TIMEOUT`, a connection with no
//! request for `KEEP_ALIVE_TIMEOUT` is closed, HTTP/2 peers are pinged, and at most
//! `MAX_CONNECTIONS` are open at once (further ones wait in the listen queue; open ones keep
//! being served).
//!
//! On `stop`, the listener closes, every connection is asked to finish (HTTP/1 closes after the
//! response in flight, HTTP/2 sends GOAWAY), and whatever is still open when `grace` has passed
//! (a half-sent request, a slow upload) is dropped.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::connect_info::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::ConnectionLimits;

/// What the accept loop serves: the router with its request mapping, cloned per connection.
pub(super) trait App:
    tower::Service<
        Request<axum::body::Body>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S> App for S where
    S: tower::Service<
            Request<axum::body::Body>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// Files kept for what is not a client connection (the database's, the LISTEN connection, log
/// files, the metrics listener), beside the database pool itself.
const RESERVED_FILES: u64 = 64;
/// The cap when the open-file limit is unlimited or very large.
const MOST_CONNECTIONS: u64 = 65_536;
/// The most an HTTP/1 connection buffers (its read buffer, and the response bytes queued for
/// writing). hyper's default (~400 KiB) is reached by every connection that uploads a large
/// body and is kept while the connection lives: 200 uploading clients then hold 80 MB in idle
/// buffers. 64 KiB still holds any request's headers (the whole head must fit).
const HTTP1_MAX_BUF_SIZE: usize = 64 * 1024;
/// The cap when nobody computed one (`connection_cap` always does for `app::run`).
const DEFAULT_CAP: usize = 900;

/// The connection cap: `MAX_CONNECTIONS` when set; otherwise what the open-file limit leaves,
/// once its soft value is raised to the hard one (as servers do at start), after the database
/// connections and `RESERVED_FILES`. So a crowd of idle sockets is held (until
/// `HEADER_READ_TIMEOUT` closes them) without making real clients wait, and accepting never
/// runs out of descriptors.
pub(super) fn connection_cap(configured: Option<usize>, database_connections: u32) -> usize {
    if let Some(n) = configured {
        return n;
    }
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the open-file limit: assuming 1024");
        1024
    });
    let room = files.saturating_sub(u64::from(database_connections) + RESERVED_FILES);
    room.clamp(16, MOST_CONNECTIONS) as usize
}

/// Serves `app` on `listener` until `stop`, then drains for at most `grace`.
pub(super) async fn serve(
    listener: TcpListener,
    app: impl App,
    limits: &ConnectionLimits,
    stop: CancellationToken,
    grace: Duration,
) {
    let builder = Arc::new(builder(limits));
    let open = Arc::new(Semaphore::new(
        limits.max_connections.unwrap_or(DEFAULT_CAP),
    ));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // A permit first: at the cap, new connections wait in the kernel's listen queue.
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait for some to close.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(connection(
            builder.clone(),
            stream,
            peer,
            app.clone(),
            permit,
            (limits.header_read_timeout, limits.keep_alive_timeout),
            stop.clone(),
        ));
    }
    drop(listener);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown grace over: closing the connections still open"
        );
        connections.shutdown().await;
    }
}

fn builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(HTTP1_MAX_BUF_SIZE)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.http2_keep_alive_interval)
        .keep_alive_timeout(limits.http2_keep_alive_interval);
    builder
}

/// One connection, until it closes, goes idle for `keep_alive` (no request in flight and none
/// for that long; HTTP/2 PINGs do not count), or `stop` asks it to finish. A socket that never
/// sends a byte is closed after `header_read` (hyper's own header timeout starts only once the
/// first bytes told HTTP/1 from HTTP/2).
async fn connection(
    builder: Arc<auto::Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    app: impl App,
    permit: OwnedSemaphorePermit,
    (header_read, keep_alive): (Duration, Duration),
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity {
        started: Instant::now(),
        in_flight: AtomicUsize::new(0),
        last_done: AtomicU64::new(0),
        read_any: AtomicBool::new(false),
    });
    // The permit lives with the socket: an upgraded WebSocket keeps holding it.
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
        _permit: permit,
    });
    let requests = activity.clone();
    let service = tower::service_fn(move |req: Request<Incoming>| {
        let in_flight = InFlight::start(requests.clone());
        let mut req = req.map(axum::body::Body::new);
        // The peer address keys login throttling (`ConnectInfo`, as axum's own server gives it).
        req.extensions_mut().insert(ConnectInfo(peer));
        let answer = tower::ServiceExt::oneshot(app.clone(), req);
        async move {
            let resp = answer.await?;
            // In flight until hyper has sent (and dropped) the whole body.
            Ok::<_, std::convert::Infallible>(resp.map(|body| {
                axum::body::Body::new(Guarded {
                    body,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let conn = builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
    tokio::pin!(conn);
    let period = (header_read.min(keep_alive) / 4).max(Duration::from_millis(50));
    let mut idle_check = tokio::time::interval(period);
    let mut finishing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            _ = stop.cancelled(), if !finishing => {
                conn.as_mut().graceful_shutdown();
                finishing = true;
            }
            _ = idle_check.tick(), if !finishing => {
                if activity.idle_too_long(header_read, keep_alive) {
                    // Closes an idle HTTP/1 connection; HTTP/2 sends GOAWAY.
                    conn.as_mut().graceful_shutdown();
                    finishing = true;
                }
            }
        }
    }
}

/// What a connection has done, for the idle check.
struct Activity {
    started: Instant,
    /// Requests whose response has not been sent whole yet.
    in_flight: AtomicUsize,
    /// When the last response was sent, in milliseconds after `started`, plus one (0: none).
    last_done: AtomicU64,
    /// Whether the peer has sent a byte.
    read_any: AtomicBool,
}

impl Activity {
    fn idle_too_long(&self, header_read: Duration, keep_alive: Duration) -> bool {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return false;
        }
        let now = self.started.elapsed();
        match self.last_done.load(Ordering::Acquire) {
            0 if !self.read_any.load(Ordering::Relaxed) => now >= header_read,
            0 => now >= keep_alive,
            ms => now.saturating_sub(Duration::from_millis(ms - 1)) >= keep_alive,
        }
    }
}

/// One request in flight, from the call of the service until its response body is dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = self.0.started.elapsed().as_millis() as u64 + 1;
        self.0.last_done.store(ms, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight while it lives.
struct Guarded {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting whether a byte ever arrived, and holding its connection permit.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut me.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            me.activity.read_any.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
