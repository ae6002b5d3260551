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
    pub common: Common,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate recipients, campaign, templates and sender; render every letter in memory.
    ///
    /// Reports every problem at once, each with file, line and column; exits 2 if any.
    ///
    /// Example: appeal -C campaigns/kz check
    Check,

    /// List recipients with their channel and destination.
    ///
    /// Example: appeal list --tag justice --json
    List {
        /// Print a JSON array of {id, name, channel, destination}.
        #[arg(long)]
        json: bool,
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
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// Campaign directory (default: the current directory).
    #[arg(short = 'C', long = "directory", value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,

    /// Campaign name under letters/ (default: the only one there).
    #[arg(long, value_name = "NAME", global = true)]
    pub campaign: Option<String>,

    /// Recipients file (default: recipients.toml in the campaign directory).
    #[arg(long, value_name = "FILE", global = true)]
    pub recipients: Option<PathBuf>,

    /// Only these recipients (comma-separated ids; repeatable).
    #[arg(long, value_name = "ID[,ID...]", value_delimiter = ',', global = true)]
    pub only: Vec<String>,

    /// Only recipients with this tag (repeatable: any of them).
    #[arg(long, value_name = "TAG", global = true)]
    pub tag: Vec<String>,

    /// Write every letter in this language instead of each recipient's own.
    #[arg(long, value_name = "LANG", global = true)]
    pub lang: Option<String>,

    /// Read the sender from this TOML file (name, email, address, city, note).
    #[arg(long, value_name = "FILE", global = true)]
    pub sender: Option<PathBuf>,

    /// Sender's name (overrides appeal.toml and --sender).
    #[arg(long, value_name = "NAME", global = true)]
    pub from_name: Option<String>,

    /// Sender's email address.
    #[arg(long, value_name = "EMAIL", global = true)]
    pub from_email: Option<String>,

    /// Sender's postal address, one line per flag.
    #[arg(long, value_name = "LINE", global = true)]
    pub from_address: Vec<String>,

    /// Sender's city, printed on the place and date line.
    #[arg(long, value_name = "CITY", global = true)]
    pub from_city: Option<String>,

    /// Paper size for PDF letters.
    #[arg(long, value_enum, global = true)]
    pub paper: Option<Paper>,

    /// A TrueType font to print letters in instead of the bundled Noto Sans.
    #[arg(long, value_name = "FILE", global = true)]
    pub font: Option<PathBuf>,

    /// Output directory (default: out/<campaign>/ in the campaign directory).
    #[arg(long, value_name = "DIR", global = true)]
    pub out: Option<PathBuf>,

    /// Say more about what is happening.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm (DIN 5008 form B).
    A4,
    /// US Letter, 8.5 × 11 in (#10 window envelope).
    Letter,
}
