//! Dispatch: the parsed command line → the command's function. Nothing else happens here.

use anyhow::Result;

use crate::cli::{Cli, Command, Common};
use crate::commands::{self, send::SendOptions};
use crate::config::{self, Config};
use crate::email::smtp::SmtpFlags;
use crate::exit::Exit;
use crate::term::print_problems;

/// Runs one command. `Err` is reserved for failures of the tool's surroundings
/// (a closed stdout, an unwritable directory); bad input comes back as `Exit::Invalid`
/// after its problems are printed.
pub fn run(cli: Cli) -> Result<Exit> {
    let mut common = cli.common();
    match cli.command {
        Command::Init {
            ref dir, ref lang, ..
        } => {
            let dir = dir
                .clone()
                .or_else(|| common.directory.clone())
                .unwrap_or_else(|| ".".into());
            match lang {
                Some(lang) => commands::init::blank(&dir, lang, common.quiet)?,
                None => commands::init::init(&dir, common.quiet)?,
            }
            Ok(Exit::Success)
        }
        Command::Mark { what, ref note, .. } => {
            with_config(&common, |c| commands::mark::run(c, what, note.as_deref()))
        }
        Command::Report { ref out, json, .. } => {
            with_config(&common, |c| commands::report::run(c, out.as_deref(), json))
        }
        Command::Completions { shell } => commands::docs::completions(shell),
        Command::Man => commands::docs::man(),
        Command::Check { .. } => commands::check::run(&common),
        Command::Pdf { combined, list, .. } => with_config(&common, |c| {
            print_problems(&c.sender_warnings, c.quiet);
            commands::pdf::run(c, combined, list)
        }),
        Command::List { json, .. } => with_config(&common, |c| commands::show::list(c, json)),
        Command::Status { json, list, .. } => {
            with_config(&common, |c| commands::status::run(c, json, list))
        }
        Command::Preview {
            ref recipient,
            json,
            ..
        } => {
            if let Some(r) = recipient {
                common.only = vec![r.clone()];
            }
            with_config(&common, |c| commands::show::preview(c, json))
        }
        Command::Send {
            yes,
            dry_run,
            ref smtp,
            ref smtp_ca,
            ref rate,
            ref bounce_address,
            resend,
            resend_in_doubt,
            retry_failed,
            ref test_to,
            list,
            ..
        } => {
            let opts = SendOptions {
                yes,
                dry_run,
                resend,
                resend_in_doubt,
                retry_failed,
                test_to: test_to.clone(),
                list,
                smtp: SmtpFlags {
                    url: smtp.clone(),
                    ca: smtp_ca.clone(),
                    rate: rate.clone(),
                    bounce_address: bounce_address.clone(),
                },
            };
            with_config(&common, |c| {
                print_problems(&c.sender_warnings, c.quiet);
                commands::send::command(c, &opts)
            })
        }
        ref inbox_command @ Command::Inbox { .. } => inbox(&common, inbox_command),
    }
}

/// `appeal inbox`: the mailbox from the flags or `[imap]`.
fn inbox(common: &Common, command: &Command) -> Result<Exit> {
    let Command::Inbox {
        imap,
        imap_ca,
        mark_seen,
        bounce_address,
        json,
        ..
    } = command
    else {
        return Ok(Exit::Invalid);
    };
    let opts = commands::inbox::InboxOptions {
        imap: crate::email::imap::ImapFlags {
            url: imap.clone(),
            ca: imap_ca.clone(),
        },
        mark_seen: *mark_seen,
        bounce_address: bounce_address.clone(),
        json: *json,
    };
    with_config(common, |c| commands::inbox::run(c, &opts))
}

/// Loads the configuration, printing every problem if it cannot.
fn with_config(common: &Common, f: impl FnOnce(&Config) -> Result<Exit>) -> Result<Exit> {
    match config::load(common) {
        Ok(config) => {
            print_problems(&config.warnings, config.quiet);
            f(&config)
        }
        Err(problems) => {
            print_problems(&problems, false);
            Ok(Exit::Invalid)
        }
    }
}
