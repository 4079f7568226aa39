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

#[circuit_breaker(key = host, key_idle_timeout = "10 minutes")]
fn fetch(host: &str) -> Result<u64, AppError> {
    Ok(1)
}
fn main() {}
