//! `#[circuit_breaker(crate = "breakers")]` in a crate that knows circuit-core only as
//! `breakers`.

use breakers::{circuit_breaker, CircuitOpen};

/// The error of the functions below.
#[derive(Debug, PartialEq, Eq)]
pub struct Failed;

impl From<CircuitOpen> for Failed {
    fn from(_: CircuitOpen) -> Self {
        Failed
    }
}

fn offline(id: u32) -> Result<u32, Failed> {
    Ok(id + 100)
}

/// A free function: its handle module names the runtime through the path given.
#[circuit_breaker(crate = "breakers", failure_threshold = 1, fallback = offline)]
pub fn lookup(id: u32) -> Result<u32, Failed> {
    if id == 0 {
        return Err(Failed);
    }
    Ok(id)
}

/// A client with a guarded async method.
pub struct Client;

impl Client {
    /// An async method, with a handle function.
    #[circuit_breaker(crate = "::breakers", name = "renamed-fetch", handle = fetch_breaker)]
    pub async fn fetch(&self, id: u32) -> Result<u32, Failed> {
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breakers::{registry, State};
    use std::future::Future;

    #[test]
    fn the_attribute_reaches_the_runtime_through_the_renamed_dependency() {
        assert_eq!(registry().state("renamed-fetch"), Some(State::Closed));
        assert_eq!(lookup(1), Ok(1));
        assert_eq!(lookup(0), Ok(100));
        assert_eq!(lookup::breaker().state(), State::Open);
        assert_eq!(
            lookup::breaker().name(),
            "circuit_renamed_dependency::lookup"
        );
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut fut = std::pin::pin!(Client.fetch(3));
        assert_eq!(fut.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(3)));
        assert_eq!(Client::fetch_breaker().snapshot().successes, 1);
    }
}
