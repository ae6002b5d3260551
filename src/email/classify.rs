//! What a message in the sender's mailbox says about the letters that went out: a
//! delivery-status report (RFC 3464), hard or soft; an automatic reply (RFC 3834 and the
//! common vacation notices); a person's reply; or nothing. And which letter it is about: the
//! Message-IDs it names (the returned message or its headers, `In-Reply-To`, `References`) and
//! the VERP tokens in the addresses it was delivered to. MIME is read by `mail-parser`; the
//! delivery-status fields, which it leaves as text, are read here.

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

/// What kind of message it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A delivery-status report that says a recipient failed for good (5.x.x, but 5.2.2).
    HardBounce(Failure),
    /// A report of a delay or a temporary failure (4.x.x), or a full mailbox (5.2.2).
    SoftBounce(Failure),
    /// An automatic reply: a vacation notice, an acknowledgement.
    AutoReply,
    /// A reply naming a message (In-Reply-To, References) or sent to a VERP address.
    Reply,
    /// Nothing about a letter: spam, a newsletter, a report of a delivery.
    Other,
}

/// One recipient's line of a delivery-status report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// `Status:`, e.g. `5.1.1`.
    pub status: String,
    /// `Diagnostic-Code:` without its type, e.g. `550 5.1.1 User unknown`.
    pub diagnostic: Option<String>,
    /// `Final-Recipient:` (or `Original-Recipient:`) without its type.
    pub address: Option<String>,
}

/// A message, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub kind: Kind,
    /// The message's own Message-ID, or `sha256:` and the digest of its bytes.
    pub key: String,
    /// Its Date, RFC 3339.
    pub dated: Option<String>,
    /// Its From, as `Name <address>` or the address.
    pub from: Option<String>,
    pub subject: Option<String>,
    /// Message-IDs of messages it is about, most telling first.
    pub ids: Vec<String>,
    /// VERP tokens found in the addresses it was delivered to.
    pub tokens: Vec<String>,
    /// For a delivery-status report: each recipient that failed or was delayed.
    pub reported: Vec<Reported>,
}

/// One recipient of a report that failed (`hard`: for good) or was delayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub failure: Failure,
    pub hard: bool,
}

impl Classified {
    /// The message's kind once the recipients at `copies` (the addresses a letter's email is
    /// copied to, `cc_email`) are left out of a report: a report only about a copy says nothing
    /// about the letter to the authority (`Other`). Any other message keeps its kind.
    pub fn kind_without(&self, copies: &[String]) -> Kind {
        match self.kind {
            Kind::HardBounce(_) | Kind::SoftBounce(_) => {
                let others: Vec<&Reported> = self
                    .reported
                    .iter()
                    .filter(|r| {
                        !r.failure
                            .address
                            .as_deref()
                            .is_some_and(|a| copies.iter().any(|c| a.eq_ignore_ascii_case(c)))
                    })
                    .collect();
                worst(&others)
            }
            _ => self.kind.clone(),
        }
    }
}

/// The longest diagnostic kept, in characters.
const MAX_DIAGNOSTIC: usize = 500;

/// Reads `raw`. `bounce` is the `[smtp] bounce_address` pattern (`{token}` in it), if any.
pub fn classify(raw: &[u8], bounce: Option<&str>) -> Classified {
    let parser = MessageParser::default();
    let Some(message) = parser.parse(raw) else {
        return Classified {
            kind: Kind::Other,
            key: digest_key(raw),
            dated: None,
            from: None,
            subject: None,
            ids: Vec::new(),
            tokens: Vec::new(),
            reported: Vec::new(),
        };
    };
    let tokens = bounce.map(|b| tokens(&message, b)).unwrap_or_default();
    let mut ids = Vec::new();
    let mut reported = Vec::new();
    let kind = if let Some((found, returned)) = delivery_status(&message) {
        ids.extend(returned);
        let kind = if found.is_none() {
            Kind::Other
        } else {
            worst(&found.iter().flatten().collect::<Vec<_>>())
        };
        reported = found.unwrap_or_default();
        kind
    } else if is_auto_reply(&message) {
        Kind::AutoReply
    } else {
        Kind::Reply
    };
    ids.extend(header_ids(message.in_reply_to()));
    let mut references = header_ids(message.references());
    references.reverse(); // the last one is the message answered
    ids.extend(references);
    let kind = match kind {
        Kind::Reply | Kind::AutoReply if ids.is_empty() && tokens.is_empty() => Kind::Other,
        k => k,
    };
    Classified {
        kind,
        key: message
            .message_id()
            .map(|id| format!("<{id}>"))
            .unwrap_or_else(|| digest_key(raw)),
        dated: message.date().map(|d| d.to_rfc3339()),
        from: message
            .from()
            .and_then(|a| a.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(n), Some(e)) => format!("{n} <{e}>"),
                (_, Some(e)) => e.to_string(),
                (Some(n), None) => n.to_string(),
                (None, None) => String::new(),
            }),
        subject: message.subject().map(str::to_string),
        ids,
        tokens,
        reported,
    }
}

fn digest_key(raw: &[u8]) -> String {
    format!("sha256:{}", crate::digest::sha256_hex(raw))
}

/// The Message-IDs in an `In-Reply-To` or `References` value.
fn header_ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![format!("<{t}>")],
        HeaderValue::TextList(list) => list.iter().map(|t| format!("<{t}>")).collect(),
        _ => Vec::new(),
    }
}

/// The recipients a report says failed or were delayed (`None` without its delivery-status
/// part) and the Message-IDs of the messages it returns (in a `message/rfc822` part, or only
/// their headers in `text/rfc822-headers`), when `message` is a delivery-status report
/// (`multipart/report; report-type=delivery-status`).
fn delivery_status(message: &Message<'_>) -> Option<(Option<Vec<Reported>>, Vec<String>)> {
    let ct = message.root_part().content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let mut fields = None;
    let mut ids = Vec::new();
    for part in &message.parts {
        let Some(pct) = part.content_type() else {
            continue;
        };
        let sub = pct.subtype().unwrap_or("").to_ascii_lowercase();
        match (pct.ctype().to_ascii_lowercase().as_str(), sub.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                fields = Some(String::from_utf8_lossy(part.contents()).into_owned());
            }
            ("message", "rfc822" | "global") => {
                if let PartType::Message(m) = &part.body
                    && let Some(id) = m.message_id()
                {
                    ids.push(format!("<{id}>"));
                }
            }
            ("text", "rfc822-headers") | ("message", "rfc822-headers") => {
                if let Some(id) = MessageParser::default()
                    .parse_headers(part.contents())
                    .and_then(|m| m.message_id().map(|id| format!("<{id}>")))
                {
                    ids.push(id);
                }
            }
            _ => {}
        }
    }
    Some((fields.map(|f| report_failures(&f)), ids))
}

/// Each recipient of a report's fields that failed (hard: for good, 5.x.x but 5.2.2) or was
/// delayed or failed for now (4.x.x, 5.2.2), in the report's order.
fn report_failures(fields: &str) -> Vec<Reported> {
    let mut out = Vec::new();
    for group in field_groups(fields).into_iter().skip(1) {
        let get = |name: &str| {
            group
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let action = get("Action").unwrap_or("").to_ascii_lowercase();
        let status = get("Status")
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("");
        let failure = Failure {
            status: status.to_string(),
            diagnostic: get("Diagnostic-Code").map(|d| clip(without_type(d))),
            address: get("Final-Recipient")
                .or(get("Original-Recipient"))
                .map(|a| without_type(a).trim_matches(['<', '>']).to_string()),
        };
        let hard = status.starts_with("5.") && status != "5.2.2";
        let temporary = status.starts_with("4.") || status == "5.2.2";
        if action == "failed" && hard {
            out.push(Reported {
                failure,
                hard: true,
            });
        } else if action == "delayed" || (action == "failed" && temporary) {
            out.push(Reported {
                failure,
                hard: false,
            });
        }
    }
    out
}

/// The worst of a report's recipients: the first hard failure, else the first soft one, else
/// none (a report of deliveries).
fn worst(reported: &[&Reported]) -> Kind {
    if let Some(r) = reported.iter().find(|r| r.hard) {
        return Kind::HardBounce(r.failure.clone());
    }
    reported
        .first()
        .map_or(Kind::Other, |r| Kind::SoftBounce(r.failure.clone()))
}

/// `rfc822; someone@example.org` → `someone@example.org`; `smtp; 550 ...` → `550 ...`.
fn without_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest)) if !kind.contains(' ') => rest.trim(),
        _ => value.trim(),
    }
}

fn clip(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(MAX_DIAGNOSTIC).collect()
}

/// A `message/delivery-status` body: groups of `Name: value` fields (folded lines joined)
/// parted by blank lines; the first group is about the message, each other one a recipient.
fn field_groups(text: &str) -> Vec<Vec<(String, String)>> {
    let mut groups: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if groups.last().is_some_and(|g| !g.is_empty()) {
                groups.push(Vec::new());
            }
            continue;
        }
        let Some(group) = groups.last_mut() else {
            continue;
        };
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Subjects of vacation notices and other automatic replies, in lower case: English,
/// Russian and Kazakh, and the usual German and French.
const AUTO_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "auto reply",
    "away from the office",
    "vacation reply",
    "автоответ",
    "автоматический ответ",
    "вне офиса",
    "автожауап",
    "автоматты жауап",
    "abwesenheitsnotiz",
    "réponse automatique",
];

/// RFC 3834's `Auto-Submitted` (anything but `no`), the `X-Autoreply`/`X-Autorespond`
/// headers of Exchange and friends, `Precedence: auto_reply`, or a vacation subject.
fn is_auto_reply(message: &Message<'_>) -> bool {
    let raw = |name: &'static str| message.header_raw(name).map(str::trim);
    if raw("Auto-Submitted").is_some_and(|v| {
        !v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("no")
    }) {
        return true;
    }
    if raw("X-Autoreply").is_some() || raw("X-Autorespond").is_some() {
        return true;
    }
    if raw("Precedence").is_some_and(|v| v.eq_ignore_ascii_case("auto_reply")) {
        return true;
    }
    message.subject().is_some_and(|s| {
        let s = s.to_lowercase();
        AUTO_SUBJECTS.iter().any(|a| s.contains(a))
    })
}

/// The headers a message's delivery addresses are in.
const DELIVERY_HEADERS: &[&str] = &[
    "to",
    "cc",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-envelope-to",
];

/// VERP tokens in the addresses `message` was delivered to, given the bounce address
/// pattern (`bounces+{token}@example.org`).
fn tokens(message: &Message<'_>, pattern: &str) -> Vec<String> {
    let Some((prefix, suffix)) = pattern
        .to_lowercase()
        .split_once("{token}")
        .map(|(p, s)| (p.to_string(), s.to_string()))
    else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (name, value) in message.headers_raw() {
        if !DELIVERY_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        let value = value.to_lowercase();
        let mut rest = value.as_str();
        while !rest.is_empty()
            && let Some(at) = rest.find(&prefix)
        {
            let after = &rest[at + prefix.len()..];
            let token: String = after.chars().take(16).collect();
            if token.len() == 16
                && token
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
                && after[16..].starts_with(&suffix)
                && !found.contains(&token)
            {
                found.push(token);
            }
            let step = rest[at..].chars().next().map_or(1, char::len_utf8);
            rest = &rest[at + prefix.len().max(step)..];
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "<0123456789abcdef0123456789abcdef@example.org>";
    const TOKEN: &str = "abcdefghij234567";
    const BOUNCE: &str = "bounces+{token}@example.org";

    /// A fixture of tests/fixtures/mail/ filled in, with CRLF line ends.
    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/mail/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path)
            .expect("fixture")
            .replace("{{MESSAGE_ID}}", ID)
            .replace("{{TOKEN}}", TOKEN)
            .replace("{{RCPT}}", "official@gov.example.kz")
            .replace('\n', "\r\n")
            .into_bytes()
    }

    fn read(name: &str) -> Classified {
        classify(&fixture(name), Some(BOUNCE))
    }

    #[test]
    fn postfix_and_gmail_hard_bounces_name_the_letter() {
        for name in ["postfix-hard.eml", "gmail-hard.eml"] {
            let c = read(name);
            let Kind::HardBounce(f) = &c.kind else {
                panic!("{name}: {:?}", c.kind);
            };
            assert_eq!(f.status, "5.1.1", "{name}");
            assert_eq!(f.address.as_deref(), Some("official@gov.example.kz"));
            assert!(
                f.diagnostic.as_deref().unwrap_or("").contains("550"),
                "{name}: {f:?}"
            );
            assert_eq!(c.ids.first().map(String::as_str), Some(ID), "{name}");
            assert_eq!(c.tokens, [TOKEN], "{name}");
        }
    }

    #[test]
    fn a_report_about_a_copy_says_nothing_of_the_letter() {
        let raw = String::from_utf8(fixture("postfix-hard.eml")).expect("utf8");
        // The copy to the embassy failed for good; the official's letter is only delayed.
        let official = "Final-Recipient: rfc822; official@gov.example.kz";
        let copy = "Final-Recipient: rfc822; Consul@Embassy.example\r\nAction: failed\r\n\
                    Status: 5.1.1\r\n\r\n";
        let both = raw
            .replacen(official, &format!("{copy}{official}"), 1)
            .replacen(
                "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA",
                "Action: delayed\r\nStatus: 4.4.1\r\nRemote-MTA",
                1,
            );
        let c = classify(both.as_bytes(), Some(BOUNCE));
        let Kind::HardBounce(f) = &c.kind else {
            panic!("{:?}", c.kind);
        };
        assert_eq!(f.address.as_deref(), Some("Consul@Embassy.example"));
        let copies = ["consul@embassy.example".to_string()];
        let Kind::SoftBounce(f) = c.kind_without(&copies) else {
            panic!("{:?}", c.kind_without(&copies));
        };
        assert_eq!(
            (f.status.as_str(), f.address.as_deref()),
            ("4.4.1", Some("official@gov.example.kz"))
        );
        // Only the copy: nothing about the letter. Another address: the report as it is.
        let alone = read("postfix-hard.eml");
        let official = ["official@gov.example.kz".to_string()];
        assert_eq!(alone.kind_without(&official), Kind::Other);
        assert_eq!(alone.kind_without(&copies), alone.kind);
        let reply = read("reply.eml");
        assert_eq!(reply.kind_without(&official), Kind::Reply);
    }

    #[test]
    fn a_delay_and_a_full_mailbox_are_soft() {
        let c = read("exim-delayed.eml");
        assert!(
            matches!(&c.kind, Kind::SoftBounce(f) if f.status == "4.0.0"),
            "{c:?}"
        );
        assert_eq!(
            c.ids.first().map(String::as_str),
            Some(ID),
            "from text/rfc822-headers"
        );
        let c = read("m365-mailbox-full.eml");
        assert!(
            matches!(&c.kind, Kind::SoftBounce(f) if f.status == "5.2.2"),
            "{c:?}"
        );
        assert_eq!(
            c.ids.first().map(String::as_str),
            Some(ID),
            "from message/rfc822"
        );
    }

    #[test]
    fn a_report_without_the_message_is_matched_by_its_token() {
        let c = read("exim-hard-token-only.eml");
        assert!(
            matches!(&c.kind, Kind::HardBounce(f) if f.status == "5.0.0"),
            "{c:?}"
        );
        assert!(c.ids.is_empty());
        assert_eq!(c.tokens, [TOKEN]);
        // Without a bounce address, nothing ties it to a letter.
        assert!(
            classify(&fixture("exim-hard-token-only.eml"), None)
                .tokens
                .is_empty()
        );
    }

    #[test]
    fn auto_replies_replies_and_the_rest() {
        let c = read("auto-reply-ru.eml");
        assert_eq!(c.kind, Kind::AutoReply);
        assert_eq!(c.ids, [ID, ID]);
        assert!(
            c.subject.as_deref().unwrap_or("").starts_with("Автоответ"),
            "{c:?}"
        );
        let c = read("reply.eml");
        assert_eq!(c.kind, Kind::Reply);
        assert_eq!(c.key, "<reply.20140716113000.42@gov.example.kz>");
        assert_eq!(
            c.from.as_deref(),
            Some("Office of the Official <official@gov.example.kz>")
        );
        assert!(
            c.dated
                .as_deref()
                .unwrap_or("")
                .starts_with("2014-07-16T11:30:00"),
            "{c:?}"
        );
        assert_eq!(read("spam.eml").kind, Kind::Other);
        assert_eq!(classify(b"\xff\xfe not a message", None).kind, Kind::Other);
    }

    #[test]
    fn vacation_subjects_in_three_languages() {
        for subject in [
            "Out of Office: re your letter",
            "Automatic reply: About",
            "Автоматический ответ",
            "Автожауап",
        ] {
            let raw = format!(
                "From: a@b.example\r\nSubject: {subject}\r\nIn-Reply-To: {ID}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAway.\r\n"
            );
            assert_eq!(
                classify(raw.as_bytes(), None).kind,
                Kind::AutoReply,
                "{subject}"
            );
        }
        let no = format!(
            "From: a@b.example\r\nAuto-Submitted: no\r\nSubject: Re: x\r\nIn-Reply-To: {ID}\r\n\r\nHi\r\n"
        );
        assert_eq!(classify(no.as_bytes(), None).kind, Kind::Reply);
    }
}
