//! What the fleet (feature `redis`) does to a local breaker, from its background task and never
//! from a call: open it on the fleet's evidence, hold an Open period while another instance
//! holds the trial lease, and close it when that instance's trial succeeded. Each is a
//! compare-and-swap on the state word like any other transition, so the call path is the one
//! it always was.

use crate::breaker::word::Word;
use crate::events::Reason;
use crate::{CircuitBreaker, State};
use std::time::Duration;

impl CircuitBreaker {
    /// Opens a Closed or HalfOpen breaker for the longer of its own next period and `left`
    /// (reason [`Reason::Fleet`]); lengthens an Open one to end no sooner than `left` from now,
    /// silently (it is the same Open period). ForcedOpen and Disabled are an operator's: left
    /// alone. Whether anything changed.
    pub(crate) fn fleet_open(&self, left: Duration) -> bool {
        let mut w = self.load();
        loop {
            let result = match w.tag() {
                State::Closed | State::HalfOpen => self.open_at_least(w, left, Reason::Fleet),
                State::Open => return self.hold_open(w, left),
                State::ForcedOpen | State::Disabled => return false,
            };
            match result {
                Ok(()) => return true,
                Err(actual) => w = actual,
            }
        }
    }

    /// Lengthens an Open breaker to end no sooner than `left` from now; anything else (a
    /// breaker whose period already ended and that went HalfOpen: the fleet came too late, and
    /// fails open) is left alone. Whether it changed.
    pub(crate) fn fleet_hold(&self, left: Duration) -> bool {
        let w = self.load();
        w.tag() == State::Open && self.hold_open(w, left)
    }

    /// Closes an Open or HalfOpen breaker (reason [`Reason::Fleet`]): another instance's trial
    /// showed the service answers again. Whether it closed.
    pub(crate) fn fleet_close(&self) -> bool {
        let mut w = self.load();
        while matches!(w.tag(), State::Open | State::HalfOpen) {
            let closed = Word::closed(w.next_epoch(), 0);
            match self.transition(w, closed, Reason::Fleet) {
                Ok(()) => return true,
                Err(actual) => w = actual,
            }
        }
        false
    }

    /// Restarts the Open period of `w` to end `left` from now, unless it already ends later.
    fn hold_open(&self, mut w: Word, left: Duration) -> bool {
        while w.tag() == State::Open {
            if self.open_outlasts(w, left) {
                return false;
            }
            let k = self.periods.load().reopenings_of(w.epoch()).unwrap_or(0);
            match self.restart_open(w, k, left) {
                Ok(()) => return true,
                Err(actual) => w = actual,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::ManualClock;
    use crate::{CircuitBreaker, Config, Reason, State};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn breaker() -> (CircuitBreaker, ManualClock, Arc<Mutex<Vec<Reason>>>) {
        let clock = ManualClock::new();
        let config = Config::builder()
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .unwrap();
        let breaker = CircuitBreaker::new("fleet-test", config);
        let reasons = Arc::new(Mutex::new(Vec::new()));
        let r = reasons.clone();
        breaker.on_state_change(move |t| r.lock().unwrap().push(t.reason));
        (breaker, clock, reasons)
    }

    #[test]
    fn opens_for_the_longer_of_its_own_period_and_the_fleets() {
        let (b, clock, reasons) = breaker();
        assert!(b.fleet_open(Duration::from_secs(30)));
        assert_eq!(b.state(), State::Open);
        assert_eq!(*reasons.lock().unwrap(), [Reason::Fleet]);
        clock.advance(Duration::from_secs(29));
        assert_eq!(b.state(), State::Open, "the fleet's 30 s, not its own 10");
        clock.advance(Duration::from_secs(1));
        assert_eq!(b.state(), State::HalfOpen);

        let (b, clock, _) = breaker();
        assert!(b.fleet_open(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(9));
        assert_eq!(b.state(), State::Open, "its own 10 s, not the fleet's 1");
    }

    #[test]
    fn holding_lengthens_an_open_period_silently_and_never_shortens_it() {
        let (b, clock, reasons) = breaker();
        let _ = b.call(|| Err::<(), _>("down"));
        assert!(!b.fleet_hold(Duration::from_secs(5)), "10 s left already");
        assert!(b.fleet_hold(Duration::from_secs(15)));
        let left = b.retry_after().unwrap();
        assert!(left > Duration::from_secs(14) && left <= Duration::from_secs(15));
        clock.advance(Duration::from_secs(14));
        assert_eq!(b.state(), State::Open);
        clock.advance(Duration::from_secs(1));
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(
            *reasons.lock().unwrap(),
            [Reason::FailureThreshold(1), Reason::RecoveryTimeout],
            "a hold is no transition"
        );
        assert!(!b.fleet_hold(Duration::from_secs(15)), "HalfOpen: too late");
    }

    #[test]
    fn closing_ends_open_and_half_open_but_not_an_operators_states() {
        let (b, clock, reasons) = breaker();
        let _ = b.call(|| Err::<(), _>("down"));
        assert!(b.fleet_close());
        assert_eq!(b.state(), State::Closed);
        assert_eq!(reasons.lock().unwrap().last(), Some(&Reason::Fleet));
        assert!(!b.fleet_close(), "already Closed");

        let _ = b.call(|| Err::<(), _>("down"));
        clock.advance(Duration::from_secs(10));
        assert_eq!(b.state(), State::HalfOpen);
        assert!(b.fleet_close());

        b.force_open();
        assert!(!b.fleet_close() && !b.fleet_open(Duration::from_secs(1)));
        assert_eq!(b.state(), State::ForcedOpen);
        b.disable();
        assert!(!b.fleet_close() && !b.fleet_open(Duration::from_secs(1)));
        assert_eq!(b.state(), State::Disabled);
    }
}
