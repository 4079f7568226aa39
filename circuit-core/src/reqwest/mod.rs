//! A circuit breaker for reqwest clients (feature `reqwest`): a
//! [`reqwest-middleware`](reqwest_middleware) middleware with one breaker per service or per
//! host, and the last good response per URL served while a service is down.
//!
//! ```no_run
//! use circuit_core::reqwest::{rejection, CircuitBreakerMiddleware};
//! use circuit_core::{Config, FallbackCache};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let users = reqwest_middleware::ClientBuilder::new(
//!     reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?,
//! )
//! .with(
//!     CircuitBreakerMiddleware::named_with("users", Config::builder().failure_threshold(5).build()?)
//!         .fallback_cache(FallbackCache::new()), // the last good answer per URL, for 300 s
//! )
//! .build();
//!
//! match users.get("http://user-service:8000/users/42").send().await {
//!     Ok(response) => println!("{}", response.text().await?),
//!     Err(error) => match rejection(&error) {
//!         Some(open) => println!("users is down; retry in {:?}", open.retry_after()),
//!         None => println!("users failed: {error}"),
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Outcomes are classified as by the [`tower`](crate::tower) layer ([`ServerErrors`] by
//! default: errors and `5xx` fail, `4xx` succeeds), with the same [`Classify`] trait.
//!
//! [`ServerErrors`]: crate::tower::ServerErrors
//! [`Classify`]: crate::tower::Classify

mod cache;
mod middleware;

pub use cache::{CachedResponse, ServedFromCache};
pub use middleware::CircuitBreakerMiddleware;

use crate::CircuitOpen;

/// The rejection in `error`, if the breaker refused the request (it was not sent).
pub fn rejection(error: &reqwest_middleware::Error) -> Option<&CircuitOpen> {
    match error {
        reqwest_middleware::Error::Middleware(error) => error.downcast_ref::<CircuitOpen>(),
        _ => None,
    }
}
