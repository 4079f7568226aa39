use circuit_core::{circuit_breaker, CircuitOpen};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

fn classify_error(_: &AppError) -> circuit_core::Outcome {
    circuit_core::Outcome::Failure
}

fn is_not_found(_: &AppError) -> bool {
    false
}

#[circuit_breaker(classify = classify_error, exclude = is_not_found)]
fn get_user(id: u64) -> Result<u64, AppError> {
    Ok(id)
}

fn main() {}
