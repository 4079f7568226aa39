//! What the task does: with each local transition (publish this instance's evidence), with
//! each message (weigh the fleet's evidence, carry out orders), with each lease that falls due
//! (ask for the trial), and on each (re)connection (resynchronise from the keys).

use super::message::{decode_order, millis_up, valid_name, Event, Kind, Order};
use super::task::Task;
use super::FleetError;
use crate::{CircuitBreaker, Reason, Registry, State, Transition};
use redis::aio::MultiplexedConnection;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How close to a deadline a lease attempt still counts as on time; earlier, it is put off.
const SLACK: Duration = Duration::from_millis(10);

/// Releases the trial lease only if this instance still holds it: its own may have expired
/// and another instance's taken its place.
const RELEASE_LEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

impl<R> Task<R>
where
    R: Deref<Target = Registry> + Send + Sync + 'static,
{
    /// Publishes what the queued transitions say about this instance, or, without a
    /// connection, keeps the books only (the reconnect's resynchronisation sends them).
    pub(super) async fn drain(
        &mut self,
        conn: Option<&mut MultiplexedConnection>,
    ) -> Result<(), FleetError> {
        let mut pipe = redis::pipe();
        let mut commands = 0;
        for t in self.shared.outbox.take() {
            commands += self.on_transition(&t, &mut pipe);
        }
        match conn {
            Some(conn) if commands > 0 => {
                self.within(pipe.query_async::<()>(conn)).await??;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The books and the commands for one local transition; how many commands it added.
    fn on_transition(&mut self, t: &Transition, pipe: &mut redis::Pipeline) -> usize {
        // A metrics-only breaker's Open says "would have": not evidence. A name the fleet
        // cannot carry is not shared.
        if t.metrics_only || !valid_name(&t.name) {
            return 0;
        }
        let name = t.name.as_str();
        let mut commands = 0;
        // A lease is held from before the period ends to the end of the HalfOpen period that
        // follows: any other move ends it.
        if t.to != State::HalfOpen {
            commands += self.release_lease(name, pipe);
        }
        match t.to {
            State::Open => {
                let Some(left) = self.breaker(name).and_then(|b| open_left(&b)) else {
                    // Already out of this Open period: a later transition says where it went.
                    return commands;
                };
                if t.reason != Reason::Fleet {
                    self.own_open.insert(name.to_owned());
                    commands += self.publish_open(name, left, pipe);
                }
                self.schedule(name, left);
            }
            State::HalfOpen => {
                self.due.remove(name);
            }
            State::Closed | State::ForcedOpen | State::Disabled => {
                self.due.remove(name);
                let was_open = self.own_open.remove(name);
                if was_open {
                    pipe.cmd("DEL")
                        .arg(self.keys.open(name, &self.instance))
                        .ignore();
                    commands += 1;
                }
                let recovered = t.from == State::HalfOpen
                    && t.to == State::Closed
                    && matches!(t.reason, Reason::TrialsSucceeded(_));
                let kind = if recovered {
                    Kind::Recovered
                } else if was_open {
                    Kind::Closed
                } else {
                    return commands;
                };
                commands += self.publish(kind, name, pipe);
            }
        }
        commands
    }

    /// Sets this instance's `open` key for `name` and publishes `opened`, key first, so that
    /// whoever hears the message and then reads the keys finds it.
    fn publish_open(&self, name: &str, left: Duration, pipe: &mut redis::Pipeline) -> usize {
        let ms = millis_up(left);
        pipe.cmd("SET")
            .arg(self.keys.open(name, &self.instance))
            .arg(ms)
            .arg("PX")
            .arg(ms)
            .ignore();
        1 + self.publish(Kind::Opened(left), name, pipe)
    }

    fn publish(&self, kind: Kind, name: &str, pipe: &mut redis::Pipeline) -> usize {
        let event = Event {
            kind,
            instance: self.instance.clone(),
            name: name.to_owned(),
        };
        pipe.cmd("PUBLISH")
            .arg(self.keys.events())
            .arg(event.encode())
            .ignore();
        1
    }

    fn release_lease(&mut self, name: &str, pipe: &mut redis::Pipeline) -> usize {
        if !self.leases.remove(name) {
            return 0;
        }
        pipe.cmd("EVAL")
            .arg(RELEASE_LEASE)
            .arg(1)
            .arg(self.keys.trial(name))
            .arg(&self.instance)
            .ignore();
        1
    }

    /// One message from the subscription. Anything that does not parse is counted and
    /// logged, never an error: the session goes on.
    pub(super) fn on_message(&mut self, msg: &redis::Msg) -> Result<(), FleetError> {
        let channel = msg.get_channel_name();
        let payload = msg.get_payload_bytes();
        if channel == self.keys.events() {
            match Event::decode(payload) {
                Ok(event) => self.on_event(event),
                Err(why) => self.ignore(channel, payload, &why.to_string()),
            }
        } else if channel == self.keys.admin() {
            match decode_order(payload) {
                Ok((order, name)) => self.on_order(order, &name),
                Err(why) => self.ignore(channel, payload, &why.to_string()),
            }
        }
        Ok(())
    }

    fn ignore(&self, channel: &str, payload: &[u8], why: &str) {
        self.shared.ignored.fetch_add(1, Ordering::Relaxed);
        // At most 200 bytes of it in the log: the payload is a stranger's.
        let shown = String::from_utf8_lossy(&payload[..payload.len().min(200)]);
        tracing::warn!(%channel, reason = why, payload = %shown, "fleet: ignored a message");
    }

    fn on_event(&mut self, event: Event) {
        // Our own messages come back to us; what they say, we know.
        if event.instance == self.instance {
            return;
        }
        let now = Instant::now();
        let (name, instance) = (event.name.as_str(), event.instance.as_str());
        match event.kind {
            Kind::Opened(left) => {
                if !self.witnesses.opened(name, instance, now + left) {
                    tracing::warn!(breaker = name, %instance, "fleet: too many witnesses; ignored one");
                }
                self.weigh(name, left, now);
            }
            Kind::Closed => self.witnesses.closed(name, instance),
            Kind::Recovered => {
                self.witnesses.closed(name, instance);
                let Some(breaker) = self.breaker(name) else {
                    return;
                };
                // Our own trial, if we hold the lease, decides for us.
                let trialing = breaker.state() == State::HalfOpen && self.leases.contains(name);
                if !trialing {
                    breaker.fleet_close();
                }
            }
        }
    }

    /// Acts on the fleet's evidence about `name`, of which the newest says `heard` is left:
    /// an Open breaker holds to it; a Closed one (or a HalfOpen one not holding the trial
    /// lease) opens once the quorum is reached.
    pub(super) fn weigh(&mut self, name: &str, heard: Duration, now: Instant) {
        let Some(breaker) = self.breaker(name) else {
            return;
        };
        match breaker.state() {
            State::Open if breaker.fleet_hold(heard) => self.schedule(name, heard),
            State::Closed | State::HalfOpen if !self.leases.contains(name) => {
                let (others, longest) = self.witnesses.live(name, now);
                let witnesses = others + usize::from(self.own_open.contains(name));
                if witnesses >= self.quorum && !longest.is_zero() {
                    // Its transition comes back through the outbox, which schedules the lease.
                    breaker.fleet_open(longest);
                }
            }
            _ => {}
        }
    }

    fn on_order(&mut self, order: Order, name: &str) {
        let done = match order {
            Order::ForceOpen => self.registry.force_open(name),
            Order::Disable => self.registry.disable(name),
            Order::Reset => self.registry.reset(name),
        };
        match done {
            Ok(()) => tracing::info!(breaker = name, ?order, "fleet: carried out an order"),
            Err(unknown) => {
                tracing::debug!(%unknown, ?order, "fleet: an order for another breaker")
            }
        }
    }

    /// Asks for the trial lease of every Open breaker whose period ends now: the winner lets
    /// its breaker go HalfOpen; the others hold theirs open until the lease has run out.
    pub(super) async fn leases_due(
        &mut self,
        conn: &mut MultiplexedConnection,
    ) -> Result<(), FleetError> {
        let now = Instant::now();
        let ready: Vec<String> = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in ready {
            self.due.remove(&name);
            let Some(breaker) = self.breaker(&name) else {
                continue;
            };
            // No longer Open, or its period is over already: it decides alone (fails open).
            let Some(left) = open_left(&breaker) else {
                continue;
            };
            let lead = lead(&breaker);
            if left > lead + SLACK {
                // Its period was lengthened meanwhile.
                self.due.insert(name, now + (left - lead));
                continue;
            }
            let key = self.keys.trial(&name);
            let lease = millis_up(lease(&breaker) + lead);
            let won: Option<String> = self
                .within(
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(&self.instance)
                        .arg("NX")
                        .arg("PX")
                        .arg(lease)
                        .query_async(conn),
                )
                .await??;
            if won.is_some() {
                self.leases.insert(name);
                continue;
            }
            let pttl: i64 = self
                .within(redis::cmd("PTTL").arg(&key).query_async(conn))
                .await??;
            // -2: gone since (its holder released it), -1: no expiry (not ours to judge).
            let holder_left = Duration::from_millis(u64::try_from(pttl).unwrap_or(0));
            breaker.fleet_hold(holder_left + lead);
            self.due
                .insert(name, Instant::now() + holder_left.max(SLACK));
        }
        Ok(())
    }

    /// After each (re)connection: withdraw what Redis holds of ours that is no longer true,
    /// set again what is (Redis may have restarted empty, or we opened while cut off), read
    /// everyone else's `open` keys, and act on them.
    pub(super) async fn resync(
        &mut self,
        conn: &mut MultiplexedConnection,
    ) -> Result<(), FleetError> {
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = self
                .within(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(self.keys.open_pattern())
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(conn),
                )
                .await??;
            keys.extend(batch);
            cursor = next;
            if cursor == 0 || keys.len() >= super::witnesses::MAX_WITNESSES {
                break;
            }
        }
        let ttls: Vec<i64> = if keys.is_empty() {
            Vec::new()
        } else {
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("PTTL").arg(key);
            }
            self.within(pipe.query_async(conn)).await??
        };

        let now = Instant::now();
        self.witnesses.clear();
        let mut pipe = redis::pipe();
        let mut commands = 0;
        for (key, ttl) in keys.iter().zip(ttls) {
            let Some((name, instance)) = self.keys.parse_open(key) else {
                continue;
            };
            let Ok(ms) = u64::try_from(ttl) else {
                continue; // gone since the SCAN, or set without an expiry by a stranger
            };
            if instance == self.instance {
                if !self.own_open.contains(name) {
                    pipe.cmd("DEL").arg(key).ignore();
                    commands += 1 + self.publish(Kind::Closed, name, &mut pipe);
                }
                continue;
            }
            self.witnesses
                .opened(name, instance, now + Duration::from_millis(ms));
        }
        let own: Vec<String> = self.own_open.iter().cloned().collect();
        for name in own {
            match self.breaker(&name).and_then(|b| open_left(&b)) {
                Some(left) => commands += self.publish_open(&name, left, &mut pipe),
                None => {
                    self.own_open.remove(&name);
                }
            }
        }
        if commands > 0 {
            self.within(pipe.query_async::<()>(conn)).await??;
        }
        for name in self.witnesses.breakers() {
            let (_, longest) = self.witnesses.live(&name, now);
            if !longest.is_zero() {
                self.weigh(&name, longest, now);
            }
        }
        // Every Open breaker asks for its lease again, whoever opened it.
        for breaker in self.registry.all() {
            if let Some(left) = open_left(&breaker) {
                if valid_name(breaker.name()) {
                    self.schedule(breaker.name(), left);
                }
            }
        }
        Ok(())
    }

    /// Asks for the trial lease of `name` shortly before its Open period, `left` from now,
    /// ends.
    fn schedule(&mut self, name: &str, left: Duration) {
        let lead = self.breaker(name).map_or(Duration::ZERO, |b| lead(&b));
        self.due
            .insert(name.to_owned(), Instant::now() + left.saturating_sub(lead));
    }

    fn breaker(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.registry.get(name)
    }
}

/// Time left in `breaker`'s Open period, `None` if it is not Open or the period is over.
fn open_left(breaker: &CircuitBreaker) -> Option<Duration> {
    breaker.retry_after().filter(|left| !left.is_zero())
}

/// How long before an Open period ends its lease is asked for: long enough for a round trip
/// to Redis and the task's wake-up, short against the period.
pub(super) fn lead(breaker: &CircuitBreaker) -> Duration {
    (breaker.config().recovery_timeout / 4).min(Duration::from_millis(100))
}

/// How long a trial lease lasts: the breaker's `half_open_max_wait` (the longest its own
/// HalfOpen period waits for trials to decide), at most its `recovery_timeout` (so a dead
/// winner delays the next trial by no more than a period).
pub(super) fn lease(breaker: &CircuitBreaker) -> Duration {
    let config = breaker.config();
    config.half_open_max_wait.min(config.recovery_timeout)
}
