//! A real HTTP upstream on 127.0.0.1 (axum), told how to answer, stopped and restarted on its
//! port: what an outbound client meets when a service fails. (Declared with `#[path]` by the
//! tests that use it, so other test binaries do not build axum's server.)
#![allow(dead_code)] // each test binary uses some of it

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A client's timeout against an upstream: how long a hanging one is waited for.
pub fn client_timeout() -> Duration {
    crate::common::scaled_for_valgrind(Duration::from_millis(300))
}

/// How the upstream answers every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// `200` with the body `"{path} v{version}"`.
    Ok = 0,
    /// `500`.
    ServerError = 1,
    /// `404`.
    NotFound = 2,
    /// No answer until the upstream stops (a client timeout must end the wait).
    Hang = 3,
}

#[derive(Clone)]
struct Shared {
    mode: Arc<AtomicU8>,
    /// Bumped by tests to tell one good answer from a later one.
    version: Arc<AtomicU64>,
    hits: Arc<AtomicU64>,
    stopping: watch::Receiver<bool>,
}

/// A running upstream. Stopped when dropped (its task aborted), or with [`stop`](Self::stop).
pub struct Upstream {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    version: Arc<AtomicU64>,
    hits: Arc<AtomicU64>,
    running: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl Upstream {
    /// An upstream on a free port of 127.0.0.1, answering [`Mode::Ok`].
    pub async fn start() -> Upstream {
        let mut upstream = Upstream {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            mode: Arc::new(AtomicU8::new(Mode::Ok as u8)),
            version: Arc::new(AtomicU64::new(1)),
            hits: Arc::new(AtomicU64::new(0)),
            running: None,
        };
        upstream.restart().await;
        upstream
    }

    /// Starts serving again, on the same port once it has one.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "the upstream is running");
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("bind {}: {e}", self.addr));
        self.addr = listener.local_addr().expect("a bound address");
        let (stop, stopping) = watch::channel(false);
        let shared = Shared {
            mode: self.mode.clone(),
            version: self.version.clone(),
            hits: self.hits.clone(),
            stopping,
        };
        let mut signal = shared.stopping.clone();
        let app = Router::new().fallback(answer).with_state(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                })
                .await
                .expect("the upstream serves");
        });
        self.running = Some((stop, task));
    }

    /// Stops serving: closes the listener and every connection (hanging requests end too), so
    /// the next connection is refused. Bounded: gives up waiting after 5 s and aborts.
    pub async fn stop(&mut self) {
        if let Some((stop, mut task)) = self.running.take() {
            let _ = stop.send(true);
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Changes the good answers' body from `v1` to `v{version}`.
    pub fn set_version(&self, version: u64) {
        self.version.store(version, Ordering::SeqCst);
    }

    /// Requests that reached the upstream.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(true);
            task.abort();
        }
    }
}

async fn answer(State(shared): State<Shared>, uri: axum::http::Uri) -> axum::response::Response {
    shared.hits.fetch_add(1, Ordering::SeqCst);
    match shared.mode.load(Ordering::SeqCst) {
        0 => {
            let version = shared.version.load(Ordering::SeqCst);
            (StatusCode::OK, format!("{} v{version}", uri.path())).into_response()
        }
        1 => (StatusCode::INTERNAL_SERVER_ERROR, "upstream failed").into_response(),
        2 => (StatusCode::NOT_FOUND, "no such thing").into_response(),
        _ => {
            // Hangs until the upstream stops, then answers what nobody waits for any more.
            let mut stopping = shared.stopping.clone();
            let _ = stopping.wait_for(|stop| *stop).await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
