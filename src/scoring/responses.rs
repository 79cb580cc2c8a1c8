//! Importing survey results: long CSVs (respondent, outlet, question, answer) and wide exports
//! (LimeSurvey with `Q1[SQ001]` columns, KoboToolbox with `group/question` columns and split
//! multiple choice, the team's own template), in every encoding the frame readers accept,
//! many files at once.
//!
//! Invariant: every answer cell read ends in exactly one place: an accepted answer (scored or
//! "does not apply") or a [`Rejected`] row with its file, line, column and reason. In a wide
//! export an empty cell means "not shown" and is counted, not stored. Nothing is dropped
//! silently.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::table::{self, ReadOptions};

use super::scheme::{Item, Kind, Mapping, Scheme, Source};

/// One input file as read.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub name: String,
    pub sha256: String,
    /// `long` or `wide`.
    pub layout: &'static str,
    pub encoding: String,
    /// Data rows (lines after the header that are not blank).
    pub rows: u64,
    pub blank_rows: u64,
    /// Answer cells met (long: one per row; wide: non-empty question cells).
    pub answers: u64,
    /// Wide exports: empty question cells (question not shown).
    pub not_shown: u64,
    /// Wide exports: columns that are neither metadata nor in the scheme, not scored.
    pub unscored_columns: Vec<String>,
    /// Wide exports: KoboToolbox split multiple-choice columns of a scheme item, not scored
    /// separately (the item's own column is).
    pub split_columns: Vec<String>,
}

impl Input {
    /// A long file before its rows are read.
    pub(super) fn new(path: &Path, name: &str, sha256: String, encoding: String) -> Self {
        Input {
            path: path.to_path_buf(),
            name: name.to_string(),
            sha256,
            layout: "long",
            encoding,
            rows: 0,
            blank_rows: 0,
            answers: 0,
            not_shown: 0,
            unscored_columns: Vec::new(),
            split_columns: Vec::new(),
        }
    }
}

/// A questionnaire: one customer interview, one 暗访 visit or one mystery call.
#[derive(Debug, Clone)]
pub struct Respondent {
    pub id: String,
    pub outlet: String,
    pub customer: String,
    pub date: String,
    pub by: String,
    /// The fieldwork source of its items (set by its first accepted answer).
    pub source: Option<Source>,
    pub file: u32,
    pub line: u64,
}

/// An answer or a whole questionnaire that is not scored, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub respondent: String,
    pub outlet: String,
    pub question: String,
    pub answer: String,
    pub reason: String,
}

/// Everything read, in file order.
#[derive(Debug, Default)]
pub struct Responses {
    pub inputs: Vec<Input>,
    pub respondents: Vec<Respondent>,
    /// Per answer: respondent index, item index, the answer's number in its own scale (1/0
    /// for conform, points, scale level), its score in [0, 1] (NaN: does not apply), line.
    pub resp: Vec<u32>,
    pub item: Vec<u32>,
    pub value: Vec<f64>,
    pub y: Vec<f64>,
    pub line: Vec<u64>,
    /// Per answer: the input file index.
    pub file: Vec<u32>,
    pub rejected: Vec<Rejected>,
}

impl Responses {
    pub fn len(&self) -> usize {
        self.resp.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resp.is_empty()
    }

    /// Keeps the answers for which `keep(i)` holds, in order.
    pub fn retain_answers(&mut self, keep: &[bool]) {
        let mut k = 0;
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            self.resp[k] = self.resp[i];
            self.item[k] = self.item[i];
            self.value[k] = self.value[i];
            self.y[k] = self.y[i];
            self.line[k] = self.line[i];
            self.file[k] = self.file[i];
            k += 1;
        }
        self.resp.truncate(k);
        self.item.truncate(k);
        self.value.truncate(k);
        self.y.truncate(k);
        self.line.truncate(k);
        self.file.truncate(k);
    }
}

use crate::io::vocab;

const RESPONDENT: &[&str] = vocab::RESPONDENT.names;
const OUTLET: &[&str] = vocab::RESULT_OUTLET.names;
const CUSTOMER: &[&str] = vocab::RESULT_CUSTOMER.names;
const QUESTION: &[&str] = vocab::QUESTION.names;
const ANSWER: &[&str] = vocab::ANSWER.names;
const DATE: &[&str] = vocab::VISIT_DATE.names;
const BY: &[&str] = vocab::BY.names;
/// Columns survey platforms add that are not answers.
const META: &[&str] = &[
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "startdate",
    "datestamp",
    "ipaddr",
    "refurl",
    "token",
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "phonenumber",
    "audit",
    "_uuid",
    "_id",
    "_index",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_version_",
    "meta/instanceid",
    "meta/rootuuid",
    "instanceid",
    "interviewtime",
];

fn norm(h: &str) -> String {
    vocab::fold(h)
}

/// The first alias present, compared lowercased, also after a KoboToolbox group prefix
/// (`grp/outlet_id`).
pub fn find(header: &[String], aliases: &[&str]) -> Option<usize> {
    let last = |h: &str| norm(h.rsplit('/').next().unwrap_or(h));
    aliases.iter().find_map(|a| {
        header
            .iter()
            .position(|h| norm(h) == *a)
            .or_else(|| header.iter().position(|h| h.contains('/') && last(h) == *a))
    })
}

/// Answers that mean "does not apply" in every scheme (compared lowercased).
const NA_WORDS: &[&str] = &["n/a", "na", "不适用", "#n/a"];

/// The score of an answer to `item`: `Ok(None)` does not apply, `Ok(Some((value, y)))`, or
/// the reason it is out of range.
pub fn score_answer(item: &Item, raw: &str) -> std::result::Result<Option<(f64, f64)>, String> {
    let a = trim(raw);
    // Fast path: a small whole number, as most exports write answers.
    if let [d @ b'0'..=b'9'] | [b'1', d @ b'0'] = a.as_bytes()
        && item.na.is_empty()
    {
        let x = if a.len() == 2 {
            10
        } else {
            i64::from(d - b'0')
        };
        if let Some(v) = small_int(item, x) {
            return Ok(Some(v));
        }
    }
    let low = a.to_lowercase();
    if a.is_empty() || NA_WORDS.contains(&low.as_str()) || item.na.iter().any(|n| *n == a) {
        return Ok(None);
    }
    let yes_no = || -> Option<f64> {
        match low.as_str() {
            "1" | "是" | "符合" | "y" | "yes" | "true" | "合格" | "有" | "√" | "✓" | "conform"
            | "达标" => Some(1.0),
            "0" | "否" | "不符合" | "n" | "no" | "false" | "不合格" | "没有" | "×" | "✗"
            | "nonconform" | "不达标" => Some(0.0),
            _ => None,
        }
    };
    let number = || -> Option<f64> {
        let t = low.trim_end_matches('分').trim();
        t.parse::<f64>().ok().filter(|v| v.is_finite())
    };
    match &item.kind {
        Kind::Conform => match yes_no() {
            Some(v) => Ok(Some((v, v))),
            None => Err(format!(
                "`{a}` is not a conform answer; use 1/0, 是/否, 符合/不符合, yes/no or N/A"
            )),
        },
        Kind::Points { max } => {
            let v = number().or_else(|| yes_no().map(|b| b * max));
            match v {
                Some(v) if (0.0..=*max).contains(&v) => Ok(Some((v, v / max))),
                Some(v) => Err(format!("{v} points is outside 0..={}", fmt(*max))),
                None => Err(format!(
                    "`{a}` is not a number of points (0..={})",
                    fmt(*max)
                )),
            }
        }
        Kind::Scale {
            levels,
            min,
            mapping,
            satisfied_from,
        } => {
            let top = min + i64::from(*levels) - 1;
            let label = if *levels == 5 {
                match low.as_str() {
                    "很满意" | "非常满意" | "very satisfied" => Some(4),
                    "满意" | "比较满意" | "satisfied" => Some(3),
                    "基本满意" | "一般" | "neutral" | "fairly satisfied" => Some(2),
                    "不太满意" | "不大满意" | "somewhat dissatisfied" | "not very satisfied" => {
                        Some(1)
                    }
                    "不满意" | "很不满意" | "非常不满意" | "dissatisfied" | "very dissatisfied" => {
                        Some(0)
                    }
                    _ => None,
                }
            } else {
                None
            };
            let x = match label {
                Some(k) => min + k,
                None => match number() {
                    Some(v) if v.fract() == 0.0 && (*min as f64..=top as f64).contains(&v) => {
                        v as i64
                    }
                    Some(v) => return Err(format!("{v} is outside the scale {min}..={top}")),
                    None => {
                        return Err(format!("`{a}` is not an answer on the scale {min}..={top}"));
                    }
                },
            };
            let k = (x - min) as usize;
            let y = match mapping {
                Mapping::FiveLevel => [0.0, 0.3, 0.6, 0.8, 1.0][k],
                Mapping::Linear => k as f64 / (f64::from(*levels) - 1.0),
                Mapping::Satisfied => f64::from(u8::from(x >= *satisfied_from)),
            };
            Ok(Some((x as f64, y)))
        }
        Kind::Control => Ok(Some((
            yes_no().or_else(number).unwrap_or(f64::NAN),
            f64::NAN,
        ))),
    }
}

/// The score of a whole-number answer when it is in range (else the slow path explains).
#[inline]
fn small_int(item: &Item, x: i64) -> Option<(f64, f64)> {
    match &item.kind {
        Kind::Conform if x <= 1 => Some((x as f64, x as f64)),
        Kind::Points { max } if (x as f64) <= *max => Some((x as f64, x as f64 / max)),
        Kind::Scale {
            levels,
            min,
            mapping,
            satisfied_from,
        } if x >= *min && x < min + i64::from(*levels) => {
            let k = (x - min) as usize;
            let y = match mapping {
                Mapping::FiveLevel => [0.0, 0.3, 0.6, 0.8, 1.0][k],
                Mapping::Linear => k as f64 / (f64::from(*levels) - 1.0),
                Mapping::Satisfied => f64::from(u8::from(x >= *satisfied_from)),
            };
            Some((x as f64, y))
        }
        _ => None,
    }
}

fn fmt(v: f64) -> String {
    super::scheme::fmt_pts(v)
}

/// How a wide export's column maps to the scheme.
#[derive(Clone)]
pub(super) enum WideCol {
    Item(u32),
    Split,
    Meta,
    Unscored,
}

/// Reads one file after another into one [`Responses`].
pub struct Importer<'a> {
    pub(super) scheme: &'a Scheme,
    pub(super) out: Responses,
    pub(super) resp_index: foldhash::HashMap<String, u32>,
    /// Per respondent: the run of rows it was last seen in (a respondent met again after
    /// another one has had rows is "scattered" and checked for duplicates the slow way).
    pub(super) last_run: Vec<u32>,
    pub(super) run: u32,
    pub(super) current: u32,
    /// item → the respondent that last answered it in the current run (+1), for the fast
    /// duplicate check when a questionnaire's rows are together, as exports write them.
    pub(super) item_last: Vec<u32>,
    pub(super) scattered: bool,
    /// Display names of the inputs, by file index.
    pub(super) names: Vec<String>,
    /// Where the answers go when not into `out` (a piece of the plain reader).
    pub(super) slots: Option<Slots<'a>>,
}

/// A piece's part of the final answer vectors (see `plain`): its answers are written here in
/// order instead of pushed, so that joining the pieces copies nothing.
pub(super) struct Slots<'a> {
    pub resp: &'a mut [u32],
    pub item: &'a mut [u32],
    pub value: &'a mut [f64],
    pub y: &'a mut [f64],
    pub line: &'a mut [u64],
    pub file: &'a mut [u32],
    /// Answers written.
    pub n: usize,
    /// More answers than room (the piece gives up).
    pub overflow: bool,
}

impl Slots<'_> {
    #[inline]
    fn put(&mut self, r: u32, it: u32, value: f64, y: f64, line: u64, file: u32) {
        let i = self.n;
        if i >= self.resp.len() {
            self.overflow = true;
            return;
        }
        self.resp[i] = r;
        self.item[i] = it;
        self.value[i] = value;
        self.y[i] = y;
        self.line[i] = line;
        self.file[i] = file;
        self.n += 1;
    }
}

impl<'a> Importer<'a> {
    pub fn new(scheme: &'a Scheme) -> Self {
        Importer {
            scheme,
            out: Responses::default(),
            resp_index: foldhash::HashMap::default(),
            last_run: Vec::new(),
            run: 0,
            current: u32::MAX,
            item_last: vec![0; scheme.items.len()],
            scattered: false,
            names: Vec::new(),
            slots: None,
        }
    }

    /// The general CSV reader: any encoding, quotes, every error with its line.
    pub(super) fn read_csv(
        &mut self,
        path: &Path,
        name: String,
        file: u32,
        bytes: &[u8],
        sha256: String,
        opts: &ReadOptions,
    ) -> Result<()> {
        let (text, encoding, _bom) = table::decode(path, bytes, opts.encoding.as_deref())?;
        let mut input = Input::new(path, &name, sha256, encoding);
        let mut sink: Option<Sink> = None;
        let mut problems = crate::error::Problems::new();
        table::for_each_csv_record(&name, &text, opts.quotes, |line, rec| {
            let blank = rec.iter().all(|c| c.iter().all(u8::is_ascii_whitespace));
            match &mut sink {
                None if blank => {}
                None => {
                    let header = table::clean_header(
                        rec.iter()
                            .map(|c| String::from_utf8_lossy(c).into_owned())
                            .collect(),
                    );
                    let mut header = header;
                    while header.last().is_some_and(|h| h.is_empty()) {
                        header.pop();
                    }
                    sink = Some(self.sink(&name, file, &header, &mut input)?);
                }
                Some(_) if blank => input.blank_rows += 1,
                Some(s) => {
                    input.rows += 1;
                    let want = s.width;
                    let n = rec.len();
                    if n != want && !(n > want && rec.iter().skip(want).all(<[u8]>::is_empty)) {
                        problems.push(format!(
                            "{name}:{line}: {n} fields, but the header has {want} columns"
                        ));
                        return Ok(());
                    }
                    s.row(self, line, rec);
                }
            }
            Ok(())
        })?;
        problems.into_result(
            "every row must have as many fields as the header; quote cells that contain the delimiter",
        )?;
        let Some(sink) = sink else {
            return Err(Error::data(format!(
                "{name}: the file is empty (no header row)\nhint: a long file starts with respondent,outlet,question,answer; a wide export with its own header"
            )));
        };
        input.answers = sink.answers;
        input.not_shown = sink.not_shown;
        self.out.inputs.push(input);
        Ok(())
    }

    /// Decides the layout from the header and maps its columns.
    pub(super) fn sink(
        &self,
        name: &str,
        file: u32,
        header: &[String],
        input: &mut Input,
    ) -> Result<Sink> {
        let respondent = find(header, RESPONDENT);
        let question = find(header, QUESTION);
        let answer = find(header, ANSWER);
        let base = Sink {
            file,
            width: header.len(),
            respondent: respondent.unwrap_or(usize::MAX),
            outlet: find(header, OUTLET),
            customer: find(header, CUSTOMER),
            date: find(header, DATE),
            by: find(header, BY),
            question: usize::MAX,
            answer: usize::MAX,
            wide: Vec::new(),
            header: header.to_vec(),
            answers: 0,
            not_shown: 0,
            last_resp: (Vec::new(), u32::MAX),
        };
        let Some(_) = respondent else {
            return Err(Error::data(format!(
                "{name}:1: no respondent column; looked for {}; the header has: {}\nhint: name the column that identifies each questionnaire response_id",
                RESPONDENT.join(", "),
                crate::io::limits::list_columns(header)
            )));
        };
        if let (Some(q), Some(a)) = (question, answer) {
            return Ok(Sink {
                question: q,
                answer: a,
                ..base
            });
        }
        // Wide: every other column is a question, metadata, or not in the scheme.
        input.layout = "wide";
        let used = [
            Some(base.respondent),
            base.outlet,
            base.customer,
            base.date,
            base.by,
        ];
        let mut wide = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if used.contains(&Some(i)) {
                wide.push(WideCol::Meta);
                continue;
            }
            let col = self.wide_col(h);
            match col {
                WideCol::Unscored => input.unscored_columns.push(h.clone()),
                WideCol::Split => input.split_columns.push(h.clone()),
                _ => {}
            }
            wide.push(col);
        }
        if !wide.iter().any(|c| matches!(c, WideCol::Item(_))) {
            return Err(Error::data(format!(
                "{name}:1: neither a long file (no question and answer columns) nor a wide export with a column of the scheme's items; the header has: {}\nhint: a long file has the columns respondent, outlet, question, answer; a wide export names its columns by the item codes of the scheme (e.g. CS_OVERALL, or LimeSurvey Q1[SQ001] written as the item code)",
                crate::io::limits::list_columns(header)
            )));
        }
        Ok(Sink { wide, ..base })
    }

    fn wide_col(&self, h: &str) -> WideCol {
        let by = &self.scheme.by_code;
        let hit = |c: &str| by.get(c).map(|&i| WideCol::Item(i as u32));
        if let Some(c) = hit(h) {
            return c;
        }
        // LimeSurvey Q1[SQ001] ↔ Q1_SQ001.
        if h.ends_with(']')
            && let Some(c) = hit(&h.replace('[', "_").replace(']', ""))
        {
            return c;
        }
        // KoboToolbox group/question and group/question/option.
        let parts: Vec<&str> = h.split('/').collect();
        if parts.len() > 1 {
            if let Some(c) = hit(parts[parts.len() - 1]) {
                return c;
            }
            let parent = parts[parts.len() - 2];
            let full_parent = parts[..parts.len() - 1].join("/");
            if by.contains_key(parent) || by.contains_key(&full_parent) {
                return WideCol::Split;
            }
        }
        if META.contains(&norm(h).as_str()) || h.starts_with('_') {
            return WideCol::Meta;
        }
        WideCol::Unscored
    }

    /// The respondent index of `id`, creating it on first sight.
    fn respondent(&mut self, id: &str, file: u32, line: u64) -> u32 {
        if let Some(&r) = self.resp_index.get(id) {
            if r != self.current {
                if self.last_run[r as usize] != self.run {
                    self.scattered = true;
                }
                self.run += 1;
                self.current = r;
                self.last_run[r as usize] = self.run;
            }
            return r;
        }
        let r = self.out.respondents.len() as u32;
        self.resp_index.insert(id.to_string(), r);
        self.out.respondents.push(Respondent {
            id: id.to_string(),
            outlet: String::new(),
            customer: String::new(),
            date: String::new(),
            by: String::new(),
            source: None,
            file,
            line,
        });
        self.run += 1;
        self.current = r;
        self.last_run.push(self.run);
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn reject(
        &mut self,
        file: u32,
        line: u64,
        column: &str,
        r: Option<u32>,
        q: &str,
        a: &str,
        reason: String,
    ) {
        let (respondent, outlet) = match r {
            Some(r) => {
                let p = &self.out.respondents[r as usize];
                (p.id.clone(), p.outlet.clone())
            }
            None => (String::new(), String::new()),
        };
        self.out.rejected.push(Rejected {
            file: self.out_name(file),
            line,
            column: column.to_string(),
            respondent,
            outlet,
            question: q.to_string(),
            answer: a.to_string(),
            reason,
        });
    }

    fn out_name(&self, file: u32) -> String {
        self.names.get(file as usize).cloned().unwrap_or_default()
    }

    /// Takes one answer of respondent `r` to question `q`.
    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        file: u32,
        line: u64,
        column: &str,
        r: u32,
        item: Option<u32>,
        q: &str,
        a: &str,
    ) {
        let Some(it) = item else {
            self.reject(
                file,
                line,
                column,
                Some(r),
                q,
                a,
                format!("question {q} is not in the scheme"),
            );
            return;
        };
        let spec = &self.scheme.items[it as usize];
        if spec.source == Source::Review {
            let reason = format!(
                "{q} is a review item: the auditor's findings file (--findings) scores it, not a survey"
            );
            self.reject(file, line, column, Some(r), q, a, reason);
            return;
        }
        let p = &mut self.out.respondents[r as usize];
        match p.source {
            None => p.source = Some(spec.source),
            Some(s) if s != spec.source => {
                let reason = format!(
                    "{q} is a {} ({}) item, but this questionnaire answers {} ({}) items; one respondent id per questionnaire",
                    spec.source.as_str(),
                    spec.source.zh(),
                    s.as_str(),
                    s.zh()
                );
                self.reject(file, line, column, Some(r), q, a, reason);
                return;
            }
            Some(_) => {}
        }
        // Duplicate answer: the fast check holds while a questionnaire's rows are together.
        if self.item_last[it as usize] == r + 1 && !self.scattered {
            let reason = format!("respondent answered {q} twice; the first answer is scored");
            self.reject(file, line, column, Some(r), q, a, reason);
            return;
        }
        self.item_last[it as usize] = r + 1;
        match score_answer(spec, a) {
            Err(why) => self.reject(file, line, column, Some(r), q, a, why),
            Ok(v) => {
                let (value, y) = v.unwrap_or((f64::NAN, f64::NAN));
                if let Some(s) = &mut self.slots {
                    s.put(r, it, value, y, line, file);
                    return;
                }
                self.out.resp.push(r);
                self.out.item.push(it);
                self.out.value.push(value);
                self.out.y.push(y);
                self.out.line.push(line);
                self.out.file.push(file);
            }
        }
    }

    /// Finishes: when some questionnaire's rows were scattered, repeats the duplicate check
    /// over all answers (sorting), keeping the first answer of each question.
    pub fn finish(mut self) -> Responses {
        if self.scattered {
            let o = &mut self.out;
            let mut order: Vec<u32> = (0..o.resp.len() as u32).collect();
            order.sort_by_key(|&i| (o.resp[i as usize], o.item[i as usize], i));
            let mut drop = vec![false; o.resp.len()];
            for w in order.windows(2) {
                let (a, b) = (w[0] as usize, w[1] as usize);
                if o.resp[a] == o.resp[b] && o.item[a] == o.item[b] {
                    drop[b] = true;
                }
            }
            let names = std::mem::take(&mut self.names);
            for i in 0..o.resp.len() {
                if drop[i] {
                    let p = &o.respondents[o.resp[i] as usize];
                    let code = &self.scheme.items[o.item[i] as usize].code;
                    o.rejected.push(Rejected {
                        file: names[o.file[i] as usize].clone(),
                        line: o.line[i],
                        column: String::new(),
                        respondent: p.id.clone(),
                        outlet: p.outlet.clone(),
                        question: code.clone(),
                        answer: answer_text(o.value[i]),
                        reason: format!(
                            "respondent answered {code} twice; the first answer is scored"
                        ),
                    });
                }
            }
            let keep: Vec<bool> = drop.iter().map(|d| !d).collect();
            o.retain_answers(&keep);
        }
        self.out
    }
}

/// The column map of one file and its running counts.
#[derive(Clone)]
pub(super) struct Sink {
    pub(super) file: u32,
    pub(super) width: usize,
    pub(super) respondent: usize,
    pub(super) outlet: Option<usize>,
    pub(super) customer: Option<usize>,
    pub(super) date: Option<usize>,
    pub(super) by: Option<usize>,
    /// Long files: the question and answer columns.
    pub(super) question: usize,
    pub(super) answer: usize,
    /// Wide files: what each column is.
    pub(super) wide: Vec<WideCol>,
    pub(super) header: Vec<String>,
    pub(super) answers: u64,
    pub(super) not_shown: u64,
    /// The last respondent id met and its index (rows of one questionnaire come together).
    pub(super) last_resp: (Vec<u8>, u32),
}

/// The cells of one row, as the CSV reader or the plain reader hands them over.
pub(super) trait Fields {
    /// Cell `i`, untrimmed; empty when the row is shorter (or the cell is not UTF-8).
    fn field(&self, i: usize) -> &str;
}

impl Fields for csv::ByteRecord {
    fn field(&self, i: usize) -> &str {
        self.get(i)
            .and_then(|c| std::str::from_utf8(c).ok())
            .unwrap_or("")
    }
}

impl Fields for [&str] {
    fn field(&self, i: usize) -> &str {
        self.get(i).copied().unwrap_or("")
    }
}

fn cell(cells: &(impl Fields + ?Sized), i: usize) -> &str {
    trim(cells.field(i))
}

/// `s.trim()`, answered at once when both ends are visible ASCII (as nearly every cell's are).
#[inline]
fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

impl Sink {
    pub(super) fn row(
        &mut self,
        imp: &mut Importer<'_>,
        line: u64,
        cells: &(impl Fields + ?Sized),
    ) {
        let file = self.file;
        let rid = cell(cells, self.respondent);
        let long = self.wide.is_empty();
        if rid.is_empty() {
            let col = self.header[self.respondent].clone();
            for (q, a) in self.answers_of(imp, cells) {
                self.answers += 1;
                imp.reject(
                    file,
                    line,
                    &col,
                    None,
                    &q,
                    &a,
                    "no respondent id: the answer cannot be attributed to a questionnaire".into(),
                );
            }
            return;
        }
        let cached = self.last_resp.1;
        let r = if cached != u32::MAX && imp.current == cached && self.last_resp.0 == rid.as_bytes()
        {
            cached
        } else {
            let r = imp.respondent(rid, file, line);
            self.last_resp = (rid.as_bytes().to_vec(), r);
            r
        };
        // The questionnaire's outlet, customer, date and person: the first value given wins;
        // a different one later rejects the row.
        let mut conflict = None;
        for (col, which) in [
            (self.outlet, 0),
            (self.customer, 1),
            (self.date, 2),
            (self.by, 3),
        ] {
            let Some(c) = col else { continue };
            let v = cell(cells, c);
            if v.is_empty() {
                continue;
            }
            let p = &mut imp.out.respondents[r as usize];
            let slot = match which {
                0 => &mut p.outlet,
                1 => &mut p.customer,
                2 => &mut p.date,
                _ => &mut p.by,
            };
            if slot.is_empty() {
                *slot = v.to_string();
            } else if slot != v && conflict.is_none() {
                conflict = Some((
                    c,
                    format!(
                        "respondent {rid} has {} {} on line {}, and {v} here; one questionnaire has one {}",
                        self.header[c], slot, p.line, self.header[c]
                    ),
                ));
            }
        }
        if let Some((c, why)) = conflict {
            let col = self.header[c].clone();
            for (q, a) in self.answers_of(imp, cells) {
                self.answers += 1;
                imp.reject(file, line, &col, Some(r), &q, &a, why.clone());
            }
            return;
        }
        if long {
            self.answers += 1;
            let q = cell(cells, self.question);
            let a = cell(cells, self.answer);
            let item = imp.scheme.by_code.get(q).map(|&i| i as u32);
            let col = &self.header[self.answer];
            imp.answer(file, line, col, r, item, q, a);
        } else {
            for (i, w) in self.wide.iter().enumerate() {
                let WideCol::Item(it) = w else { continue };
                let a = cell(cells, i);
                if a.is_empty() {
                    self.not_shown += 1;
                    continue;
                }
                self.answers += 1;
                let code = imp.scheme.items[*it as usize].code.clone();
                imp.answer(file, line, &self.header[i], r, Some(*it), &code, a);
            }
        }
    }

    /// The (question, answer) pairs of a row, for rejecting the whole row.
    fn answers_of(
        &self,
        imp: &Importer<'_>,
        cells: &(impl Fields + ?Sized),
    ) -> Vec<(String, String)> {
        if self.wide.is_empty() {
            return vec![(
                cell(cells, self.question).to_string(),
                cell(cells, self.answer).to_string(),
            )];
        }
        self.wide
            .iter()
            .enumerate()
            .filter_map(|(i, w)| match w {
                WideCol::Item(it) if !cell(cells, i).is_empty() => Some((
                    imp.scheme.items[*it as usize].code.clone(),
                    cell(cells, i).to_string(),
                )),
                _ => None,
            })
            .collect()
    }
}

fn answer_text(v: f64) -> String {
    if v.is_nan() { "N/A".into() } else { fmt(v) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The quick trim is `str::trim`, white space of every kind included.
        #[test]
        fn trim_is_str_trim(s in "[ \t\r\n\u{3000}\u{a0}\u{85}a-z0-9,满意\u{7f}]{0,6}") {
            prop_assert_eq!(super::trim(&s), s.trim());
        }
    }
}
