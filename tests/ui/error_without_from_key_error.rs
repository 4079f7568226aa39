use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

// An empty key is refused, and the function has no fallback: the error must hold the refusal.
#[circuit_breaker(key = host)]
fn fetch(host: &str) -> Result<u64, AppError> {
    Ok(1)
}

fn main() {}
