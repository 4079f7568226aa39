use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

trait Users {
    #[circuit_breaker]
    fn get_user(&self, id: u64) -> Result<u64, AppError>;
}
fn main() {}
