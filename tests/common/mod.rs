//! A small builder for binary-level tests: writes a campaign into a temp dir, runs the real
//! `appeal` binary in it, and captures what came out. Every helper that more than one module
//! needs lives here, once; the bundled example for the send tests is in `bundled`, the SMTP
//! server in `smtp`.

pub mod bundled;
pub mod imap;
pub mod smtp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use appeal::ledger::Key;
use appeal::letter::LetterKey;
use appeal::model::recipients::Channel;

pub const NOW: &str = "2014-07-14T10:00:00Z";

pub const RECIPIENTS: &str = r#"[[recipient]]
id = "president"
name = "Nursultan Nazarbayev"
title = "President of the Republic of Kazakhstan"
address = ["Akorda", "010000 Astana", "Kazakhstan"]
fax = "+7 7172 72 05 16"
tags = ["government"]

[[recipient]]
id = "ombudsman"
name = "Askar Shakirov"
title = "Human Rights Ombudsman"
salutation = "Dear Mr Shakirov,"
address = ["Ministry House, entrance 15", "010000 Astana", "Kazakhstan"]
email = "ombudsman@example.kz"
language = "ru"
tags = ["rights"]

[recipient.translations.ru]
name = "А. Ш. Шакирову"
title = "Уполномоченному по правам человека"
salutation = "Уважаемый Аскар Шакирович!"

[[recipient]]
id = "foreign"
name = "Erlan Idrisov"
title = "Minister of Foreign Affairs"
address = ["31 Kunayeva St.", "010000 Astana", "Kazakhstan"]
email = "midrk@example.kz"
tags = ["government"]
"#;

pub const CAMPAIGN: &str = r#"title = "Test campaign"
language = "en"
reference = "T-1"

[subject]
en = "About the case of Musagali Duambekov"
ru = "О деле Мусагали Дуамбекова"

[salutation]
en = "Dear Sir or Madam,"
ru = "Уважаемый господин!"

[closing]
en = "Yours sincerely,"
ru = "С уважением,"

[facts]
defendant = "Musagali Duambekov"

[[source]]
key = "hrw"
publisher = "Human Rights Watch"
title = "Letter to the Prosecutor General"
date = "16 September 2013"
url = "http://www.hrw.org/news/2013/09/16/letter"
"#;

pub const LETTER_EN: &str = "I write about {{facts.defendant}}, convicted of defamation.{{cite \"hrw\"}}\n\nI ask you:\n\n1. to review the case;\n2. to decriminalise defamation.\n\nWritten on {{today}}.\n";
pub const LETTER_RU: &str =
    "Обращаюсь по делу Мусагали Дуамбекова.{{cite \"hrw\"}}\n\nПрошу Вас пересмотреть дело.\n";

pub const SETTINGS: &str = "[sender]\nname = \"Alex Sample\"\ncity = \"London\"\nemail = \"alex@example.org\"\naddress = [\"1 Test Street\", \"London\"]\n";

pub struct TestCampaign {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestCampaign {
    /// A valid three-recipient campaign named `test`.
    pub fn new() -> Self {
        let c = TestCampaign {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        c.write("recipients.toml", RECIPIENTS)
            .write("letters/test/campaign.toml", CAMPAIGN)
            .write("letters/test/letter.md.hbs", LETTER_EN)
            .write("letters/test/letter.ru.md.hbs", LETTER_RU)
            .write("appeal.toml", SETTINGS);
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).expect("read")
    }

    /// Replaces `from` by `to` in a file, failing the test if `from` is not there.
    pub fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1))
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args)
    }

    /// Every file under the campaign with its contents: compare before and after a run to
    /// prove that nothing was written.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(self.dir.path())
    }

    /// Runs `appeal ARGS` on input it must refuse and asserts: exit 2, `needle` on stderr, no
    /// panic, and no file created or changed in the campaign.
    pub fn expect_invalid(&self, args: &[&str], needle: &str) -> Run {
        let before = self.snapshot();
        let run = self.run(args);
        run.expect_code(2).expect_stderr(needle);
        assert_eq!(
            before,
            self.snapshot(),
            "appeal {args:?} wrote or changed a file"
        );
        run
    }
}

/// Every file under `root` with its bytes, and every directory (so that one created empty
/// counts too): compare before and after a run to prove that nothing was written.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    paths_under(root)
        .into_iter()
        .map(|path| {
            let bytes = if path.is_dir() {
                Vec::new()
            } else {
                std::fs::read(&path).unwrap_or_default()
            };
            (
                path.strip_prefix(root).expect("prefix").to_path_buf(),
                bytes,
            )
        })
        .collect()
}

/// Every file and directory under `root`, however deep.
pub fn paths_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}

/// `appeal ARGS` in `dir`, with the clock pinned, no SMTP password in its environment and
/// no terminal on standard input.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_appeal"));
    cmd.args(args)
        .current_dir(dir)
        .env("APPEAL_NOW", NOW)
        .env_remove("APPEAL_SMTP_PASSWORD")
        .env_remove("APPEAL_IMAP_PASSWORD")
        .stdin(Stdio::null());
    cmd
}

/// `appeal ARGS` in `dir`, run to the end.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    Run::of(&mut command(dir, args))
}

/// Starts `appeal ARGS` in `dir` in the background, its output piped for [`Run::of_child`].
pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn appeal")
}

/// Waits for `child` (reading its output as it comes, so a full pipe cannot block it), and
/// fails the test if `what` runs longer than `limit`: a hang must not hang the suite.
pub fn wait_with_limit(child: Child, limit: Duration, what: &str) -> Run {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Run::of_child(child));
    });
    match rx.recv_timeout(limit) {
        Ok(run) => run,
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{what} did not finish within {limit:?}");
        }
    }
}

impl Run {
    /// Runs `cmd` to the end and keeps what it said.
    pub fn of(cmd: &mut Command) -> Run {
        Run::from_output(cmd.output().expect("run appeal"))
    }

    /// Waits for a process started by [`spawn`] and keeps what it said.
    pub fn of_child(child: Child) -> Run {
        Run::from_output(child.wait_with_output().expect("wait"))
    }

    /// What a finished process said.
    pub fn from_output(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts an exit code (and that nothing panicked), showing the output if it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self.no_panic()
    }

    /// Standard output and standard error together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    pub fn expect_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn expect_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// No panic message, ever.
    pub fn no_panic(&self) -> &Self {
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        self
    }

    /// Standard output as one JSON array: `list --json`, `status --json`.
    pub fn json_array(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.stdout).expect("a JSON array on stdout")
    }

    /// Standard output as one JSON object a line: `preview --json`.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line on stdout"))
            .collect()
    }
}

/// The ledger's key for the letter of `campaign` to `recipient` (from `signatory`, if any),
/// sent by `sender` through `channel`.
pub fn ledger_key(
    campaign: &str,
    signatory: Option<&str>,
    recipient: &str,
    sender: &str,
    channel: Channel,
) -> Key {
    let letter = LetterKey {
        campaign: campaign.into(),
        signatory: signatory.map(String::from),
        recipient: recipient.into(),
    };
    Key::new(&letter, sender, channel)
}

/// The repository root, which holds the bundled example campaign.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a poppler or qpdf tool on a PDF and returns its standard output.
pub fn pdf_tool(name: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(name)
        .args(args)
        .arg(file)
        .args(if name == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} (install poppler-utils and qpdf): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a PDF, laid out as on the page.
pub fn pdf_text(file: &Path) -> String {
    pdf_tool("pdftotext", &["-layout"], file)
}
