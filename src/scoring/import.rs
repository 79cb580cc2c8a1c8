//! The importer's front door: one survey-results file, read by the plain fast path when it
//! can ([`super::plain`]) and else by the general reader ([`super::responses`]). It sits above
//! both, so that neither imports the other.

use std::path::Path;

use super::responses::{Importer, Input};
use crate::error::{Error, Result};
use crate::io::table::{self, ReadOptions};

impl Importer<'_> {
    /// Reads one file (CSV or xlsx, long or wide).
    pub fn read(&mut self, path: &Path, opts: &ReadOptions) -> Result<()> {
        let bytes = table::file_bytes(path)?;
        let name = table::display_name(path);
        let file = self.out.inputs.len() as u32;
        self.names.push(name.clone());
        if !bytes.starts_with(b"PK\x03\x04") && opts.sheet.is_none() {
            // A plain UTF-8 CSV is read on every core while one more hashes it.
            let (sha256, fast) = std::thread::scope(|s| {
                let hash = s.spawn(|| crate::seed::sha256_hex(&bytes));
                let fast = super::plain::read(self, path, &name, file, &bytes, opts);
                (hash.join().expect("hashing does not panic"), fast)
            });
            if let Some(input) = fast {
                self.out.inputs.push(Input { sha256, ..input });
                return Ok(());
            }
            return self.read_csv(path, name, file, &bytes, sha256, opts);
        }
        let sha256 = crate::seed::sha256_hex(&bytes);
        if bytes.starts_with(b"PK\x03\x04") {
            let t = crate::io::read::read_table_bytes(path, &bytes, opts)?;
            let mut input = Input {
                rows: t.rows.len() as u64,
                blank_rows: t.blank_rows,
                ..Input::new(path, &name, sha256, t.encoding.clone())
            };
            let mut sink = self.sink(&name, file, &t.header, &mut input)?;
            for r in &t.rows {
                let cells: Vec<&str> = r.cells.iter().map(String::as_str).collect();
                sink.row(self, r.line, &cells[..]);
            }
            input.answers = sink.answers;
            input.not_shown = sink.not_shown;
            self.out.inputs.push(input);
            return Ok(());
        }
        Err(Error::usage(format!(
            "{name}: --sheet applies to .xlsx workbooks, and this file is not one"
        )))
    }
}
