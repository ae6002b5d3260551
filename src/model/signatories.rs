//! `--signatories CSV`: one sender per row, read as a stream so a batch of any size runs in
//! bounded memory.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, unsafe_char};
use crate::model::recipients::{email_problem, valid_id};
use crate::model::sender::Sender;

/// The columns with a meaning of their own; any other column becomes `sender.<column>`.
const KNOWN: [&str; 6] = ["id", "name", "email", "city", "address", "note"];

/// Reads signatories one row at a time. Each item is one signatory or one problem with its
/// row; reading goes on after a bad row so `check` can report them all.
pub struct SignatoryReader {
    shown: PathBuf,
    reader: csv::Reader<Box<dyn Read + Send>>,
    headers: Vec<String>,
    seen: HashSet<String>,
    record: csv::ByteRecord,
    require_note: bool,
    /// Set when the header itself is unusable: the reader yields that one error, then stops.
    fatal: Option<Diagnostic>,
}

/// Skips a UTF-8 byte order mark at the start, which spreadsheets like to write.
fn skip_bom<R: Read>(mut reader: BufReader<R>) -> std::io::Result<BufReader<R>> {
    let buf = reader.fill_buf()?;
    if buf.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(reader)
}

impl SignatoryReader {
    /// Opens the file and checks its header. With `require_note`, a row without a note is an error.
    pub fn open(
        path: &Path,
        shown: &Path,
        require_note: bool,
    ) -> Result<SignatoryReader, Diagnostic> {
        let file = File::open(path).map_err(|e| {
            Diagnostic::error(
                shown,
                None,
                format!("cannot read the signatories file: {e}"),
            )
        })?;
        Self::from_reader(Box::new(file), shown, require_note)
    }

    /// Reads signatories from any byte stream; `shown` names it in messages.
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        shown: &Path,
        require_note: bool,
    ) -> Result<SignatoryReader, Diagnostic> {
        let buffered = skip_bom(BufReader::new(input)).map_err(|e| {
            Diagnostic::error(
                shown,
                None,
                format!("cannot read the signatories file: {e}"),
            )
        })?;
        let boxed: Box<dyn Read + Send> = Box::new(buffered);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(boxed);
        let mut out = SignatoryReader {
            shown: shown.to_path_buf(),
            headers: Vec::new(),
            seen: HashSet::new(),
            record: csv::ByteRecord::new(),
            fatal: None,
            require_note,
            reader: csv::ReaderBuilder::new().from_reader(Box::new(std::io::empty())),
        };
        match reader.byte_headers() {
            Ok(h) => {
                let mut headers = Vec::new();
                for (i, field) in h.iter().enumerate() {
                    match std::str::from_utf8(field) {
                        Ok(s) => headers.push(s.trim().to_string()),
                        Err(_) => {
                            return Err(Diagnostic::error(
                                shown,
                                Some((1, i + 1)),
                                "the header row is not valid UTF-8 (save the file as UTF-8)",
                            ));
                        }
                    }
                }
                out.headers = headers;
            }
            Err(e) => return Err(csv_error(shown, &e)),
        }
        out.reader = reader;
        out.fatal = out.check_headers();
        Ok(out)
    }

    fn check_headers(&self) -> Option<Diagnostic> {
        let err = |col: Option<usize>, m: String| {
            Some(Diagnostic::error(
                &self.shown,
                Some((1, col.unwrap_or(0) + 1)),
                m,
            ))
        };
        if self.headers.iter().all(|h| h.is_empty()) {
            return err(None, "the file is empty: the first row must name the columns (id,name,email,city,address,note)".into());
        }
        for required in ["id", "name"] {
            if !self.headers.iter().any(|h| h == required) {
                let looks_like_data = self.headers.iter().any(|h| h.contains('@'));
                let hint = if looks_like_data {
                    " (the first row looks like data: add a header row)"
                } else {
                    ""
                };
                return err(
                    None,
                    format!(
                        "missing column `{required}` in the header row{hint}; the header must name id and name (and may name email, city, address, note)"
                    ),
                );
            }
        }
        let mut seen = HashSet::new();
        for (i, h) in self.headers.iter().enumerate() {
            if h.is_empty()
                || !h
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return err(
                    Some(i),
                    format!(
                        "column name `{}` must be letters, digits, `_` or `-`",
                        h.escape_debug()
                    ),
                );
            }
            if !seen.insert(h) {
                return err(
                    Some(i),
                    format!("column `{h}` appears twice in the header row"),
                );
            }
        }
        None
    }

    /// Parses the row just read into a sender.
    fn row(&mut self) -> Result<Sender, Diagnostic> {
        let row = Row::decode(&self.shown, &self.headers, &self.record)?;
        let id = row.id()?;
        let who = format!("signatory `{}`", id.escape_debug());
        if !self.seen.insert(id.clone()) {
            return Err(row.at("id", format!("duplicate signatory id `{id}`")));
        }
        let name = row.get("name");
        if name.is_empty() {
            return Err(row.at("name", format!("{who}: name is empty")));
        }
        row.check_characters(&who)?;
        if self.require_note && row.get("note").is_empty() {
            return Err(row.at(
                "note",
                format!(
                    "{who}: the campaign requires a personal note (require_note = true) and this row has none"
                ),
            ));
        }
        let email = row.nonempty("email");
        if let Some(e) = &email
            && let Some(why) = email_problem(e)
        {
            return Err(row.at("email", format!("{who}: email {why}")));
        }
        Ok(row.into_sender(id, name, email))
    }
}

/// One data row: each column's trimmed text, and where the row is for messages.
struct Row<'a> {
    shown: &'a Path,
    headers: &'a [String],
    line: usize,
    fields: BTreeMap<&'a str, String>,
}

impl<'a> Row<'a> {
    /// The row's fields by column name; a field that is not UTF-8 is an error at its column.
    fn decode(
        shown: &'a Path,
        headers: &'a [String],
        record: &csv::ByteRecord,
    ) -> Result<Row<'a>, Diagnostic> {
        let line = record.position().map_or(0, |p| p.line() as usize);
        let mut fields = BTreeMap::new();
        for (i, raw) in record.iter().enumerate() {
            let column = &headers[i];
            let value = std::str::from_utf8(raw).map_err(|_| {
                Diagnostic::error(
                    shown,
                    Some((line, i + 1)),
                    format!("column `{column}` is not valid UTF-8 (save the file as UTF-8)"),
                )
            })?;
            fields.insert(column.as_str(), value.trim().to_string());
        }
        Ok(Row {
            shown,
            headers,
            line,
            fields,
        })
    }

    /// An error at this row, in the column `name` (the first if there is no such column).
    fn at(&self, name: &str, message: String) -> Diagnostic {
        let column = self
            .headers
            .iter()
            .position(|h| h == name)
            .map_or(1, |i| i + 1);
        Diagnostic::error(self.shown, Some((self.line, column)), message)
    }

    fn get(&self, column: &str) -> String {
        self.fields.get(column).cloned().unwrap_or_default()
    }

    fn nonempty(&self, column: &str) -> Option<String> {
        self.fields.get(column).filter(|v| !v.is_empty()).cloned()
    }

    /// The signatory's id: present and an id (it names files and ledger entries).
    fn id(&self) -> Result<String, Diagnostic> {
        let id = self.get("id");
        if id.is_empty() {
            return Err(self.at("id", "the signatory has no id".into()));
        }
        if !valid_id(&id) {
            let who = format!("signatory `{}`", id.escape_debug());
            return Err(self.at(
                "id",
                format!("{who}: id must be 1-64 characters of a-z, 0-9 and `-`"),
            ));
        }
        Ok(id)
    }

    /// Every value may reach a header or a printed line; only address and note may span lines.
    fn check_characters(&self, who: &str) -> Result<(), Diagnostic> {
        for (column, value) in &self.fields {
            let checked = if *column == "address" || *column == "note" {
                value.replace('\n', " ").replace('\r', "")
            } else {
                value.clone()
            };
            if let Some(why) = unsafe_char(&checked) {
                return Err(self.at(column, format!("{who}: {column} {why}")));
            }
        }
        Ok(())
    }

    /// The sender this row describes; an address splits into lines at newlines and `|`, and
    /// columns of no meaning of their own are kept as `sender.<column>`.
    fn into_sender(self, id: String, name: String, email: Option<String>) -> Sender {
        let address = self
            .fields
            .get("address")
            .map(|a| {
                a.split(['\n', '|'])
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let extra = self
            .fields
            .iter()
            .filter(|(k, _)| !KNOWN.contains(k))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Sender {
            id: Some(id),
            name,
            email,
            address,
            city: self.nonempty("city"),
            note: self.nonempty("note"),
            signature: None,
            extra,
        }
    }
}

fn csv_error(shown: &Path, e: &csv::Error) -> Diagnostic {
    let position = e.position().map(|p| (p.line() as usize, 1));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("this row has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 (save the file as UTF-8)".to_string(),
        _ => format!("cannot read the row: {e}"),
    };
    Diagnostic::error(shown, position, message)
}

impl Iterator for SignatoryReader {
    type Item = Result<Sender, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(fatal) = self.fatal.take() {
            // Nothing after a broken header can be trusted.
            self.reader = csv::ReaderBuilder::new().from_reader(Box::new(std::io::empty()));
            return Some(Err(fatal));
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.row()),
            Err(e) => Some(Err(csv_error(&self.shown, &e))),
        }
    }
}
