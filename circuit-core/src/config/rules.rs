//! The rules that tie two settings together, which `ConfigBuilder::build` checks once every
//! value has passed its own limits. The attribute checks its literals against the same rules
//! at compile time (`check_across` in circuit-macros), with the defaults standing in for the
//! keys it was not given.

use crate::config::{Config, ConfigError, Growth, SlidingWindow};

/// The first rule `c` breaks, in the order `ConfigBuilder::build` documents.
pub(super) fn check_across(c: &Config) -> Result<(), ConfigError> {
    if c.success_threshold > c.half_open_max_calls {
        return Err(ConfigError::SuccessThresholdAboveMaxCalls {
            success_threshold: c.success_threshold,
            half_open_max_calls: c.half_open_max_calls,
        });
    }
    // Only a `minimum_calls` given can break it: the effective default is capped at the
    // window's size.
    if let (Some(minimum_calls), SlidingWindow::Count(window)) = (c.minimum_calls, c.sliding_window)
    {
        if minimum_calls > window {
            return Err(ConfigError::MinimumCallsAboveWindow {
                minimum_calls,
                window,
            });
        }
    }
    if let (Some(threshold), None) = (c.slow_call_rate_threshold, c.slow_call_duration) {
        return Err(ConfigError::SlowCallRateWithoutDuration { threshold });
    }
    if let Growth::Exponential { max, .. } = c.backoff.growth {
        if max < c.recovery_timeout {
            return Err(ConfigError::BackoffBelowRecoveryTimeout {
                max,
                recovery_timeout: c.recovery_timeout,
            });
        }
    }
    Ok(())
}
