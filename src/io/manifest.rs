//! manifest.json: what a reviewer needs to re-derive a draw and check it.
//!
//! Fields are in a fixed order (struct order, ordered maps) so the bytes are deterministic.
//! `drawn_on` and `drawn_by` are the only fields allowed to differ between two runs of the
//! same draw; `verify` ignores them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::customers::scan::RowCounts;
use crate::customers::{CustomerDraw, CustomerParams, CustomerSize, OutletPlan, PersonCounts};
use crate::draw::{Counts, OutletParams, SizeInfo, StratumInfo, ZeroCoverage};
use crate::error::{Error, Result};
use crate::io::layout::Adjusted;
use crate::io::table::{Format, ReadOptions};

/// The manifest format tag; bump it when a field changes meaning.
pub const FORMAT: &str = "svcaudit-manifest/1";

/// The fields every draw's manifest starts with, in this order: the format, the tool and
/// algorithm, what was drawn, the seed, and when and by whom. One struct for the outlet and the
/// customer manifest, flattened into each, so the JSON is as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawHead {
    pub format: String,
    pub tool: String,
    pub tool_version: String,
    pub algorithm: String,
    /// `outlets` or `customers`.
    pub kind: String,
    /// The canonical seed.
    pub seed: String,
    /// SHA-256 of the canonical seed.
    pub seed_commitment: String,
    /// Whether `--seed-commitment` was given and matched.
    pub commitment_checked: bool,
    pub drawn_on: String,
    pub drawn_by: String,
}

impl DrawHead {
    /// The head of a draw of `kind` made now by this svcaudit with `seed`.
    pub fn new(
        kind: &str,
        seed: &crate::seed::Seed,
        commitment_checked: bool,
        drawn_on: String,
        drawn_by: String,
    ) -> DrawHead {
        DrawHead {
            format: FORMAT.into(),
            tool: "svcaudit".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            algorithm: crate::prn::ALGORITHM.into(),
            kind: kind.into(),
            seed: seed.canonical().into(),
            seed_commitment: seed.commitment(),
            commitment_checked,
            drawn_on,
            drawn_by,
        }
    }
}

/// The file's fields read as the frame's own (`m.frame.path`).
impl std::ops::Deref for FrameInfo {
    type Target = FileHead;
    fn deref(&self) -> &FileHead {
        &self.file
    }
}

impl std::ops::Deref for CustomerFrameInfo {
    type Target = FileHead;
    fn deref(&self) -> &FileHead {
        &self.file
    }
}

/// The head's fields read as the manifest's own (`m.seed`, `m.drawn_on`).
impl std::ops::Deref for Manifest {
    type Target = DrawHead;
    fn deref(&self) -> &DrawHead {
        &self.head
    }
}

impl std::ops::Deref for CustomerManifest {
    type Target = DrawHead;
    fn deref(&self) -> &DrawHead {
        &self.head
    }
}

/// What every manifest records of the file it drew from, first in its `frame` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHead {
    /// Path relative to the output folder.
    pub path: String,
    pub format: Format,
    pub encoding: String,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub sha256_bytes: String,
    /// SHA-256 of the canonical form (outlets: docs/ALGORITHM.md §3.7; customers: §4, the
    /// records in file order).
    pub sha256_canonical: String,
    pub columns: Vec<String>,
}

/// The outlet list as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameInfo {
    #[serde(flatten)]
    pub file: FileHead,
    pub id_column: String,
    pub rows: u64,
    pub read: ReadOptions,
    /// Title rows above the header, totals rows left out, merged cells filled (absent for
    /// a plain table, and in manifests written before svcaudit read such files).
    #[serde(default, skip_serializing_if = "Adjusted::is_empty")]
    pub adjusted: Adjusted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The fields every manifest starts with.
    #[serde(flatten)]
    pub head: DrawHead,
    pub frame: FrameInfo,
    pub parameters: OutletParams,
    pub size: SizeInfo,
    pub strata: Vec<StratumInfo>,
    pub counts: Counts,
    /// Strata whose outlets chosen for cause filled their allocation, leaving the others with
    /// no chance of selection (π = 0); only under `--allow-zero-coverage`, absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zero_coverage: Vec<ZeroCoverage>,
    /// Output file name → SHA-256 of its bytes.
    pub outputs: BTreeMap<String, String>,
    /// The ledger that records this draw (absent in draws made before there was one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// The command as given, for the record (not compared by verify).
    pub command: String,
}

impl Manifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let m: Manifest = read_json(path, "a svcaudit manifest")?;
        if m.format != FORMAT {
            return Err(Error::data(format!(
                "{}: manifest format `{}` is not one this version reads ({FORMAT})",
                path.display(),
                m.format
            )));
        }
        Ok(m)
    }
}

/// Reads a manifest (or any JSON file of ours) as `T`; a parse error names the file, line
/// and column and says it is not `what`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the manifest", &e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::data(format!(
            "{}:{}:{}: not {what}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// The manifest of a customer draw (`kind` = `customers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerManifest {
    /// The fields every manifest starts with.
    #[serde(flatten)]
    pub head: DrawHead,
    pub frame: CustomerFrameInfo,
    pub parameters: CustomerParams,
    pub size: CustomerSize,
    pub outlets: Vec<OutletPlan>,
    pub counts: RowCounts,
    pub persons: PersonCounts,
    pub outputs: BTreeMap<String, String>,
    /// The ledger that records this draw (absent in draws made before there was one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    pub command: String,
}

/// The service records as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFrameInfo {
    #[serde(flatten)]
    pub file: FileHead,
    /// Column used for: id, outlet, date, phone, person key, service type, name.
    pub columns_used: BTreeMap<String, String>,
    pub read: ReadOptions,
}

impl CustomerManifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }
}

/// The frame description for the manifest.
pub fn frame_info(d: &CustomerDraw, path: String, read: ReadOptions) -> CustomerFrameInfo {
    let s = &d.scan;
    let c = &d.rules.cols;
    let mut used = BTreeMap::new();
    let mut put = |k: &str, i: Option<usize>| {
        if let Some(i) = i {
            used.insert(k.to_string(), s.header[i].clone());
        }
    };
    put("id", c.id);
    put("customer_no", c.customer);
    put("outlet", Some(c.outlet));
    put("date", Some(c.date));
    put("phone", c.phone);
    put("person_key", Some(c.person));
    put("service_type", c.service_type);
    put("name", c.name);
    CustomerFrameInfo {
        file: FileHead {
            path,
            format: s.format,
            encoding: s.encoding.clone(),
            delimiter: s.delimiter.map(|c| c.to_string()),
            sheet: s.sheet.clone(),
            sha256_bytes: s.sha256_bytes.clone(),
            sha256_canonical: s.sha256_canonical.clone(),
            columns: s.header.clone(),
        },
        columns_used: used,
        read,
    }
}
