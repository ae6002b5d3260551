//! The commands: each takes the parsed command line and returns how the run ended.

use std::io::Write;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::config::{self, Config};
use crate::diag::Problems;
use crate::exit::Exit;
use crate::plan;

/// Runs one command. `Err` is reserved for failures of the tool's surroundings
/// (a closed stdout, an unwritable directory); bad input comes back as `Exit::Invalid`
/// after its problems are printed.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Init { ref dir } => {
            let dir = dir
                .clone()
                .or_else(|| cli.common.directory.clone())
                .unwrap_or_else(|| ".".into());
            crate::init::init(&dir, cli.common.quiet)?;
            Ok(Exit::Success)
        }
        Command::Completions { shell } => {
            completions(shell);
            Ok(Exit::Success)
        }
        Command::Man => {
            let man = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            man.render(&mut std::io::stdout().lock())?;
            Ok(Exit::Success)
        }
        Command::Check => check(&cli),
        Command::Pdf { combined } => with_config(&cli, |c| crate::output::pdf(c, combined)),
        Command::List { json } => with_config(&cli, |c| list(c, json)),
        Command::Status { json } => with_config(&cli, |c| crate::status::run(c, json)),
        Command::Preview {
            ref recipient,
            json,
        } => {
            let mut common_only = cli.common.only.clone();
            if let Some(r) = recipient {
                common_only = vec![r.clone()];
            }
            let mut cli = cli;
            cli.common.only = common_only;
            with_config(&cli, |c| preview(c, json))
        }
        Command::Send {
            yes,
            dry_run,
            ref smtp,
            ref smtp_ca,
            ref rate,
            resend,
            resend_in_doubt,
        } => {
            let opts = crate::send::SendOptions {
                yes,
                dry_run,
                resend,
                resend_in_doubt,
                smtp: crate::smtp::SmtpFlags {
                    url: smtp.clone(),
                    ca: smtp_ca.clone(),
                    rate: rate.clone(),
                },
            };
            with_config(&cli, |c| crate::send::command(c, &opts))
        }
    }
}

fn completions(shell: crate::cli::Shell) {
    use clap_complete::Shell as S;
    let shell = match shell {
        crate::cli::Shell::Bash => S::Bash,
        crate::cli::Shell::Zsh => S::Zsh,
        crate::cli::Shell::Fish => S::Fish,
        crate::cli::Shell::Elvish => S::Elvish,
        crate::cli::Shell::Powershell => S::PowerShell,
    };
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "appeal", &mut std::io::stdout().lock());
}

/// Loads the configuration, printing every problem if it cannot.
fn with_config(cli: &Cli, f: impl FnOnce(&Config) -> Result<Exit>) -> Result<Exit> {
    match config::load(&cli.common) {
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

pub fn print_problems(problems: &Problems, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in &problems.items {
        if quiet && d.severity == crate::diag::Severity::Warning {
            continue;
        }
        let _ = writeln!(err, "{d}");
    }
}

fn check(cli: &Cli) -> Result<Exit> {
    let config = match config::load(&cli.common) {
        Ok(c) => c,
        Err(problems) => {
            print_problems(&problems, false);
            summary(&problems);
            return Ok(Exit::Invalid);
        }
    };
    let mut problems = config.warnings.clone();
    let mut count = 0usize;
    let mut similarity = crate::lint::Similarity::default();
    let mut letter_lint = Problems::default();
    let family = crate::fonts::Family::load(config.font.as_deref())?;
    crate::batch::for_each_chunk(&config, &mut problems, |chunk| {
        count += chunk.len();
        for l in &chunk {
            similarity.add(l);
            crate::lint::lint_letter(&config, l, &mut letter_lint);
            crate::lint::lint_print(&config, &family, l, &mut letter_lint);
            for c in family.missing_in(&crate::output::drawn_text(l)) {
                letter_lint.push(crate::diag::Diagnostic::error(
                    &config.campaign.file,
                    None,
                    format!(
                        "{}: the font has no glyph for {}",
                        crate::output::who(l),
                        crate::fonts::describe(c)
                    ),
                ));
            }
        }
        Ok(())
    })?;
    let mut collector = crate::batch::Collector::new(&mut problems);
    for d in letter_lint.items {
        collector.push(d);
    }
    crate::lint::lint_campaign(&config, &mut problems);
    // SMTP settings are checked here too (never the password: check runs no command).
    if let Some(raw) = &config.settings.raw.smtp
        && let Err(e) =
            crate::smtp::resolve(&crate::smtp::SmtpFlags::default(), Some(raw), &config.root)
    {
        let path = config
            .settings
            .source
            .as_ref()
            .map_or_else(|| config.root.join("appeal.toml"), |s| s.path.clone());
        let position = raw.url.as_ref().and_then(|u| {
            config
                .settings
                .source
                .as_ref()
                .map(|s| s.span_position(&u.span()))
        });
        problems.push(crate::diag::Diagnostic::error(
            &path,
            position,
            format!("[smtp]: {e:#}"),
        ));
    }
    similarity.finish(&config, &mut problems);
    print_problems(&problems, config.quiet);
    if problems.has_errors() {
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    if !config.quiet {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "ok: {count} letter{} render cleanly ({} warning{})",
            plural(count),
            problems.warnings(),
            plural(problems.warnings())
        )?;
    }
    Ok(Exit::Success)
}

pub fn summary(problems: &Problems) {
    let (e, w) = (problems.errors(), problems.warnings());
    eprintln!(
        "appeal: {e} error{}, {w} warning{}; nothing was written",
        plural(e),
        plural(w)
    );
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn list(config: &Config, json: bool) -> Result<Exit> {
    let plan = plan::plan(config);
    let mut out = std::io::stdout().lock();
    if json {
        let items: Vec<serde_json::Value> = plan
            .iter()
            .map(|d| {
                serde_json::json!({
                    "id": d.id, "name": d.name, "channel": d.channel, "destination": d.destination,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &items)?;
        writeln!(out)?;
    } else {
        let rows: Vec<Vec<String>> = plan
            .iter()
            .map(|d| {
                vec![
                    d.id.clone(),
                    d.name.clone(),
                    d.channel.as_str().into(),
                    d.destination.clone(),
                ]
            })
            .collect();
        out.write_all(plan::table(&["ID", "NAME", "CHANNEL", "DESTINATION"], &rows).as_bytes())?;
    }
    Ok(Exit::Success)
}

fn preview(config: &Config, json: bool) -> Result<Exit> {
    let plan = plan::plan(config);
    let mut problems = Problems::default();
    let mut out = std::io::stdout().lock();
    let batch = config.signatories.is_some();
    if !json {
        let rows: Vec<Vec<String>> = plan
            .iter()
            .map(|d| {
                let subject = config
                    .campaign
                    .subject
                    .get(&d.language)
                    .cloned()
                    .unwrap_or_default();
                vec![
                    d.id.clone(),
                    d.channel.as_str().into(),
                    d.destination.clone(),
                    d.language.clone(),
                    subject,
                ]
            })
            .collect();
        let email = plan
            .iter()
            .filter(|d| d.channel == crate::recipients::Channel::Email)
            .count();
        let each = if batch { " for each signatory" } else { "" };
        writeln!(
            out,
            "Plan for campaign `{}`: {} letter{}{each} ({} by email, {} on paper). Nothing is sent by preview.\n",
            config.campaign.name,
            plan.len(),
            plural(plan.len()),
            email,
            plan.len() - email
        )?;
        out.write_all(
            plan::table(
                &["RECIPIENT", "CHANNEL", "DESTINATION", "LANG", "SUBJECT"],
                &rows,
            )
            .as_bytes(),
        )?;
    }
    let mut n = 0usize;
    crate::batch::for_each_chunk(config, &mut problems, |chunk| {
        for l in &chunk {
            n += 1;
            let Some(d) = plan.iter().find(|d| d.id == l.key.recipient) else {
                continue;
            };
            if json {
                let v = serde_json::json!({
                    "id": d.id,
                    "signatory": l.key.signatory,
                    "channel": d.channel,
                    "destination": d.destination,
                    "language": d.language,
                    "subject": l.subject,
                    "text": l.to_text(72, true),
                });
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            } else {
                let who = match &l.key.signatory {
                    Some(s) => format!("{s} → {}", d.id),
                    None => d.id.clone(),
                };
                let of = if batch {
                    String::new()
                } else {
                    format!("/{}", plan.len())
                };
                writeln!(
                    out,
                    "\n──── letter {n}{of}: {who} ({}, {}) ────\n",
                    d.channel.as_str(),
                    d.language
                )?;
                out.write_all(l.to_text(72, true).as_bytes())?;
            }
        }
        out.flush()?;
        Ok(())
    })?;
    if problems.has_errors() {
        print_problems(&problems, false);
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    Ok(Exit::Success)
}
