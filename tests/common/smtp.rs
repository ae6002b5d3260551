//! A real SMTP server for the tests: tests/smtp_server.py (aiosmtpd) on a free port of
//! 127.0.0.1, storing every message it accepts; killed when dropped.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::repo_root;

/// The Python that has aiosmtpd: `APPEAL_TEST_PYTHON`, else the venv scripts/test.sh makes.
pub fn python() -> PathBuf {
    let p = std::env::var_os("APPEAL_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/pyenv/bin/python"));
    assert!(
        p.exists(),
        "no Python with aiosmtpd at {}: run scripts/test.sh (or set APPEAL_TEST_PYTHON)",
        p.display()
    );
    p
}

/// tests/smtp_server.py: the server, and the message inspector of its `--inspect`.
pub fn script() -> PathBuf {
    repo_root().join("tests/smtp_server.py")
}

/// `smtp://127.0.0.1:PORT?tls=none`: plaintext, accepted for loopback only.
pub fn loopback_url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}?tls=none")
}

/// A test CA and a server certificate it signed (ca.pem, server.pem, server.key), made by
/// tests/smtp_server.py --make-certs in a fresh temp dir.
pub fn make_certs() -> tempfile::TempDir {
    let certs = tempfile::tempdir().expect("tempdir");
    let status = Command::new(python())
        .arg(script())
        .arg("--make-certs")
        .arg(certs.path())
        .status()
        .expect("make certs");
    assert!(status.success(), "smtp_server.py --make-certs failed");
    certs
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Server {
    /// Starts the server with extra flags (`--fail-rcpt`, `--starttls`, ...) and waits until
    /// it listens.
    pub fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut child = Command::new(python())
            .arg(script())
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smtp_server.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        assert!(
            line.starts_with("listening"),
            "server did not start: {line:?}"
        );
        Server { port, dir, child }
    }

    /// What the server saw, one event a line (connect, auth, mail, ...).
    pub fn events(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("events.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.events()
            .iter()
            .filter(|e| e.starts_with(prefix))
            .count()
    }

    /// The stored messages, oldest first.
    pub fn messages(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("new"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// How many stored messages carry each Message-ID.
    pub fn message_ids(&self) -> BTreeMap<String, usize> {
        let mut ids = BTreeMap::new();
        for m in self.messages() {
            let text = String::from_utf8_lossy(&std::fs::read(m).expect("read")).into_owned();
            let id = text
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("message-id")
                        .then(|| value.trim().to_string())
                })
                .expect("a Message-ID header");
            *ids.entry(id).or_insert(0) += 1;
        }
        ids
    }

    /// The server's [`loopback_url`].
    pub fn url(&self) -> String {
        loopback_url(self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where Debian's postfix package puts `smtp-sink`, the fault-injecting SMTP server.
pub const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

pub fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Postfix's smtp-sink with fault flags; killed on drop. Missing: the test fails, it does not
/// skip.
pub struct Sink {
    pub port: u16,
    child: Child,
}

impl Sink {
    pub fn start(flags: &[&str]) -> Sink {
        assert!(
            Path::new(SMTP_SINK).exists(),
            "{SMTP_SINK} is missing: run scripts/test.sh, which installs the Debian package \
             postfix (without configuring it) for these fault tests"
        );
        let port = free_port();
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let mut cmd = Command::new(SMTP_SINK);
        if root {
            cmd.args(["-u", "nobody"]);
        }
        let child = cmd
            .args(flags)
            .arg(format!("127.0.0.1:{port}"))
            .arg("256")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smtp-sink");
        wait_until("smtp-sink to listen", Duration::from_secs(5), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Sink { port, child }
    }

    pub fn url(&self) -> String {
        loopback_url(self.port)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Each stored message parsed by Python's `email` package under `policy.strict`
/// (tests/smtp_server.py `--inspect`), as JSON: headers, defects, text, html, attachments.
pub fn inspect(paths: &[PathBuf]) -> Vec<serde_json::Value> {
    if paths.is_empty() {
        return Vec::new();
    }
    let out = Command::new(python())
        .arg(script())
        .arg("--inspect")
        .args(paths)
        .output()
        .expect("inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// Another program holding the ledger's write lock: a Python `sqlite3` transaction on `db`,
/// begun once `marker` appears in the test server's `events` log and held for `seconds`.
/// It prints `locked` when it holds the lock.
pub fn hold_ledger_lock(db: &Path, events: &Path, marker: &str, seconds: u32) -> Child {
    let program = format!(
        "import os, sqlite3, sys, time\n\
         while '{marker}' not in (open(sys.argv[2]).read() if os.path.exists(sys.argv[2]) else ''):\n\
         \x20   time.sleep(0.002)\n\
         c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
         c.execute('BEGIN IMMEDIATE')\n\
         print('locked', flush=True)\n\
         time.sleep({seconds})\n\
         c.execute('ROLLBACK')\n"
    );
    Command::new(python())
        .arg("-c")
        .arg(program)
        .arg(db)
        .arg(events)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python")
}
