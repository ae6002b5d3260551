//! `appeal list` and `appeal preview`: what a run would do, and the letters' text. Nothing is
//! written or sent.

use std::io::Write;

use anyhow::Result;

use crate::config::Config;
use crate::diag::Problems;
use crate::exit::Exit;
use crate::letter::Letter;
use crate::letter::plan::{self, Delivery};
use crate::model::recipients::Channel;
use crate::term::{plural, print_problems, summary, table};

/// `appeal list`: the delivery plan, as a table or JSON.
pub fn list(config: &Config, json: bool) -> Result<Exit> {
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
        out.write_all(table(&["ID", "NAME", "CHANNEL", "DESTINATION"], &rows).as_bytes())?;
    }
    Ok(Exit::Success)
}

/// `appeal preview`: the plan, then every letter as plain text (or one JSON object a letter).
pub fn preview(config: &Config, json: bool) -> Result<Exit> {
    let plan = plan::plan(config);
    let mut problems = Problems::default();
    let mut out = std::io::stdout().lock();
    let batch = config.signatories.is_some();
    if !json {
        print_plan(&mut out, config, &plan, batch)?;
    }
    let mut n = 0usize;
    crate::letter::run::for_each_chunk(config, &mut problems, |chunk| {
        for l in &chunk {
            n += 1;
            let Some(d) = plan.iter().find(|d| d.id == l.key.recipient) else {
                continue;
            };
            if json {
                print_json(&mut out, l, d)?;
            } else {
                // A batch has as many letters as signatories: no "of N" to count them by.
                let of = if batch {
                    String::new()
                } else {
                    format!("/{}", plan.len())
                };
                print_text(&mut out, &format!("{n}{of}"), l, d)?;
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

/// The plan table under a line that counts the letters by channel.
fn print_plan(out: &mut impl Write, config: &Config, plan: &[Delivery], batch: bool) -> Result<()> {
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
    let email = plan.iter().filter(|d| d.channel == Channel::Email).count();
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
        table(
            &["RECIPIENT", "CHANNEL", "DESTINATION", "LANG", "SUBJECT"],
            &rows,
        )
        .as_bytes(),
    )?;
    Ok(())
}

/// One letter as one line of JSON.
fn print_json(out: &mut impl Write, l: &Letter, d: &Delivery) -> Result<()> {
    let v = serde_json::json!({
        "id": d.id,
        "signatory": l.key.signatory,
        "channel": d.channel,
        "destination": d.destination,
        "language": d.language,
        "subject": l.subject,
        "text": l.to_text(72, true),
    });
    serde_json::to_writer(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}

/// One letter as text under a rule that says which it is (`number`: "3/12", or "3").
fn print_text(out: &mut impl Write, number: &str, l: &Letter, d: &Delivery) -> Result<()> {
    let who = match &l.key.signatory {
        Some(s) => format!("{s} → {}", d.id),
        None => d.id.clone(),
    };
    writeln!(
        out,
        "\n──── letter {number}: {who} ({}, {}) ────\n",
        d.channel.as_str(),
        d.language
    )?;
    out.write_all(l.to_text(72, true).as_bytes())?;
    Ok(())
}
