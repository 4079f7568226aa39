//! The two channels' messages as text, and the bounds every field is held to.
//!
//! ```text
//! events:  v1 opened <instance> <ms left> <breaker name>
//!          v1 closed <instance> 0 <breaker name>
//!          v1 recovered <instance> 0 <breaker name>
//! admin:   v1 force_open <breaker name>
//!          v1 disable <breaker name>
//!          v1 reset <breaker name>
//! ```
//!
//! The breaker's name comes last and runs to the end of the message, so a name may hold
//! spaces; instance ids may not (see [`valid_id`]). Anything else, a message that does not
//! parse, of another version, or past a bound, is refused with the reason, which the task logs
//! before dropping it: nothing here panics on what a peer (or a stranger) sends.

use crate::config::MAX_RECOVERY_TIMEOUT;
use std::fmt;
use std::time::Duration;

/// The longest breaker name the fleet shares, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// The longest instance id (and service name), in bytes.
pub const MAX_ID_LEN: usize = 128;

const VERSION: &str = "v1";

/// What one instance tells the others about one of its breakers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// It opened on its own evidence, for this long from now.
    Opened(Duration),
    /// It is no longer open on its own evidence (reset, forced, or closed by the fleet): its
    /// witness is withdrawn, nothing more.
    Closed,
    /// Its trial calls succeeded: the service answers again, and every instance may close.
    Recovered,
}

/// A message of the `events` channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) kind: Kind,
    pub(crate) instance: String,
    pub(crate) name: String,
}

/// An operator's order, sent to every instance on the `admin` channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// [`Registry::force_open`](crate::Registry::force_open).
    ForceOpen,
    /// [`Registry::disable`](crate::Registry::disable).
    Disable,
    /// [`Registry::reset`](crate::Registry::reset).
    Reset,
}

impl Order {
    fn word(self) -> &'static str {
        match self {
            Order::ForceOpen => "force_open",
            Order::Disable => "disable",
            Order::Reset => "reset",
        }
    }
}

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refused(&'static str);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Whether `id` may serve as an instance id or a service name: 1 to [`MAX_ID_LEN`] bytes of
/// ASCII letters, digits, `.`, `_` and `-`. No spaces (messages are split on them), no `:`
/// (keys are), nothing a Redis glob pattern reads specially.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether the fleet shares a breaker of this name: 1 to [`MAX_NAME_LEN`] bytes, no control
/// characters (a line break would end the message early in every log that prints it).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && !name.chars().any(char::is_control)
}

impl Event {
    /// The message's text. The caller has checked the name and the instance id.
    pub(crate) fn encode(&self) -> String {
        debug_assert!(valid_name(&self.name) && valid_id(&self.instance));
        let (kind, ms) = match self.kind {
            Kind::Opened(left) => ("opened", millis_up(left)),
            Kind::Closed => ("closed", 0),
            Kind::Recovered => ("recovered", 0),
        };
        format!("{VERSION} {kind} {} {ms} {}", self.instance, self.name)
    }

    pub(crate) fn decode(payload: &[u8]) -> Result<Event, Refused> {
        let text = text(payload)?;
        let mut fields = text.splitn(5, ' ');
        version(fields.next())?;
        let kind = fields.next().ok_or(Refused("no kind"))?;
        let instance = fields.next().ok_or(Refused("no instance"))?;
        let ms = fields.next().ok_or(Refused("no time"))?;
        let name = fields.next().ok_or(Refused("no breaker name"))?;
        if !valid_id(instance) {
            return Err(Refused("bad instance id"));
        }
        if !valid_name(name) {
            return Err(Refused("bad breaker name"));
        }
        // Digits only: `u64::from_str` would also take a leading `+`.
        if ms.is_empty() || ms.len() > 20 || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refused("bad time"));
        }
        let ms: u64 = ms.parse().map_err(|_| Refused("bad time"))?;
        let kind = match kind {
            "opened" => {
                let left = Duration::from_millis(ms);
                if left.is_zero() || left > MAX_RECOVERY_TIMEOUT {
                    return Err(Refused("open time out of bounds"));
                }
                Kind::Opened(left)
            }
            "closed" => Kind::Closed,
            "recovered" => Kind::Recovered,
            _ => return Err(Refused("unknown kind")),
        };
        Ok(Event {
            kind,
            instance: instance.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// An order's text. The caller has checked the name.
pub(crate) fn encode_order(order: Order, name: &str) -> String {
    debug_assert!(valid_name(name));
    format!("{VERSION} {} {name}", order.word())
}

pub(crate) fn decode_order(payload: &[u8]) -> Result<(Order, String), Refused> {
    let text = text(payload)?;
    let mut fields = text.splitn(3, ' ');
    version(fields.next())?;
    let order = match fields.next() {
        Some("force_open") => Order::ForceOpen,
        Some("disable") => Order::Disable,
        Some("reset") => Order::Reset,
        Some(_) => return Err(Refused("unknown order")),
        None => return Err(Refused("no order")),
    };
    let name = fields.next().ok_or(Refused("no breaker name"))?;
    if !valid_name(name) {
        return Err(Refused("bad breaker name"));
    }
    Ok((order, name.to_owned()))
}

fn text(payload: &[u8]) -> Result<&str, Refused> {
    // The longest valid message, with room to spare; checked before anything is read.
    if payload.len() > 64 + MAX_ID_LEN + MAX_NAME_LEN {
        return Err(Refused("too long"));
    }
    std::str::from_utf8(payload).map_err(|_| Refused("not UTF-8"))
}

fn version(field: Option<&str>) -> Result<(), Refused> {
    match field {
        Some(VERSION) => Ok(()),
        _ => Err(Refused("not a v1 message")),
    }
}

/// Whole milliseconds, rounded up, so that a period never crosses the network shorter than it
/// is; at least 1 (an Open period of 0 ms is no period).
pub(crate) fn millis_up(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: Kind, name: &str) -> Event {
        Event {
            kind,
            instance: "i-7".into(),
            name: name.into(),
        }
    }

    #[test]
    fn events_round_trip_names_with_spaces_included() {
        for e in [
            event(Kind::Opened(Duration::from_millis(1500)), "db"),
            event(Kind::Closed, "user service: primary"),
            event(Kind::Recovered, "a::b::get_user"),
        ] {
            assert_eq!(Event::decode(e.encode().as_bytes()), Ok(e));
        }
        assert_eq!(
            event(Kind::Opened(Duration::from_micros(1)), "db").encode(),
            "v1 opened i-7 1 db",
            "rounded up, never to 0"
        );
    }

    #[test]
    fn orders_round_trip() {
        for order in [Order::ForceOpen, Order::Disable, Order::Reset] {
            let text = encode_order(order, "payments api");
            assert_eq!(
                decode_order(text.as_bytes()),
                Ok((order, "payments api".into()))
            );
        }
        assert_eq!(encode_order(Order::ForceOpen, "db"), "v1 force_open db");
    }

    #[test]
    fn malformed_and_foreign_events_are_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not a v1 message"),
            (b"v2 opened i-1 100 db", "not a v1 message"),
            (b"hello world", "not a v1 message"),
            (b"v1", "no kind"),
            (b"v1 opened", "no instance"),
            (b"v1 opened i-1", "no time"),
            (b"v1 opened i-1 100", "no breaker name"),
            (b"v1 opened i-1 100 ", "bad breaker name"),
            (b"v1 exploded i-1 100 db", "unknown kind"),
            (b"v1 opened i:1 100 db", "bad instance id"),
            (b"v1 opened  100 db", "bad instance id"),
            (b"v1 opened i-1 -5 db", "bad time"),
            (b"v1 opened i-1 +5 db", "bad time"),
            (b"v1 opened i-1 5s db", "bad time"),
            (b"v1 opened i-1 99999999999999999999999 db", "bad time"),
            (
                b"v1 opened i-1 18446744073709551615 db",
                "open time out of bounds",
            ),
            (b"v1 opened i-1 0 db", "open time out of bounds"),
            (b"v1 opened i-1 100 d\nb", "bad breaker name"),
            (b"v1 opened i-1 100 \xff\xfe", "not UTF-8"),
        ];
        for (payload, reason) in cases {
            assert_eq!(
                Event::decode(payload),
                Err(Refused(reason)),
                "{:?}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn bounds_are_inclusive_and_checked_before_parsing() {
        let longest_name = "n".repeat(MAX_NAME_LEN);
        let longest_id = "i".repeat(MAX_ID_LEN);
        let e = Event {
            kind: Kind::Opened(MAX_RECOVERY_TIMEOUT),
            instance: longest_id.clone(),
            name: longest_name.clone(),
        };
        assert_eq!(Event::decode(e.encode().as_bytes()), Ok(e));

        let too_long_name = format!("v1 closed i-1 0 {}", "n".repeat(MAX_NAME_LEN + 1));
        assert_eq!(
            Event::decode(too_long_name.as_bytes()),
            Err(Refused("bad breaker name"))
        );
        let too_long_id = format!("v1 closed {} 0 db", "i".repeat(MAX_ID_LEN + 1));
        assert_eq!(
            Event::decode(too_long_id.as_bytes()),
            Err(Refused("bad instance id"))
        );
        let over_a_year = format!("v1 opened i-1 {} db", MAX_RECOVERY_TIMEOUT.as_millis() + 1);
        assert_eq!(
            Event::decode(over_a_year.as_bytes()),
            Err(Refused("open time out of bounds"))
        );
        let huge = vec![b'x'; 1 << 20];
        assert_eq!(Event::decode(&huge), Err(Refused("too long")));
        assert_eq!(decode_order(&huge), Err(Refused("too long")));
    }

    #[test]
    fn malformed_orders_are_refused() {
        let cases: &[(&[u8], &str)] = &[
            (b"v1", "no order"),
            (b"v1 explode db", "unknown order"),
            (b"v1 reset", "no breaker name"),
            (b"v0 reset db", "not a v1 message"),
            (b"v1 reset \x07", "bad breaker name"),
        ];
        for (payload, reason) in cases {
            assert_eq!(decode_order(payload), Err(Refused(reason)));
        }
    }

    #[test]
    fn ids_are_plain_and_bounded() {
        assert!(valid_id("pod-7.eu_west"));
        assert!(valid_id(&"a".repeat(MAX_ID_LEN)));
        assert!(!valid_id(&"a".repeat(MAX_ID_LEN + 1)));
        for bad in ["", "a b", "a:b", "a*", "a?", "a[1]", "é"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
        assert!(valid_name("user service"));
        assert!(!valid_name("tab\there"));
    }
}
