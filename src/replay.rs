//! The draws as `sample` makes them and `verify` replays them: read the inputs, draw, and
//! nothing else. Shared by the commands, so that no command imports another.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::customers::{CustomerDraw, CustomerParams, OutletStage, StreamConfig, draw_customers};
use crate::draw::{Draw, OutletParams, draw_outlets};
use crate::error::{Error, Result};
use crate::io::frame::{Frame, outlet_list_id_names};
use crate::io::output::sample_csv;
use crate::io::read::read_table;
use crate::io::table::ReadOptions;
use crate::seed::{Seed, sha256_hex};

/// How the draw runs here: `SVCAUDIT_THREADS` workers if set (the one setting read from the
/// environment; documented in the README, and tests use it to show that the sample does not
/// depend on it), else one per core, at most 8; `block` and `mmap` as the hidden test options
/// `--stream-block` and `--no-mmap` say.
pub fn stream_config(block: Option<usize>, no_mmap: bool) -> StreamConfig {
    let threads = std::env::var("SVCAUDIT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
    let mut cfg = StreamConfig::new(threads);
    if let Some(b) = block {
        cfg.block = b.max(64);
    }
    cfg.mmap = !no_mmap;
    cfg
}

/// Resolves the outlet stage and runs the draw: shared by `sample customers` and `verify`.
pub fn run_draw(
    frame: &Path,
    read: &ReadOptions,
    seed: &Seed,
    p: &CustomerParams,
    outlets_dir: Option<&Path>,
    spill_in: &Path,
    cfg: StreamConfig,
) -> Result<(CustomerDraw, Option<String>)> {
    let stage = match outlets_dir {
        Some(d) => Some(read_outlet_stage(d)?),
        None => None,
    };
    let bar = progress_bar();
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let d = draw_customers(
        frame,
        read,
        seed,
        p,
        stage.as_ref().map(|s| &s.0),
        &crate::customers::Streaming {
            spill_in,
            progress: &progress,
            cfg,
        },
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((d, stage.map(|s| s.1)))
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if crate::ui::quiet() || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "reading records {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(b)
}

/// The outlet draw folder a manifest points at, resolved against its own folder.
pub fn outlets_dir(dir: &Path, p: &CustomerParams) -> Option<PathBuf> {
    p.outlets.as_ref().map(|o| dir.join(o))
}

/// A frame read and drawn: what both `sample` and `verify` produce.
pub struct Drawn {
    pub frame: Frame,
    pub draw: Draw,
    pub sample_csv: Vec<u8>,
    pub canonical_sha256: String,
}

/// Reads the frame and draws; the whole pure part of a draw after argument resolution.
pub fn read_and_draw(
    path: &Path,
    read: &ReadOptions,
    seed: &Seed,
    p: &OutletParams,
) -> Result<Drawn> {
    let table = read_table(path, read)?;
    let frame = Frame::new(table, p.id_col.as_deref(), &outlet_list_id_names())?;
    frame.check_same_ids(p.ids)?;
    let draw = draw_outlets(&frame, seed, p)?;
    let sample_csv = sample_csv(&frame, &draw);
    let canonical_sha256 = sha256_hex(&frame.canonical_csv());
    Ok(Drawn {
        frame,
        draw,
        sample_csv,
        canonical_sha256,
    })
}

/// Reads an outlet draw folder: its sample (stage 1) and its outlet list's ids.
pub fn read_outlet_stage(dir: &Path) -> Result<(OutletStage, String)> {
    let sample = dir.join("sample.csv");
    let bytes = std::fs::read(&sample).map_err(|e| {
        Error::data(format!(
            "{}: cannot read the outlet draw: {e}\nhint: --outlets names the folder of `svcaudit sample outlets`",
            sample.display()
        ))
    })?;
    let sha = crate::seed::sha256_hex(&bytes);
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let h = rdr
        .headers()
        .map_err(|e| Error::data(format!("{}: {e}", sample.display())))?
        .clone();
    let col = |n: &str| {
        h.iter().position(|c| c == n).ok_or_else(|| {
            Error::data(format!(
                "{}:1: no column `{n}`; this is not a svcaudit outlet sample",
                sample.display()
            ))
        })
    };
    let (ci, cs, cr, cp) = (
        col("unit_id")?,
        col("stratum")?,
        col("role")?,
        col("inclusion_prob")?,
    );
    let mut stage = OutletStage::default();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::data(format!("{}:{}: {e}", sample.display(), i + 2)))?;
        let role = &r[cr];
        if role == "reserve" {
            continue;
        }
        let pi: f64 = r[cp].parse().map_err(|_| {
            Error::data(format!(
                "{}:{}: inclusion_prob `{}` is not a number",
                sample.display(),
                i + 2,
                &r[cp]
            ))
        })?;
        stage
            .sampled
            .insert(r[ci].to_string(), (r[cs].to_string(), pi));
    }
    let m = crate::io::manifest::Manifest::load(&dir.join("manifest.json"))?;
    let frame_path = dir.join(&m.frame.path);
    let t = crate::io::read::read_table(&frame_path, &m.frame.read).map_err(|e| {
        Error::data(format!(
            "{}\nhint: the outlet draw's list must stay where its manifest.json says ({})",
            e.message, m.frame.path
        ))
    })?;
    let idc = t
        .header
        .iter()
        .position(|c| c == &m.frame.id_column)
        .ok_or_else(|| {
            Error::data(format!(
                "{}: no column {}",
                frame_path.display(),
                m.frame.id_column
            ))
        })?;
    // The outlets of the draw: without the totals rows its frame left out.
    stage.all = t
        .rows
        .iter()
        .filter(|r| !crate::io::layout::is_idless_marker_row(&r.cells, idc))
        .map(|r| r.cells[idc].clone())
        .collect();
    Ok((stage, sha))
}
