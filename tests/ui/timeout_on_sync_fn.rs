use circuit_core::{circuit_breaker, CallTimedOut, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

impl From<CallTimedOut> for AppError {
    fn from(_: CallTimedOut) -> Self {
        AppError
    }
}

#[circuit_breaker(timeout = "2s")]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
