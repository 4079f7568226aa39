use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

const HALF: f64 = 0.5;

#[circuit_breaker(failure_rate_threshold = HALF)]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
