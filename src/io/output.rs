//! Writing outputs: deterministic bytes, written atomically.
//!
//! Invariant: a file this module writes is either absent, its old complete content, or its
//! new complete content; it goes to a temporary file in the same folder, is synced, then
//! renamed over the target.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::draw::Draw;
use crate::error::{Error, Result};
use crate::io::frame::Frame;

/// The fixed leading columns of sample.csv (CONTRACT.md).
pub const SAMPLE_COLUMNS: [&str; 7] = [
    "unit_id",
    "stratum",
    "role",
    "rank",
    "prn",
    "inclusion_prob",
    "weight",
];

/// Renders sample.csv: the fixed columns, then the frame's own columns in their order.
/// Floats use Rust's shortest round-trip form, never rounded.
pub fn sample_csv(frame: &Frame, draw: &Draw) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut header: Vec<&str> = SAMPLE_COLUMNS.to_vec();
    header.extend(frame.table.header.iter().map(String::as_str));
    w.write_record(&header).expect("write to memory");
    for r in &draw.rows {
        let mut rec: Vec<String> = vec![
            frame.id(r.row).to_string(),
            r.stratum.clone(),
            r.role.as_str().to_string(),
            r.rank.to_string(),
            format!("{}", r.prn.u()),
            format!("{}", r.pi),
            r.weight().map(|w| format!("{w}")).unwrap_or_default(),
        ];
        rec.extend(frame.table.rows[r.row].cells.iter().cloned());
        w.write_record(&rec).expect("write to memory");
    }
    w.into_inner().expect("flush to memory")
}

/// Writes `bytes` to `path` atomically: temporary file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, "write", &e)
    })
}

/// `target` relative to the folder `base` (both made absolute first), with `/` separators.
pub fn relative_path(target: &Path, base: &Path) -> String {
    let abs = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        std::fs::canonicalize(&p).unwrap_or_else(|_| normalize(&p))
    };
    let (t, b) = (abs(target), abs(base));
    let tc: Vec<Component> = t.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = tc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..bc.len() {
        parts.push("..".into());
    }
    for c in &tc[common..] {
        parts.push(c.as_os_str().to_string_lossy().into_owned());
    }
    parts.join("/")
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
