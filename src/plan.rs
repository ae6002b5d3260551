//! Who gets what through which channel: the delivery plan and its table.

use serde::Serialize;

use crate::config::Config;
use crate::recipients::{Channel, ChannelChoice, Recipient};

/// One planned letter.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: String,
    pub name: String,
    pub channel: Channel,
    pub destination: String,
    pub language: String,
}

/// The channel a recipient's letter takes: `auto` is email if there is an address, fax if
/// there is a number and a gateway to send it through, else post.
pub fn channel_for(r: &Recipient, fax_gateway: bool) -> Channel {
    match r.channel {
        ChannelChoice::Fixed(c) => c,
        ChannelChoice::Auto if r.email.is_some() => Channel::Email,
        ChannelChoice::Auto if r.fax.is_some() && fax_gateway => Channel::Fax,
        ChannelChoice::Auto => Channel::Post,
    }
}

/// Where the letter goes, in one line.
pub fn destination(r: &Recipient, channel: Channel, lang: &str) -> String {
    match channel {
        Channel::Email => r.email.clone().unwrap_or_default(),
        Channel::Fax => r.fax.clone().unwrap_or_default(),
        Channel::Post => r.addressee(lang).address.join(", "),
    }
}

pub fn plan(config: &Config) -> Vec<Delivery> {
    let gateway = config.settings.raw.fax_gateway.is_some();
    config
        .recipients
        .iter()
        .map(|r| {
            let language = config.language_for(r);
            let channel = config.via.unwrap_or_else(|| channel_for(r, gateway));
            Delivery {
                id: r.id.clone(),
                name: r.base.name.clone(),
                channel,
                destination: destination(r, channel, &language),
                language,
            }
        })
        .collect()
}

/// A plain text table with a header row, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |s: &str| textwrap::core::display_width(s);
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_by_display_width() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["кк".into(), "x".into()],
                vec!["abcd".into(), "y".into()],
            ],
        );
        assert_eq!(t, "ID    NAME\nкк    x\nabcd  y\n");
    }
}
