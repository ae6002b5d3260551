//! `appeal init`: a new campaign directory from the bundled example, or (`--blank`) a blank
//! campaign of one recipient and one template in a language the user names.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::model::locale::{self, Labels};

/// The bundled example, file by file (paths relative to the new campaign directory).
const FILES: [(&str, &str); 7] = [
    ("recipients.toml", include_str!("../../recipients.toml")),
    ("appeal.toml", include_str!("../../appeal.toml")),
    (
        "letters/duambekov/campaign.toml",
        include_str!("../../letters/duambekov/campaign.toml"),
    ),
    (
        "letters/duambekov/letter.md.hbs",
        include_str!("../../letters/duambekov/letter.md.hbs"),
    ),
    (
        "letters/duambekov/letter.ru.md.hbs",
        include_str!("../../letters/duambekov/letter.ru.md.hbs"),
    ),
    (
        "letters/duambekov/letter.kk.md.hbs",
        include_str!("../../letters/duambekov/letter.kk.md.hbs"),
    ),
    (
        "letters/duambekov/README.md",
        include_str!("../../letters/duambekov/README.md"),
    ),
];

/// Writes the example into `dir`. Checks every target first, so it either writes all files
/// or none.
pub fn init(dir: &Path, quiet: bool) -> Result<()> {
    write_all(
        dir,
        &FILES.map(|(rel, content)| (rel.to_string(), content.to_string())),
    )?;
    if !quiet {
        let shown = dir.display();
        println!("Created a campaign in {shown} from the bundled example (letters/duambekov).");
        println!();
        println!("Next:");
        if dir != Path::new(".") {
            println!("  cd {shown}");
        }
        println!("  $EDITOR appeal.toml        # your name, address and city");
        println!("  appeal check               # validate everything");
        println!("  appeal preview             # see every letter; nothing is sent");
        println!("  appeal pdf                 # print-ready letters under out/duambekov/");
    }
    Ok(())
}

/// Writes every file into `dir`, creating folders; refuses if any of them exists, so it
/// writes all or none.
fn write_all(dir: &Path, files: &[(String, String)]) -> Result<()> {
    let existing: Vec<String> = files
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "{} already holds a campaign; refusing to overwrite {}",
            dir.display(),
            existing.join(", ")
        );
    }
    for (rel, content) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // create_new: never follow a symlink or clobber a file that appeared meanwhile.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(content.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The blank campaign's folder under `letters/`.
const BLANK_NAME: &str = "appeal";

/// Writes a blank campaign in `lang` into `dir`: appeal.toml, recipients.toml with one
/// recipient, and letters/appeal/ with campaign.toml and letter.md.hbs. It passes `check`
/// as written; every placeholder is in [brackets].
pub fn blank(dir: &Path, lang: &str, quiet: bool) -> Result<()> {
    if let Some(why) = locale::tag_problem(lang) {
        bail!("--lang: {why}");
    }
    let files = [
        ("appeal.toml".to_string(), BLANK_SENDER.to_string()),
        (
            "recipients.toml".to_string(),
            BLANK_RECIPIENTS.replace("{lang}", lang),
        ),
        (
            format!("letters/{BLANK_NAME}/campaign.toml"),
            blank_campaign(lang)?,
        ),
        (
            format!("letters/{BLANK_NAME}/letter.md.hbs"),
            BLANK_LETTER.replace("{lang}", lang),
        ),
    ];
    write_all(dir, &files)?;
    if !quiet {
        let shown = dir.display();
        println!("Created a blank campaign in {shown}, written in `{lang}`.");
        println!();
        println!("Next: replace every [bracketed] placeholder in");
        println!("  {shown}/appeal.toml              your name, address and city");
        println!("  {shown}/recipients.toml          who the letters go to");
        println!(
            "  {shown}/letters/{BLANK_NAME}/campaign.toml   title, subject, salutation, closing"
        );
        println!("  {shown}/letters/{BLANK_NAME}/letter.md.hbs   the letter itself");
        println!("then: appeal check, appeal preview, appeal pdf");
    }
    Ok(())
}

const BLANK_SENDER: &str = r#"# Sender defaults for `appeal`: replace every [bracketed] placeholder with your own details.
[sender]
name = "[Your name]"
city = "[Your city]"
address = ["[Street and number]", "[Postcode and city]", "[Country]"]
# email = "you@example.org"
"#;

const BLANK_RECIPIENTS: &str = r#"# Who the letters go to: one [[recipient]] each. Replace every [bracketed] placeholder.
# With an email address (email = "...") a letter can be emailed; with fax = "+..." faxed.

[[recipient]]
id = "recipient"
name = "[Name of the official]"
title = "[Their office]"
address = ["[Street and number]", "[Postcode and city]", "[Country]"]
language = "{lang}"
channel = "auto"
"#;

const BLANK_LETTER: &str = r#"{{!--
  The letter, in `{lang}`, as Markdown: a blank line starts a paragraph; **bold**, *italic*,
  lists with "1." or "-". Date, addresses, subject, salutation, closing and signature are
  added around it from campaign.toml, recipients.toml and appeal.toml. Values to use here:
  {{recipient.name}}, {{recipient.title}}, {{sender.name}}, {{sender.city}}, {{today}};
  a [[source]] of campaign.toml is cited with {{cite "its-key"}}.
--}}
[First paragraph: who you are and why you write.]

[Second paragraph: what you ask the official to do.]
"#;

/// campaign.toml of a blank campaign: placeholders, and the words the tool prints in `lang`,
/// commented out when built in, to be translated when not.
fn blank_campaign(lang: &str) -> Result<String> {
    let mut out = format!(
        r#"# A campaign written in `{lang}`. Replace every [bracketed] placeholder, then run: appeal check
title = "[The campaign's title]"
language = "{lang}"
# reference = "[REF-1]"

[subject]
{lang} = "[The letter's subject]"

[salutation]
{lang} = "[Dear Sir or Madam,]"

[closing]
{lang} = "[Yours sincerely,]"

"#
    );
    match Labels::builtin(lang) {
        Some(l) => {
            out.push_str(&format!(
                "# The words appeal prints in each letter in `{lang}`. They are built in; to change one,\n\
                 # remove the # before [labels.{lang}] and before that line.\n# [labels.{lang}]\n"
            ));
            for (name, text) in l.words() {
                out.push_str(&format!("# {name} = {}\n", toml_string(text)));
            }
        }
        None => {
            out.push_str(&format!(
                "# appeal has no built-in words for `{lang}`: translate each of these. They are printed\n\
                 # in every letter ({{page}} and {{pages}} are numbers).\n[labels.{lang}]\n"
            ));
            let english = Labels::builtin("en").context("the built-in English labels")?;
            for (name, text) in english.words() {
                let text = match name {
                    "page" => "[Page] {page} [of] {pages}".to_string(),
                    _ => format!("[{text}]"),
                };
                out.push_str(&format!("{name} = {}\n", toml_string(&text)));
            }
        }
    }
    Ok(out)
}

/// `text` as a TOML string, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
