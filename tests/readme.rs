//! The README runs as pasted: its shell blocks marked `<!-- readme-test: serve -->` (the server,
//! left running) and `<!-- readme-test -->` (the rest, in order, in one shell, as one terminal
//! session) are run against the built binary in an empty directory. Blocks without a mark are
//! never run. `curl` and `jq` are required (`.ci/run` installs them); without them this fails
//! saying so rather than skipping.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shell blocks after `marker` lines (the marker on the line just before the fence).
fn marked_blocks(readme: &str, marker: &str) -> Vec<String> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != marker {
            continue;
        }
        let fence = lines.get(i + 1).copied().unwrap_or_default();
        assert_eq!(
            fence,
            "```sh",
            "README line {}: a mark must precede a ```sh block",
            i + 1
        );
        let body: Vec<&str> = lines[i + 2..]
            .iter()
            .take_while(|l| **l != "```")
            .copied()
            .collect();
        blocks.push(body.join("\n"));
    }
    blocks
}

fn require(tool: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the README's examples need `{tool}`: install it (`.ci/run` does: apt-get install curl jq)"
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A shell running `script` in `dir`, with the binary's directory first on PATH, `PORT` set
/// (and the metrics listener off), nothing else from this environment; in its own process group.
fn shell(dir: &Path, script: &str, port: u16) -> Command {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_incident")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-o", "pipefail", "-c", script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "info")
        // Many test servers share this machine: none takes the default private metrics port.
        .env("METRICS_ADDR", "off")
        .process_group(0);
    cmd
}

/// Stops the server's process group with SIGTERM; returns its log (written to `log`: a pipe
/// nobody reads would fill and stop the server).
fn stop(mut server: Child, log: &Path) -> String {
    let _ = Command::new("kill")
        // `--`: procps' kill reads `-TERM -PID` as two signal options and signals nothing.
        .args(["-s", "TERM", "--", &format!("-{}", server.id())])
        .status();
    let _ = server.wait();
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(log) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

#[test]
fn the_readme_runs_as_pasted() {
    require("curl");
    require("jq");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let serve = marked_blocks(&readme, "<!-- readme-test: serve -->");
    let steps = marked_blocks(&readme, "<!-- readme-test -->");
    assert_eq!(serve.len(), 1, "one marked server block");
    assert!(
        steps.len() >= 2,
        "the admin and the workflow blocks are marked"
    );

    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("server.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let server = shell(dir.path(), &serve[0], port)
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("bash");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            panic!("the server did not listen: {}", stop(server, &log_path));
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    // At most two minutes: a hung step fails the test instead of hanging it.
    let script = format!(
        "timeout 120 bash -e -o pipefail <<'README'\n{}\nREADME",
        steps.join("\n")
    );
    let out = shell(dir.path(), &script, port)
        .stdin(Stdio::null())
        .output()
        .expect("bash");
    let log = stop(server, &log_path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README's blocks failed:\n{stdout}\n{stderr}\nserver:\n{log}"
    );
    assert!(stdout.contains("\"role\":\"ADMIN\"") || stdout.contains("\"role\": \"ADMIN\""));
    assert!(stdout.contains("Status updated to Closed"), "{stdout}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("{\"recipient_name\""))
        .collect();
    assert!(rows.len() >= 5, "the WhatsApp log is shown: {stdout}");
    for row in rows {
        assert!(
            row.contains("\"status\":\"FAILED\"")
                && row.contains("\"error_code\":\"not_configured\""),
            "every row handled by the worker, with its error code: {row}"
        );
    }
    assert!(
        log.contains("creating"),
        "the server says it creates the file: {log}"
    );
    assert!(
        dir.path().join("incident.db.secret-key").exists(),
        "the development key is kept: {log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a piped log: {log}"
    );
}

#[test]
fn only_marked_blocks_are_run() {
    let readme = "<!-- readme-test -->\n```sh\necho a\n```\n```sh\necho b\n```\n";
    assert_eq!(marked_blocks(readme, "<!-- readme-test -->"), ["echo a"]);
}
