//! The scoring scheme (评分方案): scale, levels, the indicator tree and the survey items.
//!
//! A scheme is a TOML file (see `gbt27922.toml`, the built-in starting scheme that
//! `svcaudit scheme show gbt27922` prints). [`Scheme::parse`] checks it completely before any
//! scoring starts, and every error names the line of the file:
//! - every id and item code is defined once;
//! - every `parent`, `group` and `indicator` points at something defined, and the tree of
//!   groups has no cycle;
//! - the points of each node's children add up to its points (categories to the scale,
//!   groups and indicators to their parent, items to their indicator), to 1e-9;
//! - item kinds carry what they need (`max` for checklist points, `levels` and `mapping` for
//!   scales; a five-level mapping needs five levels);
//! - levels rise strictly and lie within the scale.
//!
//! Invariant: a [`Scheme`] that exists is valid; the scorer never re-checks it.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

/// The text of the built-in GB/T 27922 scheme, comments included.
pub const GBT27922: &str = include_str!("gbt27922.toml");

/// Names of the built-in schemes, for `scheme show` and `--scheme`.
pub const BUILTIN: &[&str] = &["gbt27922"];

/// The text of a built-in scheme by name.
pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "gbt27922" => Some(GBT27922),
        _ => None,
    }
}

/// Where a survey item's answers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Document or on-site review by the auditor, from the findings file.
    Review,
    /// 暗访: an unannounced visit by a mystery shopper.
    MysteryVisit,
    /// 电话暗访: a mystery call to the outlet or hotline.
    MysteryCall,
    /// 顾客访问: an interview of a sampled customer.
    Interview,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Review => "review",
            Source::MysteryVisit => "mystery_visit",
            Source::MysteryCall => "mystery_call",
            Source::Interview => "interview",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Source::Review => "审核",
            Source::MysteryVisit => "暗访",
            Source::MysteryCall => "电话暗访",
            Source::Interview => "顾客访问",
        }
    }
}

/// How a satisfaction scale maps to a score in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// 很满意/满意/基本满意/不太满意/不满意 = 100/80/60/30/0 (five levels only).
    FiveLevel,
    /// `(x − min) / (max − min)`.
    Linear,
    /// 满意率: 1 when the answer is `satisfied_from` or better, else 0.
    Satisfied,
}

impl Mapping {
    pub fn as_str(self) -> &'static str {
        match self {
            Mapping::FiveLevel => "five-level 100/80/60/30/0",
            Mapping::Linear => "linear (x − min)/(max − min)",
            Mapping::Satisfied => "满意率 share satisfied",
        }
    }
}

/// What an answer to an item is and how it scores.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// 符合/不符合: 1 or 0.
    Conform,
    /// Checklist points earned out of `max`.
    Points { max: f64 },
    /// A satisfaction scale with answers `min..=min+levels−1`.
    Scale {
        levels: u32,
        min: i64,
        mapping: Mapping,
        satisfied_from: i64,
    },
    /// An integrity control question: checked against the allowed answers, never scored.
    Control,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Conform => "conform",
            Kind::Points { .. } => "points",
            Kind::Scale { .. } => "scale",
            Kind::Control => "control",
        }
    }
}

/// A level (等级) and its inclusive threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub name: String,
    pub en: String,
    pub min: f64,
}

/// A node of the indicator tree: a category, group or indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub en: String,
    pub points: f64,
    /// Index of the parent node; `None` for categories.
    pub parent: Option<usize>,
    pub level: NodeLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeLevel {
    Category,
    Group,
    Indicator,
}

impl NodeLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeLevel::Category => "category",
            NodeLevel::Group => "group",
            NodeLevel::Indicator => "indicator",
        }
    }
}

/// A scored leaf.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub code: String,
    /// Index of its indicator in [`Scheme::nodes`].
    pub indicator: usize,
    pub source: Source,
    pub kind: Kind,
    /// 0 for control questions.
    pub points: f64,
    pub text: String,
    /// Extra answers meaning "does not apply", trimmed.
    pub na: Vec<String>,
}

/// Special deductions and the bonus.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub special_deduction: f64,
    pub fail_at_special: u32,
    pub bonus: f64,
    pub bonus_max: u32,
}

/// A validated scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheme {
    pub name: String,
    pub title: String,
    pub scale: f64,
    pub rules: Rules,
    pub levels: Vec<Level>,
    /// Categories, then groups, then indicators, each in file order.
    pub nodes: Vec<Node>,
    pub items: Vec<Item>,
    /// Item index by code.
    pub by_code: foldhash::HashMap<String, usize>,
    /// SHA-256 of the scheme's text.
    pub sha256: String,
}

// ---- the file as written -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileScheme {
    scheme: Spanned<Head>,
    #[serde(default)]
    rules: Option<Spanned<FileRules>>,
    #[serde(default)]
    levels: Vec<Spanned<FileLevel>>,
    #[serde(default)]
    categories: Vec<Spanned<FileNode>>,
    #[serde(default)]
    groups: Vec<Spanned<FileNode>>,
    #[serde(default)]
    indicators: Vec<Spanned<FileNode>>,
    #[serde(default)]
    items: Vec<Spanned<FileItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    name: String,
    #[serde(default)]
    title: String,
    scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRules {
    special_deduction: Option<f64>,
    fail_at_special: Option<u32>,
    bonus: Option<f64>,
    bonus_max: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLevel {
    name: String,
    #[serde(default)]
    en: String,
    min: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNode {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    en: String,
    points: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileItem {
    code: String,
    indicator: String,
    source: Source,
    kind: String,
    #[serde(default)]
    points: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    levels: Option<u32>,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    mapping: Option<Mapping>,
    #[serde(default)]
    satisfied_from: Option<i64>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    na: Vec<String>,
}

/// Points are equal when they differ by less than this.
const EPS: f64 = 1e-9;

impl Scheme {
    /// Parses and validates a scheme; `name` is the file name used in messages.
    ///
    /// Errors: a TOML syntax error or an unknown key (with its line), and every failed check
    /// listed in the module docs, all of them at once.
    pub fn parse(name: &str, text: &str) -> Result<Scheme> {
        let file: FileScheme = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(":{}", line_at(text, s.start)))
                .unwrap_or_default();
            Error::data(format!(
                "{name}{at}: {}\nhint: start from `svcaudit scheme show gbt27922`",
                e.message().trim_end()
            ))
        })?;
        let mut v = Validator {
            name,
            text,
            problems: Vec::new(),
        };
        let scheme = v.build(file);
        if v.problems.is_empty() {
            let mut s = scheme;
            s.sha256 = crate::seed::sha256_hex(text.as_bytes());
            Ok(s)
        } else {
            Err(Error::data(format!(
                "{} problem{} in the scheme:\n{}\nhint: start from `svcaudit scheme show gbt27922`",
                v.problems.len(),
                if v.problems.len() == 1 { "" } else { "s" },
                v.problems.join("\n")
            )))
        }
    }

    /// The indicators, in file order.
    pub fn indicators(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.level == NodeLevel::Indicator)
    }

    /// The level reached by `total` (thresholds inclusive), or `None` below the first.
    pub fn level_of(&self, total: f64) -> Option<&Level> {
        self.levels.iter().rev().find(|l| total >= l.min)
    }

    /// Ancestors of node `i` including itself, nearest first.
    pub fn lineage(&self, mut i: usize) -> Vec<usize> {
        let mut out = vec![i];
        while let Some(p) = self.nodes[i].parent {
            out.push(p);
            i = p;
        }
        out
    }
}

fn line_at(text: &str, at: usize) -> u64 {
    crate::io::limits::line_of(text.as_bytes(), at.min(text.len()))
}

struct Validator<'a> {
    name: &'a str,
    text: &'a str,
    problems: Vec<String>,
}

impl Validator<'_> {
    fn at(&mut self, span: &Range<usize>, msg: String) {
        let line = line_at(self.text, span.start);
        self.problems.push(format!("{}:{line}: {msg}", self.name));
    }

    fn build(&mut self, f: FileScheme) -> Scheme {
        let head_span = f.scheme.span();
        let head = f.scheme.into_inner();
        if !(head.scale > 0.0 && head.scale.is_finite()) {
            self.at(
                &head_span,
                format!(
                    "scale must be a positive number (100 or 1000), not {}",
                    head.scale
                ),
            );
        }
        let rules = match f.rules {
            None => Rules {
                special_deduction: head.scale / 100.0,
                fail_at_special: 5,
                bonus: head.scale / 100.0,
                bonus_max: 1,
            },
            Some(r) => {
                let span = r.span();
                let r = r.into_inner();
                let out = Rules {
                    special_deduction: r.special_deduction.unwrap_or(head.scale / 100.0),
                    fail_at_special: r.fail_at_special.unwrap_or(5),
                    bonus: r.bonus.unwrap_or(head.scale / 100.0),
                    bonus_max: r.bonus_max.unwrap_or(1),
                };
                if out.special_deduction < 0.0 || out.bonus < 0.0 {
                    self.at(
                        &span,
                        "special_deduction and bonus are points, not negative".into(),
                    );
                }
                out
            }
        };

        let mut levels = Vec::new();
        for l in f.levels {
            let span = l.span();
            let l = l.into_inner();
            if !(0.0..=head.scale).contains(&l.min) {
                self.at(
                    &span,
                    format!(
                        "level {}: min {} is outside 0..={}",
                        l.name, l.min, head.scale
                    ),
                );
            }
            if let Some(prev) = levels.last().map(|p: &Level| p.min)
                && l.min <= prev
            {
                self.at(
                    &span,
                    format!(
                        "level {}: min {} must be above the level before it ({prev}); list levels lowest first",
                        l.name, l.min
                    ),
                );
            }
            levels.push(Level {
                name: l.name,
                en: l.en,
                min: l.min,
            });
        }
        if levels.is_empty() {
            self.at(
                &head_span,
                "no [[levels]]: give at least one level and its threshold".into(),
            );
        }

        // Nodes: ids unique across the three kinds.
        let mut nodes: Vec<Node> = Vec::new();
        let mut spans: Vec<Range<usize>> = Vec::new();
        let mut raw_parent: Vec<Option<String>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let kinds = [
            (NodeLevel::Category, f.categories),
            (NodeLevel::Group, f.groups),
            (NodeLevel::Indicator, f.indicators),
        ];
        for (level, list) in kinds {
            for n in list {
                let span = n.span();
                let n = n.into_inner();
                let parent = match level {
                    NodeLevel::Category => {
                        if n.parent.is_some() || n.group.is_some() {
                            self.at(
                                &span,
                                format!("category {}: a category has no parent", n.id),
                            );
                        }
                        None
                    }
                    NodeLevel::Group => {
                        if n.group.is_some() {
                            self.at(
                                &span,
                                format!(
                                    "group {}: use parent = \"…\" (a category or group), not group",
                                    n.id
                                ),
                            );
                        }
                        if n.parent.is_none() {
                            self.at(
                                &span,
                                format!(
                                    "group {}: no parent; name its category or group with parent = \"…\"",
                                    n.id
                                ),
                            );
                        }
                        n.parent
                    }
                    NodeLevel::Indicator => {
                        let p = n.group.or(n.parent);
                        if p.is_none() {
                            self.at(
                                &span,
                                format!("indicator {}: no group; name it with group = \"…\"", n.id),
                            );
                        }
                        p
                    }
                };
                if n.id.trim().is_empty() {
                    self.at(&span, format!("a {} with an empty id", level.as_str()));
                }
                if !(n.points >= 0.0 && n.points.is_finite()) {
                    self.at(
                        &span,
                        format!("{} {}: points must be 0 or more", level.as_str(), n.id),
                    );
                }
                if let Some(&first) = index.get(&n.id) {
                    let first_line = line_at(self.text, spans[first].start);
                    self.at(
                        &span,
                        format!(
                            "id {} is defined twice (first on line {first_line}); ids of categories, groups and indicators must be unique",
                            n.id
                        ),
                    );
                } else {
                    index.insert(n.id.clone(), nodes.len());
                }
                nodes.push(Node {
                    id: n.id,
                    name: n.name,
                    en: n.en,
                    points: n.points,
                    parent: None,
                    level,
                });
                spans.push(span);
                raw_parent.push(parent);
            }
        }
        // Resolve parents.
        for i in 0..nodes.len() {
            let Some(p) = raw_parent[i].clone() else {
                continue;
            };
            match index.get(&p) {
                None => {
                    let what = nodes[i].level.as_str();
                    let id = nodes[i].id.clone();
                    self.at(
                        &spans[i],
                        format!("{what} {id}: its parent {p} is not defined"),
                    );
                }
                Some(&j) => {
                    let ok = match nodes[i].level {
                        NodeLevel::Group => nodes[j].level != NodeLevel::Indicator,
                        NodeLevel::Indicator => nodes[j].level == NodeLevel::Group,
                        NodeLevel::Category => false,
                    };
                    if ok {
                        nodes[i].parent = Some(j);
                    } else {
                        let (what, id) = (nodes[i].level.as_str(), nodes[i].id.clone());
                        let pw = nodes[j].level.as_str();
                        self.at(
                            &spans[i],
                            format!(
                                "{what} {id}: its parent {p} is a {pw}; a group belongs to a category or group, an indicator to a group"
                            ),
                        );
                    }
                }
            }
        }
        // Cycles among groups: follow parents; a walk longer than the node count loops.
        let mut in_cycle = vec![false; nodes.len()];
        for start in 0..nodes.len() {
            let mut seen = vec![start];
            let mut i = start;
            while let Some(p) = nodes[i].parent {
                if p == start {
                    if !in_cycle[start] {
                        for &k in &seen {
                            in_cycle[k] = true;
                        }
                        let path: Vec<String> = seen
                            .iter()
                            .chain(std::iter::once(&start))
                            .map(|&k| {
                                format!(
                                    "{} (line {})",
                                    nodes[k].id,
                                    line_at(self.text, spans[k].start)
                                )
                            })
                            .collect();
                        self.at(
                            &spans[start],
                            format!(
                                "the groups form a cycle: {}; a group cannot contain itself",
                                path.join(" → ")
                            ),
                        );
                    }
                    break;
                }
                if seen.contains(&p) || seen.len() > nodes.len() {
                    break;
                }
                seen.push(p);
                i = p;
            }
        }
        for (i, n) in nodes.iter_mut().enumerate() {
            if in_cycle[i] {
                n.parent = None;
            }
        }

        // Items.
        let mut items: Vec<Item> = Vec::new();
        let mut item_spans: Vec<Range<usize>> = Vec::new();
        let mut by_code: foldhash::HashMap<String, usize> = foldhash::HashMap::default();
        for it in f.items {
            let span = it.span();
            let it = it.into_inner();
            let code = it.code.trim().to_string();
            if code.is_empty() {
                self.at(&span, "an item with an empty code".into());
            }
            if let Some(&first) = by_code.get(&code) {
                let first_line = line_at(self.text, item_spans[first].start);
                self.at(
                    &span,
                    format!("item {code} is defined twice (first on line {first_line})"),
                );
            }
            let indicator = match index.get(&it.indicator) {
                Some(&j) if nodes[j].level == NodeLevel::Indicator => j,
                Some(&j) => {
                    let lw = nodes[j].level.as_str();
                    self.at(
                        &span,
                        format!(
                            "item {code}: {} is a {lw}; items belong to indicators",
                            it.indicator
                        ),
                    );
                    usize::MAX
                }
                None => {
                    self.at(
                        &span,
                        format!("item {code}: its indicator {} is not defined", it.indicator),
                    );
                    usize::MAX
                }
            };
            let kind = match it.kind.as_str() {
                "conform" => Kind::Conform,
                "points" => match it.max {
                    Some(m) if m > 0.0 && m.is_finite() => Kind::Points { max: m },
                    _ => {
                        self.at(
                            &span,
                            format!(
                                "item {code}: kind = \"points\" needs max = the points possible (more than 0)"
                            ),
                        );
                        Kind::Points { max: 1.0 }
                    }
                },
                "scale" => {
                    let levels = it.levels.unwrap_or(5);
                    let min = it.min.unwrap_or(1);
                    let mapping = it.mapping.unwrap_or(Mapping::FiveLevel);
                    if levels < 2 {
                        self.at(
                            &span,
                            format!("item {code}: a scale needs at least 2 levels"),
                        );
                    }
                    if mapping == Mapping::FiveLevel && levels != 5 {
                        self.at(
                            &span,
                            format!(
                                "item {code}: mapping = \"five-level\" needs levels = 5 (it has {levels}); use \"linear\" or \"satisfied\""
                            ),
                        );
                    }
                    let top = min + i64::from(levels.max(2)) - 1;
                    let satisfied_from = it.satisfied_from.unwrap_or(top - 1);
                    if !(min..=top).contains(&satisfied_from) {
                        self.at(
                            &span,
                            format!(
                                "item {code}: satisfied_from {satisfied_from} is outside the scale {min}..={top}"
                            ),
                        );
                    }
                    Kind::Scale {
                        levels: levels.max(2),
                        min,
                        mapping,
                        satisfied_from,
                    }
                }
                "control" => Kind::Control,
                other => {
                    self.at(
                        &span,
                        format!(
                            "item {code}: unknown kind \"{other}\"; use conform, points, scale or control"
                        ),
                    );
                    Kind::Control
                }
            };
            let points = match (&kind, it.points) {
                (Kind::Control, None) => 0.0,
                (Kind::Control, Some(p)) => {
                    if p != 0.0 {
                        self.at(
                            &span,
                            format!(
                                "item {code}: a control question is never scored; remove its points"
                            ),
                        );
                    }
                    0.0
                }
                (_, Some(p)) if p > 0.0 && p.is_finite() => p,
                (_, _) => {
                    self.at(
                        &span,
                        format!("item {code}: points must be a number above 0"),
                    );
                    0.0
                }
            };
            if it.source == Source::Review && !matches!(kind, Kind::Conform | Kind::Points { .. }) {
                self.at(
                    &span,
                    format!(
                        "item {code}: a review item is conform or points (the auditor's finding), not {}",
                        kind.name()
                    ),
                );
            }
            if !by_code.contains_key(&code) {
                by_code.insert(code.clone(), items.len());
            }
            items.push(Item {
                code,
                indicator,
                source: it.source,
                kind,
                points,
                text: it.text,
                na: it.na.iter().map(|s| s.trim().to_string()).collect(),
            });
            item_spans.push(span);
        }

        // Sums: children of each node, and categories to the scale.
        let mut child_sum = vec![0.0f64; nodes.len()];
        let mut child_count = vec![0usize; nodes.len()];
        let mut cat_sum = 0.0;
        for n in &nodes {
            match n.parent {
                Some(p) => {
                    child_sum[p] += n.points;
                    child_count[p] += 1;
                }
                None if n.level == NodeLevel::Category => cat_sum += n.points,
                None => {}
            }
        }
        for it in &items {
            if it.indicator != usize::MAX {
                child_sum[it.indicator] += it.points;
                if it.kind != Kind::Control {
                    child_count[it.indicator] += 1;
                }
            }
        }
        if !nodes.is_empty() && (cat_sum - head.scale).abs() > EPS {
            self.at(
                &head_span,
                format!(
                    "the categories' points add up to {} but the scale is {}",
                    fmt_pts(cat_sum),
                    fmt_pts(head.scale)
                ),
            );
        }
        if !nodes.iter().any(|n| n.level == NodeLevel::Category) {
            self.at(
                &head_span,
                "no [[categories]]: the indicator tree is empty".into(),
            );
        }
        for (i, n) in nodes.iter().enumerate() {
            if in_cycle[i] {
                continue;
            }
            let what = n.level.as_str();
            let children = if n.level == NodeLevel::Indicator {
                "items"
            } else {
                "groups and indicators"
            };
            if child_count[i] == 0 {
                self.at(
                    &spans[i],
                    format!("{what} {}: nothing belongs to it (no {children})", n.id),
                );
            } else if (child_sum[i] - n.points).abs() > EPS {
                self.at(
                    &spans[i],
                    format!(
                        "{what} {}: has {} points but its {children} add up to {}",
                        n.id,
                        fmt_pts(n.points),
                        fmt_pts(child_sum[i])
                    ),
                );
            }
        }

        Scheme {
            name: head.name,
            title: head.title,
            scale: head.scale,
            rules,
            levels,
            nodes,
            items,
            by_code,
            sha256: String::new(),
        }
    }
}

/// Points as written: no trailing zeros.
pub fn fmt_pts(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A short summary of the scheme, for `scheme show NAME --summary`-like listings and reports.
pub fn tree_lines(s: &Scheme) -> Vec<String> {
    let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, n) in s.nodes.iter().enumerate() {
        if let Some(p) = n.parent {
            children.entry(p).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    fn walk(
        s: &Scheme,
        children: &BTreeMap<usize, Vec<usize>>,
        i: usize,
        depth: usize,
        out: &mut Vec<String>,
    ) {
        let n = &s.nodes[i];
        out.push(format!(
            "{}{} {} ({}) {}",
            "  ".repeat(depth),
            n.id,
            n.name,
            n.en,
            fmt_pts(n.points)
        ));
        for &c in children.get(&i).map(Vec::as_slice).unwrap_or(&[]) {
            walk(s, children, c, depth + 1, out);
        }
        for it in s.items.iter().filter(|it| it.indicator == i) {
            out.push(format!(
                "{}{} [{} {}] {}",
                "  ".repeat(depth + 1),
                it.code,
                it.source.as_str(),
                it.kind.name(),
                fmt_pts(it.points)
            ));
        }
    }
    for (i, n) in s.nodes.iter().enumerate() {
        if n.level == NodeLevel::Category {
            walk(s, &children, i, 0, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_is_valid_and_adds_up() {
        let s = Scheme::parse("gbt27922", GBT27922).unwrap();
        assert_eq!(s.scale, 100.0);
        assert_eq!(s.indicators().count(), 15);
        assert_eq!(s.levels.len(), 4);
        let cats: f64 = s
            .nodes
            .iter()
            .filter(|n| n.level == NodeLevel::Category)
            .map(|n| n.points)
            .sum();
        assert_eq!(cats, 100.0);
        let items: f64 = s.items.iter().map(|i| i.points).sum();
        assert!((items - 100.0).abs() < 1e-9);
        assert_eq!(s.level_of(95.0).unwrap().name, "五星级");
        assert_eq!(s.level_of(94.999_999).unwrap().name, "四星级");
        assert!(s.level_of(69.99).is_none());
    }

    fn err(text: &str) -> String {
        Scheme::parse("s.toml", text).unwrap_err().message
    }

    const BASE: &str = r#"
[scheme]
name = "t"
scale = 10

[[levels]]
name = "达标级"
min = 7

[[categories]]
id = "A"
points = 10

[[groups]]
id = "G"
parent = "A"
points = 10

[[indicators]]
id = "I"
group = "G"
points = 10

[[items]]
code = "Q1"
indicator = "I"
source = "interview"
kind = "conform"
points = 10
"#;

    #[test]
    fn small_scheme_parses() {
        let s = Scheme::parse("s.toml", BASE).unwrap();
        assert_eq!(s.items.len(), 1);
        assert_eq!(s.rules.special_deduction, 0.1);
    }

    #[test]
    fn points_that_do_not_add_up_name_the_line() {
        let e = err(&BASE.replace("points = 10\n\"#", "").replacen(
            "kind = \"conform\"\npoints = 10",
            "kind = \"conform\"\npoints = 9",
            1,
        ));
        assert!(
            e.contains("s.toml:19: indicator I: has 10 points but its items add up to 9"),
            "{e}"
        );
    }

    #[test]
    fn unknown_indicator_and_key() {
        let e = err(&BASE.replace("indicator = \"I\"", "indicator = \"X\""));
        assert!(
            e.contains("s.toml:24: item Q1: its indicator X is not defined"),
            "{e}"
        );
        let e = err(&BASE.replace(
            "source = \"interview\"",
            "source = \"interview\"\nweight = 2",
        ));
        assert!(e.contains("s.toml:"), "{e}");
        assert!(e.contains("unknown field `weight`"), "{e}");
    }

    #[test]
    fn group_cycle_is_reported() {
        let text = BASE.replace(
            "[[indicators]]",
            "[[groups]]\nid = \"H\"\nparent = \"K\"\npoints = 0\n\n[[groups]]\nid = \"K\"\nparent = \"H\"\npoints = 0\n\n[[indicators]]",
        );
        let e = err(&text);
        assert!(
            e.contains("cycle: H (line 19) → K (line 24) → H (line 19)"),
            "{e}"
        );
    }
}
