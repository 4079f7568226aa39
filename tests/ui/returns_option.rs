use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[circuit_breaker]
fn get_user(id: u64) -> Option<u64> {
    Some(id)
}
fn main() {}
