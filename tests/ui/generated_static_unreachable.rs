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
    #[circuit_breaker]
    fn fetch(&self) -> Result<u64, AppError> {
        // The static that holds the breaker is out of the body's reach.
        let _ = &__CIRCUIT_BREAKER;
        Ok(1)
    }
}
fn main() {}
