//! The commands: each takes the parsed command line and returns how the run ended.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};
use crate::config::{self, Config};
use crate::diag::Problems;
use crate::exit::Exit;
use crate::letter::{self, Letter};
use crate::plan;

/// Runs one command. `Err` is reserved for failures of the tool's surroundings
/// (a closed stdout, an unwritable directory); bad input comes back as `Exit::Invalid`
/// after its problems are printed.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Check => check(&cli),
        Command::Pdf { combined } => with_config(&cli, |c| crate::output::pdf(c, combined)),
        Command::List { json } => with_config(&cli, |c| list(c, json)),
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
    }
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

/// Renders every selected letter, collecting problems instead of stopping at the first.
pub fn render_all(config: &Config, problems: &mut Problems) -> Vec<Letter> {
    let today = config.now.date();
    let mut letters = Vec::with_capacity(config.recipients.len());
    for r in &config.recipients {
        let lang = config.language_for(r);
        match letter::build(&config.campaign, r, &config.sender, &lang, today) {
            Ok(l) => letters.push(l),
            Err(d) => {
                // The same template error would repeat for every recipient: report it once.
                if !problems.items.contains(&d) {
                    problems.push(d);
                }
            }
        }
    }
    letters
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
    let letters = render_all(&config, &mut problems);
    crate::lint::lint(&config, &letters, &mut problems);
    print_problems(&problems, config.quiet);
    if problems.has_errors() {
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    if !config.quiet {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "ok: {} letter{} render cleanly ({} warning{})",
            letters.len(),
            plural(letters.len()),
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
    let letters = render_all(config, &mut problems);
    if problems.has_errors() {
        print_problems(&problems, false);
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    let mut out = std::io::stdout().lock();
    if json {
        for (d, l) in plan.iter().zip(&letters) {
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
        }
        return Ok(Exit::Success);
    }
    let rows: Vec<Vec<String>> = plan
        .iter()
        .zip(&letters)
        .map(|(d, l)| {
            vec![
                d.id.clone(),
                d.channel.as_str().into(),
                d.destination.clone(),
                d.language.clone(),
                l.subject.clone(),
            ]
        })
        .collect();
    let (email, other) = plan.iter().fold((0, 0), |(e, o), d| {
        if d.channel == crate::recipients::Channel::Email {
            (e + 1, o)
        } else {
            (e, o + 1)
        }
    });
    writeln!(
        out,
        "Plan for campaign `{}`: {} letter{} ({} by email, {} on paper). Nothing is sent by preview.\n",
        config.campaign.name,
        plan.len(),
        plural(plan.len()),
        email,
        other
    )?;
    out.write_all(
        plan::table(
            &["RECIPIENT", "CHANNEL", "DESTINATION", "LANG", "SUBJECT"],
            &rows,
        )
        .as_bytes(),
    )?;
    for (i, (d, l)) in plan.iter().zip(&letters).enumerate() {
        writeln!(
            out,
            "\n──── letter {}/{}: {} ({}, {}) ────\n",
            i + 1,
            plan.len(),
            d.id,
            d.channel.as_str(),
            d.language
        )?;
        out.write_all(l.to_text(72, true).as_bytes())?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(Exit::Success)
}
