//! Service records that are not UTF-8 (GBK/GB18030, as Excel on Chinese Windows saves CSV,
//! or UTF-16 with a BOM, Excel's "Unicode text"): decoded once, block by block, into a
//! UTF-8 copy inside the draw's temporary folder, which is then streamed like any UTF-8
//! file. Memory stays a few blocks whatever the file's length; the SHA-256 of the
//! applicant's own bytes is taken on the way, and the copy goes with the temporary folder.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use encoding_rs::{DecoderResult, Encoding};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::io::table::{self, ReadOptions};
use crate::seed::hex;

const BLOCK: usize = 1 << 20;

/// The encoding a non-UTF-8 frame is read in, as [`table::decode`] chooses it: a forced
/// `--encoding`, else a BOM, else GB18030 (a superset of GBK and GB2312). `None` when the
/// file is UTF-8 (or its encoding cannot be told before reading it: then UTF-8 is tried).
pub fn encoding_of(
    path: &Path,
    head: &[u8],
    read: &ReadOptions,
) -> Result<Option<&'static Encoding>> {
    if let Some(l) = &read.encoding {
        let enc = Encoding::for_label(l.trim().as_bytes()).ok_or_else(|| {
            Error::usage(format!(
                "--encoding: unknown encoding `{l}`; use utf-8, gbk, gb18030 or utf-16le"
            ))
        })?;
        return Ok((enc != encoding_rs::UTF_8).then_some(enc));
    }
    match Encoding::for_bom(head) {
        Some((enc, _)) if enc != encoding_rs::UTF_8 => Ok(Some(enc)),
        Some(_) => Ok(None),
        // The same rule as the general reader (io::limits::sniff_utf16).
        None if let Some(u) = crate::io::limits::sniff_utf16(head) => Ok(Some(u)),
        None => match std::str::from_utf8(head) {
            Ok(_) => Ok(None),
            // A character cut at the end of the sample is fine.
            Err(e) if e.error_len().is_none() => Ok(None),
            Err(e) if crate::io::limits::looks_utf8(&head[..e.valid_up_to()]) => {
                Err(Error::data(format!(
                    "{}:{}: not UTF-8, although the lines before it are: the file mixes encodings\nhint: open it in Excel and save it again as CSV UTF-8, or fix the rows from this line on",
                    table::display_name(path),
                    crate::io::limits::line_of(head, e.valid_up_to())
                )))
            }
            Err(_) => Ok(Some(encoding_rs::GB18030)),
        },
    }
}

/// The UTF-8 copy of a frame and what is known of the original.
pub struct Transcoded {
    pub path: PathBuf,
    pub encoding: &'static Encoding,
    pub had_bom: bool,
    /// SHA-256 of the original bytes.
    pub sha256: String,
}

/// Decodes `origin` from `enc` into `dir/utf8.csv`. Bytes that are not valid in `enc` are
/// an error naming their line.
pub fn transcode(
    origin: &Path,
    enc: &'static Encoding,
    dir: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<Transcoded> {
    let name = table::display_name(origin);
    let mut f = File::open(origin).map_err(|e| Error::io(origin, "open the file", &e))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let path = dir.join("utf8.csv");
    let out = File::create(&path).map_err(|e| Error::io(&path, "write a temporary file", &e))?;
    let mut out = BufWriter::with_capacity(BLOCK, out);
    let mut hasher = Sha256::new();
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut inp = vec![0u8; BLOCK];
    let mut buf = vec![0u8; 3 * BLOCK + 16];
    let mut first = true;
    let mut had_bom = false;
    let mut lines = 1u64;
    let mut done = 0u64;
    loop {
        let n = read_full(&mut f, &mut inp).map_err(|e| Error::io(origin, "read the file", &e))?;
        hasher.update(&inp[..n]);
        done += n as u64;
        let mut src = &inp[..n];
        if first {
            first = false;
            // Only the BOM of the encoding read is dropped, as `table::decode` does.
            if let Some((b, len)) = Encoding::for_bom(src)
                && b == enc
            {
                had_bom = true;
                src = &src[len..];
            }
        }
        let last = n == 0;
        loop {
            let (res, read, written) =
                decoder.decode_to_utf8_without_replacement(src, &mut buf, last);
            let text = &buf[..written];
            match res {
                DecoderResult::Malformed(_, _) => {
                    let line = lines + memchr::memchr_iter(b'\n', text).count() as u64;
                    return Err(Error::data(format!(
                        "{name}:{line}: the file is not valid {} text\nhint: save it as CSV UTF-8 (or pass --encoding with its real encoding, e.g. --encoding gbk)",
                        enc.name()
                    )));
                }
                DecoderResult::InputEmpty | DecoderResult::OutputFull => {
                    lines += memchr::memchr_iter(b'\n', text).count() as u64;
                    out.write_all(text)
                        .map_err(|e| Error::io(&path, "write a temporary file", &e))?;
                    src = &src[read..];
                    if matches!(res, DecoderResult::InputEmpty) {
                        break;
                    }
                }
            }
        }
        progress(done, total);
        if last {
            break;
        }
    }
    out.flush()
        .map_err(|e| Error::io(&path, "write a temporary file", &e))?;
    Ok(Transcoded {
        path,
        encoding: enc,
        had_bom,
        sha256: hex(&hasher.finalize()),
    })
}

/// Reads until `buf` is full or the file ends; the number of bytes read.
fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
