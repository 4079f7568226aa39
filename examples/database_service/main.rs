//! A web service whose database is protected by a circuit breaker: when the database is
//! down, overloaded or out of connections, requests are answered 503 at once instead of
//! piling up, and the service recovers by itself when the database returns.
//!
//! ```sh
//! cargo run --release --example database_service                 # SQLite in the temp dir
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD=3 POOL_TIMEOUT=2s ADMIN_TOKEN=secret \
//!   cargo run --release --example database_service
//!
//! curl -X POST localhost:8000/users -H 'content-type: application/json' \
//!   -d '{"name": "Ada", "email": "ada@example.com"}'            # 201, 409 the second time
//! curl localhost:8000/users/1                                     # 200, or 404
//! curl localhost:8000/health                                      # the breakers' states
//! curl localhost:8000/metrics                                     # Prometheus
//! curl -X POST -H 'authorization: Bearer secret' localhost:8000/admin/breakers/database/reset
//! ```
//!
//! Variables: `DATABASE_URL`, `BIND` (127.0.0.1:8000), `DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD`
//! (5), `DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT` (60 s), the breaker's other
//! `DB_CIRCUIT_BREAKER_*` settings, `POOL_SIZE` (10), `POOL_TIMEOUT` (30 s),
//! `DB_STATEMENT_TIMEOUT` (5 s), `ADMIN_TOKEN` (admin routes off without it). Durations are
//! whole seconds (`30`) or one unit of `ms`, `s`, `m`, `h` (`300ms`). A bad value stops the
//! service before it starts, naming the variable and the value.

mod db;
mod routes;
mod settings;

use settings::Settings;
use std::process::ExitCode;

fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(bad) => {
            eprintln!("database_service: {bad}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("database_service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let registry = circuit_core::registry();
    let breaker = registry.get_or_create(settings::BREAKER, settings.breaker.clone());
    let db = db::Database::connect_lazy(&settings, breaker)?;
    let app = routes::router(routes::AppState {
        db: db.clone(),
        registry,
        admin_token: settings.admin_token.as_deref().map(Into::into),
    });
    let listener = tokio::net::TcpListener::bind(settings.bind).await?;
    eprintln!(
        "database_service: listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    db.close().await;
    eprintln!("database_service: stopped");
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM (an orchestrator stopping the service): stop accepting, finish
/// the requests in flight, close the pool.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    eprintln!("database_service: shutting down");
}
