//! (campaign, sender, recipient) → `Letter`: the text blocks, notes and metadata that the PDF,
//! the email and the preview are all made from.

mod html;
mod markdown;
pub mod plan;
pub mod run;
mod text;

pub use markdown::parse_markdown;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::model::campaign::Campaign;
use crate::model::locale::{self, Labels};
use crate::model::recipients::{Addressee, Recipient};
use crate::model::sender::Sender;

/// Identifies one letter everywhere: file names, Message-ID, the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LetterKey {
    pub campaign: String,
    /// The signatory's id in a batch; `None` when one sender writes.
    pub signatory: Option<String>,
    pub recipient: String,
}

impl LetterKey {
    /// Relative file stem: `<recipient>` or `<signatory>/<recipient>`. Built from ids only.
    pub fn file_stem(&self) -> String {
        match &self.signatory {
            Some(s) => format!("{s}/{}", self.recipient),
            None => self.recipient.clone(),
        }
    }
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    /// A footnote marker, printed raised and small.
    pub superscript: bool,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Span {
        Span {
            text: text.into(),
            bold: false,
            italic: false,
            superscript: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Span>),
    /// A list; `start` is the first number of an ordered list.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub number: usize,
    pub spans: Vec<Span>,
}

/// One rendered letter, ready for any output.
#[derive(Debug, Clone)]
pub struct Letter {
    pub key: LetterKey,
    pub language: String,
    pub sender: Sender,
    pub recipient: Addressee,
    /// "London, 14 July 2014".
    pub place_date: String,
    pub subject: String,
    pub reference: Option<String>,
    pub salutation: String,
    pub body: Vec<Block>,
    pub closing: String,
    pub notes: Vec<Note>,
    pub copies_to: Vec<String>,
    /// Campaign title, for document metadata.
    pub title: String,
    /// Set for a fax sent without a gateway: the number the PDF's cover line names.
    pub fax_to: Option<String>,
    /// The words the tool prints around the letter, in its language.
    pub labels: Arc<Labels>,
}

/// Everything a template can see, as JSON.
pub fn template_data(
    campaign: &Campaign,
    recipient: &Recipient,
    addressee: &Addressee,
    sender: &Sender,
    lang: &str,
    today: &str,
) -> Value {
    let mut sender_json = json!({
        "id": sender.id,
        "name": sender.name,
        "email": sender.email,
        "address": sender.address,
        "city": sender.city,
        "note": sender.note.clone().unwrap_or_default(),
    });
    if let Value::Object(map) = &mut sender_json {
        for (k, v) in &sender.extra {
            map.entry(k.clone())
                .or_insert_with(|| Value::String(v.clone()));
        }
    }
    json!({
        "recipient": {
            "id": recipient.id,
            "name": addressee.name,
            "title": addressee.title,
            "address": addressee.address,
            "email": recipient.email,
            "fax": recipient.fax,
            "phone": recipient.phone,
            "tags": recipient.tags,
            "language": lang,
        },
        "sender": sender_json,
        "campaign": {
            "name": campaign.name,
            "title": campaign.title,
            "reference": campaign.reference,
            "subject": campaign.subject.get(lang),
            "language": lang,
            "copies_to": campaign.copies_to,
        },
        "facts": campaign.facts,
        "today": today,
        "sources": campaign.sources,
    })
}

/// Renders the letter to `recipient` from `sender` in `lang`.
pub fn build(
    campaign: &Campaign,
    recipient: &Recipient,
    sender: &Sender,
    lang: &str,
    today: jiff::civil::Date,
) -> Result<Letter, Diagnostic> {
    let labels = campaign.labels.get(lang).cloned().ok_or_else(|| {
        Diagnostic::error(
            &campaign.file,
            None,
            format!("no labels for language `{lang}`"),
        )
    })?;
    let addressee = recipient.addressee(lang);
    let today_text = locale::format_date(lang, today);
    let data = template_data(campaign, recipient, &addressee, sender, lang, &today_text);
    let markdown = campaign.render_body(lang, &data)?;
    let (body, notes) = parse_markdown(&markdown, campaign).map_err(|why| {
        let file = campaign.templates.get(lang).cloned();
        Diagnostic::error(&file.unwrap_or_else(|| campaign.dir_shown()), None, why)
    })?;
    let salutation = recipient
        .salutation(lang, &campaign.language)
        .or_else(|| campaign.salutation.get(lang).cloned())
        .unwrap_or_default();
    let place_date = match &sender.city {
        Some(city) if !city.is_empty() => format!("{city}, {today_text}"),
        _ => today_text,
    };
    Ok(Letter {
        key: LetterKey {
            campaign: campaign.name.clone(),
            signatory: sender.id.clone(),
            recipient: recipient.id.clone(),
        },
        language: lang.to_string(),
        sender: sender.clone(),
        recipient: addressee,
        place_date,
        subject: campaign.subject.get(lang).cloned().unwrap_or_default(),
        reference: campaign.reference.clone(),
        salutation,
        body,
        closing: campaign.closing.get(lang).cloned().unwrap_or_default(),
        notes,
        copies_to: campaign.copies_to.clone(),
        title: campaign.title.clone(),
        fax_to: None,
        labels,
    })
}

/// The plain text of a run of spans; footnote markers as "[1]".
pub fn spans_text(spans: &[Span]) -> String {
    let mut s = String::new();
    for span in spans {
        if span.superscript {
            s.push_str(&format!("[{}]", span.text));
        } else {
            s.push_str(&span.text);
        }
    }
    s
}

impl Letter {
    /// Every character that will be drawn, for the font check.
    pub fn all_text(&self) -> String {
        let mut s = String::new();
        let mut push = |t: &str| {
            s.push_str(t);
            s.push('\n');
        };
        push(&self.sender.name);
        self.sender.address.iter().for_each(|l| push(l));
        if let Some(e) = &self.sender.email {
            push(e);
        }
        push(&self.recipient.title);
        push(&self.recipient.name);
        self.recipient.address.iter().for_each(|l| push(l));
        push(&self.place_date);
        push(&self.subject);
        if let Some(r) = &self.reference {
            push(r);
        }
        push(&self.salutation);
        fn blocks(b: &[Block], out: &mut String) {
            for block in b {
                match block {
                    Block::Paragraph(spans) => {
                        out.push_str(&spans_text(spans));
                        out.push('\n');
                    }
                    Block::List { items, .. } => items.iter().for_each(|i| blocks(i, out)),
                }
            }
        }
        let mut body = String::new();
        blocks(&self.body, &mut body);
        push(&body);
        push(&self.closing);
        self.notes.iter().for_each(|n| push(&spans_text(&n.spans)));
        self.copies_to.iter().for_each(|c| push(c));
        s
    }
}

impl Letter {
    /// A copy with every `from` in its printed text (place and date, subject, salutation,
    /// body, closing, notes) replaced by `to`: the letter with its date as a placeholder, so
    /// what it says can be compared across days, wrapped the same way whatever the date's length.
    pub fn with_replaced(&self, from: &str, to: &str) -> Letter {
        fn spans(list: &mut [Span], from: &str, to: &str) {
            for span in list {
                span.text = span.text.replace(from, to);
            }
        }
        fn blocks(list: &mut [Block], from: &str, to: &str) {
            for block in list {
                match block {
                    Block::Paragraph(s) => spans(s, from, to),
                    Block::List { items, .. } => items.iter_mut().for_each(|i| blocks(i, from, to)),
                }
            }
        }
        let mut l = self.clone();
        if from.is_empty() {
            return l;
        }
        for text in [
            &mut l.place_date,
            &mut l.subject,
            &mut l.salutation,
            &mut l.closing,
        ] {
            *text = text.replace(from, to);
        }
        blocks(&mut l.body, from, to);
        l.notes
            .iter_mut()
            .for_each(|n| spans(&mut n.spans, from, to));
        l
    }
}
