use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

struct Client;

impl Client {
    #[circuit_breaker(failure_threshold = 2)]
    #[circuit_breaker]
    fn fetch(&self) -> Result<u64, AppError> {
        Ok(1)
    }
}

fn main() {}
