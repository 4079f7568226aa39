// An error type from another crate whose blanket `From` covers `CircuitOpen` in name only, as
// `sqlx::Error` does (`impl<E: DatabaseError> From<E> for Error`): rustc used to report the
// blanket impl's own bound (`CircuitOpen: DatabaseError`), which says nothing of what to do.
use circuit_core::circuit_breaker;

mod driver {
    /// What a driver's errors implement, like sqlx's `DatabaseError`.
    pub trait DatabaseError: std::fmt::Debug + 'static {}

    /// Like `sqlx::Error`.
    #[derive(Debug)]
    pub enum Error {
        Database(Box<dyn DatabaseError>),
    }

    impl<E: DatabaseError> From<E> for Error {
        fn from(error: E) -> Self {
            Error::Database(Box::new(error))
        }
    }
}

#[circuit_breaker]
fn fetch(id: u64) -> Result<u64, driver::Error> {
    Ok(id)
}

fn main() {}
