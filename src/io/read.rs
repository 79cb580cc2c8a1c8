//! The one door to reading a table: a workbook (`.xlsx`, found by its first bytes) through
//! [`super::xlsx`], anything else as CSV text through [`super::table`], with the same layout
//! rules, limits and notes. Sits above both so that neither imports the other's caller.

use std::path::Path;

use super::table::{RawTable, ReadOptions};
use crate::error::{Error, Result};

/// Reads a table, choosing CSV or xlsx by the file's first bytes (a zip is a workbook).
pub fn read_table(path: &Path, opts: &ReadOptions) -> Result<RawTable> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the file", &e))?;
    read_table_bytes(path, &bytes, opts)
}

/// Like [`read_table`] on bytes already in memory; `path` is used for messages.
pub fn read_table_bytes(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<RawTable> {
    let sha256 = crate::seed::sha256_hex(bytes);
    let t = if bytes.starts_with(b"PK\x03\x04") {
        super::xlsx::read_xlsx(path, bytes, opts, sha256)?
    } else {
        super::table::read_csv(path, bytes, opts, sha256)?
    };
    t.print_notes();
    Ok(t)
}
