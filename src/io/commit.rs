//! Writing a command's outputs so that a crash never leaves a mix: the folder holds either
//! the old complete outputs or the new complete outputs, and the ledger line of a committed
//! run is always there.
//!
//! 1. A lock (`.svcaudit.lock`, an OS file lock) keeps two runs out of one folder.
//! 2. Every new file is written beside its target as a temporary file and synced.
//! 3. A journal (`.svcaudit-commit.json`) names the renames and the ledger line; it is
//!    synced, and from then on the run counts as done.
//! 4. The renames, the ledger line, then the journal is removed.
//!
//! A run killed before step 3 leaves only temporary files, which the next run in the folder
//! removes (the old outputs stand); killed after it, the next run (or `verify`) finishes the
//! renames and the ledger line from the journal (the new outputs stand).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ledger;
use crate::error::{Error, Result};

const LOCK: &str = ".svcaudit.lock";
const JOURNAL: &str = ".svcaudit-commit.json";

/// Held while a run works in a folder; released when dropped (or when the process dies).
pub struct Lock {
    _file: File,
    dir: PathBuf,
    /// Milliseconds to pause after each step of a commit (the crash test's
    /// `--commit-pause-ms`, so it can kill a run in the middle of one); 0 in normal use.
    pause_ms: std::cell::Cell<u64>,
}

impl Lock {
    /// Pauses `ms` milliseconds after each step of the commits under this lock (for the crash
    /// test only).
    pub fn pause_between_steps(&self, ms: u64) {
        self.pause_ms.set(ms);
    }

    fn pause(&self) {
        if self.pause_ms.get() > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.pause_ms.get()));
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Takes the folder's lock (creating the folder), then finishes or cleans up after a run
/// that stopped half-way.
pub fn lock(dir: &Path) -> Result<Lock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the folder", &e))?;
    let p = dir.join(LOCK);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(|e| Error::io(&p, "open", &e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Error::data(format!(
                "{}: another svcaudit run is working in this folder; wait for it to finish",
                dir.display()
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&p, "lock", &e)),
    }
    let l = Lock {
        _file: f,
        dir: dir.to_path_buf(),
        pause_ms: std::cell::Cell::new(0),
    };
    recover(&l)?;
    Ok(l)
}

#[derive(Serialize, Deserialize)]
struct Journal {
    /// (temporary file, target), relative to the folder.
    renames: Vec<(String, String)>,
    ledger: Option<String>,
}

/// Finishes a committed run from its journal, and removes what uncommitted runs left.
fn recover(l: &Lock) -> Result<()> {
    let dir = &l.dir;
    let jp = dir.join(JOURNAL);
    if let Ok(bytes) = std::fs::read(&jp) {
        // A journal that does not parse was cut short while being written: not committed.
        if let Ok(j) = serde_json::from_slice::<Journal>(&bytes) {
            for (tmp, target) in &j.renames {
                let (t, g) = (dir.join(tmp), dir.join(target));
                if t.exists() {
                    std::fs::rename(&t, &g).map_err(|e| Error::io(&g, "finish writing", &e))?;
                }
                l.pause();
            }
            if let Some(line) = &j.ledger
                && !ledger::ends_with(dir, line)
            {
                ledger::append(dir, line)?;
            }
            sync_dir(dir);
        }
        std::fs::remove_file(&jp).map_err(|e| Error::io(&jp, "remove", &e))?;
        sync_dir(dir);
    }
    // Temporary files and spill folders of runs that never committed.
    for d in [dir.to_path_buf(), dir.join("calendars")] {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".tmp-") {
                let _ = std::fs::remove_file(e.path());
            } else if name.starts_with(".svcaudit-spill-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `files` (names relative to the folder, `/`-separated) and appends `ledger_line`,
/// all or nothing, as the module documentation describes.
pub fn commit(l: &Lock, files: &[(String, Vec<u8>)], ledger_line: Option<String>) -> Result<()> {
    let dir = &l.dir;
    let pid = std::process::id();
    let mut renames = Vec::new();
    for (name, bytes) in files {
        let target = dir.join(name);
        let parent = target.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, "create the folder", &e))?;
        let file_name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp_name = match name.rsplit_once('/') {
            Some((sub, _)) => format!("{sub}/.{file_name}.tmp-{pid}"),
            None => format!(".{file_name}.tmp-{pid}"),
        };
        let tmp = dir.join(&tmp_name);
        let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, "write", &e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(&tmp, "write", &e))?;
        renames.push((tmp_name, name.clone()));
        l.pause();
    }
    let journal = serde_json::to_vec(&Journal {
        renames,
        ledger: ledger_line,
    })
    .expect("journal serialises");
    let jtmp = dir.join(format!("{JOURNAL}.tmp-{pid}"));
    let jp = dir.join(JOURNAL);
    let mut f = File::create(&jtmp).map_err(|e| Error::io(&jtmp, "write", &e))?;
    f.write_all(&journal)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&jtmp, "write", &e))?;
    drop(f);
    std::fs::rename(&jtmp, &jp).map_err(|e| Error::io(&jp, "write", &e))?;
    sync_dir(dir);
    // Committed: the rest is what recovery would do.
    recover(l)
}

/// Runs `f` holding the lock of `dir`. A folder this call created is removed again when `f`
/// fails, so that a failed first run leaves nothing behind.
pub fn with_lock<T>(dir: &Path, f: impl FnOnce(&Lock) -> Result<T>) -> Result<T> {
    let created = !dir.exists();
    let l = lock(dir)?;
    let r = f(&l);
    drop(l);
    if r.is_err() && created {
        let _ = std::fs::remove_dir_all(dir);
    }
    r
}
