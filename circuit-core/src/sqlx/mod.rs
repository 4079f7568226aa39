//! Which [`sqlx::Error`]s mean the database is failing (they should trip a breaker) and which
//! are the database answering (they should not): the design's `exclude` list, for sqlx
//! (feature `sqlx`).
//!
//! # Polarity: two predicates, one rule
//!
//! The two places a breaker takes a classifier ask opposite questions, so there is one
//! function for each, and they always disagree:
//!
//! | where | asks | pass |
//! |---|---|---|
//! | `#[circuit_breaker(exclude = ...)]` | "is this error *not* a failure?" | [`is_application_error`] |
//! | [`CircuitBreaker::call_with`](crate::CircuitBreaker::call_with), [`call_async_with`](crate::CircuitBreaker::call_async_with) | "is this error a failure?" | [`is_infrastructure_error`] |
//!
//! An application error is still returned to the caller unchanged; it only does not count
//! against the breaker (it counts as a successful round trip: the database answered).
//!
//! ```
//! use circuit_core::{circuit_breaker, CircuitOpen, State};
//!
//! #[derive(Debug)]
//! enum AppError {
//!     Db(sqlx::Error),
//!     Unavailable(CircuitOpen),
//! }
//! impl From<sqlx::Error> for AppError {
//!     fn from(e: sqlx::Error) -> Self { AppError::Db(e) }
//! }
//! impl From<CircuitOpen> for AppError {
//!     fn from(open: CircuitOpen) -> Self { AppError::Unavailable(open) }
//! }
//! // Lets the classifier see the `sqlx::Error` inside `AppError`.
//! impl circuit_core::sqlx::AsSqlxError for AppError {
//!     fn as_sqlx_error(&self) -> Option<&sqlx::Error> {
//!         match self {
//!             AppError::Db(e) => Some(e),
//!             AppError::Unavailable(_) => None,
//!         }
//!     }
//! }
//!
//! // A missing row or a duplicate email does not trip the breaker; a refused connection, an
//! // exhausted pool or a `statement_timeout` does. (In a service this is an `async fn` running
//! // `sqlx::query(...).fetch_one(&pool).await?`; the README shows one in an axum handler.)
//! #[circuit_breaker(name = "users-db", failure_threshold = 2,
//!                   exclude = circuit_core::sqlx::is_application_error)]
//! fn user_name(id: i64) -> Result<String, AppError> {
//!     Err(sqlx::Error::RowNotFound)?
//! }
//!
//! for id in 0..5 {
//!     assert!(matches!(user_name(id), Err(AppError::Db(sqlx::Error::RowNotFound))));
//! }
//! assert_eq!(user_name::breaker().state(), State::Closed);
//!
//! // Without the attribute, the same rule the other way round:
//! let db = circuit_core::registry().get_or_create("users-db", Default::default());
//! let result = db.call_with(
//!     || Err::<(), _>(sqlx::Error::PoolTimedOut),
//!     circuit_core::sqlx::is_infrastructure_error,
//! );
//! assert_eq!(db.snapshot().failure_count, 1);
//! # let _ = result;
//! ```
//!
//! # The rule
//!
//! By [`sqlx::Error`] variant first:
//!
//! - **Infrastructure**: `Io`, `Tls`, `Protocol`, `PoolTimedOut`, `PoolClosed`,
//!   `WorkerCrashed`, `BeginFailed`, and variants this version does not know (a new failure
//!   mode should be noticed, not ignored).
//! - **Application**: `RowNotFound`, `TypeNotFound`, `ColumnIndexOutOfBounds`,
//!   `ColumnNotFound`, `ColumnDecode`, `Encode`, `Decode`, `Configuration`,
//!   `InvalidArgument`, `AnyDriverError`, `InvalidSavePointStatement`: the program's mistakes
//!   or the data's, which a breaker cannot help with.
//! - **`Database`**: by the error's code ([`sqlx::error::DatabaseError::code`]):
//!   - a five-character code is a SQLSTATE (PostgreSQL, MySQL): classes `08` connection
//!     exception, `53` insufficient resources, `57` operator intervention (with `57014`
//!     `query_canceled`, what `statement_timeout` raises), `58` system error, `XX` internal
//!     error, and `55P03` `lock_not_available` (what `lock_timeout` raises) are
//!     infrastructure; every other class (`23` integrity constraints, `42` syntax and access,
//!     `22` data, `40` transaction rollback, ...) is the database answering;
//!   - a decimal number is a SQLite extended result code, classed by its primary code (the
//!     low byte): `SQLITE_BUSY`, `SQLITE_LOCKED`, `SQLITE_NOMEM`, `SQLITE_READONLY`,
//!     `SQLITE_INTERRUPT`, `SQLITE_IOERR`, `SQLITE_CORRUPT`, `SQLITE_FULL`,
//!     `SQLITE_CANTOPEN`, `SQLITE_PROTOCOL`, `SQLITE_NOTADB` are infrastructure; the rest
//!     (`SQLITE_CONSTRAINT`, `SQLITE_ERROR` for bad SQL, `SQLITE_MISMATCH`, ...) is not;
//!   - a database error without a code, or with one of neither shape, is the database
//!     answering.
//!
//! Constraint violations ([`ErrorKind`] other than `Other`) are
//! application errors whatever their code.

mod codes;

use ::sqlx::error::{DatabaseError, ErrorKind};

/// What a `sqlx::Error` says about the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The database could not serve: unreachable, overloaded, out of connections, timed out,
    /// shut down. Counts against a breaker.
    Infrastructure,
    /// The database answered, and the answer was an error: no such row, a constraint
    /// violated, a bad query, a value that does not decode. Does not count.
    Application,
}

/// An error type that may carry a [`sqlx::Error`]: lets [`is_application_error`] and
/// [`is_infrastructure_error`] classify your own error type, as `#[circuit_breaker]` needs
/// (its function's error type must hold a rejection too, which `sqlx::Error` cannot).
pub trait AsSqlxError {
    /// The `sqlx::Error` this error carries, if any.
    fn as_sqlx_error(&self) -> Option<&::sqlx::Error>;
}

impl AsSqlxError for ::sqlx::Error {
    fn as_sqlx_error(&self) -> Option<&::sqlx::Error> {
        Some(self)
    }
}

/// Classifies one `sqlx::Error` by [the rule](self#the-rule).
pub fn classify(error: &::sqlx::Error) -> ErrorClass {
    use ::sqlx::Error as E;
    match error {
        E::Database(db) => classify_database(&**db),
        E::RowNotFound
        | E::TypeNotFound { .. }
        | E::ColumnIndexOutOfBounds { .. }
        | E::ColumnNotFound(_)
        | E::ColumnDecode { .. }
        | E::Encode(_)
        | E::Decode(_)
        | E::Configuration(_)
        | E::InvalidArgument(_)
        | E::AnyDriverError(_)
        | E::InvalidSavePointStatement => ErrorClass::Application,
        // Io, Tls, Protocol, PoolTimedOut, PoolClosed, WorkerCrashed, BeginFailed, and any
        // variant added later: the connection to the database, not the query, went wrong.
        _ => ErrorClass::Infrastructure,
    }
}

/// Classifies an error the database returned, by its kind and then its code.
pub fn classify_database(error: &dyn DatabaseError) -> ErrorClass {
    if !matches!(error.kind(), ErrorKind::Other) {
        return ErrorClass::Application;
    }
    match error.code() {
        Some(code) if codes::is_infrastructure(&code) => ErrorClass::Infrastructure,
        _ => ErrorClass::Application,
    }
}

/// `true` for an error that should **not** trip a breaker: the `exclude` predicate of
/// `#[circuit_breaker]`. An error carrying no `sqlx::Error` (your own validation error, say)
/// is an application error: it does not say the database failed.
pub fn is_application_error<E: AsSqlxError + ?Sized>(error: &E) -> bool {
    !is_infrastructure_error(error)
}

/// `true` for an error that should trip a breaker: the `is_failure` classifier of
/// [`CircuitBreaker::call_with`](crate::CircuitBreaker::call_with) and
/// [`call_async_with`](crate::CircuitBreaker::call_async_with). The exact opposite of
/// [`is_application_error`].
pub fn is_infrastructure_error<E: AsSqlxError + ?Sized>(error: &E) -> bool {
    error
        .as_sqlx_error()
        .is_some_and(|e| classify(e) == ErrorClass::Infrastructure)
}
