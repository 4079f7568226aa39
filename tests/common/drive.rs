//! Helpers of the reliability tests (stress, property, leak): driving futures by hand and
//! keeping deliberate panics quiet.

use std::future::Future;
use std::pin::pin;
use std::sync::Once;
use std::task::{Context, Poll, Waker};

/// Polls a future once with a no-op waker, then drops it; its output if it finished.
pub fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// The message of every panic these tests make on purpose.
pub const DELIBERATE: &str = "deliberate panic";

/// Silences the panics made on purpose (their message starts with [`DELIBERATE`]), which would
/// otherwise flood the output; any other panic is reported as usual.
pub fn quiet_deliberate_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = (payload.downcast_ref::<&str>().copied())
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if !msg.starts_with(DELIBERATE) {
                default(info);
            }
        }));
    });
}
