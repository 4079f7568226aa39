// The trial's case: `sqlx::Error` itself, whose blanket `From<E: DatabaseError>` made rustc ask
// for `CircuitOpen: DatabaseError`, three times.
use circuit_core::circuit_breaker;

#[circuit_breaker(name = "database")]
async fn user_name(id: i64) -> Result<String, sqlx::Error> {
    let _ = id;
    Err(sqlx::Error::RowNotFound)
}

fn main() {}
