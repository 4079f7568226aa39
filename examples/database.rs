//! The seed design's database breaker: infrastructure errors (refused connections, timeouts,
//! an exhausted pool) trip it, application errors (a constraint violation, a bad query) do
//! not; `DB_CIRCUIT_BREAKER_*` environment variables configure it; while it is open, the web
//! handler answers 503 with the error code `DB_CIRCUIT_BREAKER_OPEN`. It ends with what an
//! operator sees: the health report as JSON, the Prometheus metrics, and an admin reset.
//!
//! No database and no HTTP server: both are simulated, so the example runs anywhere.
//!
//! ```sh
//! cargo run --example database
//! DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD=2 cargo run --example database
//! DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT=soon cargo run --example database   # refused
//! ```

use circuit_core::config::EnvConfig;
use circuit_core::{registry, CircuitBreaker, CircuitError, Config};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

/// What the simulated database driver returns.
#[derive(Debug)]
enum DbError {
    // Infrastructure: the database did not answer. These trip the breaker.
    ConnectionRefused,
    // Application: the database answered, and said no. These do not.
    IntegrityError(&'static str),
}

impl DbError {
    /// The seed's `exclude` list, turned around: what counts against the breaker.
    fn is_infrastructure(&self) -> bool {
        matches!(self, DbError::ConnectionRefused)
    }
}

/// The seed's `DatabaseCircuitBreakerError`.
#[derive(Debug)]
struct DatabaseCircuitBreakerError {
    message: &'static str,
    error_code: &'static str,
    retry_after: Option<Duration>,
}

/// A stand-in for the database, which an operator can take down.
struct Database {
    up: AtomicBool,
}

impl Database {
    fn insert_user(&self, id: u64) -> Result<u64, DbError> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(DbError::ConnectionRefused);
        }
        if id == 0 {
            return Err(DbError::IntegrityError("users.id must be positive"));
        }
        Ok(id)
    }
}

/// The seed's `DatabaseCircuitBreaker.call`: a rejection becomes its own error type.
fn call<T>(
    breaker: &CircuitBreaker,
    op: impl FnOnce() -> Result<T, DbError>,
) -> Result<Result<T, DbError>, DatabaseCircuitBreakerError> {
    match breaker.call_with(op, DbError::is_infrastructure) {
        Ok(value) => Ok(Ok(value)),
        Err(CircuitError::Inner(e)) => Ok(Err(e)),
        Err(CircuitError::Open(open)) => Err(DatabaseCircuitBreakerError {
            message: "Database service is temporarily unavailable",
            error_code: "DB_CIRCUIT_BREAKER_OPEN",
            retry_after: open.retry_after(),
        }),
    }
}

/// An HTTP-ish response: status and body.
struct Response(u16, String);

/// `POST /users/{id}`, as the seed's FastAPI handler maps errors to statuses.
fn create_user(db: &Database, breaker: &CircuitBreaker, id: u64) -> Response {
    match call(breaker, || db.insert_user(id)) {
        Ok(Ok(id)) => Response(201, format!(r#"{{"id":{id}}}"#)),
        Ok(Err(DbError::IntegrityError(why))) => Response(422, format!(r#"{{"detail":"{why}"}}"#)),
        Ok(Err(DbError::ConnectionRefused)) => {
            Response(500, r#"{"detail":"database error"}"#.into())
        }
        Err(open) => Response(
            503,
            format!(
                r#"{{"detail":"{}","error_code":"{}","retry_after_s":{}}}"#,
                open.message,
                open.error_code,
                // Rounded up, as an HTTP Retry-After would be; null when forced open.
                open.retry_after
                    .map_or("null".into(), |d| d.as_secs_f64().ceil().to_string()),
            ),
        ),
    }
}

fn main() {
    // The code's defaults; recovery shortened from the seed's 60 s so the demo takes a second.
    let breaker = registry().get_or_create(
        "database",
        Config::builder()
            .failure_threshold(5)
            .recovery_timeout(Duration::from_secs(1))
            .success_threshold(1)
            .build()
            .expect("valid defaults"),
    );
    // One call at start-up: every bad variable is reported, and then nothing is applied.
    let env = EnvConfig::new().breaker_with_prefix("database", "DB_CIRCUIT_BREAKER");
    match env.apply(registry()) {
        Ok(applied) if applied.is_empty() => println!("no DB_CIRCUIT_BREAKER_* variable set"),
        Ok(applied) => {
            for (name, config) in applied {
                println!("{name} configured from the environment: {config:?}");
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
    // With a `tracing` subscriber installed, these lines are logged too, at WARN and INFO.
    breaker.on_state_change(|t| println!("    [transition] {t}"));

    let db = Arc::new(Database {
        up: AtomicBool::new(true),
    });
    let request = |id: u64| {
        let Response(status, body) = create_user(&db, &breaker, id);
        println!("  POST /users/{id} -> {status} {body}");
    };

    println!("1. application errors do not trip the breaker");
    for id in [1, 0, 0, 0, 0, 0, 0, 2] {
        request(id);
    }

    println!("2. the database goes down: infrastructure errors trip it, then 503s");
    db.up.store(false, Ordering::SeqCst);
    let threshold = breaker.config().failure_threshold();
    for id in 10..10 + u64::from(threshold) + 2 {
        request(id);
    }

    println!("3. what an operator sees");
    let health = serde_json::to_string_pretty(&registry().health_report()).expect("JSON");
    println!("  GET /health ->\n{health}");
    let mut metrics = prometheus_client::registry::Registry::default();
    circuit_core::prometheus::register(&mut metrics, registry());
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics).expect("metrics");
    let state_lines = text.lines().filter(|l| l.starts_with("circuit_breaker_"));
    println!("  GET /metrics ->");
    for line in state_lines {
        println!("    {line}");
    }

    println!("4. the database recovers; after the recovery timeout a trial call closes it");
    db.up.store(true, Ordering::SeqCst);
    sleep(breaker.config().recovery_timeout() + Duration::from_millis(50));
    request(20);

    println!("5. an operator forces it open, then resets it, by name");
    registry().force_open("database").expect("known breaker");
    request(21);
    registry().reset("database").expect("known breaker");
    request(22);
    if let Err(e) = registry().reset("databse") {
        println!("  POST /admin/breakers/databse/reset -> 404 {e}");
    }
}
