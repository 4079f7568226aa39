use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[derive(Debug)]
struct OtherError;

async fn get_user_fallback(id: u64, _why: circuit_core::FallbackReason<OtherError>) -> Result<u64, AppError> {
    Ok(id)
}

#[circuit_breaker(fallback = get_user_fallback)]
async fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
