use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[circuit_breaker(3, recovery_timeout = "30s")]
fn get_order(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
