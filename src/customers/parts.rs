//! Hash-partitioned temporary files: the spill of pass 1 and the id fingerprints.
//!
//! A writer buffers each partition and appends full buffers to one file of its own, noting
//! where each piece went; a reader gathers a partition's pieces with positioned reads. One
//! file per writer rather than one per partition: creating a file costs the file system
//! far more than appending 64 KiB to one (128 creations were 2-3 % of a draw's CPU).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Reads from byte `off` of `f` without moving a shared cursor (one system call).
#[cfg(unix)]
pub fn read_at(f: &File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, off)
}

/// Reads from byte `off` of `f` (one system call).
#[cfg(windows)]
pub fn read_at(f: &File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, off)
}

/// Fills `buf` from byte `off` of `f`; an error when the file ends first.
fn read_exact_at(f: &File, mut buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match read_at(f, buf, off) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                off += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `n` partitions, each buffered up to `buffer` bytes before it is appended to the writer's
/// file (`{stem}.bin` in `dir`, created on first use). The first I/O error is kept and
/// returned by [`Partitions::finish`]; later writes are dropped.
pub struct Partitions {
    bufs: Vec<Vec<u8>>,
    out: PartFile,
    buffer: usize,
    error: Option<Error>,
}

impl Partitions {
    pub fn new(dir: &Path, stem: String, n: usize, buffer: usize) -> Partitions {
        Partitions {
            bufs: (0..n).map(|_| Vec::with_capacity(buffer)).collect(),
            out: PartFile::empty(dir.join(format!("{stem}.bin")), n),
            buffer,
            error: None,
        }
    }

    /// Appends `bytes` to partition `part`, writing the buffer out when it is full.
    #[inline]
    pub fn put(&mut self, part: usize, bytes: &[u8]) {
        let buf = &mut self.bufs[part];
        buf.extend_from_slice(bytes);
        if buf.len() + bytes.len() > self.buffer {
            self.flush(part);
        }
    }

    fn flush(&mut self, part: usize) {
        let len = self.bufs[part].len();
        if len == 0 || self.error.is_some() {
            self.bufs[part].clear();
            return;
        }
        let out = &mut self.out;
        if out.file.is_none() {
            let opened = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&out.path);
            match opened {
                Ok(f) => out.file = Some(f),
                Err(e) => {
                    self.error = Some(Error::io(&out.path, "write a temporary file", &e));
                    return;
                }
            }
        }
        let f = out.file.as_mut().expect("opened");
        match f.write_all(&self.bufs[part]) {
            Ok(()) => {
                out.pieces[part].push((out.end, len));
                out.end += len as u64;
            }
            Err(e) => self.error = Some(Error::io(&out.path, "write a temporary file", &e)),
        }
        self.bufs[part].clear();
    }

    /// Writes what is buffered and hands over the file, or reports the first error.
    pub fn finish(&mut self) -> Result<PartFile> {
        for p in 0..self.bufs.len() {
            self.flush(p);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let empty = PartFile::empty(self.out.path.clone(), self.bufs.len());
        Ok(std::mem::replace(&mut self.out, empty))
    }
}

/// What a [`Partitions`] wrote: its file (none when nothing was written) and where each
/// partition's pieces lie in it, in the order they were written. The file is removed when
/// this is dropped.
#[derive(Debug)]
pub struct PartFile {
    path: PathBuf,
    file: Option<File>,
    end: u64,
    /// Per partition: (offset, length) of each piece.
    pieces: Vec<Vec<(u64, usize)>>,
}

impl PartFile {
    /// `n` empty partitions, to be written to `path`.
    fn empty(path: PathBuf, n: usize) -> PartFile {
        PartFile {
            path,
            file: None,
            end: 0,
            pieces: vec![Vec::new(); n],
        }
    }

    /// Bytes written to partition `part`.
    pub fn len(&self, part: usize) -> usize {
        self.pieces[part].iter().map(|p| p.1).sum()
    }

    /// Reads partition `part` into `out`, which is [`PartFile::len`] bytes long.
    pub fn read(&self, part: usize, out: &mut [u8]) -> Result<()> {
        debug_assert_eq!(out.len(), self.len(part));
        let Some(f) = &self.file else {
            return Ok(());
        };
        let mut at = 0;
        for &(off, len) in &self.pieces[part] {
            read_exact_at(f, &mut out[at..at + len], off)
                .map_err(|e| Error::io(&self.path, "read a temporary file", &e))?;
            at += len;
        }
        Ok(())
    }

    /// The file's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_read_back_in_write_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Partitions::new(dir.path(), "t".into(), 3, 16);
        let mut want: Vec<Vec<u8>> = vec![Vec::new(); 3];
        for i in 0..200u32 {
            let part = (i * 7 % 3) as usize;
            let bytes = i.to_le_bytes();
            p.put(part, &bytes);
            want[part].extend_from_slice(&bytes);
        }
        let f = p.finish().unwrap();
        assert!(f.path().exists());
        for (part, w) in want.iter().enumerate() {
            let mut got = vec![0u8; f.len(part)];
            f.read(part, &mut got).unwrap();
            assert_eq!(&got, w, "partition {part}");
        }
        let path = f.path().to_path_buf();
        drop(f);
        assert!(!path.exists(), "removed when dropped");
        // Nothing written: no file, empty partitions.
        let mut q = Partitions::new(dir.path(), "u".into(), 2, 16);
        let g = q.finish().unwrap();
        assert_eq!(g.len(1), 0);
        assert!(!g.path().exists());
    }
}
