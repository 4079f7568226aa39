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
    fn offline(&mut self) -> Result<u64, AppError> {
        Ok(0)
    }

    #[circuit_breaker(fallback = Self::offline)]
    fn fetch(&mut self) -> Result<u64, AppError> {
        Ok(1)
    }
}
fn main() {}
