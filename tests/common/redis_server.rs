//! A real Redis server for a test: `redis-server` on 127.0.0.1 and a free port, its files in a
//! temporary directory, nothing saved to disk, killed when the guard drops. It can be killed
//! and started again on the same port mid-test (the fleet's fail-open tests). If it cannot
//! start, the test fails with the server's own log: it never passes without a server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A running `redis-server`; killed when dropped.
pub struct Redis {
    dir: tempfile::TempDir,
    port: u16,
    child: Mutex<Option<Child>>,
}

impl Redis {
    /// Starts a server and waits until it answers `PING`. Panics, with the reason and the
    /// server's log, if `redis-server` is not installed or does not answer.
    pub fn start() -> Redis {
        let dir = tempfile::Builder::new()
            .prefix("circuit-redis-")
            .tempdir()
            .expect("a temporary directory");
        let server = Redis {
            dir,
            port: free_port(),
            child: Mutex::new(None),
        };
        server.start_again();
        server
    }

    /// Starts the server again after [`kill`](Self::kill), on the same port, empty (nothing
    /// was saved), and waits until it answers.
    pub fn start_again(&self) {
        let mut child = self.child.lock().unwrap();
        assert!(child.is_none(), "redis-server is already running");
        let log = std::fs::File::create(self.log_file()).expect("the server's log file");
        let spawned = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file again"))
            .stderr(log)
            .spawn();
        match spawned {
            Ok(process) => *child = Some(process),
            Err(e) => panic!(
                "redis-server could not be started: {e} (scripts/install-packages.sh installs it)"
            ),
        }
        drop(child);
        self.wait_until_answering();
    }

    /// Kills the server at once (SIGKILL: a crash, not a shutdown). Connections then meet a
    /// refused port until [`start_again`](Self::start_again).
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// One command in Redis's inline protocol, for a test to look at the keys; the raw reply.
    pub fn command(&self, line: &str) -> String {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("the test's Redis answers");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        let mut reply = vec![0; 64 * 1024];
        let n = stream.read(&mut reply).expect("a reply");
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    fn wait_until_answering(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut reply = [0; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server exited ({status}) before answering on 127.0.0.1:{}; log:\n{}",
                    self.port,
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on 127.0.0.1:{} within 30 s; log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listens on now (the OS's choice for port 0).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
