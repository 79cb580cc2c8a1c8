//! The draws as `sample` makes them and `verify` replays them: read the inputs, draw, and
//! nothing else. Shared by the commands, so that no command imports another.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::customers::{
    CustomerDraw, CustomerParams, StreamConfig, draw_customers, read_outlet_stage,
};
use crate::draw::{Draw, OutletParams, draw_outlets};
use crate::error::Result;
use crate::io::frame::{Frame, outlet_list_id_names};
use crate::io::output::sample_csv;
use crate::io::table::{ReadOptions, read_table};
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
