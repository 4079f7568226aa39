//! The real `database_service` binary: it refuses a bad setting, serves, and shuts down
//! gracefully on SIGTERM. (`cargo test` builds the examples; `cargo test --test
//! database_binary` alone uses the binary the last build left, so build it first.)

mod common;
#[path = "common/http.rs"]
mod http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    // target/<profile>/deps/database_binary-<hash> -> target/<profile>/examples/
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/database_service");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build --example database_service` (`cargo test` does)",
        path.display()
    );
    path
}

fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the service did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_bad_setting_refuses_to_start_naming_it() {
    for (variable, value) in [
        ("POOL_SIZE", "zero"),
        ("POOL_TIMEOUT", "30 seconds"),
        ("DB_STATEMENT_TIMEOUT", "0"),
        ("DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "soon"),
        ("DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "-1"),
        ("BIND", "localhost"),
    ] {
        let out = Command::new(binary())
            .env(variable, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{variable}={value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(variable) && stderr.contains(value),
            "{variable}={value}: {stderr}"
        );
    }
}

#[tokio::test]
async fn serves_then_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::postgres::free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = Command::new(binary())
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("db.sqlite3").display()
            ),
        )
        .env("BIND", addr.to_string())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Up once it accepts connections.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the service exited before serving: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the service did not listen on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let created = http::post_json(
        addr,
        "/users",
        r#"{"name": "Ada", "email": "ada@example.com"}"#,
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let health = http::get(addr, "/health").await;
    assert_eq!(health.json()["breakers"]["database"]["state"], "closed");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "a graceful shutdown exits 0: {status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("shutting down") && stderr.contains("stopped"),
        "{stderr}"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
