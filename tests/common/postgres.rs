//! A real PostgreSQL server for a test: `initdb` and `pg_ctl` into a temporary directory, on
//! 127.0.0.1 and a free port, stopped when the guard drops. It runs as the `postgres` user
//! when the tests run as root (the server refuses root). If it cannot start, the test fails
//! with the server's own log: it never passes without a server.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A running PostgreSQL server; stopped (immediately) when dropped.
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_root: bool,
}

impl Postgres {
    /// Initialises a cluster and starts it. Panics, with the reason and the server's log, if
    /// PostgreSQL is not installed or does not start.
    pub fn start() -> Postgres {
        let bin = bin_dir().unwrap_or_else(|| {
            panic!(
                "PostgreSQL is not installed: no initdb on PATH nor in /usr/lib/postgresql/*/bin \
                 (scripts/install-packages.sh installs it)"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("circuit-pg-")
            .tempdir()
            .expect("a temporary directory");
        let as_root = is_root();
        let server = Postgres {
            bin,
            dir,
            port: free_port(),
            as_root,
        };
        if as_root {
            // The server runs as `postgres`, which must own its directory.
            server.check(
                "chown",
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(server.dir.path())
                    .output(),
            );
        }
        let data = server.data_dir();
        let initdb = server
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output();
        server.check("initdb", initdb);
        server.start_again();
        server
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port and data, and
    /// waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c max_connections=60",
            self.port,
            self.dir.path().display()
        );
        let started = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .output();
        self.check("pg_ctl start", started);
        self.wait_until_answering();
    }

    /// Stops the server (fast shutdown: sessions are ended, data is kept). Connections then
    /// meet a refused port until [`start_again`](Self::start_again).
    pub fn stop(&self) {
        let stopped = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"])
            .output();
        self.check("pg_ctl stop", stopped);
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `program` from PostgreSQL's bin directory, as `postgres` if we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn check(&self, what: &str, output: std::io::Result<Output>) {
        match output {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "PostgreSQL could not be started: {what} failed ({})\nstdout: {}\nstderr: {}\nserver log:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log()
            ),
            Err(e) => panic!("PostgreSQL could not be started: {what} did not run: {e}"),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// `pg_ctl -w` waits until the server accepts connections; this checks the TCP port
    /// answers too, and fails with the log if it does not.
    fn wait_until_answering(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not answer on 127.0.0.1:{} within 30 s; server log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One server shared by the tests of a binary that run at the same time; stopped when the
/// last of them drops its handle (a static would never be dropped, and would leave the server
/// running after the tests).
pub fn shared() -> Arc<Postgres> {
    static SHARED: Mutex<Weak<Postgres>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(Postgres::start());
    *shared = Arc::downgrade(&server);
    server
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Immediate: nothing to keep, and a failing test must not wait for its sessions.
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// PostgreSQL's programs: where `initdb` is on PATH, or Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let version = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A port nobody listens on now (the OS's choice for port 0).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
