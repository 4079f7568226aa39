use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[circuit_breaker(backoff = "exponential(0.5, 5m)")]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
