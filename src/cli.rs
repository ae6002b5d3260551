//! Command-line arguments as typed. `config` turns them into a checked `Config`; nothing else reads them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn one advocacy appeal into a personal letter for every authority on a list:
/// a print-ready PDF for post or fax, or an email where the authority has an address.
///
/// Start with `appeal preview` (a dry run that touches nothing), then `appeal pdf`.
#[derive(Debug, Parser)]
#[command(
    name = "appeal",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: Global,
}

impl Cli {
    /// Everything typed that `config` resolves, whichever command it was typed for: the
    /// global flags and the groups the command takes (those it does not take stay empty).
    pub fn common(&self) -> Common {
        let mut common = Common {
            directory: self.global.directory.clone(),
            campaign: self.global.campaign.clone(),
            verbose: self.global.verbose,
            quiet: self.global.quiet,
            ..Common::default()
        };
        for group in self.command.groups() {
            group.apply(&mut common);
        }
        common
    }
}

/// A group of flags a command takes, copied into [`Common`].
trait Group {
    fn apply(&self, common: &mut Common);
}

impl Group for Select {
    fn apply(&self, common: &mut Common) {
        common.recipients = self.recipients.clone();
        common.only = self.only.clone();
        common.tag = self.tag.clone();
    }
}

impl Group for Batch {
    fn apply(&self, common: &mut Common) {
        common.signatories = self.signatories.clone();
    }
}

impl Group for Letters {
    fn apply(&self, common: &mut Common) {
        common.lang = self.lang.clone();
        common.via = self.via;
    }
}

impl Group for SenderFlags {
    fn apply(&self, common: &mut Common) {
        common.sender = self.sender.clone();
        common.from_name = self.from_name.clone();
        common.from_email = self.from_email.clone();
        common.from_address = self.from_address.clone();
        common.from_city = self.from_city.clone();
        common.from_note = self.from_note.clone();
    }
}

impl Group for Print {
    fn apply(&self, common: &mut Common) {
        common.paper = self.paper;
        common.fonts = self.font.clone();
    }
}

impl Group for Output {
    fn apply(&self, common: &mut Common) {
        common.out = self.out.clone();
    }
}

impl Command {
    /// The groups of flags this command takes.
    fn groups(&self) -> Vec<&dyn Group> {
        match self {
            Command::Init { .. } | Command::Completions { .. } | Command::Man => vec![],
            Command::Mark { select, batch, .. } => vec![select, batch],
            Command::Report { select, batch, .. } => vec![select, batch],
            Command::List {
                select, letters, ..
            } => vec![select, letters],
            Command::Check {
                select,
                batch,
                letters,
                sender,
                print,
            } => vec![select, batch, letters, sender, print],
            Command::Preview {
                select,
                batch,
                letters,
                sender,
                ..
            }
            | Command::Status {
                select,
                batch,
                letters,
                sender,
                ..
            } => vec![select, batch, letters, sender],
            Command::Pdf {
                select,
                batch,
                letters,
                sender,
                print,
                out,
                ..
            }
            | Command::Send {
                select,
                batch,
                letters,
                sender,
                print,
                out,
                ..
            } => vec![select, batch, letters, sender, print, out],
            Command::Inbox { out, .. } => vec![out],
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new campaign directory from the bundled example, or blank (--blank --lang TAG).
    ///
    /// Writes recipients.toml, appeal.toml (sender defaults, SMTP commented out, no secrets)
    /// and letters/duambekov/; refuses to overwrite any existing file.
    ///
    /// Example: appeal init my-campaign && cd my-campaign && appeal preview
    Init {
        /// Directory to create or fill (default: the current directory).
        dir: Option<PathBuf>,
        /// Start from a blank campaign instead of the example: one recipient and one letter
        /// template in the --lang language, every placeholder in [brackets].
        ///
        /// Example: appeal init --blank --lang be my-campaign
        #[arg(long, requires = "lang")]
        blank: bool,
        /// The blank campaign's language: a BCP 47 tag (be, uk, ar, pt-BR, zh-Hant, ...).
        #[arg(long, value_name = "TAG", requires = "blank")]
        lang: Option<String>,
    },

    /// Validate recipients, campaign, templates and sender; render every letter in memory.
    ///
    /// Reports every problem at once, each with file, line and column; exits 2 if any.
    ///
    /// Example: appeal -C campaigns/kz check
    Check {
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
        #[command(flatten)]
        letters: Letters,
        #[command(flatten)]
        sender: SenderFlags,
        #[command(flatten)]
        print: Print,
    },

    /// List recipients with their channel and destination.
    ///
    /// Example: appeal list --tag justice --json
    List {
        /// Print a JSON array of {id, name, channel, destination}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        letters: Letters,
    },

    /// Dry run: the delivery plan as a table, then each letter's text. Never touches the network.
    ///
    /// Example: appeal preview --recipient ombudsman --lang en
    Preview {
        /// Show only this recipient's letter (same as --only ID).
        #[arg(long, value_name = "ID")]
        recipient: Option<String>,
        /// Print the plan and letters as JSON, one object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
        #[command(flatten)]
        letters: Letters,
        #[command(flatten)]
        sender: SenderFlags,
    },

    /// What the delivery ledger says about each letter: sent, written, failed, deferred,
    /// in doubt, pending, or not started (in the plan, never tried).
    ///
    /// Exits 0 when every selected letter is sent or written, 1 when one failed, 75 when
    /// some are still to do (not started, pending, deferred or in doubt) and none failed.
    ///
    /// Example: appeal status --only ombudsman --json
    Status {
        /// Print a JSON array, one object per letter.
        #[arg(long)]
        json: bool,
        /// List every letter, not only the counts per recipient, channel and state.
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
        #[command(flatten)]
        letters: Letters,
        #[command(flatten)]
        sender: SenderFlags,
    },

    /// Record what happened to letters outside the tool, so `status` knows they are done.
    ///
    /// `delivered`: letters in doubt that the recipient confirmed receiving. `posted` and
    /// `faxed`: letters written as PDF (by `pdf` or `send`) that were printed and posted, or
    /// faxed by hand. Acts on every selected letter in the state the mark applies to, and says
    /// which others it left alone.
    ///
    /// Example: appeal mark posted --only president --note "registered mail RR123456789KZ"
    Mark {
        /// What happened.
        #[arg(value_enum)]
        what: MarkAs,
        /// A note kept with the record: who confirmed, a tracking number.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
    },

    /// Write the campaign's report: one self-contained HTML page (no scripts, no network;
    /// prints on A4) with, per authority and channel, the letters sent, written, bounced,
    /// auto-replied and answered, a bar chart, the answers and the campaign's days.
    ///
    /// Reads the ledger only (what `send`, `pdf`, `mark` and `inbox` recorded); every letter
    /// of the campaign counts, whichever signatory signed it. --only and --tag narrow it to
    /// some authorities. Exits 2 when the ledger has no letter of the campaign.
    ///
    /// Example: appeal report --out ~/campaign-report.html
    Report {
        /// Write the page here (default: out/<campaign>/report.html).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the report as JSON on standard output instead; no file is written.
        #[arg(long, conflicts_with = "out")]
        json: bool,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
    },

    /// Print a shell completion script.
    ///
    /// Example: appeal completions bash > ~/.local/share/bash-completion/completions/appeal
    Completions {
        /// The shell to write completions for.
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Print the manual page (roff).
    ///
    /// Example: appeal man > appeal.1 && man ./appeal.1
    Man,

    /// Deliver: email where the channel is email (the PDF attached), a PDF file for post and fax.
    ///
    /// Shows the plan and asks before sending on a terminal; needs --yes otherwise. A copy of
    /// every message sent is kept under <out>/sent/. --dry-run writes the messages as .eml files
    /// under <out>/dry-run/ and opens no connection. The SMTP password comes from
    /// APPEAL_SMTP_PASSWORD or [smtp] password_command, never from a file or flag. Every letter
    /// is recorded in .appeal/ledger.db: a re-run sends only what is not yet sent, reports letters
    /// in doubt or changed, and a finished campaign sends nothing. Ctrl-C stops starting new
    /// messages, lets those in flight finish and exits 130.
    ///
    /// Example: appeal send --smtp smtps://me%40example.org@mail.example.org --rate 30/min
    Send {
        /// Send without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
        /// Write each message as .eml under <out>/dry-run/ and the PDFs; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// SMTP server: smtps://user@host[:465], smtp://user@host[:587] (STARTTLS required),
        /// or smtp://127.0.0.1:PORT?tls=none for a server on this machine. Overrides [smtp] url.
        #[arg(long, value_name = "URL")]
        smtp: Option<String>,
        /// Trust this CA certificate (PEM) too; certificates are always verified.
        #[arg(long, value_name = "FILE")]
        smtp_ca: Option<PathBuf>,
        /// At most this many messages, e.g. 30/min (none by default to loopback; 30/min otherwise).
        #[arg(long, value_name = "N/min")]
        rate: Option<String>,
        /// Envelope sender with a per-letter token, e.g. "bounces+{token}@example.org", so
        /// `appeal inbox` matches every bounce to its letter. Overrides [smtp] bounce_address.
        #[arg(long, value_name = "ADDRESS")]
        bounce_address: Option<String>,
        /// Deliver again on purpose, with a new Message-ID: letters already sent, written, failed
        /// or changed since they were sent (combine with --only).
        #[arg(long)]
        resend: bool,
        /// Re-send the letters in doubt (the connection broke after the message went out) with
        /// the Message-ID they had, so receivers can drop a copy.
        #[arg(long)]
        resend_in_doubt: bool,
        /// Deliver again only the letters that failed or were deferred; leave every other
        /// letter alone (combine with --only to narrow it further).
        #[arg(long, conflicts_with_all = ["resend", "resend_in_doubt"])]
        retry_failed: bool,
        /// Send one letter of the run to this address instead, with [TEST] in the subject, to
        /// see it as an official would; nothing is recorded in the ledger.
        #[arg(long, value_name = "ADDRESS", conflicts_with = "dry_run")]
        test_to: Option<String>,
        /// List every letter, not only the counts per recipient and channel.
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
        #[command(flatten)]
        letters: Letters,
        #[command(flatten)]
        sender: SenderFlags,
        #[command(flatten)]
        print: Print,
        #[command(flatten)]
        out: Output,
    },

    /// Write one print-ready PDF letter per recipient into the output directory.
    ///
    /// Files are named after ids: <out>/<recipient>.pdf, or <out>/<signatory>/<recipient>.pdf
    /// in a batch with several signatories. Nothing is written if any letter has a problem.
    ///
    /// Example: appeal pdf --paper letter --combined --out ~/print
    Pdf {
        /// Also write all.pdf holding every letter in order, for printing in one go.
        #[arg(long)]
        combined: bool,
        /// List every file written, not only the counts.
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        batch: Batch,
        #[command(flatten)]
        letters: Letters,
        #[command(flatten)]
        sender: SenderFlags,
        #[command(flatten)]
        print: Print,
        #[command(flatten)]
        out: Output,
    },

    /// Read the sender's mailbox over IMAP: bounces, automatic replies and replies to the
    /// letters sent.
    ///
    /// Reads the messages that arrived since the last time (the ledger remembers how far it
    /// read), read-only unless --mark-seen. A delivery-status report that a letter failed for
    /// good (5.x.x) makes it `bounced`, with the reason kept; a delay or temporary failure
    /// (4.x.x) only counts; an automatic reply makes it `auto_replied`; a reply naming the
    /// letter makes it `replied`, and is saved under <out>/replies/. Other messages are left
    /// alone and counted. The password comes from APPEAL_IMAP_PASSWORD or [imap]
    /// password_command, never from a file or flag.
    ///
    /// Example: appeal inbox --imap imaps://me%40example.org@mail.example.org/INBOX
    Inbox {
        /// The mailbox: imaps://user@host[:993]/FOLDER, imap://user@host[:143]/FOLDER
        /// (STARTTLS required), or imap://user@127.0.0.1:PORT/INBOX?tls=none for a server on
        /// this machine. Overrides [imap] url.
        #[arg(long, value_name = "URL")]
        imap: Option<String>,
        /// Trust this CA certificate (PEM) too; certificates are always verified.
        #[arg(long, value_name = "FILE")]
        imap_ca: Option<PathBuf>,
        /// Flag the messages that matched a letter as seen (otherwise nothing is changed).
        #[arg(long)]
        mark_seen: bool,
        /// The bounce address `send` used, if not [smtp] bounce_address: its tokens are looked
        /// for in the addresses each message was delivered to.
        #[arg(long, value_name = "ADDRESS")]
        bounce_address: Option<String>,
        /// Print what was found as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        out: Output,
    },
}

/// Flags every command takes, before or after its name.
#[derive(Debug, Args)]
pub struct Global {
    /// Campaign directory (default: the current directory).
    #[arg(short = 'C', long = "directory", value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,

    /// Campaign name under letters/ (default: the only one there).
    #[arg(long, value_name = "NAME", global = true)]
    pub campaign: Option<String>,

    /// Say more about what is happening.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Which letters: recipients and signatories.
#[derive(Debug, Args)]
#[command(next_help_heading = "Which letters")]
pub struct Select {
    /// Recipients file (default: recipients.toml in the campaign directory).
    #[arg(long, value_name = "FILE")]
    pub recipients: Option<PathBuf>,

    /// Only these recipients (comma-separated ids; repeatable).
    #[arg(long, value_name = "ID[,ID...]", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Only recipients with this tag (repeatable: any of them).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
}

/// A batch: one letter per signatory.
#[derive(Debug, Args)]
#[command(next_help_heading = "Which letters")]
pub struct Batch {
    /// One letter per signatory and recipient: a CSV with a header row naming
    /// id, name and optionally email, city, address, note; other columns become sender.<column>.
    /// `-` reads standard input.
    #[arg(long, value_name = "CSV")]
    pub signatories: Option<PathBuf>,
}

/// The language and channel of the letters.
#[derive(Debug, Args)]
#[command(next_help_heading = "Language and channel")]
pub struct Letters {
    /// Write every letter in this language instead of each recipient's own.
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,

    /// Send every selected letter by this channel instead of each recipient's own.
    #[arg(long, value_enum)]
    pub via: Option<Via>,
}

/// Who signs the letters.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sender")]
pub struct SenderFlags {
    /// Read the sender from this TOML file (name, email, address, city, note).
    #[arg(long, value_name = "FILE")]
    pub sender: Option<PathBuf>,

    /// Sender's name (overrides appeal.toml and --sender).
    #[arg(long, value_name = "NAME")]
    pub from_name: Option<String>,

    /// Sender's email address.
    #[arg(long, value_name = "EMAIL")]
    pub from_email: Option<String>,

    /// Sender's postal address, one line per flag.
    #[arg(long, value_name = "LINE")]
    pub from_address: Vec<String>,

    /// Sender's city, printed on the place and date line.
    #[arg(long, value_name = "CITY")]
    pub from_city: Option<String>,

    /// Sender's personal note (a sentence or two the template may include).
    #[arg(long, value_name = "TEXT")]
    pub from_note: Option<String>,
}

/// How letters are printed.
#[derive(Debug, Args)]
#[command(next_help_heading = "Print")]
pub struct Print {
    /// Paper size for PDF letters.
    #[arg(long, value_enum)]
    pub paper: Option<Paper>,

    /// A font to print letters in, tried before the bundled Noto Sans for every character: a
    /// font file or an installed family ("Noto Sans CJK SC"). Repeat it for a chain. A file
    /// named Name-Regular.ttf brings Name-Bold.ttf, Name-Italic.ttf and Name-BoldItalic.ttf
    /// found beside it.
    #[arg(long, value_name = "FILE_OR_FAMILY")]
    pub font: Vec<String>,
}

/// Where files go.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct Output {
    /// Output directory (default: out/<campaign>/ in the campaign directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Everything `config` resolves, gathered from the global flags and the command's own
/// groups by [`Cli::common`]. What a command does not take is empty.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub via: Option<Via>,
    pub directory: Option<PathBuf>,
    pub campaign: Option<String>,
    pub recipients: Option<PathBuf>,
    pub only: Vec<String>,
    pub tag: Vec<String>,
    pub lang: Option<String>,
    pub sender: Option<PathBuf>,
    pub from_name: Option<String>,
    pub from_email: Option<String>,
    pub from_address: Vec<String>,
    pub from_city: Option<String>,
    pub from_note: Option<String>,
    pub signatories: Option<PathBuf>,
    pub paper: Option<Paper>,
    pub font: Option<PathBuf>,
    /// `--font FILE_OR_FAMILY`, in order.
    pub fonts: Vec<String>,
    pub out: Option<PathBuf>,
    pub verbose: bool,
    pub quiet: bool,
}

/// A channel forced with --via.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    Email,
    Post,
    Fax,
}

/// What `appeal mark` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MarkAs {
    /// An in-doubt email the recipient confirmed receiving.
    Delivered,
    /// A written letter printed and posted.
    Posted,
    /// A written letter faxed by hand.
    Faxed,
}

/// Shells `appeal completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm (DIN 5008 form B).
    A4,
    /// US Letter, 8.5 × 11 in (#10 window envelope).
    Letter,
}
