//! The connection loop: HTTP/1.1 on each accepted connection, with a header-read timeout
//! (which is also the idle timeout of a keep-alive connection: the wait for the next request's
//! headers), a cap on connections served at once, and a graceful shutdown.
//!
//! `axum::serve` sets no timer, so a client that sends half a header holds its connection
//! forever; hyper's own `header_read_timeout` closes it. The body timeout is the request
//! guard's ([`crate::guard`]), since hyper has none.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Longest the server waits, once asked to stop, for requests in flight to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish
/// (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send,
) {
    let max_connections = max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: beyond the cap, clients wait in the kernel's
        // listen queue rather than costing memory here.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopping = async move {
                let _ = stop.wait_for(|stopping| *stopping).await;
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopping => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    // Every connection holds a slot until it closes: taking them all back means all closed.
    let _ = tokio::time::timeout(
        SHUTDOWN_GRACE,
        slots.acquire_many(u32::try_from(max_connections).unwrap_or(u32::MAX)),
    )
    .await;
}
