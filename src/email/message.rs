//! Letter → email message: plain text and HTML alternatives of the same letter, its PDF and the
//! campaign's attachments, with headers checked before lettre ever sees them.

use std::path::Path;
use std::str::FromStr;
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow, bail};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, MultiPartKind, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest, Sha256};

use crate::diag::unsafe_char;
use crate::letter::Letter;

/// One file sent with every email of a campaign.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl FileAttachment {
    /// Reads a campaign attachment; its name in the message is the file name.
    pub fn load(path: &Path) -> Result<FileAttachment> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("attachment `{}` has no file name", path.display()))?;
        if let Some(why) = unsafe_char(&name) {
            bail!("attachment name `{}` {why}", name.escape_debug());
        }
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read attachment {}", path.display()))?;
        Ok(FileAttachment {
            content_type: content_type_for(&name).to_string(),
            name,
            bytes,
        })
    }
}

fn content_type_for(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" => "text/plain; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "odt" => "application/vnd.oasis.opendocument.text",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

/// What is the same for every message of a run.
#[derive(Debug, Clone)]
pub struct MailContext {
    /// `[smtp] from`: the account that sends for everyone; the supporter becomes Reply-To.
    pub account: Option<String>,
    /// The Date header.
    pub date: SystemTime,
    pub attachments: Vec<FileAttachment>,
    /// With `cc_email = true` in campaign.toml: the `copies_to` entries, copied on every email.
    pub cc: Vec<String>,
}

/// A message ready for the wire, with what the transport and the ledger need to know.
#[derive(Debug, Clone)]
pub struct Email {
    pub message_id: String,
    /// Envelope sender (MAIL FROM).
    pub from: Address,
    /// Envelope recipient (RCPT TO).
    pub to: Address,
    /// Copies (more RCPT TOs), from `copies_to` with `cc_email = true`.
    pub cc: Vec<Address>,
    /// The message as sent, CRLF line ends.
    pub bytes: Vec<u8>,
}

impl Email {
    /// The message as an `.eml` file, in two parts (no copy of the message): exactly what the
    /// server receives before the final dot (the transport ends the data with CRLF "." CRLF,
    /// after the message's own last CRLF).
    pub fn eml(&self) -> [&[u8]; 2] {
        [&self.bytes, b"\r\n"]
    }
}

/// Parses a mailbox ("Name <a@b>" or "a@b") after refusing line breaks and other controls,
/// which would make lettre's header writer panic or inject headers.
pub fn parse_mailbox(value: &str, what: &str) -> Result<Mailbox> {
    if let Some(why) = unsafe_char(value) {
        bail!("{what} {why}");
    }
    Mailbox::from_str(value.trim())
        .map_err(|e| anyhow!("{what} `{value}` is not a valid mailbox ({e})"))
}

/// Parses a bare address, refusing controls first.
pub fn parse_address(value: &str, what: &str) -> Result<Address> {
    if let Some(why) = unsafe_char(value) {
        bail!("{what} {why}");
    }
    Address::from_str(value.trim())
        .map_err(|e| anyhow!("{what} `{value}` is not a valid email address ({e})"))
}

/// A display name that is safe to put in a header: no controls, not blank.
fn display_name(name: &str, what: &str) -> Result<Option<String>> {
    if let Some(why) = unsafe_char(name) {
        bail!("{what} {why}");
    }
    let name = name.trim();
    Ok((!name.is_empty()).then(|| name.to_string()))
}

/// A Message-ID stable for (campaign, sender, signatory, recipient), so a re-sent letter
/// carries the same id and receivers can drop the copy.
pub fn message_id(letter: &Letter, domain: &str) -> String {
    let mut h = Sha256::new();
    let sender = letter
        .sender
        .email
        .as_deref()
        .unwrap_or(&letter.sender.name);
    for part in [
        letter.key.campaign.as_str(),
        sender,
        letter.key.signatory.as_deref().unwrap_or(""),
        letter.key.recipient.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("<{}@{domain}>", &crate::digest::hex(&h.finalize())[..32])
}

/// The envelope and headers of one letter's email, checked: everything that can be wrong with
/// a message, known before any message is built, so a bad one stops the run before the first
/// is sent.
#[derive(Debug, Clone)]
pub struct Headers {
    pub message_id: String,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    to: Mailbox,
    subject: String,
    cc: Vec<Mailbox>,
}

impl Headers {
    /// The same headers carrying `message_id` instead (one the ledger recorded, or a new one
    /// for a delivery forced with `--resend`).
    pub fn with_message_id(&self, message_id: &str) -> Result<Headers> {
        if let Some(why) = unsafe_char(message_id) {
            bail!("Message-ID {why}");
        }
        Ok(Headers {
            message_id: message_id.to_string(),
            ..self.clone()
        })
    }
}

/// Checks and gathers the headers of the email carrying `letter` to `to` (the recipient's
/// address), with its stable Message-ID. Every value is checked; an error names the field.
pub fn headers(letter: &Letter, to: &str, ctx: &MailContext) -> Result<Headers> {
    headers_inner(letter, to, ctx)
        .with_context(|| format!("cannot build the email to {}", letter.key.file_stem()))
}

fn headers_inner(letter: &Letter, to: &str, ctx: &MailContext) -> Result<Headers> {
    // The supporter, as a mailbox.
    let sender_name = display_name(&letter.sender.name, "sender name")?;
    let sender_mailbox = match &letter.sender.email {
        Some(e) => Some(Mailbox::new(
            sender_name.clone(),
            parse_address(e, "sender email")?,
        )),
        None => None,
    };
    let (from, reply_to) = match &ctx.account {
        Some(account) => (parse_mailbox(account, "[smtp] from")?, sender_mailbox),
        None => match sender_mailbox {
            Some(m) => (m, None),
            None => bail!(
                "the sender has no email address: set [sender] email in appeal.toml or pass \
                 --from-email (or set [smtp] from for a staff account)"
            ),
        },
    };
    let to_addr = parse_address(to, "recipient email")?;
    let to_name = display_name(&letter.recipient.name, "recipient name")?;
    // The campaign's reference goes in the subject too, so a reply can be matched to it.
    let subject = match &letter.reference {
        Some(r) => format!(
            "{} [{} {r}]",
            letter.subject,
            crate::model::locale::labels(&letter.language).reference
        ),
        None => letter.subject.clone(),
    };
    if let Some(why) = unsafe_char(&subject) {
        bail!("subject {why}");
    }
    if subject.trim().is_empty() {
        bail!("the subject is empty for language `{}`", letter.language);
    }
    let message_id = message_id(letter, from.email.domain());
    let cc = ctx
        .cc
        .iter()
        .map(|c| parse_mailbox(c, "copies_to entry"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Headers {
        message_id,
        from,
        reply_to,
        to: Mailbox::new(to_name, to_addr),
        subject,
        cc,
    })
}

/// The message itself: text and HTML from the letter, its PDF and the campaign's attachments.
pub fn assemble(letter: &Letter, h: &Headers, pdf: &[u8], ctx: &MailContext) -> Result<Email> {
    let seed = crate::digest::sha256_hex(h.message_id.as_bytes())[..24].to_string();
    let pdf_name = format!("{}.pdf", letter.key.recipient);
    let alternative = MultiPart::builder()
        .kind(MultiPartKind::Alternative)
        .boundary(format!("alt-{seed}"))
        .singlepart(
            SinglePart::builder()
                .content_type(ContentType::TEXT_PLAIN)
                .body(letter.to_text(72, false)),
        )
        .singlepart(
            SinglePart::builder()
                .content_type(ContentType::TEXT_HTML)
                .body(letter.to_html()),
        );
    let mut mixed = MultiPart::builder()
        .kind(MultiPartKind::Mixed)
        .boundary(format!("mixed-{seed}"))
        .multipart(alternative)
        .singlepart(Attachment::new(pdf_name).body(pdf.to_vec(), pdf_type()?));
    for a in &ctx.attachments {
        let ct = ContentType::parse(&a.content_type)
            .map_err(|e| anyhow!("content type of {}: {e}", a.name))?;
        mixed = mixed.singlepart(Attachment::new(a.name.clone()).body(a.bytes.clone(), ct));
    }

    let mut builder = Message::builder()
        .from(h.from.clone())
        .to(h.to.clone())
        .subject(h.subject.clone())
        .date(ctx.date)
        .message_id(Some(h.message_id.clone()));
    if let Some(r) = &h.reply_to {
        builder = builder.reply_to(r.clone());
    }
    for c in &h.cc {
        builder = builder.cc(c.clone());
    }
    let message = builder
        .multipart(mixed)
        .map_err(|e| anyhow!("invalid message: {e}"))
        .with_context(|| format!("cannot build the email to {}", letter.key.file_stem()))?;
    Ok(Email {
        message_id: h.message_id.clone(),
        from: h.from.email.clone(),
        to: h.to.email.clone(),
        cc: h.cc.iter().map(|c| c.email.clone()).collect(),
        bytes: message.formatted(),
    })
}

fn pdf_type() -> Result<ContentType> {
    ContentType::parse("application/pdf").map_err(|e| anyhow!("{e}"))
}

/// Converts the run's "now" to the Date header's clock.
pub fn system_time(now: &jiff::Zoned) -> SystemTime {
    SystemTime::from(now.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letter::{Block, LetterKey, Span};
    use crate::model::recipients::Addressee;
    use crate::model::sender::Sender;

    /// The whole message in one call, as `send` makes it in two.
    fn build(letter: &Letter, to: &str, pdf: &[u8], ctx: &MailContext) -> Result<Email> {
        assemble(letter, &headers(letter, to, ctx)?, pdf, ctx)
    }

    fn letter() -> Letter {
        Letter {
            key: LetterKey {
                campaign: "duambekov".into(),
                signatory: None,
                recipient: "ombudsman".into(),
            },
            language: "ru".into(),
            sender: Sender {
                name: "Анна Петрова".into(),
                email: Some("anna@example.org".into()),
                ..Sender::default()
            },
            recipient: Addressee {
                name: "А. Ш. Шакирову".into(),
                title: "Уполномоченный".into(),
                salutation: None,
                address: vec![],
            },
            place_date: String::new(),
            subject: "Освободите Мусагали Дуамбекова".into(),
            reference: None,
            salutation: "Уважаемый Аскар Шакирович!".into(),
            body: vec![Block::Paragraph(vec![Span::plain("Текст письма.")])],
            closing: "С уважением,".into(),
            notes: vec![],
            copies_to: vec![],
            title: "t".into(),
            fax_to: None,
        }
    }

    fn ctx() -> MailContext {
        MailContext {
            account: None,
            date: SystemTime::UNIX_EPOCH,
            attachments: vec![],
            cc: vec![],
        }
    }

    #[test]
    fn builds_an_encoded_message_with_a_stable_id() {
        let l = letter();
        let a = build(&l, "ombudsman@example.kz", b"%PDF-1.4", &ctx()).unwrap();
        let b = build(&l, "ombudsman@example.kz", b"%PDF-1.4", &ctx()).unwrap();
        assert_eq!(a.bytes, b.bytes, "the same letter gives the same bytes");
        assert!(a.message_id.ends_with("@example.org>"));
        let text = String::from_utf8(a.bytes).unwrap();
        assert!(text.is_ascii(), "headers and bodies are encoded");
        assert!(text.contains("Subject: =?utf-8?"));
        assert!(text.contains("filename=\"ombudsman.pdf\""));
        assert!(!text.contains("Reply-To"));
    }

    #[test]
    fn staff_account_is_from_and_supporter_is_reply_to() {
        let mut c = ctx();
        c.account = Some("Campaign <campaign@example.net>".into());
        let e = build(&letter(), "ombudsman@example.kz", b"x", &c).unwrap();
        assert_eq!(e.from.to_string(), "campaign@example.net");
        let text = String::from_utf8(e.bytes).unwrap();
        assert!(text.contains("Reply-To: "));
        assert!(text.contains("anna@example.org"));
    }

    #[test]
    fn line_breaks_in_headers_are_refused_not_panicked_on() {
        let mut l = letter();
        l.sender.name = "Anna\r\nBcc: victim@example.com".into();
        let err = build(&l, "ombudsman@example.kz", b"x", &ctx()).unwrap_err();
        assert!(format!("{err:#}").contains("sender name contains a carriage return"));
        let mut l = letter();
        l.recipient.name = "X\nY".into();
        assert!(build(&l, "ombudsman@example.kz", b"x", &ctx()).is_err());
        let mut l = letter();
        l.subject = "a\u{202E}b".into();
        assert!(build(&l, "ombudsman@example.kz", b"x", &ctx()).is_err());
        assert!(build(&letter(), "a@b\r\n", b"x", &ctx()).is_err());
        let mut c = ctx();
        c.account = Some("Staff\n <s@example.net>".into());
        assert!(build(&letter(), "ombudsman@example.kz", b"x", &c).is_err());
    }

    #[test]
    fn no_sender_email_and_no_account_is_an_error() {
        let mut l = letter();
        l.sender.email = None;
        let err = build(&l, "ombudsman@example.kz", b"x", &ctx()).unwrap_err();
        assert!(format!("{err:#}").contains("--from-email"));
    }

    #[test]
    fn a_message_id_for_a_re_send_is_carried_and_checked() {
        let h = headers(&letter(), "ombudsman@example.kz", &ctx()).unwrap();
        let again = h.with_message_id("<abc.r2@example.org>").unwrap();
        let e = assemble(&letter(), &again, b"x", &ctx()).unwrap();
        assert_eq!(e.message_id, "<abc.r2@example.org>");
        assert!(String::from_utf8_lossy(&e.bytes).contains("Message-ID: <abc.r2@example.org>"));
        assert!(h.with_message_id("<a@b>\r\nBcc: x@y").is_err());
    }
}
