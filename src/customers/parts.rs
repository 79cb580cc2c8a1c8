//! Buffered writers of hash-partitioned temporary files, one file per partition, created on
//! first use: the spill of pass 1 and the id fingerprints use them.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file of partition `part` of the writer called `stem` in `dir`.
pub fn part_path(dir: &Path, stem: &str, part: usize) -> PathBuf {
    dir.join(format!("{stem}-p{part}.bin"))
}

/// `n` partitions, each buffered up to `buffer` bytes before a write. The first I/O error is
/// kept and returned by [`Partitions::finish`]; later writes are dropped.
pub struct Partitions {
    bufs: Vec<Vec<u8>>,
    files: Vec<Option<File>>,
    dir: PathBuf,
    stem: String,
    buffer: usize,
    error: Option<Error>,
}

impl Partitions {
    pub fn new(dir: &Path, stem: String, n: usize, buffer: usize) -> Partitions {
        Partitions {
            bufs: (0..n).map(|_| Vec::with_capacity(buffer)).collect(),
            files: (0..n).map(|_| None).collect(),
            dir: dir.to_path_buf(),
            stem,
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
        if self.bufs[part].is_empty() || self.error.is_some() {
            self.bufs[part].clear();
            return;
        }
        if self.files[part].is_none() {
            let p = part_path(&self.dir, &self.stem, part);
            match File::create(&p) {
                Ok(f) => self.files[part] = Some(f),
                Err(e) => {
                    self.error = Some(Error::io(&p, "write a temporary file", &e));
                    return;
                }
            }
        }
        let f = self.files[part].as_mut().expect("opened");
        if let Err(e) = f.write_all(&self.bufs[part]) {
            self.error = Some(Error::io(&self.dir, "write a temporary file", &e));
        }
        self.bufs[part].clear();
    }

    /// Writes what is buffered, closes the files, and reports the first error.
    pub fn finish(&mut self) -> Result<()> {
        for p in 0..self.bufs.len() {
            self.flush(p);
        }
        self.files.iter_mut().for_each(|f| *f = None);
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
