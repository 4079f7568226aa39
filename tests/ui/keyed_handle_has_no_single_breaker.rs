use circuit_core::{circuit_breaker, CircuitOpen, KeyError};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

impl From<KeyError> for AppError {
    fn from(_: KeyError) -> Self {
        AppError
    }
}

#[circuit_breaker(key = host)]
fn fetch(host: &str) -> Result<u64, AppError> {
    Ok(1)
}

// A keyed function has one breaker per key: its handle is the set, `fetch::breakers()`.
fn _state() -> circuit_core::State {
    fetch::breaker().state()
}
fn main() {}
