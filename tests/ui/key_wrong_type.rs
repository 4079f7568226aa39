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

// A number is not text: the key must give a `&str`.
#[circuit_breaker(key = user_id)]
fn get_user(user_id: u64) -> Result<u64, AppError> {
    Ok(user_id)
}
fn main() {}
