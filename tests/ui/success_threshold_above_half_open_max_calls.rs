use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

// half_open_max_calls is 3 by default: 4 successes could never be reached.
#[circuit_breaker(success_threshold = 4)]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}
fn main() {}
