use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

fn fallback(pair: (u64, u64)) -> Result<u64, AppError> {
    Ok(pair.0)
}

#[circuit_breaker(fallback = fallback)]
fn get_user((id, _): (u64, u64)) -> Result<u64, AppError> {
    Ok(id)
}
fn main() {}
