//! The fleet's background task: the connection's life. Connect (a multiplexed connection for
//! commands, a subscription for the two channels), resynchronise from the keys, then serve
//! until Redis goes away or the fleet is dropped; while cut off, keep the books and wait, with
//! exponential backoff and jitter, to connect again. What it does with each message,
//! transition and lease is in [`react`](super::react).

use super::keys::Keys;
use super::witnesses::Witnesses;
use super::{FleetError, Shared};
use crate::Registry;
use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubStream};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the task pings Redis: a partition that drops packets silently is found within
/// this and the command timeout.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(1);
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

pub(crate) struct Task<R> {
    pub(super) registry: R,
    pub(super) shared: Arc<Shared>,
    client: redis::Client,
    pub(super) keys: Keys,
    pub(super) instance: String,
    pub(super) quorum: usize,
    timeout: Duration,
    /// Other instances' Open periods, as last heard.
    pub(super) witnesses: Witnesses,
    /// Breakers this instance has open on its own evidence: its `open` keys.
    pub(super) own_open: HashSet<String>,
    /// Breakers whose trial lease this instance holds.
    pub(super) leases: HashSet<String>,
    /// When to ask for the trial lease of each Open breaker.
    pub(super) due: HashMap<String, Instant>,
}

/// How a connected session ended.
enum Ended {
    Stopped,
    Lost(FleetError),
}

impl<R> Task<R>
where
    R: Deref<Target = Registry> + Send + Sync + 'static,
{
    pub(super) fn new(
        registry: R,
        shared: Arc<Shared>,
        client: redis::Client,
        keys: Keys,
        instance: String,
        quorum: u32,
        timeout: Duration,
    ) -> Self {
        Task {
            registry,
            shared,
            client,
            keys,
            instance,
            quorum: quorum as usize,
            timeout,
            witnesses: Witnesses::default(),
            own_open: HashSet::new(),
            leases: HashSet::new(),
            due: HashMap::new(),
        }
    }

    pub(super) async fn run(mut self) {
        let shared = self.shared.clone();
        let mut retry = FIRST_RETRY;
        // Whether the loss of Redis was logged: once per loss (or at start), not once per
        // attempt; a session that ends logs its own loss.
        let mut down_logged = false;
        loop {
            if shared.stopped.load(Ordering::Relaxed) {
                return;
            }
            match self.connect().await {
                Ok((conn, stream)) => {
                    retry = FIRST_RETRY;
                    match self.session(conn, stream).await {
                        Ended::Stopped => return self.disconnected(),
                        Ended::Lost(error) => {
                            self.disconnected();
                            tracing::warn!(
                                instance = %self.instance, %error,
                                "fleet: lost Redis; breakers work alone until it is back"
                            );
                            down_logged = true;
                        }
                    }
                }
                Err(error) => {
                    if !down_logged {
                        tracing::warn!(
                            instance = %self.instance, %error,
                            "fleet: cannot reach Redis; breakers work alone until it answers"
                        );
                        down_logged = true;
                    }
                }
            }
            if self.wait_offline(jittered(retry)).await {
                return;
            }
            retry = (retry * 2).min(LAST_RETRY);
        }
    }

    async fn connect(&self) -> Result<(MultiplexedConnection, PubSubStream), FleetError> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut pubsub = self.within(self.client.get_async_pubsub()).await??;
        self.within(pubsub.subscribe(vec![self.keys.events(), self.keys.admin()]))
            .await??;
        Ok((conn, pubsub.into_on_message()))
    }

    /// A connected session: resynchronise, then serve messages, transitions, leases and the
    /// heartbeat until Redis goes away or the fleet stops.
    async fn session(
        &mut self,
        mut conn: MultiplexedConnection,
        mut stream: PubSubStream,
    ) -> Ended {
        // Subscribed first, read the keys second: whatever changes in between arrives as a
        // message, queued in `stream`, and is applied after the keys.
        if let Err(error) = self.resync(&mut conn).await {
            return Ended::Lost(error);
        }
        self.shared.connected.store(true, Ordering::Relaxed);
        tracing::info!(instance = %self.instance, "fleet: connected to Redis");
        let shared = self.shared.clone();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.tick().await; // the first tick is immediate
        loop {
            let wake = self.next_due();
            let result = tokio::select! {
                biased;
                () = shared.stopped() => return Ended::Stopped,
                msg = stream.next() => match msg {
                    Some(msg) => self.on_message(&msg),
                    None => Err(FleetError::Lost("the subscription was closed")),
                },
                () = shared.outbox.ready() => self.drain(Some(&mut conn)).await,
                () = tokio::time::sleep_until(wake.into()) => self.leases_due(&mut conn).await,
                _ = heartbeat.tick() => match self.drain(Some(&mut conn)).await {
                    // Also a drain: a wake-up lost to a cancelled branch costs at most a beat.
                    Ok(()) => self.heartbeat(&mut conn).await,
                    Err(error) => Err(error),
                },
            };
            if let Err(error) = result {
                return Ended::Lost(error);
            }
        }
    }

    /// Waits `wait` before the next attempt, keeping the books of the transitions meanwhile.
    /// Whether the fleet was stopped.
    async fn wait_offline(&mut self, wait: Duration) -> bool {
        let shared = self.shared.clone();
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                biased;
                () = shared.stopped() => return true,
                () = shared.outbox.ready() => {
                    // Nothing to send: the books only. Resent after the reconnect.
                    let _ = self.drain(None).await;
                }
                () = tokio::time::sleep_until(until) => return false,
            }
        }
    }

    fn disconnected(&mut self) {
        self.shared.connected.store(false, Ordering::Relaxed);
        // Leases are Redis's: whatever this instance held, it can no longer speak for. (The
        // lease attempts due stay: the resynchronisation reschedules them anyway.)
        self.leases.clear();
    }

    async fn heartbeat(&mut self, conn: &mut MultiplexedConnection) -> Result<(), FleetError> {
        self.witnesses.sweep(Instant::now());
        redis::cmd("PING").query_async::<()>(conn).await?;
        Ok(())
    }

    /// The next lease attempt due, or a moment far enough away to mean "none".
    fn next_due(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        self.due.values().copied().min().unwrap_or(far).min(far)
    }

    pub(super) async fn within<T>(
        &self,
        f: impl std::future::Future<Output = T>,
    ) -> Result<T, FleetError> {
        tokio::time::timeout(self.timeout, f)
            .await
            .map_err(|_| FleetError::Timeout(self.timeout))
    }
}

/// `base` spread uniformly over `[base / 2, base]`, so that a fleet that lost Redis together
/// does not come back in one burst.
fn jittered(base: Duration) -> Duration {
    let unit = (RandomState::new().hash_one(Instant::now()) >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(0.5 + 0.5 * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_jittered_within_half_and_whole() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(2));
            assert!(
                (Duration::from_secs(1)..=Duration::from_secs(2)).contains(&d),
                "{d:?}"
            );
        }
    }
}
