//! `--signatories CSV`: one sender per row, read as a stream so a batch of any size runs in
//! bounded memory.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::diag::{Diagnostic, unsafe_char};
use crate::model::recipients::{email_problem, reserved_id, valid_id};
use crate::model::sender::Sender;

/// The columns with a meaning of their own; any other column becomes `sender.<column>`.
const KNOWN: [&str; 6] = ["id", "name", "email", "city", "address", "note"];

/// The header row's column names, trimmed and made canonical; not UTF-8 is an error.
fn decode_headers(shown: &Path, header: &csv::ByteRecord) -> Result<Vec<String>, Diagnostic> {
    let mut headers = Vec::new();
    for (i, field) in header.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok(s) => headers.push(canonical_column(s.trim())),
            Err(_) => {
                return Err(Diagnostic::error(
                    shown,
                    Some((1, i + 1)),
                    "the header row is not valid UTF-8 (save the file as UTF-8)",
                ));
            }
        }
    }
    Ok(headers)
}

/// Reads signatories one row at a time. Each item is one signatory or one problem with its
/// row; reading goes on after a bad row so `check` can report them all.
pub struct SignatoryReader {
    shown: PathBuf,
    reader: csv::Reader<Box<dyn Read + Send>>,
    headers: Vec<String>,
    /// Each id so far and the line it was first used on.
    seen: HashMap<String, usize>,
    /// Where the line breaks are, to give each row its line (the `csv` crate counts a CRLF
    /// file's lines one short).
    lines: Arc<Mutex<LineIndex>>,
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

/// The separator the header line uses: `,`, `;` (spreadsheets in many locales) or a tab,
/// whichever appears most outside quotes; `,` when there is none.
fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    candidates[best]
}

/// A header as the reader knows it: the known columns in any case, and `e-mail` as `email`;
/// other columns keep their spelling (they become `sender.<column>` in templates).
fn canonical_column(header: &str) -> String {
    let lower = header.to_ascii_lowercase();
    let key = match lower.as_str() {
        "e-mail" | "e_mail" => "email",
        other => other,
    };
    match KNOWN.iter().find(|k| **k == key) {
        Some(known) => known.to_string(),
        None => header.to_string(),
    }
}

/// Every CR and LF byte offset the CSV reader has been given and not yet passed, so a row's
/// line can be told from its byte offset. Only what the reader buffers ahead is held.
#[derive(Default)]
struct LineIndex {
    /// Offset of each CR or LF, and whether it ends a line (a CR before an LF does not).
    marks: VecDeque<(u64, bool)>,
    /// Line breaks before the marks still held.
    passed: usize,
    /// A CR at the end of the last read, not yet known to be followed by an LF.
    pending_cr: Option<u64>,
    seen: u64,
}

impl LineIndex {
    fn note(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let offset = self.seen + i as u64;
            if let Some(cr) = self.pending_cr.take() {
                self.marks.push_back((cr, b != b'\n'));
            }
            match b {
                b'\r' => self.pending_cr = Some(offset),
                b'\n' => self.marks.push_back((offset, true)),
                _ => {}
            }
        }
        if bytes.is_empty()
            && let Some(cr) = self.pending_cr.take()
        {
            self.marks.push_back((cr, true));
        }
        self.seen += bytes.len() as u64;
    }

    /// The 1-based line of a row the reader started reading at `start`: the line breaks
    /// before it, and those it skipped first (the LF of a CRLF, blank lines). Rows are asked
    /// for in order.
    fn line_of_row(&mut self, start: u64) -> usize {
        let mut at = start;
        while let Some(&(offset, ends_line)) = self.marks.front() {
            if offset > at {
                break;
            }
            if offset == at {
                at += 1;
            }
            self.passed += usize::from(ends_line);
            self.marks.pop_front();
        }
        self.passed + 1
    }
}

/// Hands the bytes to the CSV reader and notes where its line breaks are.
struct Counted<R> {
    inner: R,
    lines: Arc<Mutex<LineIndex>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut lines) = self.lines.lock() {
            lines.note(&buf[..n]);
        }
        Ok(n)
    }
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
        let cannot = |e: std::io::Error| {
            Diagnostic::error(
                shown,
                None,
                format!("cannot read the signatories file: {e}"),
            )
        };
        let mut buffered = skip_bom(BufReader::new(input)).map_err(cannot)?;
        // The header line is read first to see which separator the file uses, then put back.
        let mut header_line = Vec::new();
        buffered
            .read_until(b'\n', &mut header_line)
            .map_err(cannot)?;
        let delimiter = detect_delimiter(&header_line);
        let lines = Arc::new(Mutex::new(LineIndex::default()));
        let counted = Counted {
            inner: std::io::Cursor::new(header_line).chain(buffered),
            lines: Arc::clone(&lines),
        };
        let boxed: Box<dyn Read + Send> = Box::new(counted);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .delimiter(delimiter)
            .from_reader(boxed);
        let headers = match reader.byte_headers() {
            Ok(h) => decode_headers(shown, h)?,
            Err(e) => return Err(csv_error(shown, &e, 1)),
        };
        let mut out = SignatoryReader {
            shown: shown.to_path_buf(),
            headers,
            seen: HashMap::new(),
            lines,
            record: csv::ByteRecord::new(),
            fatal: None,
            require_note,
            reader,
        };
        out.fatal = out.check_headers();
        Ok(out)
    }

    /// The line of the row that starts at byte `start`.
    fn line_of(&self, start: u64) -> usize {
        self.lines.lock().map_or(0, |mut l| l.line_of_row(start))
    }

    /// Whether the header row names `column` (any case; `E-mail` is `email`).
    pub fn has_column(&self, column: &str) -> bool {
        self.headers.iter().any(|h| h == column)
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
        let start = self.record.position().map_or(0, csv::Position::byte);
        let line = self.line_of(start);
        let row = Row::decode(&self.shown, &self.headers, &self.record, line)?;
        let id = row.id()?;
        let who = format!("signatory `{}`", id.escape_debug());
        if let Some(first) = self.seen.get(&id) {
            return Err(row.at(
                "id",
                format!("duplicate signatory id `{id}` (first used on line {first})"),
            ));
        }
        self.seen.insert(id.clone(), line);
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
        line: usize,
    ) -> Result<Row<'a>, Diagnostic> {
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
        if let Some(why) = reserved_id(&id) {
            return Err(self.at("id", format!("signatory id {why}")));
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

/// A row the CSV reader refused, at `line`.
fn csv_error(shown: &Path, e: &csv::Error, line: usize) -> Diagnostic {
    let position = Some((line, 1));
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
            Err(e) => {
                let start = e.position().map_or(0, csv::Position::byte);
                Some(Err(csv_error(&self.shown, &e, self.line_of(start))))
            }
        }
    }
}
