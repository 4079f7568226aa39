//! The seed design's resilient HTTP client: one breaker per downstream service, taken from the
//! registry by service name, and the last good response per URL served while a service is down.
//!
//! Two small HTTP servers run on 127.0.0.1 (std only, no HTTP crate): `users` stays healthy,
//! `orders` answers 503 for a while and then recovers. The `orders` breaker opens while the
//! `users` one stays closed, and the health report shows both. The servers stop by themselves
//! when the example ends. Run it with `cargo run --example http_client`.

use circuit_core::{registry, CircuitBreaker, CircuitError, Config, FallbackCache};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// What a request through the client can end in.
#[derive(Debug)]
enum HttpError {
    /// The service answered with this status: 4xx means it is up, 5xx that it is not.
    Status(u16),
    /// No answer: refused, reset, timed out.
    Io(io::ErrorKind),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Status(status) => write!(f, "HTTP {status}"),
            HttpError::Io(kind) => write!(f, "no answer ({kind})"),
        }
    }
}

impl HttpError {
    /// Whether the error says the service is down: the breaker counts only these.
    fn is_outage(&self) -> bool {
        match self {
            HttpError::Status(status) => *status >= 500,
            HttpError::Io(_) => true,
        }
    }
}

/// The seed's `ResilientHTTPClient`: a breaker per service, a cache per URL.
struct ResilientHttpClient {
    config: Config,
    cache: FallbackCache<String, String>,
}

impl ResilientHttpClient {
    fn new(config: Config) -> Self {
        ResilientHttpClient {
            config,
            cache: FallbackCache::new(),
        }
    }

    /// The breaker of `service`: created on first use, then the same one for every request.
    fn circuit(&self, service: &str) -> Arc<CircuitBreaker> {
        registry().get_or_create(service, self.config.clone())
    }

    /// GET `path` from `service` at `addr`, through that service's breaker. While the breaker
    /// rejects, or when the service fails, the last good body for the URL is served if fresh.
    fn get(&self, service: &str, addr: SocketAddr, path: &str) -> Result<String, String> {
        let url = format!("http://{addr}{path}");
        let breaker = self.circuit(service);
        match breaker.call_with(|| http_get(addr, path), HttpError::is_outage) {
            Ok(body) => {
                self.cache.put(url, body.clone());
                Ok(body)
            }
            Err(CircuitError::Inner(error)) if !error.is_outage() => Err(error.to_string()),
            Err(error) => {
                let why = match &error {
                    CircuitError::Open(open) => open.to_string(),
                    CircuitError::Inner(e) => e.to_string(),
                };
                match self.cache.get(&url) {
                    Some(body) => {
                        breaker.record_fallback();
                        Ok(format!("{body} (cached; {why})"))
                    }
                    None => Err(why),
                }
            }
        }
    }
}

/// A minimal HTTP/1.0 GET: the status line and the body.
fn http_get(addr: SocketAddr, path: &str) -> Result<String, HttpError> {
    let io = |e: io::Error| HttpError::Io(e.kind());
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(io)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(io)?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).map_err(io)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Io(io::ErrorKind::InvalidData))?;
    let mut rest = String::new();
    reader.read_to_string(&mut rest).map_err(io)?;
    let body = rest.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    if status >= 400 {
        return Err(HttpError::Status(status));
    }
    Ok(body)
}

/// A one-thread HTTP server on an ephemeral port of 127.0.0.1. It answers 503 while `down`
/// is set, and stops once `stop` is set (woken by one last connection).
struct Server {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start(name: &'static str) -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (down, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (d, s) = (down.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = answer(stream, name, d.load(Ordering::SeqCst));
                }
            }
        });
        Ok(Server {
            addr,
            down,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop so it sees `stop`
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(mut stream: TcpStream, name: &str, down: bool) -> io::Result<()> {
    let mut reader = BufReader::new(&mut stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read the headers to the blank line: closing with the request unread would reset the
    // connection under the client's feet.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (status, body) = match (down, path.as_str()) {
        (true, _) => (
            "503 Service Unavailable",
            String::from("{\"error\":\"maintenance\"}"),
        ),
        (false, "/missing") => ("404 Not Found", String::from("{\"error\":\"not found\"}")),
        (false, _) => (
            "200 OK",
            format!("{{\"service\":\"{name}\",\"path\":\"{path}\"}}"),
        ),
    };
    write!(
        stream,
        "HTTP/1.0 {status}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users = Server::start("users")?;
    let orders = Server::start("orders")?;
    let client = ResilientHttpClient::new(
        Config::builder()
            .failure_threshold(3)
            .success_threshold(1)
            .recovery_timeout(Duration::from_millis(500))
            .build()?,
    );
    for service in ["users", "orders"] {
        client
            .circuit(service)
            .on_state_change(|t| println!("    [transition] {t}"));
    }
    let show = |service: &str, addr, path: &str| {
        println!(
            "  GET {service}{path} -> {:?}",
            client.get(service, addr, path)
        );
    };

    println!("1. both services are up");
    show("users", users.addr, "/users/1");
    show("orders", orders.addr, "/orders/7");
    show("users", users.addr, "/missing"); // a 404: the service answered, nothing trips

    println!("2. orders goes down for maintenance; users stays up");
    orders.down.store(true, Ordering::SeqCst);
    for path in [
        "/orders/7",
        "/orders/8",
        "/orders/7",
        "/orders/7",
        "/orders/8",
    ] {
        show("orders", orders.addr, path);
    }
    show("users", users.addr, "/users/2");

    println!("3. orders recovers; its breaker lets a trial through after the timeout");
    orders.down.store(false, Ordering::SeqCst);
    thread::sleep(Duration::from_millis(600));
    show("orders", orders.addr, "/orders/9");

    println!("4. health of every breaker");
    for s in registry().snapshots() {
        println!(
            "  {:<7} {:<7} successes={} failures={} rejected={} fallbacks={}",
            s.name, s.state, s.successes, s.failures, s.rejected, s.fallbacks
        );
    }
    Ok(())
}
