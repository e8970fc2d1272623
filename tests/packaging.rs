//! The binary run the way the container image and the systemd unit run it: as an unprivileged
//! user, the whole file system read-only except the data directory, configuration from the
//! environment only (no `.env`, nothing inherited). It must start, answer `/healthz` and
//! `/readyz`, keep its files in the data directory, and exit cleanly on SIGTERM. (`.ci/run` also
//! lints the Dockerfile with hadolint and the unit with `systemd-analyze verify`.)
//!
//! Needs root (to make the mount namespace and drop to `nobody`), as CI runs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The status line of `GET path` (HTTP/1.0), or the connection error.
fn status_of(port: u16, path: &str) -> String {
    let mut stream = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return e.to_string();
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

/// Waits up to 30 s for `GET path` to answer 200.
fn wait_for_200(port: u16, path: &str, server: &mut Child) {
    let started = Instant::now();
    loop {
        let status = status_of(port, path);
        if status.contains(" 200 ") {
            return;
        }
        if let Ok(Some(exit)) = server.try_wait() {
            panic!("the server exited ({exit}) before {path} answered 200");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} did not answer 200: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn runs_unprivileged_on_a_read_only_system_with_environment_only_configuration() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let chown = Command::new("chown").args(["nobody", &dir]).status();
    assert!(
        chown.is_ok_and(|s| s.success()),
        "this test runs as root (as CI does): it drops to nobody in a read-only mount namespace"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = env!("CARGO_BIN_EXE_incident");
    // The root read-only, the data directory (a bind mount of its own) writable, then nobody
    // runs the binary with only the variables the unit or image would give it.
    let script = format!(
        "mount --make-rprivate / && mount --bind '{dir}' '{dir}' && mount -o remount,bind,ro / \
         && cd '{dir}' && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- \
         env -i PORT={port} HOST=127.0.0.1 DATABASE_URL=sqlite://{dir}/incident.db \
         LOG_FORMAT=json METRICS_ADDR=off '{binary}' serve"
    );
    let mut server = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux)");

    wait_for_200(port, "/healthz", &mut server);
    wait_for_200(port, "/readyz", &mut server);
    for kept in ["incident.db", "incident.db.secret-key"] {
        assert!(
            data.path().join(kept).exists(),
            "{kept} in the data directory"
        );
    }

    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = server.kill();
            panic!("no exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = server.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(exit.success(), "exit {exit} after SIGTERM:\n{log}");
    assert!(
        log.contains("\"stopped\""),
        "a clean stop is logged:\n{log}"
    );
    assert!(!log.contains("\"level\":\"ERROR\""), "{log}");
}
