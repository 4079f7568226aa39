use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

fn is_not_found(code: u16) -> bool {
    code == 404
}

#[circuit_breaker(exclude = is_not_found)]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}
fn main() {}
