//! A fixed campaign, recipient and sender for the targets that fuzz what goes into a letter.

use appeal::model::campaign::Campaign;
use appeal::model::recipients::Recipient;
use appeal::model::sender::Sender;

pub const CAMPAIGN: &str = "title = \"Fuzz\"\nlanguage = \"en\"\n[subject]\nen = \"S\"\nru = \"Т\"\nar = \"ب\"\n[salutation]\nen = \"Dear\"\nru = \"Уважаемый\"\nar = \"السيد\"\n[closing]\nen = \"Yours\"\nru = \"С уважением\"\nar = \"مع الاحترام\"\n[facts]\nname = \"Musagali Duambekov\"\nlist = [\"a\", \"b\"]\n[[source]]\nkey = \"hrw\"\ntitle = \"Letter\"\nurl = \"http://example.org/a_b\"\n";

pub const RECIPIENTS: &str = "[[recipient]]\nid = \"x\"\nname = \"Askar\"\ntitle = \"Ombudsman\"\naddress = [\"Astana\"]\nlanguage = \"ru\"\n[recipient.translations.ru]\nname = \"Аскар\"\n";

pub fn campaign(template: String) -> Option<Campaign> {
    let templates = vec![
        ("letter.md.hbs".to_string(), Ok(template.clone())),
        ("letter.ru.md.hbs".to_string(), Ok(template.clone())),
        ("letter.ar.md.hbs".to_string(), Ok(template)),
    ];
    Campaign::from_parts(
        std::path::Path::new("/nonexistent/letters/fuzz"),
        std::path::Path::new("letters/fuzz"),
        CAMPAIGN.to_string(),
        templates,
    )
    .ok()
    .map(|(c, _)| c)
}

pub fn recipient() -> Recipient {
    let source = appeal::diag::Source::new("r.toml", RECIPIENTS.to_string());
    let (mut list, _) = appeal::model::recipients::parse(&source).expect("fixed recipients parse");
    list.remove(0)
}

pub fn sender() -> Sender {
    Sender { id: Some("s1".into()), name: "Alex".into(), city: Some("London".into()), ..Sender::default() }
}
