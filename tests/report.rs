//! `appeal report`: the bundled example sent by two signatories through a real SMTP server
//! (aiosmtpd on 127.0.0.1), its post letters written as PDFs, then bounces, an automatic
//! reply and two answers dropped into a real Dovecot's mailbox and read by `appeal inbox`;
//! the page is opened in headless Chromium, read back from its DOM and photographed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use appeal::ledger::Ledger;

use crate::common::bundled::{add_smtp_table, example};
use crate::common::imap::{Dovecot, PASSWORD, fixture};
use crate::common::smtp::Server;
use crate::common::{self, Run};

const CHROMIUM: &str = "/usr/bin/chromium";
/// An answer's subject as a stranger may write it.
const HOSTILE_SUBJECT: &str = "Re: <script>alert(\"x\")</script></title><b>bold</b> & more";

/// The example, sent by two signatories (s001, s002: 6 emails, 4 PDFs), one post letter
/// marked posted, and the mailbox's news recorded: a hard bounce (s001→foreign), a soft bounce
/// (s002→foreign), an auto-reply (s001→interior), two answers (both → ombudsman).
fn campaign_after_sending() -> (tempfile::TempDir, String) {
    let server = Server::start(&[]);
    let camp = example();
    let dir = camp.path();
    add_smtp_table(dir, "from = \"Campaign <campaign@example.org>\"");
    let csv = dir.join("signatories.csv");
    let rows = "s001,Anna Nowak,anna@example.org,Kraków\ns002,Ben Okoro,ben@example.net,Leeds\n";
    std::fs::write(&csv, format!("id,name,email,city\n{rows}")).expect("write");
    let csv = csv.to_str().expect("utf8").to_string();
    let url = server.url();
    let sent = common::run_in(
        dir,
        &["send", "--yes", "--signatories", &csv, "--smtp", &url],
    );
    sent.expect_code(0);
    assert!(sent.stdout.contains("6 sent, 4 written"), "{}", sent.stdout);
    assert_eq!(server.messages().len(), 6);
    let only = ["--only", "s001/president"];
    common::run_in(
        dir,
        &[&["mark", "posted", "--signatories", &csv][..], &only].concat(),
    )
    .expect_code(0);
    read_the_mailbox(dir);
    (camp, csv)
}

/// What came back for one letter: `(signatory, recipient)` → Message-ID, from the ledger.
fn message_id(dir: &Path, signatory: &str, recipient: &str) -> String {
    let ledger = Ledger::open_read_only(dir)
        .expect("ledger")
        .expect("a ledger");
    ledger
        .entries("duambekov")
        .expect("entries")
        .into_iter()
        .find(|e| e.signatory.as_deref() == Some(signatory) && e.recipient == recipient)
        .and_then(|e| e.message_id)
        .unwrap_or_else(|| panic!("no Message-ID for {signatory}/{recipient}"))
}

/// A message from an authority's office about one letter: `In-Reply-To` its Message-ID.
fn answer(from: &str, dated: &str, subject: &str, in_reply_to: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Anna Nowak <anna@example.org>\r\nDate: {dated}\r\n\
         Subject: {subject}\r\nMessage-ID: <{}@ombudsman.example.kz>\r\n\
         In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\nWe received your letter.\r\n",
        appeal::digest::sha256_hex(format!("{from}{dated}").as_bytes()),
    )
    .into_bytes()
}

/// What the mailbox brought, put into a real Dovecot's Maildir and read by `appeal inbox`:
/// the bundled example has no bounce address, so each message is matched by the letter's
/// Message-ID it quotes.
fn read_the_mailbox(dir: &Path) {
    let imap = Dovecot::start();
    let id = |s: &str, r: &str| message_id(dir, s, r);
    let dsn = |name: &str, s: &str, r: &str, rcpt: &str| {
        let token = appeal::email::message::verp_token(&id(s, r));
        fixture(
            name,
            &[("MESSAGE_ID", &id(s, r)), ("TOKEN", &token), ("RCPT", rcpt)],
        )
    };
    imap.deliver(&dsn("postfix-hard.eml", "s001", "foreign", "midrk@mfa.kz"));
    imap.deliver(&dsn("exim-delayed.eml", "s002", "foreign", "midrk@mfa.kz"));
    imap.deliver(&answer(
        "Duty officer <oraz-n@mvd.kz>",
        "Tue, 15 Jul 2014 12:00:00 +0000",
        "Automatic reply: out of office",
        &id("s001", "interior"),
        "Auto-Submitted: auto-replied\r\n",
    ));
    imap.deliver(&answer(
        "Ombudsman's office <office@ombudsman.example.kz>",
        "Wed, 16 Jul 2014 10:15:00 +0600",
        HOSTILE_SUBJECT,
        &id("s001", "ombudsman"),
        "",
    ));
    imap.deliver(&answer(
        "Секретариат <office@ombudsman.example.kz>",
        "Thu, 17 Jul 2014 09:00:00 +0000",
        "Ответ на обращение",
        &id("s002", "ombudsman"),
        "",
    ));
    let ca = imap.ca();
    let url = imap.imaps_url();
    let run = Run::of(
        common::command(dir, &["inbox", "--imap", &url, "--imap-ca", &ca])
            .env("APPEAL_IMAP_PASSWORD", PASSWORD),
    );
    run.expect_code(0)
        .expect_stdout("Read 5 new messages")
        .expect_stdout("1 hard bounce, 1 soft bounce, 1 automatic reply, 2 replies");
}

/// The file `appeal inbox` saved the answer of `signatory` to the ombudsman in, relative to
/// the output folder.
fn saved_answer(dir: &Path, signatory: &str) -> String {
    let replies = dir.join("out/duambekov/replies");
    let prefix = format!("{signatory}-ombudsman-");
    let names: Vec<String> = std::fs::read_dir(&replies)
        .expect("replies/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".eml"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    format!("replies/{}", names[0])
}

/// What each authority's letters by each channel should count, as the page's table and the
/// JSON give them: (letters, sent, written, bounced, soft-bounced, auto-replied, answered).
fn expected() -> BTreeMap<(&'static str, &'static str), [u64; 7]> {
    BTreeMap::from([
        (("foreign", "email"), [2, 2, 0, 1, 1, 0, 0]),
        (("interior", "email"), [2, 2, 0, 0, 0, 1, 0]),
        (("ombudsman", "email"), [2, 2, 0, 0, 0, 0, 2]),
        (("president", "post"), [2, 0, 2, 0, 0, 0, 0]),
        (("prosecutor", "post"), [2, 0, 2, 0, 0, 0, 0]),
        (("", ""), [10, 6, 4, 1, 1, 1, 2]),
    ])
}

const KEYS: [&str; 7] = [
    "letters",
    "sent",
    "written",
    "bounced",
    "soft_bounced",
    "auto_replied",
    "answered",
];

/// Headless Chromium on `page` with `flags`, in a fresh profile, network features off.
fn chromium(page: &Path, flags: &[&str]) -> Run {
    let profile = tempfile::tempdir().expect("tempdir");
    let child = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
        ])
        .args(["--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(flags)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chromium (scripts/test.sh installs it)");
    common::wait_with_limit(child, Duration::from_secs(120), "chromium")
}

/// The counts of the table row for `recipient` and `channel` (the totals row for "", ""),
/// read from the DOM by their `data-count` cells.
fn row_counts(dom: &str, recipient: &str, channel: &str) -> BTreeMap<String, u64> {
    let start = format!("<tr data-recipient=\"{recipient}\" data-channel=\"{channel}\">");
    let at = dom
        .find(&start)
        .unwrap_or_else(|| panic!("no row {start} in\n{dom}"));
    let row = &dom[at..at + dom[at..].find("</tr>").expect("row end")];
    row.split("data-count=\"")
        .skip(1)
        .map(|cell| {
            let (key, rest) = cell.split_once("\">").expect("cell");
            let value = &rest[..rest.find('<').expect("cell end")];
            (key.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

/// The ledger's files (their SHA-256, or `None` when absent or empty: a read-only connection
/// to a WAL database leaves an empty -wal file behind), to show a command left them alone.
fn ledger_bytes(dir: &Path) -> Vec<Option<String>> {
    ["ledger.db", "ledger.db-wal"]
        .iter()
        .map(|f| std::fs::read(dir.join(".appeal").join(f)).ok())
        .map(|bytes| bytes.filter(|b| !b.is_empty()))
        .map(|bytes| bytes.map(|b| appeal::digest::sha256_hex(&b)))
        .collect()
}

#[test]
fn the_page_shows_each_authority_in_chromium_and_escapes_answers() {
    let (camp, csv) = campaign_after_sending();
    let dir = camp.path();
    let before = ledger_bytes(dir);
    let status_before = common::run_in(dir, &["status", "--json", "--signatories", &csv]).stdout;
    assert_eq!(ledger_bytes(dir), before, "status left the ledger alone");
    let run = common::run_in(dir, &["report"]);
    run.expect_code(0).expect_stdout("report.html");
    assert_eq!(ledger_bytes(dir), before, "report never writes the ledger");
    let status_after = common::run_in(dir, &["status", "--json", "--signatories", &csv]).stdout;
    assert_eq!(status_before, status_after);

    let page = dir.join("out/duambekov/report.html");
    check_source(&std::fs::read_to_string(&page).expect("the page"));
    let dom = chromium(&page, &["--dump-dom"]);
    check_dom(&dom.expect_code(0).stdout, dir);
    check_screenshot_and_print(&page, dir);
}

/// The page's own text: a document with a language, nothing fetched from elsewhere, A4.
fn check_source(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    for outside in ["<script", "<img", "<link", "<iframe", "url(", "@import"] {
        assert!(!html.contains(outside), "the page holds {outside}");
    }
    let svg_namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
    assert_eq!(
        html.matches("http").count(),
        html.matches(svg_namespace).count(),
        "no address but the SVG namespace"
    );
    assert!(html.contains("@page { size: A4; margin: 15mm }"));
}

/// The page as Chromium built it: each authority's counts, the answers escaped and linked,
/// the days, a chart per authority.
fn check_dom(dom: &str, dir: &Path) {
    for ((recipient, channel), want) in expected() {
        let got = row_counts(dom, recipient, channel);
        for (key, n) in KEYS.iter().zip(want) {
            assert_eq!(
                got.get(*key),
                Some(&n),
                "{key} of {recipient}/{channel}: {got:?}"
            );
        }
    }
    assert!(
        dom.contains("Askar Shakirov"),
        "the authority's name from recipients.toml"
    );
    assert!(!dom.contains("<script"), "no script element in the DOM");
    assert!(
        !dom.contains("<b>bold</b>"),
        "markup from an answer stays text"
    );
    assert!(dom.contains("Re: &lt;script&gt;alert(\"x\")&lt;/script&gt;&lt;/title&gt;&lt;b&gt;bold&lt;/b&gt; &amp; more"));
    assert!(dom.contains("Ответ на обращение") && dom.contains("Секретариат"));
    let saved = saved_answer(dir, "s001");
    assert!(
        dom.contains(&format!("href=\"{saved}\"")),
        "link to the saved answer {saved}"
    );
    // The answers in date order, with their UTC dates; the days of the timeline.
    let first = dom.find("2014-07-16 04:15").expect("first answer, in UTC");
    assert!(first < dom.find("2014-07-17 09:00").expect("second answer"));
    for (day, sent) in [
        ("2014-07-14", "6"),
        ("2014-07-15", "0"),
        ("2014-07-16", "0"),
    ] {
        let row = &dom[dom.find(&format!("<tr data-day=\"{day}\">")).expect(day)..];
        let row = &row[..row.find("</tr>").expect("row end")];
        assert!(
            row.contains(&format!("</th><td class=\"n\">{sent}</td>")),
            "{day}: {row}"
        );
    }
    assert_eq!(dom.matches("<svg").count(), 5, "one chart per authority");
    assert!(dom.contains("<title id=\"chart0-t\">"));
}

/// A screenshot that is a real picture of the page, and a printout on A4 that has every row.
fn check_screenshot_and_print(page: &Path, dir: &Path) {
    let shot = dir.join("report.png");
    let arg = format!("--screenshot={}", shot.display());
    chromium(
        page,
        &[&arg, "--window-size=1200,1600", "--hide-scrollbars"],
    )
    .expect_code(0);
    let png = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    assert_eq!((size(16), size(20)), (1200, 1600), "IHDR width and height");
    assert!(
        png.len() > 30_000,
        "a page with text and charts, not a blank: {} bytes",
        png.len()
    );
    // Printed, it is A4, and every authority's row is on paper.
    let pdf = dir.join("report.pdf");
    let arg = format!("--print-to-pdf={}", pdf.display());
    chromium(page, &[&arg, "--no-pdf-header-footer"]).expect_code(0);
    let info = common::pdf_tool("pdfinfo", &[], &pdf);
    assert!(info.contains(" pts (A4)"), "A4 pages:\n{info}");
    let printed = common::pdf_text(&pdf);
    for name in [
        "Nursultan Nazarbayev",
        "Erlan Idrisov",
        "All authorities",
        "Ответ на",
    ] {
        assert!(printed.contains(name), "{name} printed:\n{printed}");
    }
    if let Some(keep) = std::env::var_os("APPEAL_KEEP_REPORT_PNG") {
        std::fs::copy(&shot, keep).expect("keep the screenshot");
    }
}

#[test]
fn json_has_the_same_counts_and_the_answers() {
    let (camp, _) = campaign_after_sending();
    let dir = camp.path();
    let before = ledger_bytes(dir);
    let run = common::run_in(dir, &["report", "--json"]);
    run.expect_code(0);
    assert_eq!(ledger_bytes(dir), before);
    assert!(
        !dir.join("out/duambekov/report.html").exists(),
        "--json writes no page"
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["campaign"], "duambekov");
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2014-07-14"), Some("2014-07-17"))
    );
    let authorities = v["authorities"].as_array().expect("authorities");
    let ids: Vec<&str> = authorities
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "president",
            "ombudsman",
            "interior",
            "prosecutor",
            "foreign"
        ],
        "file order"
    );
    for ((recipient, channel), want) in expected() {
        let counts = if recipient.is_empty() {
            &v["totals"]
        } else {
            let a = authorities
                .iter()
                .find(|a| a["id"] == recipient)
                .expect(recipient);
            assert_eq!(a["channels"].as_array().expect("channels").len(), 1);
            assert_eq!(a["channels"][0]["channel"], channel);
            &a["channels"][0]
        };
        for (key, n) in KEYS.iter().zip(want) {
            assert_eq!(counts[*key], n, "{key} of {recipient}/{channel}");
        }
    }
    let answers = v["answers"].as_array().expect("answers");
    assert_eq!(answers.len(), 2);
    assert_eq!(
        answers[0]["subject"], HOSTILE_SUBJECT,
        "JSON keeps the text as it came"
    );
    assert_eq!(answers[0]["signatory"], "s001");
    assert_eq!(answers[0]["saved"], saved_answer(dir, "s001").as_str());
    let days: Vec<&str> = v["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|d| d["day"].as_str().expect("day"))
        .collect();
    assert_eq!(
        days,
        ["2014-07-14", "2014-07-15", "2014-07-16", "2014-07-17"]
    );
    assert_eq!(v["timeline"][1]["bounced"], 1);
    assert_eq!(v["timeline"][1]["soft_bounced"], 1);
    assert_eq!(v["timeline"][1]["auto_replied"], 1);
}

#[test]
fn only_and_signatories_narrow_the_report() {
    let (camp, _) = campaign_after_sending();
    let dir = camp.path();
    // --only narrows it to some authorities.
    let only = common::run_in(dir, &["report", "--json", "--only", "ombudsman"]);
    let v: serde_json::Value = serde_json::from_str(&only.expect_code(0).stdout).expect("JSON");
    assert_eq!(v["authorities"].as_array().expect("authorities").len(), 1);
    assert_eq!(v["totals"]["letters"], 2);
    assert_eq!(v["totals"]["answered"], 2);

    // --signatories narrows it to their letters.
    let one = dir.join("s002.csv");
    std::fs::write(&one, "id,name,email\ns002,Ben Okoro,ben@example.net\n").expect("write");
    let args = [
        "report",
        "--json",
        "--signatories",
        one.to_str().expect("utf8"),
    ];
    let run = common::run_in(dir, &args);
    let v: serde_json::Value = serde_json::from_str(&run.expect_code(0).stdout).expect("JSON");
    let t = &v["totals"];
    let got = [
        &t["letters"],
        &t["sent"],
        &t["bounced"],
        &t["soft_bounced"],
        &t["answered"],
    ];
    assert_eq!(got, [5, 3, 0, 1, 1]);
    assert_eq!(v["answers"][0]["signatory"], "s002");
}

#[test]
fn a_page_written_elsewhere_links_back_to_the_answers() {
    let (camp, _) = campaign_after_sending();
    let dir = camp.path();
    std::fs::create_dir(dir.join("shared")).expect("mkdir");
    common::run_in(dir, &["report", "--out", "shared/kz.html"]).expect_code(0);
    let html = std::fs::read_to_string(dir.join("shared/kz.html")).expect("page");
    let href = format!("../out/duambekov/{}", saved_answer(dir, "s001"));
    assert!(html.contains(&format!("href=\"{href}\"")), "{html}");
    assert!(dir.join("shared").join(href).is_file());
}

#[test]
fn without_a_ledger_there_is_nothing_to_report() {
    let camp = example();
    let dir = camp.path();
    let before = common::snapshot(dir);
    common::run_in(dir, &["report"])
        .expect_code(2)
        .expect_stderr("no ledger at")
        .expect_stderr("nothing of campaign `duambekov` has been sent or written yet");
    assert_eq!(
        common::snapshot(dir),
        before,
        "nothing written, no ledger made"
    );
}

#[test]
fn a_ledger_without_letters_of_these_recipients_is_said_so() {
    let (camp, _) = campaign_after_sending();
    let dir = camp.path();
    let recipients = std::fs::read_to_string(dir.join("recipients.toml")).expect("read");
    std::fs::write(
        dir.join("recipients.toml"),
        recipients.replace("\"president\"", "\"head-of-state\""),
    )
    .expect("write");
    common::run_in(dir, &["report", "--json", "--only", "head-of-state"])
        .expect_code(2)
        .expect_stderr("has no letter of campaign `duambekov` to these recipients");
    // Letters to an id recipients.toml no longer has still count, named by their id.
    let run = common::run_in(dir, &["report", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.expect_code(0).stdout).expect("JSON");
    let last = v["authorities"]
        .as_array()
        .expect("authorities")
        .last()
        .cloned()
        .expect("one");
    assert_eq!(
        (last["id"].as_str(), last["name"].as_str()),
        (Some("president"), None)
    );
}

#[test]
fn a_link_planted_at_the_page_is_refused() {
    let (camp, _) = campaign_after_sending();
    let dir = camp.path();
    let target = dir.join("elsewhere.txt");
    std::fs::write(&target, "keep me").expect("write");
    let page: PathBuf = dir.join("out/duambekov/report.html");
    std::os::unix::fs::symlink(&target, &page).expect("symlink");
    common::run_in(dir, &["report"])
        .expect_code(2)
        .expect_stderr("refusing to write through a symbolic link");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");
}

#[test]
fn failed_letters_get_a_column_only_when_there_are_some() {
    let server = Server::start(&["--reject", "ombudsman-kz@mail.ru"]);
    let camp = example();
    let dir = camp.path();
    common::run_in(dir, &["send", "--yes", "--smtp", &server.url()]).expect_code(1);
    common::run_in(dir, &["report"]).expect_code(0);
    let page = dir.join("out/duambekov/report.html");
    let dom = chromium(&page, &["--dump-dom"]).stdout;
    let ombudsman = row_counts(&dom, "ombudsman", "email");
    assert_eq!(ombudsman.get("failed"), Some(&1), "{ombudsman:?}");
    assert_eq!(ombudsman.get("sent"), Some(&0));
    assert_eq!(
        row_counts(&dom, "interior", "email").get("failed"),
        Some(&0)
    );
    assert!(dom.contains(">Failed</th>"));
    assert!(!dom.contains(">In doubt</th>"), "no letter is in doubt");
    assert!(dom.contains("No answer has been read from the mailbox yet"));
}
