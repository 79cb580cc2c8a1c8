//! The command line: clap definitions only. Each subcommand's logic lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::sampling::Method;
use crate::sizing::Stage;

/// svcaudit: sampling, fieldwork and scoring for after-sales service certification audits
/// (售后服务认证, GB/T 27922-2011).
#[derive(Debug, Parser)]
#[command(name = "svcaudit", version, propagate_version = true)]
pub struct Cli {
    /// Print nothing but errors: no summaries, step lines or progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw a reproducible random sample (抽样).
    #[command(subcommand)]
    Sample(SampleCommand),
    /// Re-derive a drawn sample from its manifest and frame and compare (验证).
    Verify(VerifyArgs),
    /// Print a fresh random seed and its SHA-256 commitment (随机种子).
    Seed(SeedArgs),
    /// Plan the fieldwork (实地工作计划): 暗访 visits and calls, on-site reviews and
    /// customer interviews, per person and day.
    ///
    /// Examples:
    ///   svcaudit schedule --outlets reports/example-outlets --customers reports/example-customers --people data/example/people.csv --calendar data/example/calendar.csv --from 2026-12-01 --to 2027-01-29 --seed 20261122 --out reports/example-plan
    ///   svcaudit schedule --outlets draw --people team.xlsx --calendar 2027.csv --from 2027-03-01 --to 2027-03-31 --seed 7 --kinds mystery,review --previous plan-feb/visits.csv --out plan-mar
    #[command(verbatim_doc_comment)]
    Schedule(Box<ScheduleArgs>),
    /// Scoring schemes (评分方案): print the built-in one as a starting file, or check one.
    #[command(subcommand)]
    Scheme(SchemeCommand),
    /// Score the survey results (评分): indicator scores with their sampling uncertainty,
    /// the total and the level (达标/三星/四星/五星).
    ///
    /// Reads long CSVs (respondent, outlet, question, answer) and wide exports (LimeSurvey,
    /// KoboToolbox, the team's own template), checks every questionnaire against the draws
    /// and the plan (rejected.csv says why a row is not scored), and writes scores.csv,
    /// outlets.csv, rejected.csv, summary.json and report.md.
    ///
    /// Examples:
    ///   svcaudit score --responses data/example/results/interviews.csv data/example/results/mystery.csv --findings data/example/results/findings.csv --outlets reports/example-outlets --customers reports/example-customers --plan reports/example-plan --out reports/example-scores
    ///   svcaudit score --scheme my-scheme.toml --responses limesurvey.csv kobo.xlsx --out scores
    #[command(verbatim_doc_comment)]
    Score(Box<ScoreArgs>),
    /// Write a commented audit file (审核文件) to start from.
    ///
    /// Example: svcaudit init my-audit.toml
    Init(InitArgs),
    /// Run a whole audit's preparation from its audit file: the outlet draw (网点抽样), the
    /// customer draw (顾客抽样), the fieldwork plan (实地工作计划), and the HTML report and
    /// Excel workbook, all under reports/<id>/.
    ///
    /// After fieldwork, `svcaudit score AUDIT.toml` scores the results and redoes the report.
    ///
    /// Examples:
    ///   svcaudit plan data/example/audit.toml
    ///   svcaudit plan audit.toml --reports /srv/audits --lang en --force
    #[command(verbatim_doc_comment)]
    Plan(PlanArgs),
}

/// How `plan` and `score AUDIT.toml` write their reports.
#[derive(Debug, Args, Clone)]
pub struct AuditOpts {
    /// The folder that holds every audit's folder reports/<id>/ (relative to where svcaudit runs).
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub reports: PathBuf,

    /// The report's language: zh (中文, the default) or en; overrides the file's `lang`.
    #[arg(long, value_parser = ["zh", "en"])]
    pub lang: Option<String>,

    /// Accept paths in the audit file that lead outside its folder (`../`, absolute paths).
    #[arg(long)]
    pub allow_outside: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the template.
    #[arg(default_value = "audit.toml")]
    pub path: PathBuf,

    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The audit file (TOML; `svcaudit init` writes one).
    pub audit: PathBuf,

    #[command(flatten)]
    pub opts: AuditOpts,

    /// Draw and plan again over earlier outputs (each draw is recorded in the folder's ledger).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum SchemeCommand {
    /// Print a built-in scheme (gbt27922) as a commented TOML file to start from.
    ///
    /// Example: svcaudit scheme show gbt27922 > my-scheme.toml
    Show {
        /// The built-in scheme's name.
        name: String,
    },
    /// Check a scheme file and print its indicator tree; errors name the line.
    Check {
        /// The scheme file (TOML).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// An audit file: score its [score] section against the draws and plan under
    /// reports/<id>/ and redo the report (instead of --responses … --out).
    #[arg(value_name = "AUDIT.toml", conflicts_with_all = ["responses", "findings", "outlets", "customers", "plan", "out", "scheme", "date_slack", "encoding"])]
    pub audit: Option<PathBuf>,

    #[command(flatten)]
    pub audit_opts: AuditOpts,

    /// The scoring scheme: a built-in name (gbt27922) or a TOML file.
    #[arg(long, default_value = "gbt27922", value_name = "NAME|FILE")]
    pub scheme: String,

    /// Survey result files (CSV or xlsx; long or wide), any number.
    #[arg(long, required_unless_present = "audit", num_args = 1.., value_name = "FILE")]
    pub responses: Vec<PathBuf>,

    /// The auditor's findings (CSV or xlsx: item, result, note): every review item, plus a
    /// row 特别扣分 or 特别加分 per special deduction or bonus. Without it, only the
    /// fieldwork items are scored and no level is given.
    #[arg(long, value_name = "FILE")]
    pub findings: Option<PathBuf>,

    /// The outlet draw folder: questionnaires from outlets not drawn are rejected; gives the
    /// weights, strata and sampling fractions.
    #[arg(long, value_name = "DIR")]
    pub outlets: Option<PathBuf>,

    /// The customer draw folder: interviews of customers never drawn are rejected; gives
    /// the second-stage weights.
    #[arg(long, value_name = "DIR")]
    pub customers: Option<PathBuf>,

    /// The plan folder: 暗访 visits and calls not planned, by someone not assigned, or
    /// outside their date window are rejected.
    #[arg(long, value_name = "DIR")]
    pub plan: Option<PathBuf>,

    /// Days a 暗访 visit or call may lie before or after its planned date.
    #[arg(long, default_value_t = 2, value_name = "DAYS")]
    pub date_slack: i64,

    /// The result files' text encoding (default: detected; e.g. utf-8, gbk).
    #[arg(long)]
    pub encoding: Option<String>,

    /// The output folder.
    #[arg(long, value_name = "DIR", required_unless_present = "audit")]
    pub out: Option<PathBuf>,

    /// Replace the scores already in --out.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The outlet draw folder; its selected and certainty outlets are planned (not reserves).
    #[arg(long, value_name = "DIR")]
    pub outlets: PathBuf,

    /// The customer draw folder; its selected customers get call attempts.
    #[arg(long, value_name = "DIR")]
    pub customers: Option<PathBuf>,

    /// The field team: person_id, name, roles (auditor; shopper; interviewer), city,
    /// per_day, unavailable (dates or a..b ranges, `;`-separated), knows (outlet ids).
    #[arg(long, value_name = "FILE")]
    pub people: PathBuf,

    /// The working-day calendar: date, kind (holiday 休 / workday 班 for the make-up days 调休).
    #[arg(long, value_name = "FILE")]
    pub calendar: PathBuf,

    /// First day of the fieldwork window (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: String,

    /// Last day of the fieldwork window (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: String,

    /// The seed for tie-breaks (the plan is deterministic for a seed).
    #[arg(long)]
    pub seed: String,

    /// What every outlet gets: mystery (暗访 visit), call (电话暗访), review (现场审核).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "mystery,call,review"
    )]
    pub kinds: Vec<String>,

    /// Per-outlet kinds overriding --kinds: a CSV of outlet_id, kinds (`;`-separated).
    #[arg(long, value_name = "FILE")]
    pub kinds_file: Option<PathBuf>,

    /// Days between an outlet's mystery visit and its review, at least.
    #[arg(long, value_name = "DAYS", default_value_t = 3)]
    pub min_gap: i64,

    /// Call attempts per customer, on different working days and times of day.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub attempts: u32,

    /// visits.csv of earlier plans in this cycle: their shoppers do not return to the same outlets.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub previous: Vec<PathBuf>,

    /// The call loop: outcomes recorded so far (unit_id, attempt, outcome: completed, refused,
    /// wrong_number, unreachable, no_answer, busy, callback). Plans the next attempts and
    /// replaces failed customers from the reserves in order (replacements.csv); calls only.
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<PathBuf>,

    /// Output folder for visits.csv, calls.csv, calendars/, applicant_notice.csv, unplanned.csv, plan.md.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace an existing plan in --out.
    #[arg(long)]
    pub force: bool,

    /// The date the plan is made (default today; it stamps the calendars).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub drawn_on: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SampleCommand {
    /// Draw the service outlets (网点) to visit from the applicant's outlet list.
    ///
    /// Examples:
    ///   svcaudit sample outlets data/example/outlets.csv --seed 20261122 --out reports/outlets
    ///   svcaudit sample outlets list.xlsx --seed 42 --strata 省份 --reserve 2 --out draw
    ///   svcaudit sample outlets list.csv --seed 42 --stage surveillance --visited earlier/sample.csv --out s1
    #[command(verbatim_doc_comment, after_help = crate::io::vocab::outlet_help())]
    Outlets(Box<OutletArgs>),
    /// Draw customers to interview (顾客访问) from the applicant's service records.
    ///
    /// Examples:
    ///   svcaudit sample customers data/example/customers.csv --outlets reports/example-outlets --seed 20261122 --out reports/example-customers
    ///   svcaudit sample customers records.csv --seed 42 --per-outlet 5 --reserve 3 --out c
    ///   svcaudit sample customers records.csv --outlets draw --confidence 0.95 --margin 0.05 --response-rate 0.6 --since 2025-01-01 --out c
    #[command(verbatim_doc_comment, after_help = crate::io::vocab::customer_help())]
    Customers(Box<CustomerArgs>),
}

#[derive(Debug, Args)]
pub struct CustomerArgs {
    /// The service records (服务记录): CSV (UTF-8, BOM, GBK/GB18030, UTF-16) or .xlsx.
    pub frame: PathBuf,

    /// The outlet draw folder (stage 1); customers are drawn in its sampled outlets.
    /// Without it, every outlet of the records is a stratum with probability 1.
    #[arg(long, value_name = "DIR")]
    pub outlets: Option<PathBuf>,

    /// The seed: an integer or a phrase (stated in the 抽样说明).
    #[arg(long)]
    pub seed: String,

    /// Refuse the seed unless its SHA-256 equals this published commitment (hex).
    #[arg(long, value_name = "HEX")]
    pub seed_commitment: Option<String>,

    /// Output folder for sample.csv, call_sheet.csv, flagged.csv, manifest.json, justification.md.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace an existing draw in --out.
    #[arg(long)]
    pub force: bool,

    /// Interviews per sampled outlet.
    #[arg(long, value_name = "M", conflicts_with_all = ["n", "confidence", "margin"])]
    pub per_outlet: Option<u64>,

    /// Interviews in all, allocated across the sampled outlets.
    #[arg(long, value_name = "N", conflicts_with_all = ["confidence", "margin"])]
    pub n: Option<u64>,

    /// Confidence level for Cochran's size (default 0.95).
    #[arg(long, value_name = "C")]
    pub confidence: Option<f64>,

    /// Margin of error for Cochran's size (default 0.05).
    #[arg(long, value_name = "E")]
    pub margin: Option<f64>,

    /// Expected proportion for Cochran's size (default 0.5, the most cautious).
    #[arg(long, value_name = "P")]
    pub p: Option<f64>,

    /// Expected response rate in (0, 1]: contacts = ⌈n / R⌉ (default 1).
    #[arg(long, value_name = "R", default_value_t = 1.0)]
    pub response_rate: f64,

    /// Reserves (备选) per outlet, called strictly in order.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub reserve: u64,

    /// How a total size is spread over the sampled outlets: proportional or equal.
    #[arg(
        long,
        default_value = "proportional",
        value_name = "proportional|equal"
    )]
    pub allocation: String,

    /// Minimum interviews per sampled outlet for a total size.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub min_per_outlet: u64,

    /// First service date in the window (e.g. 2025-01-01).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Last service date in the window (e.g. 2025-12-31).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,

    /// Service types to include (comma-separated, e.g. 维修,安装); default: all.
    #[arg(long, value_name = "T", value_delimiter = ',')]
    pub service_types: Vec<String>,

    /// The service record id column (default: record_id, 工单号, 服务单号, …). Optional: a
    /// customer number (客户编号) is never a record id.
    #[arg(long, value_name = "COL")]
    pub id_col: Option<String>,

    /// The customer number column (default: customer_id, 客户编号, 顾客编号, …): the person
    /// key when there is no phone column.
    #[arg(long, value_name = "COL")]
    pub customer_col: Option<String>,

    /// The outlet id column (default: outlet_id, 网点编号, …).
    #[arg(long, value_name = "COL")]
    pub outlet_col: Option<String>,

    /// The service date column (default: service_date, 服务日期, …).
    #[arg(long, value_name = "COL")]
    pub date_col: Option<String>,

    /// The phone column (default: phone, 电话, 手机, 联系电话, …).
    #[arg(long, value_name = "COL")]
    pub phone_col: Option<String>,

    /// The column that identifies a person (default: the phone digits, else the customer
    /// number).
    #[arg(long, value_name = "COL")]
    pub person_key: Option<String>,

    /// The service type column (default: service_type, 服务类型, …).
    #[arg(long, value_name = "COL")]
    pub type_col: Option<String>,

    /// The customer name column (default: name, 姓名, 客户姓名, …).
    #[arg(long, value_name = "COL")]
    pub name_col: Option<String>,

    /// The frame's text encoding (default: detected).
    #[arg(long)]
    pub encoding: Option<String>,

    /// The .xlsx sheet to read (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,

    /// The header's line (CSV) or sheet row (xlsx), 1-based, when rows above it are a
    /// title (default: found; see README, "Reading the outlet list").
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_row: Option<u64>,

    /// Who draws (recorded in the manifest and 抽样说明); default: $USER.
    #[arg(long, value_name = "NAME")]
    pub drawn_by: Option<String>,

    /// Date of the draw, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    pub drawn_on: Option<String>,

    /// For tests: bytes per block of the streamed pass (default 8 MiB). The sample never
    /// depends on it.
    #[arg(long, hide = true, value_name = "BYTES")]
    pub stream_block: Option<usize>,

    /// For tests: read the blocks instead of mapping them. The sample never depends on it.
    #[arg(long, hide = true)]
    pub no_mmap: bool,

    /// For the crash test: pause this many milliseconds after each step of writing the
    /// outputs, so that a run can be killed in the middle of one.
    #[arg(long, hide = true, value_name = "MS")]
    pub commit_pause_ms: Option<u64>,
}

#[derive(Debug, Args)]
pub struct OutletArgs {
    /// The outlet list (网点清单): CSV (UTF-8, BOM, GBK/GB18030, UTF-16) or .xlsx.
    pub frame: PathBuf,

    /// The seed: an integer or a phrase (stated in the 抽样说明; `svcaudit seed` makes one).
    #[arg(long)]
    pub seed: String,

    /// Refuse the seed unless its SHA-256 equals this published commitment (hex).
    #[arg(long, value_name = "HEX")]
    pub seed_commitment: Option<String>,

    /// Output folder for sample.csv, manifest.json and justification.md.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace an existing draw in --out.
    #[arg(long)]
    pub force: bool,

    /// Selection method.
    #[arg(long, value_enum, default_value = "srs")]
    pub method: Method,

    /// Stratify by these columns (repeatable or comma-separated), e.g. --strata 省份.
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub strata: Vec<String>,

    /// How n is spread over strata: proportional, equal, or a CSV file of stratum,n.
    #[arg(
        long,
        default_value = "proportional",
        value_name = "proportional|equal|FILE"
    )]
    pub allocation: String,

    /// Minimum sample per stratum (default 1 when stratified).
    #[arg(long, value_name = "K")]
    pub min_per_stratum: Option<u64>,

    /// Size column for --method pps (e.g. 年服务量).
    #[arg(long, value_name = "COL")]
    pub size_col: Option<String>,

    /// Sort column for --method systematic (e.g. 城市).
    #[arg(long, value_name = "COL")]
    pub sort_col: Option<String>,

    /// Audit stage, which sets the square-root rule: ⌈√x⌉, ⌈0.6√x⌉, ⌈0.8√x⌉.
    #[arg(long, value_enum, default_value = "initial")]
    pub stage: Stage,

    /// Sample size; at least the rule's minimum, and above it only with --reason.
    #[arg(long, value_name = "N")]
    pub n: Option<u64>,

    /// Why the size is raised above the rule (goes into the 抽样说明).
    #[arg(long)]
    pub reason: Option<String>,

    /// Visit every outlet (initial, recertification); at surveillance, ⌈30 %⌉ of them.
    #[arg(long, conflicts_with = "n")]
    pub all: bool,

    /// Reserves (备选) per stratum, listed in the order they must be used.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub reserve: u64,

    /// Outlets chosen for cause: CSV with an id column and a reason column (原因).
    #[arg(long, value_name = "FILE")]
    pub include: Option<PathBuf>,

    /// Outlets to leave out: CSV with an id column and a reason column (原因).
    #[arg(long, value_name = "FILE")]
    pub exclude: Option<PathBuf>,

    /// Earlier samples of this certificate cycle (sample.csv or id lists); unvisited first.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub visited: Vec<PathBuf>,

    /// Draw even when the outlets chosen for cause fill a stratum's allocation, so that its
    /// other outlets have no chance of selection (π = 0); the 抽样说明 then names them and the
    /// estimates describe only the outlets with a chance. Without it such a draw is refused.
    #[arg(long)]
    pub allow_zero_coverage: bool,

    /// The unit id column (default: outlet_id, 网点编号, 网点代码, …).
    #[arg(long, value_name = "COL")]
    pub id_col: Option<String>,

    /// The status column (default: status, 状态, 营业状态).
    #[arg(long, value_name = "COL")]
    pub status_col: Option<String>,

    /// Status values meaning closed (default: closed,停业,关闭,注销).
    #[arg(long, value_name = "V", value_delimiter = ',')]
    pub closed_values: Vec<String>,

    /// The frame's text encoding (default: detected; e.g. utf-8, gbk, gb18030).
    #[arg(long)]
    pub encoding: Option<String>,

    /// The .xlsx sheet to read (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,

    /// The header's line (CSV) or sheet row (xlsx), 1-based, when rows above it are a
    /// title (default: found; see README, "Reading the outlet list").
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_row: Option<u64>,

    /// Who draws (recorded in the manifest and 抽样说明); default: $USER.
    #[arg(long, value_name = "NAME")]
    pub drawn_by: Option<String>,

    /// Date of the draw, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    pub drawn_on: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The output folder of a draw (holding manifest.json).
    pub dir: PathBuf,

    /// Use this copy of the frame (moved, or re-saved as GBK or xlsx).
    #[arg(long, value_name = "PATH")]
    pub frame: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SeedArgs {}
