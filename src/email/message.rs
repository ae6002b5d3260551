//! Letter → email message: plain text and HTML alternatives of the same letter (each ending
//! with the signatory's contact block), its PDF under a name unique in the batch, and the
//! campaign's attachments, with headers checked before lettre ever sees them: no control
//! characters, no value too long for a header line, domains in ASCII (IDNA).

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow, bail};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, MultiPartKind, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::diag::unsafe_char;
use crate::letter::Letter;
use crate::letter::plan::Delivery;

/// The longest display name (a sender's, a recipient's, `[smtp] from`'s) a header takes, in
/// characters. Longer is a mistake in the data (a note in the name column), not a name.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest subject, reference included, in characters.
pub const MAX_SUBJECT_CHARS: usize = 400;
/// The longest address, in octets (RFC 5321's limit on a path, less its brackets).
pub const MAX_ADDRESS_OCTETS: usize = 254;
/// The longest line RFC 5322 allows, in octets, CRLF not counted.
const MAX_LINE_OCTETS: usize = 998;

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
    /// `[smtp] bounce_address`: the envelope sender, `{token}` replaced by each letter's
    /// [`verp_token`] (checked when `appeal.toml` was read).
    pub bounce: Option<String>,
}

impl MailContext {
    /// What `check` needs to check each letter's headers as `send` will build them: the
    /// `[smtp] from` account and the copies of `appeal.toml` and the campaign, no attachments
    /// (they do not change a header).
    pub fn for_check(config: &Config) -> MailContext {
        MailContext {
            account: config
                .settings
                .raw
                .smtp
                .as_ref()
                .and_then(|r| r.from.as_ref())
                .map(|f| f.get_ref().clone()),
            date: system_time(&config.now),
            attachments: Vec::new(),
            cc: if config.campaign.cc_email {
                config.campaign.copies_to.clone()
            } else {
                Vec::new()
            },
            bounce: config
                .settings
                .raw
                .smtp
                .as_ref()
                .and_then(|r| r.bounce_address.as_ref())
                .map(|b| b.get_ref().clone()),
        }
    }
}

/// The token a letter's bounce address carries (VERP): the first 80 bits of
/// SHA-256("appeal-verp", Message-ID) in lower-case base32, 16 characters. Stable across the
/// retries of one letter (they reuse its Message-ID), new with a `--resend`'s new Message-ID,
/// and not guessable from anything but the Message-ID, which only the recipient sees.
pub fn verp_token(message_id: &str) -> String {
    use sha2::Digest as _;
    let mut h = Sha256::new();
    h.update(b"appeal-verp\0");
    h.update(message_id.as_bytes());
    let digest = h.finalize();
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bits = digest[..10]
        .iter()
        .fold(0u128, |n, b| (n << 8) | u128::from(*b));
    (0..16)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect()
}

/// The envelope sender for a message with `message_id`: the bounce address with its token,
/// or the From address; and the token, when there is one.
fn envelope_sender(h: &Headers, ctx: &MailContext) -> Result<(Address, Option<String>)> {
    let Some(pattern) = &ctx.bounce else {
        return Ok((h.from.email.clone(), None));
    };
    let token = verp_token(&h.message_id);
    let address = parse_address(&pattern.replace("{token}", &token), "[smtp] bounce_address")?;
    Ok((address, Some(token)))
}

/// A message ready for the wire, with what the transport and the ledger need to know.
#[derive(Debug, Clone)]
pub struct Email {
    pub message_id: String,
    /// Envelope sender (MAIL FROM): the From address, or the bounce address with [`Email::token`].
    pub from: Address,
    /// The letter's VERP token when `[smtp] bounce_address` is set: the ledger keeps it so
    /// `appeal inbox` can tell which letter a bounce is about.
    pub token: Option<String>,
    /// Envelope recipient (RCPT TO).
    pub to: Address,
    /// Copies (more RCPT TOs), from `copies_to` with `cc_email = true`.
    pub cc: Vec<Address>,
    /// The message as sent, CRLF line ends.
    pub bytes: Vec<u8>,
    /// The first address of the message (envelope, To, Cc or Reply-To) whose local part is not
    /// ASCII: such a message needs a server that offers SMTPUTF8 (RFC 6531).
    pub utf8_address: Option<String>,
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
/// which would make lettre's header writer panic or inject headers; the name is checked as
/// [`display_name`] does, the address as [`parse_address`] does.
pub fn parse_mailbox(value: &str, what: &str) -> Result<Mailbox> {
    if let Some(why) = unsafe_char(value) {
        bail!("{what} {why}");
    }
    let mailbox = Mailbox::from_str(value.trim())
        .map_err(|e| anyhow!("{what} `{value}` is not a valid mailbox ({e})"))?;
    let name = match &mailbox.name {
        Some(n) => display_name(n, &format!("{what} name"))?,
        None => None,
    };
    Ok(Mailbox::new(name, ascii_domain(mailbox.email, what)?))
}

/// Parses a bare address, refusing controls first; a domain that is not ASCII is written as
/// IDNA (`ombudsman@пример.рф` → `ombudsman@xn--e1afmkfd.xn--p1ai`), as every server and
/// header takes it.
pub fn parse_address(value: &str, what: &str) -> Result<Address> {
    if let Some(why) = unsafe_char(value) {
        bail!("{what} {why}");
    }
    let address = Address::from_str(value.trim())
        .map_err(|e| anyhow!("{what} `{value}` is not a valid email address ({e})"))?;
    ascii_domain(address, what)
}

/// `address` with its domain in ASCII (IDNA, UTS #46), and not too long for SMTP. An ASCII
/// domain is kept as written. A local part that is not ASCII stays: it needs SMTPUTF8, which
/// only the server can say it offers (see [`Email::utf8_address`]).
fn ascii_domain(address: Address, what: &str) -> Result<Address> {
    let address = if address.domain().is_ascii() {
        address
    } else {
        let domain = idna::domain_to_ascii(address.domain()).map_err(|_| {
            anyhow!(
                "{what} `{address}`: the domain `{}` cannot be written in ASCII (IDNA)",
                address.domain()
            )
        })?;
        Address::new(address.user(), &domain)
            .map_err(|e| anyhow!("{what} `{address}` is not a valid email address ({e})"))?
    };
    let octets = AsRef::<str>::as_ref(&address).len();
    if octets > MAX_ADDRESS_OCTETS {
        bail!(
            "{what} is {octets} characters long; an email address has at most \
             {MAX_ADDRESS_OCTETS}"
        );
    }
    Ok(address)
}

/// A display name that is safe to put in a header: no controls, not blank, at most
/// [`MAX_NAME_CHARS`] characters (lettre folds what fits; a longer one is refused).
fn display_name(name: &str, what: &str) -> Result<Option<String>> {
    if let Some(why) = unsafe_char(name) {
        bail!("{what} {why}");
    }
    let name = name.trim();
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        bail!(
            "{what} is {chars} characters long; at most {MAX_NAME_CHARS} fit an email header \
             (is another column's text in the name?)"
        );
    }
    Ok((!name.is_empty()).then(|| name.to_string()))
}

/// The header check `check` runs on each letter that goes by email, as `send` will make its
/// headers (see [`headers_for`]): the same refusals (a control character, a name or subject
/// too long for a header, an address that is not valid), found without sending anything.
pub struct HeaderCheck {
    ctx: MailContext,
    by_recipient: HashMap<String, Delivery>,
}

impl HeaderCheck {
    /// The run's plan and `[smtp] from`, from `config`.
    pub fn new(config: &Config) -> HeaderCheck {
        let by_recipient = crate::letter::plan::plan(config)
            .into_iter()
            .filter(Delivery::by_email)
            .map(|d| (d.id.clone(), d))
            .collect();
        HeaderCheck {
            ctx: MailContext::for_check(config),
            by_recipient,
        }
    }

    /// What `send` would refuse in the email carrying `letter`, naming the letter and the
    /// field; `None` when it goes on paper or all is well. A sender without an email is not
    /// reported here: `send` may be given one (`--from-email`, or a staff account).
    pub fn problem(&self, letter: &Letter) -> Option<String> {
        let delivery = self.by_recipient.get(&letter.key.recipient)?;
        let stand_in;
        let ctx = if self.ctx.account.is_none() && letter.sender.email.is_none() {
            stand_in = MailContext {
                account: Some("appeal-check@example.invalid".into()),
                ..self.ctx.clone()
            };
            &stand_in
        } else {
            &self.ctx
        };
        headers_for(letter, delivery, ctx)
            .err()
            .map(|e| format!("{e:#}"))
    }
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

/// Checks and gathers the headers of the email carrying `letter` as `delivery` plans it: to
/// its destination, the recipient named as in their own entry (`Askar Shakirov`, not the
/// dative `А. Ш. Шакирову` of a Russian address block), with its stable Message-ID. Every
/// value is checked, before any message is built; an error names the letter (signatory and
/// recipient) and the field. `send` calls this for every letter before the first is sent;
/// `check` calls it too, with [`MailContext::for_check`].
pub fn headers_for(letter: &Letter, delivery: &Delivery, ctx: &MailContext) -> Result<Headers> {
    headers_inner(letter, &delivery.destination, &delivery.name, ctx)
        .with_context(|| format!("cannot build the email to {}", letter.key.file_stem()))
}

/// As [`headers_for`], for an address alone: the recipient is named as the letter's address
/// block names them. Prefer [`headers_for`].
pub fn headers(letter: &Letter, to: &str, ctx: &MailContext) -> Result<Headers> {
    headers_inner(letter, to, &letter.recipient.name, ctx)
        .with_context(|| format!("cannot build the email to {}", letter.key.file_stem()))
}

fn headers_inner(letter: &Letter, to: &str, to_name: &str, ctx: &MailContext) -> Result<Headers> {
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
    let to_name = display_name(to_name, "recipient name")?;
    // The campaign's reference goes in the subject too, so a reply can be matched to it.
    let subject = match &letter.reference {
        Some(r) => format!("{} [{} {r}]", letter.subject, letter.labels.reference),
        None => letter.subject.clone(),
    };
    if let Some(why) = unsafe_char(&subject) {
        bail!("subject {why}");
    }
    if subject.trim().is_empty() {
        bail!("the subject is empty for language `{}`", letter.language);
    }
    let chars = subject.chars().count();
    if chars > MAX_SUBJECT_CHARS {
        bail!(
            "the subject is {chars} characters long with the reference; at most \
             {MAX_SUBJECT_CHARS} fit an email header"
        );
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

/// The message itself: text and HTML from the letter, its PDF (named by
/// [`crate::email::filename::pdf_name`]) and the campaign's attachments.
pub fn assemble(letter: &Letter, h: &Headers, pdf: &[u8], ctx: &MailContext) -> Result<Email> {
    let seed = crate::digest::sha256_hex(h.message_id.as_bytes())[..24].to_string();
    let pdf_name = crate::email::filename::pdf_name(letter);
    let alternative = MultiPart::builder()
        .kind(MultiPartKind::Alternative)
        .boundary(format!("alt-{seed}"))
        .singlepart(
            SinglePart::builder()
                .content_type(ContentType::TEXT_PLAIN)
                .body(letter.email_text()),
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
    let bytes = message.formatted();
    check_header_lines(&bytes)
        .with_context(|| format!("cannot build the email to {}", letter.key.file_stem()))?;
    let utf8_address = [&h.from, &h.to]
        .into_iter()
        .chain(&h.reply_to)
        .chain(&h.cc)
        .map(|m| &m.email)
        .find(|a| !a.user().is_ascii())
        .map(|a| a.to_string());
    let (from, token) = envelope_sender(h, ctx)?;
    Ok(Email {
        message_id: h.message_id.clone(),
        from,
        token,
        to: h.to.email.clone(),
        cc: h.cc.iter().map(|c| c.email.clone()).collect(),
        bytes,
        utf8_address,
    })
}

/// Every header line of a formatted message within RFC 5322's 998 octets. The values were
/// checked and lettre folds them, so this only catches what slipped through (a Message-ID
/// from the ledger, say), as an error rather than a message servers would refuse.
fn check_header_lines(message: &[u8]) -> Result<()> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(message.len());
    for line in message[..end].split(|b| *b == b'\n') {
        let octets = line.strip_suffix(b"\r").unwrap_or(line).len();
        if octets > MAX_LINE_OCTETS {
            let name = String::from_utf8_lossy(line.split(|b| *b == b':').next().unwrap_or(b""));
            let name: String = name.chars().take(40).collect();
            bail!(
                "its header line `{name}` would be {octets} characters long, more than the \
                 {MAX_LINE_OCTETS} RFC 5322 allows"
            );
        }
    }
    Ok(())
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
            labels: std::sync::Arc::new(
                crate::model::locale::Labels::builtin("en").expect("English labels"),
            ),
        }
    }

    fn ctx() -> MailContext {
        MailContext {
            account: None,
            date: SystemTime::UNIX_EPOCH,
            attachments: vec![],
            cc: vec![],
            bounce: None,
        }
    }

    #[test]
    fn verp_tokens_are_16_base32_characters_of_the_message_id() {
        let a = verp_token("<a@example.org>");
        assert_eq!(a.len(), 16);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
            "{a}"
        );
        assert_eq!(a, verp_token("<a@example.org>"));
        assert_ne!(a, verp_token("<b@example.org>"));
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

    fn delivery(to: &str) -> Delivery {
        Delivery {
            id: "ombudsman".into(),
            name: "Askar Shakirov".into(),
            channel: crate::model::recipients::Channel::Email,
            destination: to.into(),
            language: "ru".into(),
            gateway: false,
        }
    }

    fn text_of(e: &Email) -> String {
        String::from_utf8(e.bytes.clone()).unwrap()
    }

    #[test]
    fn the_recipient_is_named_as_in_their_own_entry() {
        let l = letter();
        let h = headers_for(&l, &delivery("ombudsman@example.kz"), &ctx()).unwrap();
        let text = text_of(&assemble(&l, &h, b"x", &ctx()).unwrap());
        assert!(
            text.contains("To: \"Askar Shakirov\" <ombudsman@example.kz>"),
            "{text}"
        );
    }

    #[test]
    fn the_pdf_is_named_by_reference_signatory_and_recipient() {
        let mut l = letter();
        l.reference = Some("Исх. № 12/3".into());
        l.key.signatory = Some("s030".into());
        let e = build(&l, "ombudsman@example.kz", b"%PDF", &ctx()).unwrap();
        assert!(
            text_of(&e).contains("filename=\"Iskh.-12-3_s030_ombudsman.pdf\""),
            "{}",
            text_of(&e)
        );
    }

    #[test]
    fn domains_that_are_not_ascii_travel_as_idna() {
        let mut c = ctx();
        c.cc = vec!["Копия <copy@пример.рф>".into()];
        let mut l = letter();
        l.sender.email = Some("anna@почта.рф".into());
        let h = headers_for(&l, &delivery("ombudsman@пример.рф"), &c).unwrap();
        let e = assemble(&l, &h, b"x", &c).unwrap();
        assert_eq!(e.to.to_string(), "ombudsman@xn--e1afmkfd.xn--p1ai");
        assert_eq!(e.from.to_string(), "anna@xn--80a1acny.xn--p1ai");
        assert_eq!(e.cc[0].to_string(), "copy@xn--e1afmkfd.xn--p1ai");
        assert!(e.message_id.ends_with("@xn--80a1acny.xn--p1ai>"));
        assert_eq!(e.utf8_address, None);
        let text = text_of(&e);
        assert!(text.is_ascii());
        assert!(text.contains("<ombudsman@xn--e1afmkfd.xn--p1ai>"), "{text}");
        // An ASCII domain is kept as written.
        let a = parse_address("X@Example.ORG", "x").unwrap();
        assert_eq!(a.to_string(), "X@Example.ORG");
        let err = parse_address("a@xn--a.рф", "recipient email").unwrap_err();
        assert!(format!("{err:#}").contains("recipient email"), "{err:#}");
    }

    #[test]
    fn a_local_part_that_is_not_ascii_is_flagged_for_smtputf8() {
        let e = build(&letter(), "почта@пример.рф", b"x", &ctx()).unwrap();
        assert_eq!(
            e.utf8_address.as_deref(),
            Some("почта@xn--e1afmkfd.xn--p1ai")
        );
        let mut l = letter();
        l.sender.email = Some("анна@example.org".into());
        let mut c = ctx();
        c.account = Some("staff@example.net".into());
        let e = build(&l, "ombudsman@example.kz", b"x", &c).unwrap();
        assert_eq!(
            e.utf8_address.as_deref(),
            Some("анна@example.org"),
            "Reply-To"
        );
    }

    #[test]
    fn over_long_values_are_refused_naming_the_letter_and_the_field() {
        let mut l = letter();
        l.key.signatory = Some("s030".into());
        l.sender.name = "a".repeat(1000);
        let err = format!(
            "{:#}",
            build(&l, "ombudsman@example.kz", b"x", &ctx()).unwrap_err()
        );
        assert!(
            err.contains("cannot build the email to s030/ombudsman"),
            "{err}"
        );
        assert!(err.contains("sender name is 1000 characters long"), "{err}");
        let mut d = delivery("ombudsman@example.kz");
        d.name = "Шакиров ".repeat(40);
        let err = format!("{:#}", headers_for(&letter(), &d, &ctx()).unwrap_err());
        assert!(
            err.contains("recipient name is 319 characters long"),
            "{err}"
        );
        let mut l = letter();
        l.subject = "s".repeat(MAX_SUBJECT_CHARS + 1);
        let err = format!(
            "{:#}",
            build(&l, "ombudsman@example.kz", b"x", &ctx()).unwrap_err()
        );
        assert!(err.contains("the subject is 401 characters long"), "{err}");
        let long = format!(
            "{}@{}ddddddd.kz",
            "a".repeat(64),
            format!("{}.", "d".repeat(60)).repeat(3)
        );
        let err = format!("{:#}", build(&letter(), &long, b"x", &ctx()).unwrap_err());
        assert!(
            err.contains("recipient email is 258 characters long"),
            "{err}"
        );
        let mut c = ctx();
        c.account = Some(format!("{} <staff@example.net>", "b".repeat(300)));
        let err = format!(
            "{:#}",
            build(&letter(), "o@example.kz", b"x", &c).unwrap_err()
        );
        assert!(
            err.contains("[smtp] from name is 300 characters long"),
            "{err}"
        );
    }

    #[test]
    fn the_longest_values_allowed_make_lines_within_the_limits() {
        let mut l = letter();
        l.sender.name = "Анна ".repeat(MAX_NAME_CHARS / 5);
        l.subject = "word ".repeat(MAX_SUBJECT_CHARS / 5 - 10);
        l.reference = Some("T-1".into());
        let mut d = delivery("ombudsman@example.kz");
        d.name = "x".repeat(MAX_NAME_CHARS);
        let h = headers_for(&l, &d, &ctx()).unwrap();
        let text = text_of(&assemble(&l, &h, b"x", &ctx()).unwrap());
        let head = &text[..text.find("\r\n\r\n").unwrap()];
        for line in head.split("\r\n") {
            // Where there is white space, lettre folds within 78; one long word stays whole.
            let limit = if line.contains(&"x".repeat(MAX_NAME_CHARS)) {
                998
            } else {
                78
            };
            assert!(line.len() <= limit, "{} > {limit}: {line}", line.len());
        }
    }

    #[test]
    fn an_over_long_header_line_is_an_error_not_a_message() {
        let h = headers(&letter(), "ombudsman@example.kz", &ctx()).unwrap();
        let id = format!("<{}@example.org>", "i".repeat(1000));
        let again = h.with_message_id(&id).unwrap();
        let err = format!(
            "{:#}",
            assemble(&letter(), &again, b"x", &ctx()).unwrap_err()
        );
        assert!(err.contains("header line `Message-ID`"), "{err}");
        assert!(err.contains("more than the 998"), "{err}");
    }

    #[test]
    fn both_bodies_end_with_the_signatory_contact_block() {
        let mut l = letter();
        l.sender.address = vec!["ул. Абая, 1".into(), "010000 Астана".into()];
        l.sender.city = Some("Астана".into());
        let e = build(&l, "ombudsman@example.kz", b"x", &ctx()).unwrap();
        let text = text_of(&e);
        // The text part is base64 or quoted-printable: compare what the letter gives.
        assert!(l.email_text().starts_with(&l.to_text(72, false)));
        assert!(
            l.email_text()
                .ends_with("\n-- \nАнна Петрова\nул. Абая, 1\n010000 Астана\nanna@example.org\n")
        );
        assert!(l.to_html().contains("<a href=\"mailto:anna@example.org\">"));
        assert!(text.contains("Content-Type: text/html"));
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
