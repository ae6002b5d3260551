//! An email an official can act on, addresses and headers, secrets and terminals (issue 13
//! point 4, issue 14 points 6 and 7): the attached PDF's name, the contact block the bodies end
//! with, the To name, IDNA and SMTPUTF8, over-long header values, no password in any message,
//! no escape sequence from a server on the terminal or in the ledger.
//!
//! Against real servers on 127.0.0.1: tests/smtp_server.py (aiosmtpd) through
//! tests/common/smtp.rs, and, where a test needs a server that offers SMTPUTF8 or answers
//! with words of its choosing, aiosmtpd run from [`CUSTOM_SERVER`] below.

use crate::common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::smtp::{Server, free_port, python};
use crate::common::{Run, TestCampaign};

/// Two signatories; each one's city is in one of their address lines.
const SIGNATORIES: &str = "id,name,email,city,address\n\
    s030,Anna Nowak,anna@example.org,Kraków,ul. Długa 1|30-001 Kraków\n\
    s031,Ben Okoro,ben@example.net,Leeds,2 Park Row|Leeds LS1 5AB\n";

/// `[smtp] from`, which a batch needs.
const STAFF: &str = "\n[smtp]\nfrom = \"Campaign <campaign@example.org>\"\n";

fn send(c: &TestCampaign, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["send", "--yes", "--smtp", url];
    args.extend_from_slice(extra);
    c.run(&args)
}

/// Each message parsed by Python's `email` package under `policy.strict`
/// (`smtp_server.py --inspect`).
fn inspect(paths: &[PathBuf]) -> Vec<serde_json::Value> {
    assert!(!paths.is_empty(), "no message to inspect");
    common::smtp::inspect(paths)
}

/// The parsed message whose To header holds `address`.
fn message_to<'a>(parsed: &'a [serde_json::Value], address: &str) -> &'a serde_json::Value {
    parsed
        .iter()
        .find(|m| m["to"].as_str().is_some_and(|t| t.contains(address)))
        .unwrap_or_else(|| panic!("no message to {address} in {parsed:#?}"))
}

/// The first attachment's name: the letter's PDF.
fn pdf_name(m: &serde_json::Value) -> String {
    assert_eq!(m["defects"], serde_json::json!([]), "{m}");
    let att = &m["attachments"][0];
    assert_eq!(att["type"], "application/pdf", "{m}");
    att["name"].as_str().expect("name").to_string()
}

/// A text part in the form a reader sees it (parts travel with CRLF line ends).
fn body(m: &serde_json::Value, part: &str) -> String {
    m[part].as_str().expect(part).replace("\r\n", "\n")
}

fn status_json(c: &TestCampaign) -> Vec<serde_json::Value> {
    let run = c.run(&["status", "--json"]);
    serde_json::from_str(&run.stdout).expect("status json")
}

#[test]
fn the_pdf_is_named_by_reference_and_recipient() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    send(&c, &server.url(), &["--only", "ombudsman,foreign"]).expect_code(0);
    let parsed = inspect(&server.messages());
    assert_eq!(parsed.len(), 2);
    assert_eq!(
        pdf_name(message_to(&parsed, "ombudsman@example.kz")),
        "T-1_ombudsman.pdf"
    );
    assert_eq!(
        pdf_name(message_to(&parsed, "midrk@example.kz")),
        "T-1_foreign.pdf"
    );
}

#[test]
fn every_pdf_of_a_batch_has_its_own_name() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    // Three signatories, as the issue's office would receive them.
    let three = format!("{SIGNATORIES}s032,Chen Wei,chen@example.com,Astana,1 Abay Ave|Astana\n");
    c.write("signatories.csv", &three);
    c.write("appeal.toml", &format!("{}{STAFF}", common::SETTINGS));
    send(&c, &server.url(), &["--signatories", "signatories.csv"])
        .expect_code(0)
        .expect_stdout("6 sent, 3 written");
    let parsed = inspect(&server.messages());
    let names: BTreeSet<String> = parsed.iter().map(pdf_name).collect();
    assert_eq!(parsed.len(), 6);
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "T-1_s030_foreign.pdf",
            "T-1_s030_ombudsman.pdf",
            "T-1_s031_foreign.pdf",
            "T-1_s031_ombudsman.pdf",
            "T-1_s032_foreign.pdf",
            "T-1_s032_ombudsman.pdf",
        ],
        "one name per letter: saved side by side, none overwrites another"
    );
}

#[test]
fn a_reference_in_any_script_becomes_a_safe_ascii_name() {
    let c = TestCampaign::new();
    c.edit(
        "letters/test/campaign.toml",
        "reference = \"T-1\"",
        "reference = \"Исх. № ../12/3: Жалоба\"",
    );
    c.run(&["send", "--dry-run", "--only", "foreign"])
        .expect_code(0);
    let m = &inspect(&[c.path().join("out/test/dry-run/foreign.eml")])[0];
    assert_eq!(pdf_name(m), "Iskh.-12-3-Zhaloba_foreign.pdf");
}

#[test]
fn both_bodies_end_with_the_senders_name_address_and_email() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    send(&c, &server.url(), &["--only", "ombudsman"]).expect_code(0);
    let m = &inspect(&server.messages())[0];
    let text = body(m, "text");
    // SETTINGS: city London is already the second address line, so it is not repeated.
    assert!(
        text.ends_with("\n-- \nAlex Sample\n1 Test Street\nLondon\nalex@example.org\n"),
        "{text}"
    );
    // The letter itself comes first, unchanged: as the preview shows it, after the addresses.
    let preview = c.run(&["preview", "--only", "ombudsman", "--json"]);
    let p: serde_json::Value = serde_json::from_str(preview.stdout.trim()).expect("json");
    let letter = text.split("\n-- \n").next().expect("letter");
    assert!(
        p["text"].as_str().expect("text").ends_with(letter),
        "{letter}"
    );
    let html = body(m, "html");
    assert!(
        html.ends_with(
            "<p class=\"contact\">-- <br>\nAlex Sample<br>\n1 Test Street<br>\nLondon<br>\n\
             <a href=\"mailto:alex@example.org\">alex@example.org</a></p>\n</body>\n</html>\n"
        ),
        "{html}"
    );
}

#[test]
fn in_a_batch_each_body_ends_with_its_signatorys_contact_block() {
    let c = TestCampaign::new();
    c.write("signatories.csv", SIGNATORIES);
    c.write("appeal.toml", &format!("{}{STAFF}", common::SETTINGS));
    c.run(&[
        "send",
        "--dry-run",
        "--signatories",
        "signatories.csv",
        "--only",
        "foreign",
    ])
    .expect_code(0);
    let m = &inspect(&[c.path().join("out/test/dry-run/s031/foreign.eml")])[0];
    assert_eq!(m["reply-to"], "Ben Okoro <ben@example.net>");
    assert!(
        body(m, "text").ends_with("\n-- \nBen Okoro\n2 Park Row\nLeeds LS1 5AB\nben@example.net\n"),
        "{}",
        body(m, "text")
    );
}

/// The content hash the ledger keeps covers the letter, not the contact block: a letter sent
/// before the block existed is not "changed" now. Proven the other way round: editing only
/// the sender's address (which is in the block, not in the letter's text) changes nothing for
/// the ledger, so nothing is re-sent.
#[test]
fn the_contact_block_is_not_part_of_the_ledgers_content_hash() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    send(&c, &server.url(), &["--only", "foreign"]).expect_code(0);
    c.edit("appeal.toml", "1 Test Street", "2 Other Street");
    send(&c, &server.url(), &["--only", "foreign"])
        .expect_code(0)
        .expect_stdout("1 already sent");
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn the_to_header_names_the_recipient_as_in_their_entry() {
    let c = TestCampaign::new();
    c.run(&["send", "--dry-run", "--only", "ombudsman,foreign"])
        .expect_code(0);
    let dir = c.path().join("out/test/dry-run");
    let parsed = inspect(&[dir.join("ombudsman.eml"), dir.join("foreign.eml")]);
    // The Russian letter's address block says "А. Ш. Шакирову" (dative); the header names him.
    assert_eq!(parsed[0]["to"], "Askar Shakirov <ombudsman@example.kz>");
    assert_eq!(parsed[1]["to"], "Erlan Idrisov <midrk@example.kz>");
}

#[test]
fn domains_that_are_not_ascii_go_as_idna_in_envelope_and_headers() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "email = \"ombudsman@example.kz\"",
        "email = \"ombudsman@пример.рф\"",
    );
    c.edit(
        "appeal.toml",
        "email = \"alex@example.org\"",
        "email = \"alex@почта.рф\"",
    );
    send(&c, &server.url(), &["--only", "ombudsman"]).expect_code(0);
    assert_eq!(
        server.count("RCPT ombudsman@xn--e1afmkfd.xn--p1ai 250"),
        1,
        "{:?}",
        server.events()
    );
    let stored = server.messages();
    let raw = std::fs::read(&stored[0]).expect("read");
    assert!(raw.is_ascii(), "headers in ASCII: no SMTPUTF8 needed");
    let m = &inspect(&stored)[0];
    assert_eq!(m["defects"], serde_json::json!([]));
    assert!(
        m["to"]
            .as_str()
            .expect("to")
            .ends_with("<ombudsman@xn--e1afmkfd.xn--p1ai>"),
        "{m}"
    );
    assert_eq!(m["from"], "Alex Sample <alex@xn--80a1acny.xn--p1ai>");
    assert!(
        m["message-id"]
            .as_str()
            .expect("id")
            .ends_with("@xn--80a1acny.xn--p1ai>")
    );
}

#[test]
fn a_local_part_that_is_not_ascii_is_refused_by_a_server_without_smtputf8() {
    let server = CustomServer::start(&[]);
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "email = \"ombudsman@example.kz\"",
        "email = \"омбудсмен@пример.рф\"",
    );
    let run = send(&c, &server.url(), &["--only", "ombudsman,foreign"]);
    run.expect_code(1)
        .expect_stderr("appeal: failed: ombudsman <омбудсмен@пример.рф>: the address")
        .expect_stderr("needs a server that offers SMTPUTF8, and this server does not");
    // Nothing of it reached the server; the other letter went.
    let got = server.transactions();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["rcpt_tos"], serde_json::json!(["midrk@example.kz"]));
    let rows = status_json(&c);
    let row = rows
        .iter()
        .find(|r| r["recipient"] == "ombudsman")
        .expect("row");
    assert_eq!(row["state"], "failed");
    assert!(
        row["last_reply"]
            .as_str()
            .expect("reason")
            .contains("SMTPUTF8"),
        "{row}"
    );
}

#[test]
fn a_local_part_that_is_not_ascii_goes_with_smtputf8_when_offered() {
    let server = CustomServer::start(&["--smtputf8"]);
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "email = \"ombudsman@example.kz\"",
        "email = \"омбудсмен@пример.рф\"",
    );
    send(&c, &server.url(), &["--only", "ombudsman"]).expect_code(0);
    let got = server.transactions();
    assert_eq!(got.len(), 1);
    let t = &got[0];
    let options: Vec<&str> = t["mail_options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o.as_str())
        .collect();
    assert!(options.contains(&"SMTPUTF8"), "{t}");
    assert_eq!(
        t["rcpt_tos"],
        serde_json::json!(["омбудсмен@xn--e1afmkfd.xn--p1ai"])
    );
    let content = t["content"].as_str().expect("content");
    assert!(
        content.contains("\"Askar Shakirov\" <омбудсмен@xn--e1afmkfd.xn--p1ai>")
            || content.contains("<омбудсмен@xn--e1afmkfd.xn--p1ai>"),
        "{content}"
    );
}

#[test]
fn an_over_long_recipient_name_is_refused_before_anything_is_sent() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    let long = "Erlan ".repeat(170);
    c.edit(
        "recipients.toml",
        "name = \"Erlan Idrisov\"",
        &format!("name = \"{}\"", long.trim()),
    );
    let before = c.snapshot();
    send(&c, &server.url(), &[])
        .expect_code(2)
        .expect_stderr("cannot build the email to foreign: recipient name is 1019 characters long")
        .expect_stderr("nothing was sent");
    assert_eq!(server.count("CONNECT"), 0, "no connection at all");
    assert_eq!(before, c.snapshot(), "nothing written");
}

#[test]
fn an_over_long_signatory_name_is_refused_naming_the_signatory() {
    let server = Server::start(&[]);
    let c = TestCampaign::new();
    let name = "A".repeat(1000);
    c.write(
        "signatories.csv",
        &format!("id,name,email\ns030,Anna Nowak,anna@example.org\ns031,{name},ben@example.net\n"),
    );
    c.write("appeal.toml", &format!("{}{STAFF}", common::SETTINGS));
    let before = c.snapshot();
    send(&c, &server.url(), &["--signatories", "signatories.csv"])
        .expect_code(2)
        .expect_stderr(
            "cannot build the email to s031/ombudsman: sender name is 1000 characters long",
        )
        .expect_stderr("nothing was sent");
    assert_eq!(server.count("CONNECT"), 0);
    assert_eq!(before, c.snapshot(), "nothing written");
}

#[test]
fn check_reports_an_over_long_name_too() {
    let c = TestCampaign::new();
    let name = "A".repeat(1000);
    c.write(
        "signatories.csv",
        &format!("id,name,email\ns031,{name},ben@example.net\n"),
    );
    let before = c.snapshot();
    c.run(&["check", "--signatories", "signatories.csv"])
        .expect_code(2)
        .expect_stderr(
            "cannot build the email to s031/foreign: sender name is 1000 characters long",
        );
    assert_eq!(before, c.snapshot(), "check wrote a file");
}

const LEAKY_URL: &str = "smtp://alex:hunter2@mail.example.org:587/x";

#[test]
fn a_password_in_the_smtp_url_is_never_shown_by_send() {
    let c = TestCampaign::new();
    let before = c.snapshot();
    for url in [
        LEAKY_URL,
        "smtp://alex:hunter2@127.0.0.1:2525?tls=none",
        "smtp://alex:hunter2@mail.example.org:99999",
        "smtp://mail.example.org?password=hunter2",
    ] {
        let run = send(&c, url, &[]);
        run.expect_code(2);
        assert!(!run.all().contains("hunter2"), "{url}: {}", run.all());
    }
    send(&c, LEAKY_URL, &[])
        .expect_stderr("SMTP URL `smtp://alex:***@mail.example.org:587/x` has a path");
    assert_eq!(before, c.snapshot(), "nothing written");
}

#[test]
fn a_password_in_the_smtp_url_is_never_shown_by_check() {
    let c = TestCampaign::new();
    c.write(
        "appeal.toml",
        &format!("{}\n[smtp]\nurl = \"{LEAKY_URL}\"\n", common::SETTINGS),
    );
    let before = c.snapshot();
    let run = c.run(&["check"]);
    run.expect_code(2)
        .expect_stderr("appeal.toml:8:7: error: [smtp]: SMTP settings: SMTP URL `smtp://alex:***@");
    assert!(!run.all().contains("hunter2"), "{}", run.all());
    assert_eq!(before, c.snapshot(), "check wrote a file");
}

/// Terminal escapes: colour, a window title (OSC, ended by BEL), clear screen, backspace.
const HOSTILE: &str = "\u{1b}[31;1mmailbox\u{1b}[0m \u{1b}]0;pwned\u{7}unavailable\u{8}";

#[test]
fn escape_sequences_in_server_replies_never_reach_the_terminal_or_the_ledger() {
    let reject = format!("550 5.1.1 {HOSTILE}");
    let accept = "250 2.0.0 \u{1b}[2J\u{1b}]0;owned\u{7}queued as \u{1b}[5mX1";
    let server = CustomServer::start(&[
        "--reject",
        "midrk@example.kz",
        "--reject-reply",
        &reject,
        "--data-reply",
        accept,
    ]);
    let c = TestCampaign::new();
    let run = send(&c, &server.url(), &["--only", "ombudsman,foreign"]);
    run.expect_code(1)
        .expect_stdout("sent     ombudsman  ombudsman@example.kz  250 2.0.0 queued as X1")
        .expect_stderr(
            "appeal: failed: foreign <midrk@example.kz>: RCPT TO: 550 5.1.1 mailbox unavailable",
        );
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{8}']),
            "a control character got through: {text:?}"
        );
    }
    let status = c.run(&["status", "--json"]);
    assert!(!status.stdout.contains("\\u001b"), "{}", status.stdout);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&status.stdout).expect("json");
    let reply = |id: &str| {
        rows.iter()
            .find(|r| r["recipient"] == id)
            .and_then(|r| r["last_reply"].as_str())
            .expect("reply")
            .to_string()
    };
    assert_eq!(reply("ombudsman"), "250 2.0.0 queued as X1");
    assert_eq!(reply("foreign"), "RCPT TO: 550 5.1.1 mailbox unavailable");
}

/// aiosmtpd with what tests/smtp_server.py does not offer: SMTPUTF8 (`--smtputf8`), a chosen
/// refusal for one address at RCPT (`--reject ADDR --reject-reply TEXT`) and a chosen reply
/// to the data (`--data-reply TEXT`). Each transaction is stored whole, envelope included, as
/// one JSON file under DIR (written to a temp name, then renamed).
const CUSTOM_SERVER: &str = r#"
import argparse, json, os, sys
from aiosmtpd.controller import Controller

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--dir", required=True)
p.add_argument("--smtputf8", action="store_true")
p.add_argument("--reject", default=None)
p.add_argument("--reject-reply", default="550 5.1.1 no such user")
p.add_argument("--data-reply", default="250 2.0.0 OK")
a = p.parse_args()

class Handler:
    seq = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == a.reject:
            return a.reject_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        Handler.seq += 1
        name = os.path.join(a.dir, "%04d.json" % Handler.seq)
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump({
                "mail_from": envelope.mail_from,
                "mail_options": envelope.mail_options,
                "rcpt_tos": envelope.rcpt_tos,
                "content": envelope.original_content.decode("utf-8", "replace"),
            }, f, ensure_ascii=False)
        os.rename(name + ".tmp", name)
        return a.data_reply

c = Controller(Handler(), hostname="127.0.0.1", port=a.port, enable_SMTPUTF8=a.smtputf8)
c.start()
print("listening", flush=True)
sys.stdin.read()
c.stop()
"#;

/// [`CUSTOM_SERVER`] on a free port of 127.0.0.1; killed when dropped.
struct CustomServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl CustomServer {
    fn start(args: &[&str]) -> CustomServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut child = Command::new(python())
            .arg("-c")
            .arg(CUSTOM_SERVER)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        assert!(
            line.starts_with("listening"),
            "server did not start: {line:?}"
        );
        CustomServer { port, dir, child }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Every transaction the server took, oldest first.
    fn transactions(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files.iter().map(|f| read_json(f)).collect()
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

impl Drop for CustomServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
