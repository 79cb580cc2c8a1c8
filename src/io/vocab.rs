//! The column vocabulary: every role a column of an input file can play, and the header names
//! that svcaudit recognises for it. Every command finds its columns through this one table,
//! and the README's table of accepted names is checked against it (tests/it/vocab.rs).
//!
//! Invariants:
//! - a role's names are listed in order of preference: when a header holds several of them,
//!   the first listed wins (and the manifest records the column used);
//! - a customer number (客户编号, `customer_id`) is the role [`CUSTOMER_NO`], a person key,
//!   never a [`RECORD_ID`]: it repeats across one customer's service records;
//! - headers are matched after [`fold`]: trimmed, a stray BOM removed, full-width ASCII folded
//!   to ASCII, letters lower-cased; a KoboToolbox group prefix (`grp/outlet_id`) is matched
//!   only where a role says so (survey results).

/// A role a column plays, with the header names that mean it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnRole {
    /// A short English key (used in manifests' `columns_used` and in messages).
    pub key: &'static str,
    /// What the column holds, English with the Chinese term, for messages and the README.
    pub what: &'static str,
    /// The files that have such a column, for the README.
    pub files: &'static str,
    /// The option that names the column explicitly, if any.
    pub flag: &'static str,
    /// Header names, in order of preference (matched after [`fold`]).
    pub names: &'static [&'static str],
}

/// The outlet id in every file that refers to outlets (service records, results, side lists).
pub const OUTLET_ID: ColumnRole = ColumnRole {
    key: "outlet",
    what: "outlet id (网点编号)",
    files: "outlet lists, service records, include/exclude/visited lists, results, people's `knows`",
    flag: "--id-col (outlet lists), --outlet-col",
    names: &[
        "outlet_id",
        "网点编号",
        "网点代码",
        "网点编码",
        "网点id",
        "门店编号",
        "门店代码",
        "服务网点编号",
        "outlet_code",
        "outlet",
    ],
};

/// Further names an outlet list's own id column may have: in a list of outlets, a bare `id`
/// is the outlet's id (in a service-record file it is the record's).
pub const OUTLET_LIST_ID: ColumnRole = ColumnRole {
    key: "id",
    what: "the outlet list's id column when none of the outlet-id names is present",
    files: "outlet lists",
    flag: "--id-col",
    names: &["id", "编号", "代码", "code"],
};

/// A service record's own id: one per row of the service records.
pub const RECORD_ID: ColumnRole = ColumnRole {
    key: "id",
    what: "service record id (工单号): one per row; optional",
    files: "service records",
    flag: "--id-col",
    names: &[
        "record_id",
        "order_id",
        "service_order_id",
        "工单号",
        "服务单号",
        "工单编号",
        "维修单号",
        "订单号",
        "记录编号",
        "id",
        "编号",
    ],
};

/// The applicant's customer number: one per customer, repeated on each of their records.
pub const CUSTOMER_NO: ColumnRole = ColumnRole {
    key: "customer_no",
    what: "customer number (客户编号): identifies a person, never a record",
    files: "service records",
    flag: "--customer-col",
    names: &[
        "customer_id",
        "customer_no",
        "customer_number",
        "客户编号",
        "顾客编号",
        "客户号",
        "客户代码",
        "会员编号",
        "用户编号",
    ],
};

pub const PHONE: ColumnRole = ColumnRole {
    key: "phone",
    what: "phone number (联系电话): the default person key",
    files: "service records",
    flag: "--phone-col",
    names: &[
        "phone",
        "mobile",
        "tel",
        "telephone",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "客户电话",
    ],
};

pub const NAME: ColumnRole = ColumnRole {
    key: "name",
    what: "customer's name (客户姓名), masked in every report",
    files: "service records",
    flag: "--name-col",
    names: &[
        "name",
        "customer_name",
        "姓名",
        "客户姓名",
        "顾客姓名",
        "联系人",
    ],
};

pub const SERVICE_DATE: ColumnRole = ColumnRole {
    key: "date",
    what: "service date (服务日期)",
    files: "service records",
    flag: "--date-col",
    names: &[
        "service_date",
        "服务日期",
        "服务时间",
        "维修日期",
        "完成日期",
        "日期",
        "date",
    ],
};

pub const SERVICE_TYPE: ColumnRole = ColumnRole {
    key: "service_type",
    what: "service type (服务类型), for --service-types",
    files: "service records",
    flag: "--type-col",
    names: &["service_type", "服务类型", "服务类别", "业务类型"],
};

pub const STATUS: ColumnRole = ColumnRole {
    key: "status",
    what: "outlet status (营业状态); closed values exclude the outlet",
    files: "outlet lists",
    flag: "--status-col",
    names: &["status", "状态", "营业状态", "网点状态"],
};

pub const REASON: ColumnRole = ColumnRole {
    key: "reason",
    what: "reason (原因) for a for-cause or excluded outlet",
    files: "include/exclude lists",
    flag: "",
    names: &["reason", "原因", "理由", "说明", "备注"],
};

pub const STRATUM: ColumnRole = ColumnRole {
    key: "stratum",
    what: "stratum (分层) of an allocation table",
    files: "--allocation FILE",
    flag: "",
    names: &["stratum", "层", "分层"],
};

pub const STRATUM_SIZE: ColumnRole = ColumnRole {
    key: "n",
    what: "a stratum's sample size (样本量) in an allocation table",
    files: "--allocation FILE",
    flag: "",
    names: &["n", "样本量", "size"],
};

/// The respondent (one questionnaire) in survey results.
pub const RESPONDENT: ColumnRole = ColumnRole {
    key: "respondent",
    what: "respondent: one questionnaire (问卷编号)",
    files: "results",
    flag: "",
    names: &[
        "response_id",
        "respondent",
        "respondent_id",
        "问卷编号",
        "答卷编号",
        "受访者编号",
        "样本编号",
        "id",
        "_uuid",
        "_id",
    ],
};

/// The outlet a questionnaire is about, in survey results (`网点` alone is accepted there).
pub const RESULT_OUTLET: ColumnRole = ColumnRole {
    key: "outlet",
    what: "outlet of a questionnaire (网点)",
    files: "results",
    flag: "",
    names: &["outlet_id", "outlet", "网点编号", "网点代码", "网点"],
};

/// The drawn customer a questionnaire is about: the `unit_id` of the customer sample.
pub const RESULT_CUSTOMER: ColumnRole = ColumnRole {
    key: "customer",
    what: "interviewed customer: the unit_id of the customer sample",
    files: "results, call outcomes",
    flag: "",
    names: &[
        "customer_id",
        "customer",
        "顾客编号",
        "客户编号",
        "unit_id",
        "工单号",
    ],
};

pub const QUESTION: ColumnRole = ColumnRole {
    key: "question",
    what: "question code (题号), long results",
    files: "results",
    flag: "",
    names: &[
        "question_code",
        "question",
        "item",
        "题号",
        "题目编号",
        "问题编号",
    ],
};

pub const ANSWER: ColumnRole = ColumnRole {
    key: "answer",
    what: "answer (答案), long results",
    files: "results",
    flag: "",
    names: &["answer", "score", "value", "答案", "回答", "得分"],
};

pub const VISIT_DATE: ColumnRole = ColumnRole {
    key: "date",
    what: "date of the visit or interview (访问日期)",
    files: "results",
    flag: "",
    names: &[
        "date",
        "visit_date",
        "日期",
        "访问日期",
        "暗访日期",
        "today",
        "submitdate",
    ],
};

pub const BY: ColumnRole = ColumnRole {
    key: "by",
    what: "who did the visit or interview (访员)",
    files: "results",
    flag: "",
    names: &[
        "by",
        "person_id",
        "shopper",
        "interviewer",
        "auditor",
        "访员",
        "暗访员",
        "访问员",
        "调查员",
    ],
};

pub const PERSON_ID: ColumnRole = ColumnRole {
    key: "person_id",
    what: "team member id (人员编号)",
    files: "people",
    flag: "",
    names: &["person_id", "id", "编号", "工号", "人员编号"],
};

pub const ROLES: ColumnRole = ColumnRole {
    key: "roles",
    what: "team member's roles (角色): auditor; shopper; interviewer",
    files: "people",
    flag: "",
    names: &["roles", "role", "角色"],
};

pub const FINDING_ITEM: ColumnRole = ColumnRole {
    key: "item",
    what: "scheme item (评分项) of an on-site finding",
    files: "findings",
    flag: "",
    names: &["item", "code", "item_code", "评分项", "项目", "编号"],
};

pub const FINDING_RESULT: ColumnRole = ColumnRole {
    key: "result",
    what: "result (判定) of an on-site finding",
    files: "findings",
    flag: "",
    names: &["result", "finding", "结果", "判定", "结论", "得分"],
};

pub const OUTCOME: ColumnRole = ColumnRole {
    key: "outcome",
    what: "call outcome (通话结果)",
    files: "call outcomes",
    flag: "",
    names: &["outcome", "result", "结果", "通话结果"],
};

/// Every role, in the order of the README's table.
pub const ALL: &[&ColumnRole] = &[
    &OUTLET_ID,
    &OUTLET_LIST_ID,
    &RECORD_ID,
    &CUSTOMER_NO,
    &PHONE,
    &NAME,
    &SERVICE_DATE,
    &SERVICE_TYPE,
    &STATUS,
    &REASON,
    &STRATUM,
    &STRATUM_SIZE,
    &RESPONDENT,
    &RESULT_OUTLET,
    &RESULT_CUSTOMER,
    &QUESTION,
    &ANSWER,
    &VISIT_DATE,
    &BY,
    &PERSON_ID,
    &ROLES,
    &FINDING_ITEM,
    &FINDING_RESULT,
    &OUTCOME,
];

/// A header name as it is compared: trimmed, a BOM removed, full-width ASCII (`ＩＤ`) and the
/// ideographic space folded to ASCII, letters lower-cased.
pub fn fold(h: &str) -> String {
    h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// The position of the first of `names` in `header` (after [`fold`]): the one alias lookup
/// (io::frame::find_column goes through it; each header is folded once).
pub fn position(header: &[String], names: &[&str]) -> Option<usize> {
    let folded: Vec<String> = header.iter().map(|h| fold(h)).collect();
    names.iter().find_map(|n| {
        let n = fold(n);
        folded.iter().position(|h| *h == n)
    })
}

/// Columns whose folded names are equal to that of column `i` (the header names one column
/// twice): their 0-based positions, `i` included, when there is more than one.
pub fn same_name(header: &[String], i: usize) -> Vec<usize> {
    let want = fold(&header[i]);
    let all: Vec<usize> = (0..header.len())
        .filter(|&j| fold(&header[j]) == want)
        .collect();
    if all.len() > 1 { all } else { Vec::new() }
}

/// Refuses a header that names the column at `i` twice (`网点编号,…,网点编号`): which of the
/// two holds the values would be a guess. `file` names the table in the message.
pub fn check_named_once(file: &str, header: &[String], i: usize) -> crate::error::Result<()> {
    let same = same_name(header, i);
    if same.is_empty() {
        return Ok(());
    }
    let cols: Vec<String> = same.iter().map(|j| (j + 1).to_string()).collect();
    Err(crate::error::Error::data(format!(
        "{file}:1:{}: the header names column `{}` {} times (columns {}); svcaudit cannot tell which one to use\nhint: rename the other columns in the export, or export only one of them",
        same[0] + 1,
        header[i],
        same.len(),
        cols.join(", ")
    )))
}

/// The README's table of roles and names (Markdown), generated from [`ALL`].
pub fn markdown_table() -> String {
    let mut s = String::from(
        "| role | in | option | accepted header names, in order of preference |\n|---|---|---|---|\n",
    );
    for r in ALL {
        let names: Vec<String> = r.names.iter().map(|n| format!("`{n}`")).collect();
        let flag = if r.flag.is_empty() { "" } else { r.flag };
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.what,
            r.files,
            flag,
            names.join(" ")
        ));
    }
    s
}

/// The roles of the service records, for `sample customers --help`.
pub fn customer_help() -> String {
    let mut s = String::from("Columns found by name (see README, \"Column names\"):\n");
    for r in [
        &RECORD_ID,
        &CUSTOMER_NO,
        &OUTLET_ID,
        &PHONE,
        &SERVICE_DATE,
        &NAME,
        &SERVICE_TYPE,
    ] {
        s.push_str(&format!("  {}: {}\n", r.what, r.names.join(", ")));
    }
    s.push_str(
        "Without a record id column, rows are named by their line (flagged.csv), and a drawn\n\
         person's unit_id is their customer number when that is the person key, else\n\
         <outlet id>-<rank> (never the phone number).",
    );
    s
}

/// The roles of an outlet list, for `sample outlets --help`.
pub fn outlet_help() -> String {
    format!(
        "Columns found by name (see README, \"Column names\"):\n  {}: {}, then {}\n  {}: {}",
        OUTLET_ID.what,
        OUTLET_ID.names.join(", "),
        OUTLET_LIST_ID.names.join(", "),
        STATUS.what,
        STATUS.names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_matches_what_exports_write() {
        assert_eq!(fold(" \u{feff}Outlet_ID "), "outlet_id");
        assert_eq!(fold("ＯＵＴＬＥＴ＿ＩＤ"), "outlet_id");
        assert_eq!(fold("网点编号\u{3000}"), "网点编号");
    }

    #[test]
    fn first_listed_name_wins_and_duplicates_are_seen() {
        let h: Vec<String> = ["编号", "工单号", "客户编号"].map(String::from).to_vec();
        assert_eq!(position(&h, RECORD_ID.names), Some(1));
        assert_eq!(position(&h, CUSTOMER_NO.names), Some(2));
        let d: Vec<String> = ["网点编号", "名称", " 网点编号"].map(String::from).to_vec();
        assert_eq!(same_name(&d, 0), vec![0, 2]);
        assert!(same_name(&d, 1).is_empty());
    }

    #[test]
    fn a_customer_number_is_never_a_record_id() {
        for n in CUSTOMER_NO.names {
            assert!(
                !RECORD_ID.names.contains(n),
                "{n} is both a customer number and a record id"
            );
        }
    }
}
