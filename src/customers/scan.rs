//! Pass 1 over a customer frame: read every service record once, classify it, and spill the
//! eligible ones as fixed-size records into hash partitions by person.
//!
//! A UTF-8 CSV is streamed: one reader thread cuts the file into blocks at record boundaries
//! (quote-aware); worker threads (one per core) parse, check and classify the rows and
//! write fixed-size records (person, outlet, date, offset: 16 bytes for an 11-digit phone
//! key, 24 for other phone keys, 32 for any other key) to their own partitioned spill file,
//! then take turns hashing the parsed blocks in file order (`Baton`). The usual record
//! (one plain line with as many cells as the header, nothing to trim) is classified straight
//! from its delimiter positions. Memory is a few blocks plus small per-worker tables,
//! whatever the file's length. Other formats (xlsx, UTF-16, GBK/GB18030) are read whole by
//! [`crate::io::table`] and fed through the same classification; they are what Excel can
//! hold, far below streaming sizes.
//!
//! Invariant: every data record ends as exactly one of eligible, excluded (with a reason
//! counted in [`RowCounts`]) or flagged ([`Flag`], also counted); a record with the wrong
//! number of fields stops the draw with its line. `RowCounts::adds_up` checks it.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Condvar;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fields::{parse_date, phone_digits_buf};
use super::ids::{self, ChunkIds, FileOrder, IdWatch, Layout};
use super::parts::{PartFile, Partitions};
use super::specials::Specials;
use crate::error::{Error, Problems, Result};
use crate::identity::IdRule;
use crate::io::limits::{self, MAX_FIELD, MAX_RECORD};
use crate::io::table::{self, Format, RawTable, ReadOptions};
// The record functions ids.rs shares live in record.rs (no import cycle); re-exported here.
use super::record::last_boundary;
pub use super::record::{pack_id, split_record};
use crate::seed::hex;

/// Number of hash partitions of the spill.
pub const PARTS: usize = 64;
/// Bytes a chunk of the streamed file holds (more, to the end of a record). Each chunk costs
/// a mapping, a message and a turn of the hashing; 8 MiB halves those against 4 MiB (srs
/// bench 2-3 % faster) for about 30 MB more peak memory (60 -> 90 MB).
const BLOCK: usize = 8 << 20;

/// How the draw runs on this machine, chosen by the command and passed down as a value (the
/// core reads no environment variable): worker threads, the size of the blocks pass 1 maps or
/// reads, and whether it maps them. The sample, the counts and every output byte are the
/// same for any value (tests draw with 64-byte blocks, one thread and without mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Worker threads, 1 to 8.
    pub threads: usize,
    /// Bytes per block of pass 1 (at least 64).
    pub block: usize,
    /// Map the file's blocks into memory (else read them).
    pub mmap: bool,
}

impl StreamConfig {
    /// `threads` workers (clamped to 1..=8), 8 MiB blocks, mapped.
    pub fn new(threads: usize) -> StreamConfig {
        StreamConfig {
            threads: threads.clamp(1, 8),
            block: BLOCK,
            mmap: true,
        }
    }
}
/// Bytes buffered per partition before a spill write.
const SPILL_BUF: usize = 64 * 1024;

/// Which column holds what (indices into the header).
#[derive(Debug, Clone)]
pub struct Columns {
    /// The service record id; `None` when the records have no such column (rows are then
    /// named by their line, and no id can repeat).
    pub id: Option<usize>,
    pub outlet: usize,
    pub date: usize,
    pub phone: Option<usize>,
    /// The person key column; when it is the phone column, keys are phone digits.
    pub person: usize,
    /// The customer number (客户编号), a person key when there is no phone column.
    pub customer: Option<usize>,
    pub service_type: Option<usize>,
    pub name: Option<usize>,
}

/// Everything that decides whether a row is eligible. Shared read-only by the workers.
#[derive(Debug, Clone)]
pub struct Rules {
    pub cols: Columns,
    pub width: usize,
    pub since: Option<i32>,
    pub until: Option<i32>,
    /// Service types to include (trimmed, exact); `None` takes every type.
    pub types: Option<HashSet<String>>,
    /// The outlet list's ids by their comparison key under `ids`, each to the list's own
    /// spelling, when known: customers of any other outlet are flagged.
    pub outlets: Option<HashMap<String, String>>,
    /// How outlet ids of the records are compared with the list's (crate::identity).
    pub ids: IdRule,
    /// Whether plain numbers are Excel serial dates (xlsx frames).
    pub excel_serial: bool,
}

impl Rules {
    /// The name an outlet id of the records goes by (the outlet list's spelling, or its
    /// comparison key without a list) and whether the list knows it.
    pub fn outlet_of(&self, outlet: &str) -> (String, bool) {
        let key = self.ids.key(outlet);
        match &self.outlets {
            None => (key.into_owned(), true),
            Some(list) => match list.get(key.as_ref()) {
                Some(spelling) => (spelling.clone(), true),
                None => (outlet.to_string(), false),
            },
        }
    }

    /// Whether person keys are phone digits (7 to 15 of them), which spill narrow.
    pub fn narrow(&self) -> bool {
        self.cols.phone == Some(self.cols.person)
    }
}

/// What happened to the rows of the frame. The counts add up to `rows`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    /// Data records read (after the header; blank lines not included).
    pub rows: u64,
    /// Empty lines and rows of empty cells, skipped.
    pub blank_lines: u64,
    /// Service records that can represent a person.
    pub eligible: u64,
    /// Service date before `--since` or after `--until`.
    pub outside_window: u64,
    /// Service type not among `--service-types`.
    pub type_not_included: u64,
    /// Flagged: no record id.
    pub flagged_no_id: u64,
    /// Flagged: no outlet id.
    pub flagged_no_outlet: u64,
    /// Flagged: an outlet id not in the outlet list.
    pub flagged_unknown_outlet: u64,
    /// Flagged: a service date that cannot be read.
    pub flagged_bad_date: u64,
    /// Flagged: no usable phone number (or an empty person key), so the person cannot be called.
    pub flagged_no_phone: u64,
    /// Eligible records whose outlet id is the list's written differently (`ＦＷ０７９４` for
    /// `FW0794`), counted with that outlet (crate::identity). Informational: these rows are
    /// among `eligible`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outlet_respelled: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RowCounts {
    pub fn flagged(&self) -> u64 {
        self.flagged_no_id
            + self.flagged_no_outlet
            + self.flagged_unknown_outlet
            + self.flagged_bad_date
            + self.flagged_no_phone
    }

    /// True when every row is accounted for exactly once.
    pub fn adds_up(&self) -> bool {
        self.rows == self.eligible + self.outside_window + self.type_not_included + self.flagged()
    }

    fn add(&mut self, o: &RowCounts) {
        self.rows += o.rows;
        self.blank_lines += o.blank_lines;
        self.eligible += o.eligible;
        self.outside_window += o.outside_window;
        self.type_not_included += o.type_not_included;
        self.flagged_no_id += o.flagged_no_id;
        self.flagged_no_outlet += o.flagged_no_outlet;
        self.flagged_unknown_outlet += o.flagged_unknown_outlet;
        self.flagged_bad_date += o.flagged_bad_date;
        self.flagged_no_phone += o.flagged_no_phone;
        self.outlet_respelled += o.outlet_respelled;
    }
}

/// A row left out for a data problem, listed in `flagged.csv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Flag {
    pub line: u64,
    /// 1-based column.
    pub column: usize,
    pub reason: &'static str,
    /// The offending cell (never a phone number).
    pub value: String,
}

/// Where the rows of a frame can be fetched again after the pass.
pub enum Source {
    /// A UTF-8 CSV; records are addressed by byte offset.
    Csv { path: PathBuf, delimiter: u8 },
    /// A table read whole; records are addressed by row index.
    Table(Box<RawTable>),
}

/// The spilled records: two partitioned files per worker, and each worker's outlet
/// dictionary.
pub struct Spill {
    pub dir: tempfile::TempDir,
    /// Records of [`RECORD_NARROW`] bytes (phone keys) rather than [`RECORD_WIDE`].
    pub narrow: bool,
    /// Per worker: its file of narrow or wide records, and its file of
    /// [`compact_record`]s (phone keys only).
    pub files: Vec<(PartFile, PartFile)>,
    /// Per worker: local outlet index → global index (into [`Scan::outlets`]).
    pub remap: Vec<Vec<u32>>,
    /// The thread that removes the files once pass 2 is done with them.
    releasing: Option<std::thread::JoinHandle<()>>,
}

impl Spill {
    /// Removes the spill files in the background: freeing their pages in the file cache
    /// takes the kernel a while, and the steps after pass 2 leave a core free for it.
    pub fn release(&mut self) {
        let files = std::mem::take(&mut self.files);
        self.releasing = std::thread::Builder::new().spawn(move || drop(files)).ok();
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        // The folder goes after its files.
        if let Some(h) = self.releasing.take() {
            let _ = h.join();
        }
    }
}

/// The result of pass 1.
pub struct Scan {
    pub header: Vec<String>,
    pub format: Format,
    pub encoding: String,
    pub had_bom: bool,
    pub delimiter: Option<char>,
    pub sheet: Option<String>,
    pub sha256_bytes: String,
    pub sha256_canonical: String,
    pub counts: RowCounts,
    pub flags: Vec<Flag>,
    /// Every outlet id met in eligible rows, sorted bytewise; the global outlet index.
    pub outlets: Vec<String>,
    /// Eligible service records per global outlet.
    pub outlet_rows: Vec<u64>,
    pub spill: Spill,
    pub source: Source,
}

/// How to find the columns once the header is known.
pub trait ColumnChooser: Sync {
    fn choose(&self, header_table: &RawTable) -> Result<Rules>;
}

impl<F: Fn(&RawTable) -> Result<Rules> + Sync> ColumnChooser for F {
    fn choose(&self, header_table: &RawTable) -> Result<Rules> {
        self(header_table)
    }
}

/// Runs pass 1 on `path`, spilling into a temporary folder inside `spill_in`.
pub fn scan(
    path: &Path,
    read: &ReadOptions,
    chooser: &dyn ColumnChooser,
    spill_in: &Path,
    progress: &dyn Fn(u64, u64),
    cfg: StreamConfig,
) -> Result<Scan> {
    let dir = tempfile::Builder::new()
        .prefix(".svcaudit-spill-")
        .tempdir_in(spill_in)
        .map_err(|e| Error::io(spill_in, "create a temporary folder", &e))?;
    // `--header-row` reads the file whole, through `io::table`, which skips the title.
    if read.sheet.is_none()
        && read.header_row.is_none()
        && let Some(head) = stream_candidate(path)?
    {
        let enc = super::transcode::encoding_of(path, &head, read)?;
        refuse_title(path, &head, enc)?;
        let utf8_head = crate::io::limits::looks_utf8(&head);
        let streamed = match enc {
            None => stream_csv(path, path, head, chooser, dir, progress, cfg)?,
            Some(e) => return stream_transcoded(path, e, chooser, dir, progress, cfg),
        };
        match streamed {
            Streamed::Done(s) => return Ok(*s),
            // Not UTF-8 after all, further into the file than the first block: GB18030,
            // unless the user said UTF-8.
            Streamed::NotUtf8(d, line) => {
                if utf8_head && read.encoding.is_none() {
                    return Err(Error::data(format!(
                        "{}:{line}: not UTF-8, although the lines before it are: the file mixes encodings\nhint: open it in Excel and save it again as CSV UTF-8, or fix the rows from this line on",
                        table::display_name(path)
                    )));
                }
                if read.encoding.is_some() {
                    return Err(Error::data(format!(
                        "{}:{line}: the file is not valid UTF-8 text\nhint: save it as CSV UTF-8 (or pass --encoding with its real encoding, e.g. --encoding gbk)",
                        table::display_name(path)
                    )));
                }
                return stream_transcoded(path, encoding_rs::GB18030, chooser, d, progress, cfg);
            }
        }
    }
    scan_table(path, read, chooser, dir, cfg)
}

/// A title above the header stops the streaming reader, which takes the first line as the
/// header, with an error saying `--header-row`.
fn refuse_title(
    path: &Path,
    head: &[u8],
    enc: Option<&'static encoding_rs::Encoding>,
) -> Result<()> {
    let enc = enc.unwrap_or(encoding_rs::UTF_8);
    let body = match encoding_rs::Encoding::for_bom(head) {
        Some((_, n)) => &head[n..],
        None => head,
    };
    let (text, _) = enc.decode_without_bom_handling(body);
    match table::title_above_header(&text) {
        None => Ok(()),
        Some((first, header, title)) => Err(Error::data(format!(
            "{}:{first}: \"{title}\" looks like a title above the header, which seems to be on line {header}\nhint: pass --header-row {header} if that line names the columns (the file is then read whole rather than streamed)",
            table::display_name(path)
        ))),
    }
}

/// Decodes a frame that is not UTF-8 into a UTF-8 copy in `dir` and streams the copy; the
/// scan then reports the original's encoding, BOM and SHA-256.
fn stream_transcoded(
    path: &Path,
    enc: &'static encoding_rs::Encoding,
    chooser: &dyn ColumnChooser,
    dir: tempfile::TempDir,
    progress: &dyn Fn(u64, u64),
    cfg: StreamConfig,
) -> Result<Scan> {
    let t = super::transcode::transcode(path, enc, dir.path(), progress)?;
    let head = stream_candidate(&t.path)?.unwrap_or_default();
    match stream_csv(&t.path, path, head, chooser, dir, progress, cfg)? {
        Streamed::Done(mut s) => {
            s.encoding = t.encoding.name().to_string();
            s.had_bom = t.had_bom;
            s.sha256_bytes = t.sha256;
            Ok(*s)
        }
        // The decoder writes UTF-8 only.
        Streamed::NotUtf8(..) => Err(Error::data(format!(
            "{}: could not be read as {} text",
            path.display(),
            enc.name()
        ))),
    }
}

/// The first bytes of a file that can be streamed as CSV (not a workbook, not CR-only), or
/// `None`.
fn stream_candidate(path: &Path) -> Result<Option<Vec<u8>>> {
    let mut f = File::open(path).map_err(|e| Error::io(path, "open the file", &e))?;
    let mut head = vec![0u8; 1 << 16];
    let mut n = 0;
    while n < head.len() {
        let k = f
            .read(&mut head[n..])
            .map_err(|e| Error::io(path, "read the file", &e))?;
        if k == 0 {
            break;
        }
        n += k;
    }
    head.truncate(n);
    if head.starts_with(b"PK\x03\x04") || cr_only(&head) {
        return Ok(None);
    }
    Ok(Some(head))
}

/// Lines ended by CR alone (classic Mac, some old exports): the streaming reader cuts records
/// at LF, so such a file is read whole by the general reader, whose grammar takes LF, CRLF
/// and CR alike (io::table).
fn cr_only(head: &[u8]) -> bool {
    memchr::memchr(b'\n', head).is_none() && memchr::memchr(b'\r', head).is_some()
}

enum Streamed {
    Done(Box<Scan>),
    /// A fresh temporary folder, and the first line that is not UTF-8.
    NotUtf8(tempfile::TempDir, u64),
}

/// What the streaming pass found, before the spill folder is attached.
struct Partial {
    header: Vec<String>,
    had_bom: bool,
    delimiter: u8,
    sha256_bytes: String,
    sha256_canonical: String,
    counts: RowCounts,
    flags: Vec<Flag>,
    outlets: Vec<String>,
    outlet_rows: Vec<u64>,
    files: Vec<(PartFile, PartFile)>,
    remap: Vec<Vec<u32>>,
    narrow: bool,
}

/// One block of whole records handed to a worker.
struct Chunk {
    index: usize,
    offset: u64,
    line: u64,
    data: Block,
}

/// The bytes of a chunk: read into memory, or a view of the file mapped into memory.
enum Block {
    Owned(Vec<u8>),
    /// A read-only mapping that starts at an aligned offset at or before the chunk; the
    /// chunk is `map[skip..skip + len]`. It is unmapped when the chunk is dropped, so the
    /// resident memory stays a few blocks whatever the file's length.
    Mapped {
        map: memmap2::Mmap,
        skip: usize,
        len: usize,
    },
}

impl std::ops::Deref for Block {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Block::Owned(v) => v,
            Block::Mapped { map, skip, len } => &map[*skip..*skip + *len],
        }
    }
}

/// A parsed chunk waiting to be hashed: its bytes, and the canonical bytes of its records
/// when they differ (`None` when the chunk is canonical as it is).
struct Parsed {
    data: Block,
    canon: Option<Vec<u8>>,
}

enum WorkerMsg {
    /// A chunk is parsed: its index, its length and its ids.
    Parsed(usize, u64, Box<ChunkIds>),
    NotUtf8 {
        line: u64,
    },
}

/// The cells of one record, as [`Worker::row`] reads them.
trait Cells {
    fn cell(&self, k: usize) -> &str;
}

impl Cells for [&str] {
    #[inline]
    fn cell(&self, k: usize) -> &str {
        self[k]
    }
}

/// A plain record (no quote, nothing to trim, exactly as many cells as the header): its
/// cells are the text between `start`, the delimiters and `end`, cut only when asked for.
struct Split<'a> {
    /// The chunk, UTF-8 (checked by the scanner up to `end`).
    data: &'a [u8],
    start: usize,
    end: usize,
    delims: &'a [usize],
}

impl Cells for Split<'_> {
    #[inline]
    fn cell(&self, k: usize) -> &str {
        let from = if k == 0 {
            self.start
        } else {
            self.delims[k - 1] + 1
        };
        let to = self.delims.get(k).copied().unwrap_or(self.end);
        // SAFETY: `data` is UTF-8 up to `end` (the scanner checked it before giving the
        // positions), and every cut is at an ASCII byte (a delimiter or the newline).
        unsafe { std::str::from_utf8_unchecked(&self.data[from..to]) }
    }
}

/// What a worker wrote: its spill files (narrow or wide records, compact records) and its
/// id fingerprints.
struct WorkerFiles {
    spill: (PartFile, PartFile),
    ids: PartFile,
}

/// Per-worker state: counts, flags, outlet dictionary and partition buffers.
struct Worker {
    counts: RowCounts,
    flags: Vec<Flag>,
    width_errors: Vec<(u64, String)>,
    /// Rows no applicant file should have (NUL bytes, unclosed quotes, huge cells).
    hostile: Vec<(u64, String)>,
    width_total: usize,
    outlets: OutletIndex,
    outlet_names: Vec<String>,
    outlet_rows: Vec<u64>,
    /// Per local outlet: whether the outlet list has it (always true without a list).
    outlet_known: Vec<bool>,
    /// Per local outlet: its spelling differs from the name it goes by.
    outlet_respelled: Vec<bool>,
    /// Whether person keys are phone digits, spilled as nibbles.
    narrow: bool,
    spill: Partitions,
    /// The 16-byte records of 11-digit phone keys ([`compact_record`]).
    compact: Partitions,
    name: String,
    /// The order of the record ids, and their fingerprints once it breaks.
    ids: IdWatch,
    dates: DateMemo,
    /// The mask buffer of the chunk scan, kept between chunks.
    masks: Vec<super::specials::Window>,
}

/// Remembers parsed service dates: a file has a few hundred distinct dates in millions of
/// rows, so most rows find theirs in this table of date cells of up to 15 bytes (packed
/// exactly, as [`pack_id`] does) instead of parsing them.
///
/// An open-addressing table that never evicts: a direct-mapped one of 4,096 slots evicted a
/// date whenever two of the 730 dates of a two-year file shared a slot, so that one row in
/// eleven (9.4 % of the bench file's rows) was parsed again. It starts at 2,048 slots (40 KiB, in the core's first-level
/// cache for such a file), doubles while at most half full, and once it holds
/// [`DateMemo::MAX_SLOTS`]` / 2` cells (a file of times rather than dates, say) it stops
/// remembering and parses the rest.
struct DateMemo {
    /// Packed cells; 0 (the empty cell, never remembered) marks a free slot.
    keys: Vec<u128>,
    /// The parsed date of the cell in the same slot of `keys`, [`DateMemo::UNREADABLE`]
    /// for a cell that is not a date.
    days: Vec<i32>,
    used: usize,
    excel_serial: bool,
}

impl DateMemo {
    const MAX_SLOTS: usize = 1 << 14;
    /// No parsed date is this far from 1970.
    const UNREADABLE: i32 = i32::MIN;

    fn new(excel_serial: bool) -> DateMemo {
        DateMemo {
            keys: vec![0; 2048],
            days: vec![0; 2048],
            used: 0,
            excel_serial,
        }
    }

    /// [`parse_date`] of `cell`, remembered.
    #[inline(always)]
    fn parse(&mut self, cell: &str) -> Option<i32> {
        let b = cell.as_bytes();
        if b.is_empty() || b.len() > 15 {
            return parse_date(cell, self.excel_serial);
        }
        let key = pack_id(b);
        let mask = self.keys.len() - 1;
        let mut i = Self::home(key, mask);
        loop {
            let k = self.keys[i];
            if k == key {
                let d = self.days[i];
                return (d != Self::UNREADABLE).then_some(d);
            }
            if k == 0 {
                break;
            }
            i = (i + 1) & mask;
        }
        let v = parse_date(cell, self.excel_serial);
        self.remember(key, i, v);
        v
    }

    /// Puts `key` into the free slot `i` (unless the table is full), growing it first when
    /// it would be more than half full.
    #[cold]
    fn remember(&mut self, key: u128, mut i: usize, v: Option<i32>) {
        if (self.used + 1) * 2 > self.keys.len() {
            if self.keys.len() >= Self::MAX_SLOTS {
                return;
            }
            let size = self.keys.len() * 2;
            let keys = std::mem::replace(&mut self.keys, vec![0; size]);
            let days = std::mem::replace(&mut self.days, vec![0; size]);
            self.used = 0;
            for (k, d) in keys.into_iter().zip(days).filter(|&(k, _)| k != 0) {
                let j = self.free_slot(k);
                self.put(j, k, d);
            }
            i = self.free_slot(key);
        }
        self.put(i, key, v.unwrap_or(Self::UNREADABLE));
    }

    /// The first slot to look at for `key`, from the top bits of its hash: every bit of
    /// the key reaches them (a multiply carries only upwards), while the middle bits miss
    /// the month digits of a packed `YYYY-MM-DD`.
    #[inline(always)]
    fn home(key: u128, mask: usize) -> usize {
        // `trailing_ones` is one instruction on every x86-64; `count_ones` is not.
        (id_hash(key) >> (64 - mask.trailing_ones())) as usize
    }

    fn free_slot(&self, key: u128) -> usize {
        let mask = self.keys.len() - 1;
        let mut i = Self::home(key, mask);
        while self.keys[i] != 0 {
            i = (i + 1) & mask;
        }
        i
    }

    fn put(&mut self, i: usize, key: u128, d: i32) {
        self.keys[i] = key;
        self.days[i] = d;
        self.used += 1;
    }
}

impl Worker {
    fn new(id: usize, dir: &Path, name: &str, rules: &Rules) -> Worker {
        Worker {
            counts: RowCounts::default(),
            flags: Vec::new(),
            width_errors: Vec::new(),
            hostile: Vec::new(),
            width_total: 0,
            outlets: OutletIndex::default(),
            outlet_names: Vec::new(),
            outlet_rows: Vec::new(),
            outlet_known: Vec::new(),
            outlet_respelled: Vec::new(),
            narrow: rules.narrow(),
            spill: Partitions::new(dir, format!("w{id}"), PARTS, SPILL_BUF),
            compact: Partitions::new(dir, format!("w{id}c"), PARTS, SPILL_BUF),
            name: name.to_string(),
            ids: IdWatch::new(dir, format!("w{id}")),
            dates: DateMemo::new(rules.excel_serial),
            masks: Vec::new(),
        }
    }

    fn flag(&mut self, line: u64, column: usize, reason: &'static str, value: &str) {
        self.flags.push(Flag {
            line,
            column: column + 1,
            reason,
            value: value.to_string(),
        });
    }

    /// Classifies one record of trimmed cells; spills it when eligible.
    #[inline]
    fn row<C: Cells + ?Sized>(&mut self, rules: &Rules, line: u64, offset: u64, cells: &C) {
        self.counts.rows += 1;
        let c = &rules.cols;
        if let Some(idc) = c.id {
            let id = cells.cell(idc);
            if id.is_empty() {
                self.counts.flagged_no_id += 1;
                self.flag(line, idc, "empty record id", "");
                return;
            }
            self.ids.see(id.as_bytes());
        }
        let outlet = cells.cell(c.outlet);
        if outlet.is_empty() {
            self.counts.flagged_no_outlet += 1;
            self.flag(line, c.outlet, "empty outlet id", "");
            return;
        }
        // One lookup per row: the worker's dictionary remembers every outlet id it met and
        // whether the outlet list knows it.
        let local = match self.outlets.get(outlet) {
            Some(i) => i,
            None => {
                let i = self.outlet_names.len() as u32;
                self.outlets.insert(outlet, i);
                // Spellings of one outlet (`FW0794`, `ＦＷ０７９４`) share its name, so the
                // global index merges them.
                let (name, known) = rules.outlet_of(outlet);
                self.outlet_respelled.push(name != outlet);
                self.outlet_names.push(name);
                self.outlet_rows.push(0);
                self.outlet_known.push(known);
                i
            }
        };
        if !self.outlet_known[local as usize] {
            self.counts.flagged_unknown_outlet += 1;
            self.flag(line, c.outlet, "outlet id not in the outlet list", outlet);
            return;
        }
        let Some(date) = self.dates.parse(cells.cell(c.date)) else {
            self.counts.flagged_bad_date += 1;
            self.flag(
                line,
                c.date,
                "service date not readable",
                cells.cell(c.date),
            );
            return;
        };
        if rules.since.is_some_and(|s| date < s) || rules.until.is_some_and(|u| date > u) {
            self.counts.outside_window += 1;
            return;
        }
        if let (Some(types), Some(t)) = (&rules.types, c.service_type)
            && !types.contains(cells.cell(t))
        {
            self.counts.type_not_included += 1;
            return;
        }
        let mut plain = None;
        let phone = match c.phone {
            // The usual case, an 11-digit mobile number written plainly, needs no copy.
            Some(p) if let Some(n) = plain_mobile_nibbles(cells.cell(p).as_bytes()) => {
                plain = Some(n);
                None
            }
            Some(p) => match phone_digits_buf(cells.cell(p)) {
                Some(d) => Some(d),
                None => {
                    self.counts.flagged_no_phone += 1;
                    self.flag(line, p, "no usable phone number", "");
                    return;
                }
            },
            None => None,
        };
        let key: &[u8] = match (&phone, Some(c.person) == c.phone) {
            (Some((buf, from, to)), true) => &buf[*from..*to],
            _ => cells.cell(c.person).as_bytes(),
        };
        if key.is_empty() {
            self.counts.flagged_no_phone += 1;
            self.flag(line, c.person, "empty person key", "");
            return;
        }
        self.counts.eligible += 1;
        self.outlet_rows[local as usize] += 1;
        if self.outlet_respelled[local as usize] {
            self.counts.outlet_respelled += 1;
        }
        if self.narrow {
            let nibbles = plain.unwrap_or_else(|| digits_to_nibbles(pack_id(key)));
            let part = partition_narrow(nibbles);
            match compact_record(nibbles, local, date, offset) {
                Some(r) => self.compact.put(part, &r),
                None => self
                    .spill
                    .put(part, &narrow_record(nibbles, local, date, offset)),
            }
        } else {
            let id = pack_id(key);
            self.spill
                .put(partition(id), &wide_record(id, local, date, offset));
        }
    }

    /// Writes out what is buffered; hands over the spill files and the id fingerprints.
    fn finish(&mut self) -> Result<WorkerFiles> {
        Ok(WorkerFiles {
            spill: (self.spill.finish()?, self.compact.finish()?),
            ids: self.ids.finish()?,
        })
    }

    fn wrong_width(&mut self, line: u64, got: usize, want: usize) {
        self.width_total += 1;
        if self.width_errors.len() < Problems::CAP {
            self.width_errors.push((
                line,
                format!(
                    "{}:{line}: {got} fields, but the header has {want} columns",
                    self.name
                ),
            ));
        }
    }
}

/// An 11-digit mobile number starting with 1, nothing else: its digits are itself.
#[cfg(test)]
fn is_plain_mobile(b: &[u8]) -> bool {
    plain_mobile_nibbles(b).is_some()
}

/// For an 11-digit mobile number starting with 1 and nothing else (whose digits are
/// itself), its digits as nibbles, as [`digits_to_nibbles`] gives them; else `None`. From
/// two word loads, without the 128-bit packing.
#[inline(always)]
fn plain_mobile_nibbles(b: &[u8]) -> Option<u64> {
    if b.len() != 11 || b[0] != b'1' {
        return None;
    }
    // Bytes 0..8 and 3..11 as words: a byte is a digit when it is 0x30..=0x39, i.e. its
    // high nibble is 3 and adding 6 does not carry into it.
    let digits = |w: u64| {
        let hi_ok = (w & 0xF0F0_F0F0_F0F0_F0F0) == 0x3030_3030_3030_3030;
        let lo_ok =
            ((w & 0x0F0F_0F0F_0F0F_0F0F) + 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0;
        hi_ok & lo_ok
    };
    let w = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8 bytes"));
    let (lo, hi) = (w(&b[..8]), w(&b[3..]));
    if !(digits(lo) & digits(hi)) {
        return None;
    }
    // Byte j's low nibble to nibble j, for the 8 bytes of a word.
    let pack = |w: u64| {
        let mut x = w & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
        (x | (x >> 16)) & 0xFFFF_FFFF
    };
    // Digits 0..8 from the first word, 8..11 from nibbles 5..8 of the second (bytes 3..11).
    Some(pack(lo) | ((pack(hi) >> 20) << 32) | (11u64 << 60))
}

/// A worker's outlet dictionary: outlet id → local index. Ids of up to 15 bytes (all real
/// ones) are packed into an integer and found in an open-addressing table with one multiply
/// and usually one probe; longer ids, and the ids met after the first 65,535, go to a hash
/// map.
///
/// The table holds only the index, in 2 bytes a slot, and the packed ids sit densely by
/// index: for 5,000 outlets the table is 32 KiB and stays in the core's first-level cache,
/// where every row reads it, while the packed ids it is checked against (80 KiB) only feed a
/// well-predicted branch. With 4-byte slots (64 KiB), a draw took 4-6 % more CPU time.
#[derive(Default)]
struct OutletIndex {
    /// Local index + 1; 0 marks a free slot.
    slots: Vec<u16>,
    /// The packed id of each local index held in `slots`.
    keys: Vec<u128>,
    /// How many ids `slots` holds.
    used: usize,
    /// Ids longer than 15 bytes, and every id once `slots` holds `u16::MAX - 1`.
    long: HashMap<String, u32>,
}

impl OutletIndex {
    #[inline]
    fn slot(&self, key: u128) -> usize {
        (id_hash(key) >> 32) as usize & (self.slots.len() - 1)
    }

    #[inline(always)]
    fn get(&self, id: &str) -> Option<u32> {
        if id.len() > 15 || self.slots.is_empty() {
            return self.long.get(id).copied();
        }
        let key = pack_id(id.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let v = self.slots[i];
            if v == 0 {
                break;
            }
            if self.keys[v as usize - 1] == key {
                return Some(v as u32 - 1);
            }
            i = (i + 1) & mask;
        }
        if self.keys.len() <= Self::MAX {
            None
        } else {
            self.long.get(id).copied()
        }
    }

    /// Local indexes from this one on are not in the table.
    const MAX: usize = u16::MAX as usize - 1;

    /// Adds `id` (not yet held) as the next local index (`local` must be the number of ids
    /// added so far).
    fn insert(&mut self, id: &str, local: u32) {
        debug_assert_eq!(local as usize, self.keys.len());
        if id.len() > 15 || local as usize >= Self::MAX {
            self.long.insert(id.to_string(), local);
            self.keys.push(0);
            return;
        }
        let key = pack_id(id.as_bytes());
        self.keys.push(key);
        self.used += 1;
        if self.used * 2 > self.slots.len() {
            let size = (self.slots.len() * 2).max(1024);
            self.slots = vec![0; size];
            for k in 0..self.keys.len().min(Self::MAX) {
                if self.keys[k] != 0 {
                    self.put(self.keys[k], k as u16 + 1);
                }
            }
        } else {
            self.put(key, local as u16 + 1);
        }
    }

    fn put(&mut self, key: u128, v: u16) {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = v;
    }
}

/// Trims Unicode white space, skipping the work when both ends are plainly not space (an
/// ASCII non-space byte, or a CJK character, whose lead byte is 0xE4 or above).
#[inline]
fn fast_trim(s: &str) -> &str {
    let b = s.as_bytes();
    let n = b.len();
    if n == 0 {
        return s;
    }
    // Bitwise `&` and `|`, not `&&` and `||`: one well-predicted branch per field instead of
    // several that depend on the text. Control bytes below 0x20 take the careful path.
    let (first, last, third_last) = (b[0], b[n - 1], b[n.saturating_sub(3)]);
    let start_ok = ((first > b' ') & (first < 0x80)) | (first >= 0xE4);
    let end_ok = ((last > b' ') & (last < 0x80)) | ((n >= 3) & (third_last >= 0xE4));
    if start_ok & end_ok { s } else { s.trim() }
}

/// The size of one spilled record with any person key.
pub const RECORD_WIDE: usize = 32;
/// The size of one spilled record when person keys are phone digits (7 to 15 of them).
pub const RECORD_NARROW: usize = 24;

/// One spilled record: the person (the 16-byte prn-v1 id, or for phone keys its digits as
/// 16 nibbles, [`narrow_record`]), the byte offset or row index, the date (days since
/// 1970-01-01) and the worker's outlet index, little-endian. Fixed size, so reading back is
/// a copy, and each size a constant, so writing is a few moves.
#[inline]
fn wide_record(id: u128, outlet: u32, date: i32, offset: u64) -> [u8; RECORD_WIDE] {
    let mut r = [0u8; RECORD_WIDE];
    r[..16].copy_from_slice(&id.to_le_bytes());
    record_tail(&mut r[16..], outlet, date, offset);
    r
}

/// The size of a compact record ([`compact_record`]).
pub const RECORD_COMPACT: usize = 16;
/// Bits of a compact record's digits (11 nibbles).
const COMPACT_DIGITS: u32 = 44;
/// Added to a date (days since 1970-01-01) to store it in 20 bits: years 535 to 3405.
pub const COMPACT_DATE_BIAS: i32 = 1 << 19;

/// The usual phone key, 11 digits, in 16 bytes instead of [`narrow_record`]'s 24 (a third
/// less to write to the spill and read back): two little-endian words, the first the 11
/// digit nibbles and the date plus [`COMPACT_DATE_BIAS`] in its top 20 bits, the second the
/// byte offset (below 2⁴⁰, a terabyte) and the outlet index in its top 24 bits. `None` when
/// the record does not fit (other lengths, far dates, huge files); it is then spilled
/// narrow. [`decode_compact`] is the inverse.
#[inline]
fn compact_record(
    nibbles: u64,
    outlet: u32,
    date: i32,
    offset: u64,
) -> Option<[u8; RECORD_COMPACT]> {
    let biased = date.checked_add(COMPACT_DATE_BIAS)? as u32;
    if nibbles >> 60 != 11 || biased >> 20 != 0 || outlet >> 24 != 0 || offset >> 40 != 0 {
        return None;
    }
    let digits = nibbles & ((1 << COMPACT_DIGITS) - 1);
    let w0 = digits | (biased as u64) << COMPACT_DIGITS;
    let w1 = offset | (outlet as u64) << 40;
    let mut r = [0u8; RECORD_COMPACT];
    r[..8].copy_from_slice(&w0.to_le_bytes());
    r[8..].copy_from_slice(&w1.to_le_bytes());
    Some(r)
}

/// The (nibbles, outlet, date, offset) of a compact record's two words (native order).
#[inline]
pub fn decode_compact(w0: u64, w1: u64) -> (u64, u32, i32, u64) {
    let nibbles = (w0 & ((1 << COMPACT_DIGITS) - 1)) | (11 << 60);
    let date = (w0 >> COMPACT_DIGITS) as i32 - COMPACT_DATE_BIAS;
    (nibbles, (w1 >> 40) as u32, date, w1 & ((1 << 40) - 1))
}

/// [`wide_record`] for a phone key: its digits as nibbles ([`digits_to_nibbles`]) in 8 bytes.
#[inline]
fn narrow_record(nibbles: u64, outlet: u32, date: i32, offset: u64) -> [u8; RECORD_NARROW] {
    let mut r = [0u8; RECORD_NARROW];
    r[..8].copy_from_slice(&nibbles.to_le_bytes());
    record_tail(&mut r[8..], outlet, date, offset);
    r
}

#[inline]
fn record_tail(r: &mut [u8], outlet: u32, date: i32, offset: u64) {
    r[..8].copy_from_slice(&offset.to_le_bytes());
    r[8..12].copy_from_slice(&date.to_le_bytes());
    r[12..16].copy_from_slice(&outlet.to_le_bytes());
}

/// Appends one record to `buf`, as a worker's spill does.
#[cfg(test)]
pub(super) fn put_record(
    buf: &mut Vec<u8>,
    narrow: bool,
    id: u128,
    outlet: u32,
    date: i32,
    offset: u64,
) {
    if narrow {
        buf.extend_from_slice(&narrow_record(digits_to_nibbles(id), outlet, date, offset));
    } else {
        buf.extend_from_slice(&wide_record(id, outlet, date, offset));
    }
}

/// Packs a prn-v1 id of at most 15 ASCII digits (as [`pack_id`] gives it) into 16 nibbles:
/// the digits' values, then the length in the top nibble. Bit shuffles, no loop.
#[inline]
pub fn digits_to_nibbles(id: u128) -> u64 {
    let len = (id >> 120) as u32;
    let zeros = (0x3030_3030_3030_3030_3030_3030_3030_3030u128) & ((1u128 << (8 * len)) - 1);
    let mut z = id - zeros;
    z = (z | (z >> 4)) & 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
    z = (z | (z >> 8)) & 0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF;
    z = (z | (z >> 16)) & 0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF;
    z = z | (z >> 32);
    z as u64
}

/// The inverse of [`digits_to_nibbles`].
#[inline]
pub fn nibbles_to_id(x: u64) -> u128 {
    let mut y = x as u128;
    y = (y | (y << 32)) & 0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF;
    y = (y | (y << 16)) & 0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF;
    y = (y | (y << 8)) & 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
    y = (y | (y << 4)) & 0x0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F;
    let len = (x >> 60) as u32;
    y + (0x3030_3030_3030_3030_3030_3030_3030_3030u128 & ((1u128 << (8 * len)) - 1))
}

/// A 64-bit mix of a packed id; its top bits choose the partition, the next ones the
/// bucket inside it (pass 2).
#[inline]
pub fn id_hash(id: u128) -> u64 {
    let a = id as u64;
    let b = (id >> 64) as u64;
    (a ^ b.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A 64-bit mix of a phone key's nibbles ([`digits_to_nibbles`]): its top bits choose the
/// partition, the next ones the bucket inside it (pass 2).
#[inline]
pub fn mix_narrow(nibbles: u64) -> u64 {
    nibbles.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The partition of a person whose key is phone digits, from its nibbles; the spill of such
/// keys uses only this one.
#[inline]
fn partition_narrow(nibbles: u64) -> usize {
    (mix_narrow(nibbles) >> 58) as usize % PARTS
}

/// The partition of a person.
#[inline]
pub fn partition(id: u128) -> usize {
    (id_hash(id) >> 58) as usize % PARTS
}

/// Finds the end of the first record (quote-aware); returns the index after its newline.
fn first_record_end(data: &[u8]) -> Option<usize> {
    let mut in_q = false;
    for (i, &b) in data.iter().enumerate() {
        if b == b'"' {
            in_q = !in_q;
        } else if b == b'\n' && !in_q {
            return Some(i + 1);
        }
    }
    None
}

/// Streams the UTF-8 CSV at `path`; `origin` is the file the user named (itself, or the
/// file `path` was transcoded from), for messages.
fn stream_csv(
    path: &Path,
    origin: &Path,
    head: Vec<u8>,
    chooser: &dyn ColumnChooser,
    dir: tempfile::TempDir,
    progress: &dyn Fn(u64, u64),
    cfg: StreamConfig,
) -> Result<Streamed> {
    let name = table::display_name(origin);
    let had_bom = head.starts_with(b"\xEF\xBB\xBF");
    let bom = if had_bom { 3 } else { 0 };
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    // The header: the first non-empty line (blank lines before it are counted).
    let mut pos = bom;
    let mut line = 1u64;
    let mut leading_blank = 0u64;
    loop {
        let rest = &head[pos..];
        match memchr::memchr(b'\n', rest) {
            Some(nl) if rest[..nl].iter().all(|b| b.is_ascii_whitespace()) => {
                pos += nl + 1;
                line += 1;
                leading_blank += 1;
            }
            _ => break,
        }
    }
    let Some(hlen) = first_record_end(&head[pos..])
        .or_else(|| ((head.len() as u64) == total && head.len() > pos).then_some(head.len() - pos))
    else {
        if head.len() <= pos {
            return Err(Error::data(format!(
                "{name}: the file is empty (no header row)\nhint: the first line must name the columns"
            )));
        }
        return Err(Error::data(format!(
            "{name}:{line}: the header line is longer than 64 KiB or has an unbalanced quote"
        )));
    };
    let header_bytes = &head[pos..pos + hlen];
    let header_text = std::str::from_utf8(header_bytes)
        .map_err(|_| Error::data(format!("{name}:{line}: the header is not valid UTF-8")))?;
    let delimiter = table::sniff_delimiter(header_text);
    let (hdr_cells, _) = split_record(header_bytes, delimiter);
    let mut header: Vec<String> = table::clean_header(hdr_cells);
    while header.last().is_some_and(|c| c.is_empty()) {
        header.pop();
    }
    if header.len() > limits::MAX_COLUMNS {
        return Err(Error::data(format!(
            "{name}:{line}: a header of {} columns; svcaudit reads at most {}\nhint: export only the columns the audit needs",
            header.len(),
            limits::MAX_COLUMNS
        )));
    }
    let header_table = RawTable {
        path: origin.to_path_buf(),
        format: Format::Csv,
        encoding: "UTF-8".into(),
        had_bom,
        delimiter: Some(delimiter as char),
        sheet: None,
        header: header.clone(),
        rows: Vec::new(),
        blank_rows: 0,
        empty_lines: 0,
        sha256: String::new(),
        adjusted: Default::default(),
    };
    let rules = Arc::new(chooser.choose(&header_table)?);
    let canon_header = canonical_record(&header, b',');
    let header_same = !had_bom && leading_blank == 0 && header_bytes == canon_header.as_slice();
    let data_start = (pos + hlen) as u64;
    let data_line = line + 1;

    let workers = cfg.threads;
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(workers * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (res_tx, res_rx) = sync_channel::<WorkerMsg>(workers * 4);

    // Blocks go back to the reader once used: no fresh pages to fault in for every block.
    let pool: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let ids_unordered = AtomicBool::new(false);
    let mut raw = Sha256::new();
    raw.update(&head[..data_start as usize]);
    let baton = Mutex::new(Baton {
        next: 0,
        busy: false,
        failed: false,
        abandoned: false,
        ready: HashMap::new(),
        digests: Some(Digests {
            raw,
            canon: (!header_same).then(|| {
                let mut h = Sha256::new();
                h.update(&canon_header);
                h
            }),
        }),
    });
    // Signalled when chunks have been hashed (and dropped), for the reader's gate.
    let turn = Condvar::new();
    let mut order = FileOrder::default();
    let mut not_utf8_line = 0;
    let result = std::thread::scope(|s| -> Result<Option<Partial>> {
        let reader = s.spawn({
            let path = path.to_path_buf();
            let pool = &pool;
            let gate = Gate {
                baton: &baton,
                turn: &turn,
                ahead: AHEAD_PER_WORKER * workers,
            };
            move || read_chunks(&path, data_start, data_line, chunk_tx, pool, cfg, gate)
        });
        let mut handles = Vec::new();
        for w in 0..workers {
            let rx = Arc::clone(&chunk_rx);
            let tx = res_tx.clone();
            let rules = Arc::clone(&rules);
            let dir = dir.path().to_path_buf();
            let name = name.clone();
            let ids_unordered = &ids_unordered;
            let baton = &baton;
            let turn = &turn;
            let pool = &pool;
            handles.push(s.spawn(move || {
                let _guard = Abandon { baton, turn };
                let mut wk = Worker::new(w, &dir, &name, &rules);
                let shared = Shared {
                    rx: &rx,
                    tx: &tx,
                    ids_unordered,
                    baton,
                    turn,
                    pool,
                };
                work(&mut wk, &rules, delimiter, &shared);
                // Each worker writes out its own buffers, beside the others.
                let finished = wk.finish();
                (wk, finished)
            }));
        }
        drop(res_tx);
        // Chunk order: the ids' order across chunks, and the progress.
        let mut pending: HashMap<usize, (u64, Box<ChunkIds>)> = HashMap::new();
        let mut next = 0usize;
        let mut not_utf8: Option<u64> = None;
        let mut done_bytes = data_start;
        for msg in res_rx {
            match msg {
                WorkerMsg::NotUtf8 { line } => {
                    not_utf8 = Some(not_utf8.map_or(line, |l: u64| l.min(line)));
                    pending.clear();
                }
                WorkerMsg::Parsed(..) if not_utf8.is_some() => {}
                WorkerMsg::Parsed(i, len, seen) => {
                    pending.insert(i, (len, seen));
                    while let Some((len, seen)) = pending.remove(&next) {
                        if !order.push(*seen) {
                            ids_unordered.store(true, Ordering::Relaxed);
                        }
                        done_bytes += len;
                        next += 1;
                        progress(done_bytes, total);
                    }
                }
            }
        }
        reader
            .join()
            .map_err(|_| Error::data("the reader thread failed"))??;
        let joined: Vec<(Worker, Result<WorkerFiles>)> = handles
            .into_iter()
            .map(|h| h.join().map_err(|_| Error::data("a worker thread failed")))
            .collect::<Result<_>>()?;
        progress(total, total);
        if let Some(l) = not_utf8 {
            not_utf8_line = l;
            return Ok(None);
        }
        let mut problems = Problems::new();
        let mut ws = Vec::with_capacity(joined.len());
        let mut files = Vec::with_capacity(joined.len());
        let mut id_files = Vec::with_capacity(joined.len());
        for (w, finished) in joined {
            let f = finished?;
            ws.push(w);
            files.push(f.spill);
            id_files.push(f.ids);
        }
        // NUL bytes, unclosed quotes and huge cells stop the draw first.
        let mut hostile: Vec<(u64, String)> = ws
            .iter_mut()
            .flat_map(|w| std::mem::take(&mut w.hostile))
            .collect();
        hostile.sort();
        let mut bad = Problems::new();
        for (_, m) in hostile {
            bad.push(m);
        }
        bad.into_result(
            "open the file in Excel and save it as CSV UTF-8; close or double (\"\") stray quotes; svcaudit reads cells of at most 1 MiB",
        )?;
        // Wrong field counts: list them in line order.
        let mut all: Vec<(u64, String)> = Vec::new();
        let mut total = 0usize;
        for w in &mut ws {
            all.append(&mut w.width_errors);
            total += w.width_total;
        }
        all.sort();
        for (_, m) in all.iter().take(Problems::CAP) {
            problems.push(m.clone());
        }
        problems.add_more(total.saturating_sub(all.len().min(Problems::CAP)));
        problems.into_result(
            "every row must have as many fields as the header; quote cells that contain the delimiter",
        )?;
        if let Some(id_col) = rules.cols.id
            && !order.rising()
        {
            let layout = Layout {
                path,
                name: &name,
                delimiter,
                id_col,
                id_header: &header[id_col],
                data_start,
                data_line,
                threads: workers,
            };
            ids::check(&layout, dir.path(), &id_files, &order.uncovered)?;
        }
        let Digests { raw, canon } = {
            let mut b = baton.lock().expect("digests");
            // Every chunk the workers parsed was hashed, in order.
            match b.digests.take() {
                Some(d) if b.next == next && b.ready.is_empty() => d,
                _ => return Err(Error::data("a worker thread failed")),
            }
        };
        let raw_hex = hex(&raw.finalize());
        let canon_hex = match canon {
            None => raw_hex.clone(),
            Some(h) => hex(&h.finalize()),
        };
        let mut counts = RowCounts {
            blank_lines: leading_blank,
            ..Default::default()
        };
        for w in &ws {
            counts.add(&w.counts);
        }
        let mut flags: Vec<Flag> = ws
            .iter_mut()
            .flat_map(|w| std::mem::take(&mut w.flags))
            .collect();
        flags.sort();
        let (outlets, outlet_rows, remap) = merge_outlets(&ws);
        Ok(Some(Partial {
            header: header.clone(),
            had_bom,
            delimiter,
            sha256_bytes: raw_hex,
            sha256_canonical: canon_hex,
            counts,
            flags,
            outlets,
            outlet_rows,
            files,
            remap,
            narrow: rules.narrow(),
        }))
    })?;
    let Some(p) = result else {
        // Not UTF-8 after all: start again with a clean folder and the table reader.
        let parent = dir
            .path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        drop(dir);
        let fresh = tempfile::Builder::new()
            .prefix(".svcaudit-spill-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, "create a temporary folder", &e))?;
        return Ok(Streamed::NotUtf8(fresh, not_utf8_line));
    };
    Ok(Streamed::Done(Box::new(Scan {
        header: p.header,
        format: Format::Csv,
        encoding: "UTF-8".into(),
        had_bom: p.had_bom,
        delimiter: Some(p.delimiter as char),
        sheet: None,
        sha256_bytes: p.sha256_bytes,
        sha256_canonical: p.sha256_canonical,
        counts: p.counts,
        flags: p.flags,
        outlets: p.outlets,
        outlet_rows: p.outlet_rows,
        spill: Spill {
            dir,
            narrow: p.narrow,
            files: p.files,
            remap: p.remap,
            releasing: None,
        },
        source: Source::Csv {
            path: path.to_path_buf(),
            delimiter: p.delimiter,
        },
    })))
}

/// Returns a used block to the reader's pool (a few are kept; the rest are freed).
fn recycle(pool: &Mutex<Vec<Vec<u8>>>, block: Block) {
    let Block::Owned(buf) = block else { return };
    if let Ok(mut p) = pool.lock()
        && p.len() < 8
    {
        p.push(buf);
    }
}

/// The reader thread: blocks of whole records after the header (which starts at
/// `data_start`, on line `data_line`), in file order.
fn read_chunks(
    path: &Path,
    data_start: u64,
    data_line: u64,
    tx: SyncSender<Chunk>,
    pool: &Mutex<Vec<Vec<u8>>>,
    cfg: StreamConfig,
    gate: Gate,
) -> Result<()> {
    let mut f = File::open(path).map_err(|e| Error::io(path, "open the file", &e))?;
    f.seek(SeekFrom::Start(data_start))
        .map_err(|e| Error::io(path, "read the file", &e))?;
    // Tests set small blocks to exercise the splitting; the sample cannot depend on it.
    let block = cfg.block.max(64);
    // Mapping the file saves the kernel's copy of every byte (a third of a second on a
    // 650 MB file). Files that cannot be mapped (pipes, some network shares) are read.
    let meta = f.metadata().ok();
    let total = meta.as_ref().map_or(0, |m| m.len());
    let mut out = ChunkSender {
        tx,
        index: 0,
        offset: data_start,
        line: data_line,
        gate,
    };
    let mapped = cfg.mmap && meta.is_some_and(|m| m.is_file()) && total > data_start;
    if mapped {
        return map_chunks(path, &f, total, block, &mut out);
    }
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    while !eof || !carry.is_empty() {
        out.gate.wait(out.index);
        let mut buf = pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        buf.clear();
        buf.reserve(carry.len() + block);
        buf.append(&mut carry);
        let want = buf.len() + block;
        while !eof && buf.len() < want {
            let n = (&mut f)
                .take((want - buf.len()) as u64)
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(path, "read the file", &e))?;
            if n == 0 {
                eof = true;
            }
        }
        let (cut, lines) = match cut_records(&buf, eof) {
            Some(c) => c,
            None => {
                // One record longer than a block: read on, up to the limit.
                if buf.len() > MAX_RECORD + block {
                    return Err(record_too_long(path, out.line));
                }
                carry = buf;
                continue;
            }
        };
        carry = buf.split_off(cut);
        if buf.is_empty() {
            continue;
        }
        if !out.send(Block::Owned(buf), lines) {
            break;
        }
    }
    Ok(())
}

fn record_too_long(path: &Path, line: u64) -> Error {
    Error::data(format!(
        "{}:{line}: a record longer than {} MiB starts here\nhint: check for an unbalanced quote (\") on this line",
        table::display_name(path),
        MAX_RECORD >> 20
    ))
}

/// Hands whole-record blocks to the workers in file order, each with its index, its first
/// byte offset and its first line number.
struct ChunkSender<'a> {
    tx: SyncSender<Chunk>,
    index: usize,
    offset: u64,
    line: u64,
    gate: Gate<'a>,
}

/// Chunks the reader may have read or mapped ahead of the hashing, per worker: with two
/// workers, 4 chunks of 8 MiB besides the two being parsed. The reader never runs further
/// ahead, so the mapped pages stay bounded when a worker is descheduled (other work on the
/// cores): parsed chunks wait for the hashing in file order, and each holds its mapping.
const AHEAD_PER_WORKER: usize = 3;

/// Holds the reader back while it is `ahead` chunks past the hashing.
struct Gate<'a> {
    baton: &'a Mutex<Baton>,
    turn: &'a Condvar,
    ahead: usize,
}

impl Gate<'_> {
    /// Waits until chunk `index` is fewer than `ahead` chunks past the next one to hash, or
    /// the scan failed or lost a worker (nothing is hashed any more then).
    fn wait(&self, index: usize) {
        let mut b = self.baton.lock().expect("digests");
        while index >= b.next + self.ahead && !b.failed && !b.abandoned {
            b = self.turn.wait(b).expect("digests");
        }
    }
}

/// Marks the hashing abandoned when a worker ends by panicking, so that the reader does not
/// wait for chunks nobody will hash.
struct Abandon<'a> {
    baton: &'a Mutex<Baton>,
    turn: &'a Condvar,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(mut b) = self.baton.lock() {
                b.abandoned = true;
            }
            self.turn.notify_all();
        }
    }
}

/// Where the whole records at the start of `data` end (all of it at the end of the file)
/// and how many newlines they hold, or `None` when no record ends in `data`. `data` starts
/// outside quotes.
///
/// The quotes and newlines are counted in one pass, in cache-sized pieces. The cut is after the last
/// newline when an even number of quotes precedes it (always, in files without quotes);
/// otherwise, rarely, the records are found again by [`last_boundary`].
fn cut_records(data: &[u8], eof: bool) -> Option<(usize, u64)> {
    const PIECE: usize = 64 << 10;
    let end = if eof {
        data.len()
    } else {
        memchr::memrchr(b'\n', data)? + 1
    };
    let (mut quotes, mut lines) = (0usize, 0usize);
    for piece in data[..end].chunks(PIECE) {
        let (q, n) = super::specials::quotes_and_newlines(piece);
        quotes += q;
        lines += n;
    }
    if eof || quotes % 2 == 0 {
        return Some((end, lines as u64));
    }
    let cut = last_boundary(&data[..end])?;
    let lines = memchr::memchr_iter(b'\n', &data[..cut]).count() as u64;
    Some((cut, lines))
}

impl ChunkSender<'_> {
    /// Sends one block of whole records, cut by [`cut_records`] (`lines` is its number of
    /// newlines); false when the workers have gone.
    fn send(&mut self, data: Block, lines: u64) -> bool {
        let len = data.len() as u64;
        let chunk = Chunk {
            index: self.index,
            offset: self.offset,
            line: self.line,
            data,
        };
        if self.tx.send(chunk).is_err() {
            return false;
        }
        self.index += 1;
        self.offset += len;
        self.line += lines;
        true
    }
}

/// The reader thread over a mapped file: each chunk is its own mapping of `block` bytes or
/// more (to the last record boundary).
///
/// A file truncated by another program while it is mapped makes the process die with
/// SIGBUS; files that applicants send are not being written while they are drawn from.
fn map_chunks(
    path: &Path,
    f: &File,
    total: u64,
    block: usize,
    out: &mut ChunkSender,
) -> Result<()> {
    // Mappings start at multiples of 64 KiB, a multiple of every page size in use.
    const ALIGN: u64 = 1 << 16;
    let mut want = block as u64;
    while out.offset < total {
        out.gate.wait(out.index);
        let start = out.offset;
        let base = start & !(ALIGN - 1);
        let end = (start + want).min(total);
        // SAFETY: a read-only private mapping of a regular file; see the SIGBUS note above.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(base)
                .len((end - base) as usize)
                .populate()
                .map(f)
        }
        .map_err(|e| Error::io(path, "map the file into memory", &e))?;
        let skip = (start - base) as usize;
        let (cut, lines) = match cut_records(&map[skip..], end == total) {
            Some(c) => c,
            None => {
                // One record longer than a block: map more, up to the limit.
                if want as usize > MAX_RECORD {
                    return Err(record_too_long(path, out.line));
                }
                want *= 2;
                continue;
            }
        };
        want = block as u64;
        let block = Block::Mapped {
            map,
            skip,
            len: cut,
        };
        if !out.send(block, lines) {
            break;
        }
    }
    Ok(())
}

/// The two digests of the file, taken in chunk order by the workers themselves: after
/// parsing a chunk, a worker leaves it here, and if no other worker is hashing, it hashes
/// every chunk that is next in order. Hashing is the one step that cannot be shared between
/// cores; this way it never waits for a third thread, nor makes the workers wait.
struct Baton {
    /// The index of the next chunk to hash.
    next: usize,
    /// Whether a worker is hashing (it has taken `digests` out).
    busy: bool,
    /// A chunk was not UTF-8: the scan starts again, nothing more is kept.
    failed: bool,
    /// A worker ended without finishing (it panicked): the reader must not wait for it.
    abandoned: bool,
    ready: HashMap<usize, Parsed>,
    digests: Option<Digests>,
}

/// The digest of the bytes as they are and, once a chunk was not canonical, of the
/// canonical records (while everything so far is canonical, the raw state stands for it).
struct Digests {
    raw: Sha256,
    canon: Option<Sha256>,
}

impl Digests {
    fn add(&mut self, c: &Parsed) {
        match &c.canon {
            None => {
                if let Some(h) = &mut self.canon {
                    h.update(&c.data[..]);
                }
            }
            Some(b) => {
                let raw = &self.raw;
                self.canon.get_or_insert_with(|| raw.clone()).update(b);
            }
        }
        self.raw.update(&c.data[..]);
    }
}

/// Leaves chunk `index` for hashing, and hashes what is next in order unless another
/// worker already does.
fn hash_in_order(
    baton: &Mutex<Baton>,
    turn: &Condvar,
    index: usize,
    c: Parsed,
    pool: &Mutex<Vec<Vec<u8>>>,
) {
    let mut b = baton.lock().expect("digests");
    if b.failed {
        return;
    }
    b.ready.insert(index, c);
    if b.busy {
        return;
    }
    b.busy = true;
    let mut d = b
        .digests
        .take()
        .expect("digests are here when no one hashes");
    loop {
        let next = b.next;
        let Some(c) = b.ready.remove(&next) else {
            break;
        };
        drop(b);
        d.add(&c);
        recycle(pool, c.data);
        b = baton.lock().expect("digests");
        b.next += 1;
        // The chunk's bytes are gone: the reader may take the next one.
        turn.notify_all();
    }
    b.digests = Some(d);
    b.busy = false;
}

/// What the workers share: the chunk queue, the channel to the main thread, the id order
/// flag, the digests and the reader's pool of blocks.
struct Shared<'a> {
    rx: &'a Mutex<Receiver<Chunk>>,
    tx: &'a SyncSender<WorkerMsg>,
    ids_unordered: &'a AtomicBool,
    baton: &'a Mutex<Baton>,
    turn: &'a Condvar,
    pool: &'a Mutex<Vec<Vec<u8>>>,
}

fn work(wk: &mut Worker, rules: &Rules, delimiter: u8, sh: &Shared) {
    let Shared {
        rx,
        tx,
        ids_unordered,
        baton,
        turn,
        pool,
    } = *sh;
    loop {
        let next = rx.lock().expect("chunk queue").recv();
        let Ok(chunk) = next else { break };
        // Fingerprints are written only once the ids are known not to rise through the file.
        wk.ids.begin(
            chunk.offset,
            chunk.data.len() as u64,
            chunk.line,
            ids_unordered.load(Ordering::Relaxed),
        );
        let Ok(canon) = parse_chunk(wk, rules, delimiter, &chunk) else {
            // The scan starts again from a transcoded copy; what this chunk did is dropped.
            let e = std::str::from_utf8(&chunk.data).expect_err("invalid UTF-8");
            let upto = &chunk.data[..e.valid_up_to()];
            let line = chunk.line + memchr::memchr_iter(b'\n', upto).count() as u64;
            let _ = tx.send(WorkerMsg::NotUtf8 { line });
            let mut b = baton.lock().expect("digests");
            b.failed = true;
            b.ready.clear();
            drop(b);
            turn.notify_all();
            continue;
        };
        let seen = wk.ids.end();
        if !wk.ids.rising() {
            ids_unordered.store(true, Ordering::Relaxed);
        }
        let len = chunk.data.len() as u64;
        let parsed = Parsed {
            data: chunk.data,
            canon,
        };
        hash_in_order(baton, turn, chunk.index, parsed, pool);
        if tx
            .send(WorkerMsg::Parsed(chunk.index, len, Box::new(seen)))
            .is_err()
        {
            break;
        }
    }
}

/// The chunk is not UTF-8.
struct NotUtf8;

/// Parses the records of a chunk. Returns `None` when the chunk is canonical as it is,
/// otherwise its canonical bytes.
fn parse_chunk(
    wk: &mut Worker,
    rules: &Rules,
    delimiter: u8,
    chunk: &Chunk,
) -> std::result::Result<Option<Vec<u8>>, NotUtf8> {
    let data = &chunk.data[..];
    let mut pos = 0usize;
    let mut line = chunk.line;
    let mut canon: Option<Vec<u8>> = None;
    let mut cells: Vec<&str> = Vec::with_capacity(rules.width);
    let mut delims: Vec<usize> = Vec::with_capacity(rules.width);
    let mut sc = Specials::validating(data, delimiter, std::mem::take(&mut wk.masks));
    // SAFETY (for every `from_utf8_unchecked` below): the scanner has checked that every
    // byte before the last position it gave (or the whole chunk, once it gives none) is
    // UTF-8, and stopped otherwise (checked right after it is asked), and every cut is at an
    // ASCII byte (newline, carriage return, delimiter), so each field is UTF-8 too.
    let cell = |from: usize, to: usize| unsafe { std::str::from_utf8_unchecked(&data[from..to]) };
    while pos < data.len() {
        let start = pos;
        // The delimiters up to the newline (or a quote), then cells between them; the last
        // cell is added at the newline.
        delims.clear();
        let ender = sc.fields(&mut delims);
        if sc.invalid() {
            wk.masks = sc.into_buffer();
            return Err(NotUtf8);
        }
        let (nl, has_quote) = match ender {
            Some(i) if data[i] == b'"' => (None, true),
            e => (e, false),
        };
        // No byte of the record can start or end white space: its cells need no trimming.
        let dirty = sc.take_dirty();
        // The usual record: one line of exactly `width` cells, comma-separated, with no
        // quote and no byte that could need trimming (white space, control bytes such as
        // CR or NUL). It is canonical as written and not blank, and the general path below
        // would only cut its cells: they are cut where `row` reads them.
        if let Some(end) = nl
            && delimiter == b','
            && delims.len() + 1 == rules.width
            && end > start
            && end - start < MAX_FIELD
            && !dirty
        {
            if let Some(c) = canon.as_mut() {
                c.extend_from_slice(&data[start..=end]);
            }
            let split = Split {
                data,
                start,
                end,
                delims: &delims,
            };
            wk.row(rules, line, chunk.offset + start as u64, &split);
            pos = end + 1;
            line += 1;
            continue;
        }
        cells.clear();
        let mut from = start;
        if !has_quote {
            for &i in &delims {
                cells.push(cell(from, i));
                from = i + 1;
            }
        }
        let (rec_end, lines_used);
        if !has_quote {
            let line_end = nl.unwrap_or(data.len());
            let mut text = &data[pos..line_end];
            let cr = text.last() == Some(&b'\r');
            if cr {
                text = &text[..text.len() - 1];
            }
            rec_end = nl.map_or(data.len(), |n| n + 1);
            lines_used = 1;
            if text.iter().all(|b| b.is_ascii_whitespace()) {
                wk.counts.blank_lines += 1;
                start_canon(&mut canon, data, start);
                pos = rec_end;
                line += lines_used;
                continue;
            }
            cells.push(cell(from, start + text.len()));
            let mut trimmed = false;
            if dirty {
                // A NUL byte is dirty, so only these records can hold one.
                nul_byte(wk, line, &data[start..rec_end]);
                for c in cells.iter_mut() {
                    let t = fast_trim(c);
                    trimmed |= t.len() != c.len();
                    *c = t;
                }
            }
            let canonical_row = delimiter == b',' && !cr && !trimmed;
            if !canonical_row {
                start_canon(&mut canon, data, start);
            }
            if canonical_row {
                if let Some(c) = canon.as_mut() {
                    c.extend_from_slice(&data[start..rec_end]);
                    if nl.is_none() {
                        c.push(b'\n');
                    }
                }
            } else if let Some(c) = canon.as_mut() {
                write_canonical(c, &cells, b',');
            }
            if rec_end - start > MAX_FIELD {
                long_cell(wk, line, &cells);
            }
            check_row(wk, rules, line, chunk.offset + start as u64, &mut cells);
        } else {
            // Quoted fields, possibly over several lines.
            let (vals, used) = split_record(&data[pos..], delimiter);
            rec_end = pos + used;
            // Chunks end outside quotes, so only the file's last record can leave one open.
            if rec_end == data.len()
                && let Some(at) = limits::unclosed_quote(&data[pos..], delimiter, true)
            {
                let l = line + memchr::memchr_iter(b'\n', &data[pos..pos + at]).count() as u64;
                wk.hostile.push((
                    l,
                    format!(
                        "{}:{l}: a quote (\") opens a cell here and is never closed, so every row after it would be read as part of that cell",
                        wk.name
                    ),
                ));
            }
            if rec_end - start > MAX_FIELD {
                let cells: Vec<&str> = vals.iter().map(String::as_str).collect();
                long_cell(wk, line, &cells);
            }
            nul_byte(wk, line, &data[start..rec_end]);
            sc.seek(rec_end);
            if sc.invalid() {
                wk.masks = sc.into_buffer();
                return Err(NotUtf8);
            }
            lines_used = memchr::memchr_iter(b'\n', &data[pos..rec_end])
                .count()
                .max(1) as u64;
            let mut local: Vec<&str> = vals.iter().map(String::as_str).collect();
            if local.iter().all(|c| c.is_empty()) {
                wk.counts.blank_lines += 1;
                start_canon(&mut canon, data, start);
                pos = rec_end;
                line += lines_used;
                continue;
            }
            let expected = canonical_record(&vals, b',');
            let raw = &data[start..rec_end];
            if delimiter != b',' || raw != expected.as_slice() {
                start_canon(&mut canon, data, start);
            }
            if let Some(c) = canon.as_mut() {
                c.extend_from_slice(&expected);
            }
            check_row(wk, rules, line, chunk.offset + start as u64, &mut local);
        }
        pos = rec_end;
        line += lines_used;
    }
    wk.masks = sc.into_buffer();
    Ok(canon)
}

/// Notes a NUL byte in the record `rec` that starts on `line`.
fn nul_byte(wk: &mut Worker, line: u64, rec: &[u8]) {
    if let Some(at) = memchr::memchr(0, rec) {
        let l = line + memchr::memchr_iter(b'\n', &rec[..at]).count() as u64;
        wk.hostile.push((
            l,
            format!(
                "{}:{l}: a NUL byte: this is binary data, or text in another encoding (UTF-16?)",
                wk.name
            ),
        ));
    }
}

/// Notes a cell longer than [`MAX_FIELD`] in the record on `line`.
fn long_cell(wk: &mut Worker, line: u64, cells: &[&str]) {
    if let Some(i) = cells.iter().position(|c| c.len() > MAX_FIELD) {
        wk.hostile.push((
            line,
            format!(
                "{}:{line}:{}: a cell of {} bytes; svcaudit reads cells of at most 1 MiB",
                wk.name,
                i + 1,
                cells[i].len()
            ),
        ));
    }
}

/// Checks the field count (extra empty trailing cells, as Excel writes them, are dropped)
/// and classifies the row.
fn check_row(wk: &mut Worker, rules: &Rules, line: u64, offset: u64, cells: &mut Vec<&str>) {
    while cells.len() > rules.width && cells.last().is_some_and(|c| c.is_empty()) {
        cells.pop();
    }
    if cells.len() != rules.width {
        wk.wrong_width(line, cells.len(), rules.width);
    } else {
        wk.row(rules, line, offset, cells.as_slice());
    }
}

/// Switches a chunk to explicit canonical bytes: copies the canonical rows before `upto`.
fn start_canon(canon: &mut Option<Vec<u8>>, data: &[u8], upto: usize) {
    if canon.is_none() {
        let mut v = Vec::with_capacity(data.len());
        v.extend_from_slice(&data[..upto]);
        *canon = Some(v);
    }
}

/// Whether `data` holds a whole record from its start (a newline outside quotes).
pub fn record_complete(data: &[u8]) -> bool {
    first_record_end(data).is_some()
}

/// A record in canonical form: comma-separated, quoted only where needed, LF-terminated.
pub fn canonical_record<S: AsRef<str>>(cells: &[S], delimiter: u8) -> Vec<u8> {
    let mut v = Vec::new();
    write_canonical(&mut v, cells, delimiter);
    v
}

fn write_canonical<S: AsRef<str>>(v: &mut Vec<u8>, cells: &[S], delimiter: u8) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            v.push(delimiter);
        }
        let c = c.as_ref().as_bytes();
        if c.iter()
            .any(|&b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r')
        {
            v.push(b'"');
            for &b in c {
                if b == b'"' {
                    v.push(b'"');
                }
                v.push(b);
            }
            v.push(b'"');
        } else {
            v.extend_from_slice(c);
        }
    }
    v.push(b'\n');
}

/// The global outlet index: every worker's outlets, sorted bytewise.
fn merge_outlets(ws: &[Worker]) -> (Vec<String>, Vec<u64>, Vec<Vec<u32>>) {
    // Only outlets with eligible records enter the global index; the workers' dictionaries
    // also hold outlets met only in excluded or flagged rows.
    let mut eligible: HashMap<&str, u64> = HashMap::new();
    for w in ws {
        for (n, r) in w.outlet_names.iter().zip(&w.outlet_rows) {
            *eligible.entry(n.as_str()).or_default() += r;
        }
    }
    let mut all: Vec<String> = eligible
        .iter()
        .filter(|(_, r)| **r > 0)
        .map(|(n, _)| n.to_string())
        .collect();
    all.sort();
    let index: HashMap<&str, u32> = all
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let mut rows = vec![0u64; all.len()];
    let remap = ws
        .iter()
        .map(|w| {
            w.outlet_names
                .iter()
                .zip(&w.outlet_rows)
                .map(|(n, r)| match index.get(n.as_str()) {
                    Some(&g) => {
                        rows[g as usize] += r;
                        g
                    }
                    None => u32::MAX,
                })
                .collect()
        })
        .collect();
    (all, rows, remap)
}

/// Pass 1 over a table read whole (xlsx, UTF-16, GBK/GB18030).
fn scan_table(
    path: &Path,
    read: &ReadOptions,
    chooser: &dyn ColumnChooser,
    dir: tempfile::TempDir,
    cfg: StreamConfig,
) -> Result<Scan> {
    let t = crate::io::read::read_table(path, read)?;
    let mut rules = chooser.choose(&t)?;
    rules.excel_serial = t.format == Format::Xlsx;
    let name = t.name();
    if let Some(id_col) = rules.cols.id {
        let layout = Layout {
            path,
            name: &name,
            delimiter: b',',
            id_col,
            id_header: &t.header[id_col],
            data_start: 0,
            data_line: 0,
            threads: cfg.threads,
        };
        ids::check_rows(
            &layout,
            t.rows
                .iter()
                .map(|r| (r.line, r.cells.get(id_col).map_or("", String::as_str))),
        )?;
    }
    let mut wk = Worker::new(0, dir.path(), &t.name(), &rules);
    for (i, r) in t.rows.iter().enumerate() {
        let cells: Vec<&str> = r.cells.iter().map(String::as_str).collect();
        wk.row(&rules, r.line, i as u64, cells.as_slice());
    }
    wk.counts.blank_lines += t.blank_rows + t.empty_lines;
    // Table ids were checked above, from the rows.
    let files = wk.finish()?;
    let canonical = {
        let mut h = Sha256::new();
        h.update(canonical_record(&t.header, b','));
        for r in &t.rows {
            h.update(canonical_record(&r.cells, b','));
        }
        hex(&h.finalize())
    };
    let mut flags = std::mem::take(&mut wk.flags);
    flags.sort();
    let ws = [wk];
    let (outlets, outlet_rows, remap) = merge_outlets(&ws);
    let [wk] = ws;
    Ok(Scan {
        header: t.header.clone(),
        format: t.format,
        encoding: t.encoding.clone(),
        had_bom: t.had_bom,
        delimiter: t.delimiter,
        sheet: t.sheet.clone(),
        sha256_bytes: t.sha256.clone(),
        sha256_canonical: canonical,
        counts: wk.counts.clone(),
        flags,
        outlets,
        outlet_rows,
        spill: Spill {
            dir,
            narrow: rules.narrow(),
            files: vec![files.spill],
            remap,
            releasing: None,
        },
        source: Source::Table(Box::new(t)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_id_is_the_prn_v1_encoding() {
        let src = b"13800138000-abcdefghijklmnopqrstuvwxyz";
        for n in 0..=src.len() {
            let b = &src[..n];
            assert_eq!(
                pack_id(b),
                u128::from_le_bytes(crate::prn::encode_id(b)),
                "length {n}"
            );
        }
    }

    #[test]
    fn plain_mobiles_are_their_own_digits() {
        for p in ["13812345678", "19900000000"] {
            assert!(is_plain_mobile(p.as_bytes()));
            let (buf, from, to) = phone_digits_buf(p).expect("valid");
            assert_eq!(&buf[from..to], p.as_bytes());
        }
        for p in [
            "1381234567",
            "138123456789",
            "23812345678",
            "1381234567x",
            "138 1234567",
        ] {
            assert!(!is_plain_mobile(p.as_bytes()), "{p}");
        }
        // Every byte value at every position agrees with the plain definition.
        for pos in 1..11 {
            for v in 0..=255u8 {
                let mut p = *b"13812345678";
                p[pos] = v;
                assert_eq!(is_plain_mobile(&p), v.is_ascii_digit(), "{pos} {v}");
            }
        }
        // Their nibbles are those of the general packing, for random numbers.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = format!("1{:010}", x % 10_000_000_000);
            assert_eq!(
                plain_mobile_nibbles(p.as_bytes()),
                Some(digits_to_nibbles(pack_id(p.as_bytes()))),
                "{p}"
            );
        }
    }

    #[test]
    fn remembered_dates_are_parsed_dates() {
        // More distinct cells than the table keeps, in two rounds: growth, hits and cells
        // parsed because the table is full all happen.
        let mut m = DateMemo::new(false);
        let cells: Vec<String> = (0..20000)
            .map(|i| match i % 4 {
                0 => format!("{}-{:02}-{:02}", 2000 + i / 400, i % 13, i % 32),
                1 => format!("{}/{}/{}", 2000 + i / 400, 1 + i % 12, 1 + i % 28),
                2 => format!(" {}年{}月{}日", 2000 + i / 400, 1 + i % 12, 1 + i % 28),
                _ => format!("{}", 40000 + i),
            })
            .collect();
        for _ in 0..2 {
            for c in &cells {
                assert_eq!(m.parse(c), parse_date(c, false), "{c}");
            }
        }
        // Over 11,000 distinct cells of up to 15 bytes: the table grew to its limit, full.
        assert_eq!(m.keys.len(), DateMemo::MAX_SLOTS);
        assert_eq!(m.used, DateMemo::MAX_SLOTS / 2);
        let mut x = DateMemo::new(true);
        assert_eq!(x.parse("45717"), parse_date("45717", true));
        assert_eq!(x.parse(""), None);
    }

    #[test]
    fn outlet_index_finds_what_it_holds() {
        let mut ix = OutletIndex::default();
        // Past the 65,534 ids the table holds, the rest go to the map.
        let ids: Vec<String> = (0..3000)
            .map(|i| format!("WD{i:05}"))
            .chain(["an-outlet-id-longer-than-15".to_string()])
            .chain((3000..70_000).map(|i| format!("WD{i:05}")))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(ix.get(id), None);
            ix.insert(id, i as u32);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(ix.get(id), Some(i as u32), "{id}");
        }
        assert_eq!(ix.get("WD99999"), None);
        assert_eq!(ix.get(""), None);
    }

    #[test]
    fn compact_records_round_trip_or_refuse() {
        let nib = |p: &str| digits_to_nibbles(pack_id(p.as_bytes()));
        let word = |r: &[u8], at: usize| u64::from_le_bytes(r[at..at + 8].try_into().unwrap());
        let edge_dates = [
            -COMPACT_DATE_BIAS,
            -COMPACT_DATE_BIAS + 1,
            0,
            20_000,
            COMPACT_DATE_BIAS - 1,
        ];
        for phone in ["13912345678", "00000000000", "99999999999"] {
            for &date in &edge_dates {
                for (outlet, offset) in [(0, 0), ((1 << 24) - 1, (1 << 40) - 1), (4999, 123_456)] {
                    let r = compact_record(nib(phone), outlet, date, offset).expect("fits");
                    assert_eq!(
                        decode_compact(word(&r, 0), word(&r, 8)),
                        (nib(phone), outlet, date, offset),
                        "{phone} {date} {outlet} {offset}"
                    );
                }
            }
        }
        // What does not fit is refused (and spilled narrow).
        let p = nib("13912345678");
        assert!(compact_record(nib("1391234567"), 1, 0, 0).is_none());
        assert!(compact_record(nib("861391234567"), 1, 0, 0).is_none());
        assert!(compact_record(p, 1 << 24, 0, 0).is_none());
        assert!(compact_record(p, 1, 0, 1 << 40).is_none());
        assert!(compact_record(p, 1, COMPACT_DATE_BIAS, 0).is_none());
        assert!(compact_record(p, 1, -COMPACT_DATE_BIAS - 1, 0).is_none());
        assert!(compact_record(p, 1, i32::MAX, 0).is_none());
        assert!(compact_record(p, 1, i32::MIN, 0).is_none());
    }

    #[test]
    fn digit_ids_round_trip_through_nibbles() {
        let digits = b"098765432101234";
        for n in 0..=15 {
            for rot in 0..10 {
                let d: Vec<u8> = digits[..n]
                    .iter()
                    .map(|c| b'0' + (c - b'0' + rot) % 10)
                    .collect();
                let id = pack_id(&d);
                let x = digits_to_nibbles(id);
                assert_eq!(x >> 60, n as u64);
                assert_eq!(nibbles_to_id(x), id, "{}", String::from_utf8_lossy(&d));
            }
        }
    }

    proptest::proptest! {
        // Data of several pieces is long: fewer cases.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// The one-pass cut agrees with the careful one, and counts the newlines it cuts.
        #[test]
        fn cut_records_cuts_as_last_boundary(
            d in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b'a'), proptest::strategy::Just(b','),
                proptest::strategy::Just(b'\n'), proptest::strategy::Just(b'"')
            ], 0..200_000),
            eof: bool,
        ) {
            let got = cut_records(&d, eof);
            let want = if eof { Some(d.len()) } else { last_boundary(&d) };
            proptest::prop_assert_eq!(got.map(|g| g.0), want);
            if let Some(cut) = want {
                let lines = d[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
                proptest::prop_assert_eq!(got.map(|g| g.1), Some(lines));
            }
        }
    }
}
