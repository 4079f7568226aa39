//! A fleet of three instances sharing a breaker through Redis:
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --example fleet
//! ```
//!
//! It starts three instances of a small service as child processes (this same program, run
//! with `--instance <id>`), each calling a dependency that this parent process serves on
//! 127.0.0.1, through a breaker named `dependency` with a fleet attached (quorum 2). Then it
//! takes the dependency down for two instances: they trip on their own failures, and the third
//! opens from the fleet without a failure of its own. It prints every instance's transitions
//! and the measured propagation time, then brings the dependency back and counts the trial
//! calls that reach it (one for the whole fleet, not one per instance).

use circuit_core::fleet::Fleet;
use circuit_core::{Config, Registry};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const INSTANCES: [&str; 3] = ["a", "b", "c"];
const RECOVERY: Duration = Duration::from_secs(2);

fn main() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, id, dependency] = args.as_slice() {
        if flag == "--instance" {
            return instance(&url, id, dependency);
        }
    }
    if let Err(why) = redis_answers(&url) {
        eprintln!(
            "No Redis answers at {url} ({why}).\n\
             Start one, for example:\n\
             \n    redis-server --port 6379 --save '' --appendonly no\n\
             \n(Debian: apt-get install redis-server), or point REDIS_URL at yours:\n\
             \n    REDIS_URL=redis://127.0.0.1:6380/ cargo run --example fleet\n"
        );
        std::process::exit(1);
    }
    parent(&url);
}

/// `PING` over a plain socket: whether a Redis answers at `url` (`redis://host:port/...`).
fn redis_answers(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or("REDIS_URL must start with redis://")?;
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
    let address = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    };
    let mut stream = TcpStream::connect(&address).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
    let mut reply = [0; 64];
    let n = stream.read(&mut reply).map_err(|e| e.to_string())?;
    let reply = String::from_utf8_lossy(&reply[..n]);
    // +PONG, or -NOAUTH from a server with a password (the URL then carries it).
    if reply.starts_with("+PONG") || reply.starts_with("-NOAUTH") {
        Ok(())
    } else {
        Err(format!("it answered {:?}", reply.trim()))
    }
}

fn micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

// ---- the parent: the dependency, the instances, the story -----------------------------------

/// The dependency's answers: down for these instances.
#[derive(Default)]
struct Dependency {
    down_for: Mutex<Vec<String>>,
    trials: AtomicU32,
}

fn parent(url: &str) {
    let dependency = Arc::new(Dependency::default());
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
    let address = listener.local_addr().unwrap().to_string();
    let serving = dependency.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serving = serving.clone();
            std::thread::spawn(move || serve(stream, &serving));
        }
    });

    let exe = std::env::current_exe().expect("this program's path");
    let lines: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let children: Vec<Child> = INSTANCES
        .iter()
        .map(|id| {
            let mut child = Command::new(&exe)
                .args(["--instance", id, &address])
                .env("REDIS_URL", url)
                .stdout(Stdio::piped())
                .spawn()
                .expect("an instance starts");
            let out = child.stdout.take().unwrap();
            let (lines, id) = (lines.clone(), id.to_string());
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    println!("  [{id}] {line}");
                    lines.lock().unwrap().push((id.clone(), line));
                }
            });
            child
        })
        .collect();
    let _guard = Children(children);

    // When instance `id` printed a line for which `is` holds, in microseconds since the epoch.
    let when = |id: &str, is: &dyn Fn(&str) -> bool| -> Option<u128> {
        lines
            .lock()
            .unwrap()
            .iter()
            .find(|(i, l)| i == id && is(l))
            .and_then(|(_, l)| l.split(' ').next()?.parse().ok())
    };
    let seen = |id: &str, what: &str| when(id, &|l: &str| l.contains(what)).is_some();
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > Duration::from_secs(20) {
                eprintln!("gave up waiting: {what}");
                std::process::exit(1);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait("every instance connects to Redis", &|| {
        INSTANCES
            .iter()
            .all(|id| seen(id, "connected to the fleet"))
    });

    println!("\nThe dependency fails for a and b: they trip on their own; c has no failure.");
    *dependency.down_for.lock().unwrap() = vec!["a".into(), "b".into()];
    wait("c opens from the fleet", &|| {
        seen("c", "-> Open by the fleet")
    });
    let tripped = |l: &str| l.contains("Closed -> Open after");
    let second_witness = when("a", &tripped)
        .unwrap_or(0)
        .max(when("b", &tripped).unwrap_or(0));
    let c_opened = when("c", &|l: &str| l.contains("-> Open by the fleet")).unwrap_or(0);
    println!(
        "\nc opened {:.2} ms after the second instance tripped (the quorum is 2).",
        c_opened.saturating_sub(second_witness) as f64 / 1000.0
    );

    println!("\nThe dependency answers again; the fleet elects one trial call.");
    dependency.down_for.lock().unwrap().clear();
    wait("every instance closes", &|| {
        INSTANCES.iter().all(|id| seen(id, "-> Closed"))
    });
    println!(
        "\nTrial calls that reached the dependency: {} (without the fleet: one per instance, {}).",
        dependency.trials.load(Ordering::Relaxed),
        INSTANCES.len()
    );
}

fn serve(stream: TcpStream, dependency: &Dependency) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut fields = line.split_whitespace();
    let (id, state) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
    if state == "HalfOpen" {
        dependency.trials.fetch_add(1, Ordering::Relaxed);
    }
    let down = dependency.down_for.lock().unwrap().iter().any(|d| d == id);
    let _ = reader
        .into_inner()
        .write_all(if down { b"err\n" } else { b"ok\n" });
}

/// Kills the instances when the parent ends, however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---- one instance: a breaker with the fleet attached, calling the dependency ----------------

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn instance(url: &str, id: &str, dependency: &str) {
    let registry = Arc::new(Registry::new());
    registry.on_state_change(|t| println!("{} {:?} -> {:?} {}", micros(), t.from, t.to, t.reason));
    let config = Config::builder()
        .failure_threshold(3)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(RECOVERY)
        .build()
        .expect("valid settings");
    let breaker = registry.get_or_create("dependency", config);
    let fleet = Fleet::builder(url, "fleet-example")
        .instance(id)
        .attach(registry.clone())
        .expect("valid fleet settings");

    let (b, address, id) = (breaker.clone(), dependency.to_owned(), id.to_owned());
    std::thread::spawn(move || loop {
        let probe = b.clone();
        let _ = b.call(|| {
            let state = format!("{:?}", probe.state());
            let mut stream = TcpStream::connect(&address).map_err(|e| e.to_string())?;
            stream
                .write_all(format!("{id} {state}\n").as_bytes())
                .map_err(|e| e.to_string())?;
            let mut reply = String::new();
            BufReader::new(stream)
                .read_line(&mut reply)
                .map_err(|e| e.to_string())?;
            if reply.trim() == "ok" {
                Ok(())
            } else {
                Err(format!("dependency said {:?}", reply.trim()))
            }
        });
        std::thread::sleep(Duration::from_millis(20));
    });

    let mut connected = false;
    loop {
        if fleet.is_connected() != connected {
            connected = !connected;
            let said = if connected {
                "connected to the fleet"
            } else {
                "cut off from the fleet: working alone"
            };
            println!("{} {said}", micros());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
