//! A fleet of separate processes (the `fleet_instance` example) and the dependency they call,
//! for tests/fleet_processes.rs and benches/fleet.rs.
//!
//! The dependency is a line protocol on 127.0.0.1: each call is a connection carrying
//! `<instance> <state>\n` (the state the caller's breaker admitted it in, `HalfOpen` for a
//! trial), answered `ok\n` or `err\n`. It records every call, and answers as the test sets it:
//! up, down for some instances or all, and trials held unanswered (a winner that hangs).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One call the dependency received.
#[derive(Clone, Debug)]
pub struct Call {
    pub instance: String,
    pub state: String,
    pub at: Instant,
}

#[derive(Default)]
struct Behaviour {
    /// Instances it fails for; `*` for all.
    down_for: HashSet<String>,
    /// Trials are held, unanswered, while set.
    hold_trials: bool,
}

/// The dependency: a thread accepting on 127.0.0.1, a thread per call; stopped when dropped.
pub struct Dependency {
    address: String,
    calls: Arc<Mutex<Vec<Call>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
}

impl Dependency {
    pub fn start() -> Dependency {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, b, s) = (calls.clone(), behaviour.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (c, b, s) = (c.clone(), b.clone(), s.clone());
                        std::thread::spawn(move || serve(stream, &c, &b, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        });
        Dependency {
            address,
            calls,
            behaviour,
            stop,
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Fails every call from these instances (`"*"`: from all); succeeds for the others.
    pub fn down_for(&self, instances: &[&str]) {
        self.behaviour.lock().unwrap().down_for = instances.iter().map(|s| s.to_string()).collect();
    }

    pub fn up(&self) {
        self.down_for(&[]);
    }

    /// Holds trial calls unanswered (the winner hangs mid-trial) while `on`.
    pub fn hold_trials(&self, on: bool) {
        self.behaviour.lock().unwrap().hold_trials = on;
    }

    /// Every call received so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The trial calls received so far.
    pub fn trials(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.state == "HalfOpen")
            .collect()
    }
}

impl Drop for Dependency {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    stream: TcpStream,
    calls: &Mutex<Vec<Call>>,
    behaviour: &Mutex<Behaviour>,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    let mut reader = BufReader::new(stream);
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut fields = line.split_whitespace();
    let (Some(instance), Some(state)) = (fields.next(), fields.next()) else {
        return;
    };
    calls.lock().unwrap().push(Call {
        instance: instance.to_owned(),
        state: state.to_owned(),
        at: Instant::now(),
    });
    if state == "HalfOpen" {
        // A held trial waits until released (or the test ends); the caller's own read timeout
        // bounds it too.
        while behaviour.lock().unwrap().hold_trials && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let down = {
        let b = behaviour.lock().unwrap();
        b.down_for.contains("*") || b.down_for.contains(instance)
    };
    let mut stream = reader.into_inner();
    let _ = stream.write_all(if down { b"err\n" } else { b"ok\n" });
}

/// One line an instance printed, with when the test read it.
#[derive(Clone, Debug)]
pub struct Line {
    pub text: String,
    pub at: Instant,
}

/// A running `fleet_instance` process; killed when dropped.
pub struct Process {
    pub id: String,
    child: Child,
    lines: Arc<Mutex<Vec<Line>>>,
}

/// The `fleet_instance` example binary, built beside the test binaries.
pub fn instance_binary() -> PathBuf {
    // target/<profile>/deps/<test>-<hash> -> target/<profile>/examples/
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/fleet_instance");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build --example fleet_instance` (`cargo test` does)",
        path.display()
    );
    path
}

impl Process {
    /// Starts instance `id` with these settings (environment variables of `fleet_instance`).
    pub fn start(
        id: &str,
        redis_url: &str,
        dependency: &Dependency,
        settings: &[(&str, &str)],
    ) -> Process {
        let mut command = Command::new(instance_binary());
        command
            .env("REDIS_URL", redis_url)
            .env("FLEET_INSTANCE", id)
            .env("DEPENDENCY", dependency.address())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in settings {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("fleet_instance starts");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(text) = line else { break };
                l.lock().unwrap().push(Line {
                    text,
                    at: Instant::now(),
                });
            }
        });
        Process {
            id: id.to_owned(),
            child,
            lines,
        }
    }

    pub fn lines(&self) -> Vec<Line> {
        self.lines.lock().unwrap().clone()
    }

    /// The transitions printed so far: `(from, to, reason)`, as Debug text.
    pub fn transitions(&self) -> Vec<(String, String, String)> {
        self.lines()
            .iter()
            .filter_map(|l| {
                let mut f = l.text.splitn(5, ' ');
                (f.next()? == "transition").then_some(())?;
                let _ms = f.next()?;
                Some((
                    f.next()?.to_owned(),
                    f.next()?.to_owned(),
                    f.next()?.to_owned(),
                ))
            })
            .collect()
    }

    /// The state its breaker is in, by the last transition printed.
    pub fn state(&self) -> String {
        self.transitions()
            .last()
            .map_or_else(|| "Closed".to_owned(), |t| t.1.clone())
    }

    /// Whether it last printed that its fleet is connected.
    pub fn connected(&self) -> bool {
        self.lines()
            .iter()
            .rev()
            .find(|l| l.text.starts_with("connected "))
            .is_some_and(|l| l.text.starts_with("connected true"))
    }

    /// Kills it (SIGKILL: a crash) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `done` every 5 ms until it holds; panics with `what` after `within`.
pub fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
