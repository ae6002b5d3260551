//! Who gets what through which channel: the delivery plan and its table.

use serde::Serialize;

use crate::config::Config;
use crate::model::recipients::{Channel, channel_for, destination, gateway_address};

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

/// The run's letters to each selected recipient: channel, destination and language.
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
