use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[derive(Debug)]
struct DbError;

#[circuit_breaker]
fn get_user(id: u64) -> Result<u64, DbError> {
    Ok(id)
}
fn main() {}
