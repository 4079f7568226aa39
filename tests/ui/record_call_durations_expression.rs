use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[circuit_breaker(record_call_durations = cfg!(debug_assertions))]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
