//! One instance of a service in a fleet, for tests/fleet_processes.rs and the fleet's
//! measurements: the test starts several of these as separate processes sharing one breaker
//! name and one Redis, and reads what each prints.
//!
//! It calls a dependency (a line over TCP, `<instance> <state>\n`, answered `ok` or `err`)
//! every `CALL_EVERY_MS` through the breaker `dependency`, from a thread of its own, so that a
//! slow dependency never holds up the fleet's task. It prints, one line each, flushed:
//!
//! ```text
//! ready <instance>
//! connected <true|false> <unix ms>
//! transition <unix ms> <from> <to> <reason>
//! ```
//!
//! Settings (environment): `REDIS_URL`, `FLEET_INSTANCE`, `DEPENDENCY` (`127.0.0.1:port`);
//! optional `FLEET_QUORUM` (2), `RECOVERY_MS` (1000), `FAILURE_THRESHOLD` (2),
//! `CALL_EVERY_MS` (5).

use circuit_core::fleet::Fleet;
use circuit_core::{Config, Registry};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn setting<T: std::str::FromStr>(name: &str, default: Option<T>) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} does not parse")),
        Err(_) => default.unwrap_or_else(|| panic!("{name} is not set")),
    }
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// Prints one line and flushes it at once: the test reads lines as they come.
fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One call of the dependency: `ok` is a success, anything else (an `err`, a refused or
/// broken connection) a failure.
fn call_dependency(address: &str, instance: &str, state: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(format!("{instance} {state}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    BufReader::new(stream)
        .read_line(&mut reply)
        .map_err(|e| e.to_string())?;
    match reply.trim() {
        "ok" => Ok(()),
        other => Err(format!("dependency said {other:?}")),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url: String = setting("REDIS_URL", None);
    let instance: String = setting("FLEET_INSTANCE", None);
    let dependency: String = setting("DEPENDENCY", None);
    let quorum: u32 = setting("FLEET_QUORUM", Some(2));
    let recovery = Duration::from_millis(setting("RECOVERY_MS", Some(1000)));
    let threshold: u32 = setting("FAILURE_THRESHOLD", Some(2));
    let every = Duration::from_millis(setting("CALL_EVERY_MS", Some(5)));

    let registry = Arc::new(Registry::new());
    registry.on_state_change(|t| {
        say(format!(
            "transition {} {:?} {:?} {:?}",
            unix_ms(),
            t.from,
            t.to,
            t.reason
        ))
    });
    let config = Config::builder()
        .failure_threshold(threshold)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(recovery)
        .build()
        .expect("valid breaker settings");
    let breaker = registry.get_or_create("dependency", config);
    let fleet = Fleet::builder(url, "fleet-processes")
        .instance(instance.clone())
        .quorum(quorum)
        .attach(registry.clone())
        .expect("valid fleet settings");
    say(format!("ready {instance}"));

    let caller = {
        let (breaker, instance) = (breaker.clone(), instance.clone());
        std::thread::spawn(move || loop {
            let b = breaker.clone();
            let _ = breaker.call(|| {
                // The state the call was admitted in: HalfOpen means a trial.
                let state = format!("{:?}", b.state());
                call_dependency(&dependency, &instance, &state)
            });
            std::thread::sleep(every);
        })
    };

    let mut connected = false;
    loop {
        if fleet.is_connected() != connected {
            connected = !connected;
            say(format!("connected {connected} {}", unix_ms()));
        }
        if caller.is_finished() {
            panic!("the calling thread ended");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
