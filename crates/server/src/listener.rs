//! The front door: accepts connections and serves HTTP/1.1 and WebSocket upgrades on them,
//! with limits a slow or hostile client cannot get around.
//!
//! - A request's headers must arrive within [`HEADER_TIMEOUT`] (a half-sent request is closed).
//! - At most [`ConnectionLimits::total`] connections are open at once, below the process's
//!   open-file limit so the store, outbound calls and `/healthz` always find a file descriptor;
//!   at most [`ConnectionLimits::per_address`] from one client address. A connection over
//!   either limit is closed as soon as it is accepted. A WebSocket counts for as long as it is
//!   open.
//! - `accept` failing for lack of file descriptors pauses accepting briefly instead of spinning.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// How long a client has to send a request's headers (the first, and each on a kept-alive
/// connection).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// File descriptors kept free for the store, outbound calls and logs.
const RESERVED_FILES: u64 = 256;
/// Connections at most, whatever the open-file limit.
const MAX_CONNECTIONS: usize = 100_000;

/// How many connections may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub total: usize,
    /// None: no limit per address (behind a proxy, where every connection comes from it).
    pub per_address: Option<usize>,
}

impl ConnectionLimits {
    /// The total from the process's open-file limit (raised to its hard limit first).
    pub fn from_open_files(per_address: Option<usize>) -> ConnectionLimits {
        let files = raise_open_files_limit();
        let total = files
            .map(|n| n.saturating_sub(RESERVED_FILES).max(16))
            .map_or(MAX_CONNECTIONS, |n| usize::try_from(n).unwrap_or(MAX_CONNECTIONS))
            .min(MAX_CONNECTIONS);
        ConnectionLimits { total, per_address }
    }
}

/// Raises the soft open-file limit to the hard one; returns the soft limit now in force.
fn raise_open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer, which
    // lives on this stack frame for the whole call.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

/// Open connections, in total and per client address.
struct Open {
    limits: ConnectionLimits,
    state: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; it leaves the count when dropped.
struct Admitted {
    open: Arc<Open>,
    ip: IpAddr,
}

impl Open {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_address) = &mut *state;
        if *total >= self.limits.total {
            return None;
        }
        let from_here = per_address.entry(ip).or_insert(0);
        if self.limits.per_address.is_some_and(|max| *from_here >= max) {
            if *from_here == 0 {
                per_address.remove(&ip);
            }
            return None;
        }
        *from_here += 1;
        *total += 1;
        Some(Admitted { open: self.clone(), ip })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut state = self.open.state.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_address) = &mut *state;
        *total = total.saturating_sub(1);
        if let Some(n) = per_address.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_address.remove(&self.ip);
            }
        }
    }
}

/// A connection's stream with its place in the count (kept by an upgraded WebSocket too).
struct Counted {
    stream: TcpStream,
    _admitted: Admitted,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves `app` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits) {
    let open = Arc::new(Open {
        limits,
        state: Mutex::new((0, HashMap::new())),
    });
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors (or another transient error): give the open
                // connections a moment to finish instead of failing in a loop.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(admitted) = open.admit(addr.ip()) else {
            crate::metrics::METRICS
                .refused_connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            drop(stream);
            continue;
        };
        // Small frames (a chat message, an inbox event) go out at once: with Nagle's algorithm
        // a frame written while the previous one awaits its (delayed) ACK waits up to 40 ms.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY could not be set");
        }
        let io = TokioIo::new(Counted {
            stream,
            _admitted: admitted,
        });
        let service = app.clone().map_request(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
            req
        });
        tokio::spawn(async move {
            // HTTP/1.1 only: its header timeout also covers a client that sends nothing, and a
            // TLS proxy in front speaks HTTP/1.1 to Baton.
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, TowerToHyperService::new(service))
                .with_upgrades()
                .await;
            if let Err(e) = served {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_address_and_in_total() {
        let open = Arc::new(Open {
            limits: ConnectionLimits {
                total: 3,
                per_address: Some(2),
            },
            state: Mutex::new((0, HashMap::new())),
        });
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = open.admit(a);
        let second = open.admit(a);
        assert!(first.is_some() && second.is_some());
        assert!(open.admit(a).is_none(), "a third from one address is refused");
        let other = open.admit(b);
        assert!(other.is_some());
        assert!(open.admit(b).is_none(), "the total is reached");
        drop(first);
        assert!(open.admit(a).is_some(), "a closed connection frees its place");
    }
}
