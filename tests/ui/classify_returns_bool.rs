// A predicate given to `classify`: its `bool` could mean either polarity, so it is refused.
use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

fn is_not_found(_: &AppError) -> bool {
    false
}

#[circuit_breaker(classify = is_not_found)]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
