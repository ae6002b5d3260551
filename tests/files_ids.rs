//! Files and ids (issue 14, point 5): the names appeal writes in the output folder itself
//! (`all.pdf`, `sent/`, `dry-run/`, `replies/`) are no one's id, so no letter is overwritten.

use crate::common::TestCampaign;

#[test]
fn a_recipient_id_the_tool_writes_itself_is_refused_where_it_is_written() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "id = \"foreign\"", "id = \"all\"");
    let before = c.snapshot();
    c.expect_invalid(
        &["pdf", "--combined"],
        "recipients.toml:25:6: error: recipient id `all` is a name appeal writes in the output folder itself (reserved: all, sent, dry-run, replies); choose another id",
    );
    assert_eq!(c.snapshot(), before, "nothing written");
}

#[test]
fn a_signatory_id_the_tool_writes_itself_is_refused_with_its_line() {
    let c = TestCampaign::new();
    c.write(
        "signatories.csv",
        "id,name\nanna,Anna Nowak\nsent,Ben Okoro\n",
    );
    c.expect_invalid(
        &["check", "--signatories", "signatories.csv"],
        "signatories.csv:3:1: error: signatory id `sent` is a name appeal writes in the output folder itself",
    );
}
