//! The outage benchmark: `examples/database_service` on a real PostgreSQL server, under load
//! from a small tokio client on loopback, with the server stopped mid-run and started again.
//! Two services run side by side against the same server, one with the breaker and one with
//! it disabled (`disable()`), so both see the same outage.
//!
//! ```sh
//! cargo bench --bench outage
//! ```
//!
//! Per phase (healthy, outage, after) and per service: answered requests per second (any
//! HTTP answer), successful ones, and p50/p99 latency; then how long after the database came
//! back each service answered 200 again. The settings are the defaults scaled down so a run
//! takes about a minute: `POOL_TIMEOUT` and `DB_STATEMENT_TIMEOUT` 2 s, `recovery_timeout`
//! 5 s, `failure_threshold` 5, `POOL_SIZE` 10; 32 keep-alive connections per service.

#[allow(dead_code)]
#[path = "../examples/database_service/db.rs"]
mod db;
#[allow(dead_code)]
#[path = "../tests/common/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "../examples/database_service/routes.rs"]
mod routes;
#[allow(dead_code)]
#[path = "../examples/database_service/settings.rs"]
mod settings;

use circuit_core::{Config, Registry};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;
const TIMEOUT: Duration = Duration::from_secs(2);
const RECOVERY: Duration = Duration::from_secs(5);
const HEALTHY: Duration = Duration::from_secs(10);
const OUTAGE: Duration = Duration::from_secs(15);
const AFTER: Duration = Duration::from_secs(15);
const USERS: i64 = 100;

/// One answered request: when it was sent (since the start), how long it took, its status.
#[derive(Clone, Copy)]
struct Sample {
    sent: Duration,
    took: Duration,
    status: u16,
}

async fn start_service(url: &str, with_breaker: bool) -> SocketAddr {
    let mut settings = settings::Settings::from_vars([("DATABASE_URL".into(), url.into())])
        .expect("the defaults are valid");
    settings.pool_timeout = TIMEOUT;
    settings.statement_timeout = TIMEOUT;
    let config = Config::builder()
        .failure_threshold(5)
        .recovery_timeout(RECOVERY)
        .build()
        .unwrap();
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let breaker = registry.get_or_create(settings::BREAKER, config);
    if !with_breaker {
        breaker.disable();
    }
    let db = db::Database::connect_lazy(&settings, breaker).unwrap();
    let app = routes::router(routes::AppState {
        db,
        registry,
        admin_token: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// One keep-alive connection sending `GET /users/{id}` until `end`, reconnecting if the
/// connection breaks.
async fn worker(addr: SocketAddr, start: Instant, end: Instant, seed: i64) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut id = seed;
    'connect: while Instant::now() < end {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            continue;
        };
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            continue;
        };
        tokio::spawn(conn);
        while Instant::now() < end {
            id = id % USERS + 1;
            let request = Request::get(format!("/users/{id}"))
                .header("host", "bench")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let sent = Instant::now();
            let Ok(response) = sender.send_request(request).await else {
                continue 'connect;
            };
            let status = response.status().as_u16();
            if response.into_body().collect().await.is_err() {
                continue 'connect;
            }
            samples.push(Sample {
                sent: sent - start,
                took: sent.elapsed(),
                status,
            });
        }
    }
    samples
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn report_row(mode: &str, phase: &str, samples: &[Sample], from: Duration, to: Duration) {
    let in_phase: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.sent >= from && s.sent < to)
        .collect();
    let secs = (to - from).as_secs_f64();
    let mut latencies: Vec<Duration> = in_phase.iter().map(|s| s.took).collect();
    latencies.sort();
    let ok = in_phase.iter().filter(|s| s.status == 200).count();
    println!(
        "| {mode} | {phase} | {:.0} | {:.0} | {} | {} |",
        in_phase.len() as f64 / secs,
        ok as f64 / secs,
        fmt_ms(percentile(&latencies, 50.0)),
        fmt_ms(percentile(&latencies, 99.0)),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = postgres::Postgres::start();
    runtime.block_on(async {
        let url = server.url();
        let with = start_service(&url, true).await;
        let without = start_service(&url, false).await;
        // Seed the users both services read.
        for n in 0..USERS {
            let body = format!(r#"{{"name": "user {n}", "email": "user{n}@example.com"}}"#);
            let stream = tokio::net::TcpStream::connect(with).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let request = Request::post("/users")
                .header("host", "bench")
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(Bytes::from(body)))
                .unwrap();
            assert_eq!(sender.send_request(request).await.unwrap().status(), 201);
        }

        let start = Instant::now();
        let end = start + HEALTHY + OUTAGE + AFTER;
        let spawn_load = |addr| {
            (0..CONNECTIONS)
                .map(|i| tokio::spawn(worker(addr, start, end, i as i64)))
                .collect::<Vec<_>>()
        };
        let with_load = spawn_load(with);
        let without_load = spawn_load(without);

        tokio::time::sleep_until((start + HEALTHY).into()).await;
        // pg_ctl blocks; let the other workers keep the load going meanwhile. The outage is
        // counted from the moment the server is down (a fast shutdown takes a moment).
        tokio::task::block_in_place(|| server.stop());
        let stopped_at = start.elapsed();
        tokio::time::sleep_until((start + HEALTHY + OUTAGE).into()).await;
        // Counted from the moment it accepts connections again.
        tokio::task::block_in_place(|| server.start_again());
        let restarted_at = start.elapsed();

        let mut with_samples = Vec::new();
        for task in with_load {
            with_samples.extend(task.await.unwrap());
        }
        let mut without_samples = Vec::new();
        for task in without_load {
            without_samples.extend(task.await.unwrap());
        }

        println!(
            "\nPostgreSQL stopped at {:.1} s, started again at {:.1} s; {CONNECTIONS} connections per service\n",
            stopped_at.as_secs_f64(),
            restarted_at.as_secs_f64()
        );
        println!("| service | phase | answered/s | 200/s | p50 | p99 |");
        println!("|---|---|---:|---:|---:|---:|");
        let total = end - start;
        for (mode, samples) in [("breaker", &with_samples), ("disabled", &without_samples)] {
            report_row(mode, "healthy", samples, Duration::from_secs(1), stopped_at);
            report_row(mode, "outage", samples, stopped_at, restarted_at);
            report_row(mode, "after", samples, restarted_at, total);
        }
        println!();
        for (mode, samples) in [("breaker", &with_samples), ("disabled", &without_samples)] {
            let first_ok = samples
                .iter()
                .filter(|s| s.sent >= restarted_at && s.status == 200)
                .map(|s| s.sent + s.took)
                .min();
            match first_ok {
                Some(at) => println!(
                    "{mode}: serves again {:.2} s after the database is back",
                    (at - restarted_at).as_secs_f64()
                ),
                None => println!("{mode}: did not serve again before the end of the run"),
            }
        }
    });
}
