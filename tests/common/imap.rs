//! A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`), started in the
//! foreground (`dovecot -F -c CONF`) on free ports of 127.0.0.1 with a configuration written
//! here: one test user in a passwd-file ({PLAIN} password), a Maildir under a temp dir, and
//! TLS required with a certificate from a test CA made at test time (tests/smtp_server.py
//! --make-certs). Tests drop messages into the Maildir's `new/`; the server is stopped when
//! dropped. Missing Dovecot fails the test: scripts/test.sh installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::smtp::{free_port, make_certs, wait_until};

/// The test user's name and password.
pub const USER: &str = "appeal-test";
pub const PASSWORD: &str = "imap-Secret-4711-horse";

/// Where Debian puts the server.
pub const DOVECOT: &str = "/usr/sbin/dovecot";

pub struct Dovecot {
    /// The STARTTLS port (`imap://`) and the implicit TLS one (`imaps://`).
    pub imap_port: u16,
    pub imaps_port: u16,
    pub dir: tempfile::TempDir,
    certs: tempfile::TempDir,
    child: Child,
    seq: std::cell::Cell<u32>,
}

/// Who runs the parts of Dovecot that must not be root, and whose the mail is: the current
/// user, or Debian's `dovecot` and `dovenull` users when the tests run as root.
fn accounts() -> (String, String, String, u32, u32) {
    let out = |args: &[&str]| {
        let o = Command::new("id").args(args).output().expect("id");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    if out(&["-u"]) == "0" {
        let uid = out(&["-u", "dovecot"]).parse().expect("a dovecot user");
        let gid = out(&["-g", "dovecot"]).parse().expect("a dovecot group");
        (
            "dovenull".into(),
            "dovecot".into(),
            "dovecot".into(),
            uid,
            gid,
        )
    } else {
        let (user, group) = (out(&["-un"]), out(&["-gn"]));
        let (uid, gid) = (
            out(&["-u"]).parse().expect("uid"),
            out(&["-g"]).parse().expect("gid"),
        );
        (user.clone(), user, group, uid, gid)
    }
}

impl Dovecot {
    /// Dovecot with `ssl = required` (STARTTLS on one port, TLS on the other).
    pub fn start() -> Dovecot {
        Dovecot::start_with("required")
    }

    /// Dovecot with `ssl = <ssl>`: `no` offers no TLS at all (and no STARTTLS).
    pub fn start_with(ssl: &str) -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "{DOVECOT} is missing: run scripts/test.sh, which installs dovecot-imapd"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let certs = make_certs();
        let (imap_port, imaps_port) = (free_port(), free_port());
        let (login, internal, group, uid, gid) = accounts();
        // Dovecot's unprivileged processes (and the mail user) must reach the files.
        use std::os::unix::fs::PermissionsExt;
        for p in [d, certs.path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let maildir = d.join("home").join(USER).join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
        }
        for p in [d.join("home"), d.join("home").join(USER), maildir.clone()]
            .into_iter()
            .chain(["new", "cur", "tmp"].map(|s| maildir.join(s)))
        {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        std::fs::write(
            d.join("users"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .expect("users");
        let imaps = if ssl == "no" {
            String::new()
        } else {
            format!(
                "  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\n    ssl = yes\n  }}\n"
            )
        };
        let tls = if ssl == "no" {
            "ssl = no\ndisable_plaintext_auth = no\n".to_string()
        } else {
            format!(
                "ssl = {ssl}\nssl_cert = <{c}/server.pem\nssl_key = <{c}/server.key\n",
                c = certs.path().display()
            )
        };
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\n{tls}auth_mechanisms = plain\n\
             default_login_user = {login}\ndefault_internal_user = {internal}\n\
             default_internal_group = {group}\nfirst_valid_uid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\n{imaps}}}\n\
             service anvil {{\n  chroot =\n}}\n",
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).expect("conf");
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        wait_until("dovecot to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", imap_port)).is_ok()
        });
        Dovecot {
            imap_port,
            imaps_port,
            dir,
            certs,
            child,
            seq: std::cell::Cell::new(0),
        }
    }

    /// The test CA, for `--imap-ca`.
    pub fn ca(&self) -> String {
        self.certs.path().join("ca.pem").display().to_string()
    }

    /// `imaps://appeal-test@localhost:PORT/INBOX`.
    pub fn imaps_url(&self) -> String {
        format!("imaps://{USER}@localhost:{}/INBOX", self.imaps_port)
    }

    /// `imap://appeal-test@localhost:PORT/INBOX` (STARTTLS).
    pub fn imap_url(&self) -> String {
        format!("imap://{USER}@localhost:{}/INBOX", self.imap_port)
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("home").join(USER).join("Maildir")
    }

    /// Delivers `message` as a new message of the inbox (written into tmp/, then renamed into
    /// new/, as an MDA does).
    pub fn deliver(&self, message: &[u8]) {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        let name = format!("1400000000.M{n}P1.appeal-test");
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, message).expect("write message");
        std::fs::rename(&tmp, self.maildir().join("new").join(&name)).expect("deliver");
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM: the master stops its login and imap processes too.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A mail fixture of tests/fixtures/mail/ with its placeholders filled in: `{{MESSAGE_ID}}`
/// (the letter's, with its brackets), `{{TOKEN}}`, `{{RCPT}}` (the letter's address).
pub fn fixture(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let path = crate::common::repo_root()
        .join("tests/fixtures/mail")
        .join(name);
    let mut text = std::fs::read_to_string(&path).expect("fixture");
    for (k, v) in fill {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    // Fixtures are stored with LF; mail travels with CRLF.
    text.replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}
