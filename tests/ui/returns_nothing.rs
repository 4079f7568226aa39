use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

#[circuit_breaker]
fn notify(id: u64) {
    let _ = id;
}
fn main() {}
