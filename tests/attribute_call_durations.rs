//! The attribute's `record_call_durations` key: the breaker it declares records call
//! durations from its first call, and `false` is accepted as the default written out.

use circuit_core::config::Setting;
use circuit_core::{circuit_breaker, registry, CircuitOpen};

#[derive(Debug)]
struct Unavailable;

impl From<CircuitOpen> for Unavailable {
    fn from(_: CircuitOpen) -> Self {
        Unavailable
    }
}

#[circuit_breaker(name = "attribute-call-durations", record_call_durations = true)]
fn quote(fail: bool) -> Result<u32, Unavailable> {
    if fail {
        Err(Unavailable)
    } else {
        Ok(7)
    }
}

#[circuit_breaker(name = "attribute-call-durations-off", record_call_durations = false)]
fn unrecorded() -> Result<u32, Unavailable> {
    Ok(1)
}

#[test]
fn the_key_turns_recording_on_for_the_functions_breaker() {
    let declared = registry().get("attribute-call-durations").unwrap();
    assert!(declared.config().record_call_durations());
    assert!(declared.config().is_set(Setting::RecordCallDurations));
    assert!(quote(false).is_ok());
    assert!(quote(true).is_err());
    let d = quote::breaker().durations().expect("recorded");
    assert_eq!((d.success.count(), d.failure.count()), (1, 1));
}

#[test]
fn false_is_the_default_written_out() {
    assert!(unrecorded().is_ok());
    let b = unrecorded::breaker();
    assert!(!b.config().record_call_durations());
    assert_eq!(b.durations(), None);
}
