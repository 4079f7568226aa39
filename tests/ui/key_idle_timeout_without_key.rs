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

#[circuit_breaker(key_idle_timeout = "10m")]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}
fn main() {}
