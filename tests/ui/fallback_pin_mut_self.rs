use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

use std::pin::Pin;

struct Stream;

impl Stream {
    fn offline(self: Pin<&mut Self>) -> Result<u64, AppError> {
        Ok(0)
    }

    #[circuit_breaker(fallback = Self::offline)]
    fn next(self: Pin<&mut Self>) -> Result<u64, AppError> {
        Ok(1)
    }
}

fn main() {}
