use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[circuit_breaker(recovery_timeout = "2m", backoff = "exponential(2, 30s)")]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
