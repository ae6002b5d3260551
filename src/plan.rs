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
    /// A fax sent as an email to the fax gateway (`destination` is the gateway address).
    #[serde(skip)]
    pub gateway: bool,
}

impl Delivery {
    /// Does this letter leave as an email (to its recipient, or to the fax gateway)?
    pub fn by_email(&self) -> bool {
        self.channel == Channel::Email || self.gateway
    }
}

/// A fax number as E.164 digits ("+7 7172 72 05 16" → "77172720516"), if it is written
/// internationally (with `+` or `00`).
pub fn e164_digits(number: &str) -> Option<String> {
    let trimmed = number.trim();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.starts_with("00") {
        digits.drain(..2);
    }
    (international && (8..=15).contains(&digits.len())).then_some(digits)
}

/// The gateway address for a fax number: `{number}` in the pattern replaced by its digits.
pub fn gateway_address(pattern: &str, number: &str) -> Option<String> {
    e164_digits(number).map(|d| pattern.replace("{number}", &d))
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
    let pattern = config
        .settings
        .raw
        .fax_gateway
        .as_ref()
        .map(|g| g.get_ref().as_str());
    let gateway = pattern.is_some();
    config
        .recipients
        .iter()
        .map(|r| {
            let language = config.language_for(r);
            let channel = config.via.unwrap_or_else(|| channel_for(r, gateway));
            let via_gateway = match (channel, pattern, &r.fax) {
                (Channel::Fax, Some(p), Some(number)) => gateway_address(p, number),
                _ => None,
            };
            Delivery {
                id: r.id.clone(),
                name: r.base.name.clone(),
                channel,
                gateway: via_gateway.is_some(),
                destination: via_gateway.unwrap_or_else(|| destination(r, channel, &language)),
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
    fn fax_numbers_become_e164_digits() {
        assert_eq!(
            e164_digits("+7 7172 72 05 16").as_deref(),
            Some("77172720516")
        );
        assert_eq!(
            e164_digits("0048 (22) 123-45-67").as_deref(),
            Some("48221234567")
        );
        assert_eq!(e164_digits("7172 740548"), None, "no country code");
        assert_eq!(
            gateway_address("{number}@fax.example.net", "+7 7172 740548").as_deref(),
            Some("77172740548@fax.example.net")
        );
    }

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
