//! The data files of a customer draw: sample.csv (names and phones masked), call_sheet.csv
//! (the only file with full personal data, for the interviewers) and flagged.csv.
//!
//! Invariant: the bytes depend only on the draw (no clock, no environment), so `verify`
//! re-renders them from a replayed draw and compares byte for byte.

use crate::customers::CustomerDraw;
use crate::customers::fields::{date_of, mask_name, mask_phone};
use crate::report::csv_writer as writer;

/// The three data outputs of a draw.
pub struct Rendered {
    pub sample: Vec<u8>,
    pub call_sheet: Vec<u8>,
    pub flagged: Vec<u8>,
}

/// sample.csv (masked), call_sheet.csv (full personal data) and flagged.csv.
pub fn render(d: &CustomerDraw) -> Rendered {
    std::thread::scope(|s| {
        // sample.csv on one core, the call sheet and the flagged rows on the other.
        let sample = s.spawn(|| render_sample(d));
        let (call_sheet, flagged) = render_call_sheet(d);
        Rendered {
            sample: sample.join().expect("rendering sample.csv"),
            call_sheet,
            flagged,
        }
    })
}

/// Writes one field of the record being written (to memory, which cannot fail).
fn field(w: &mut csv::Writer<Vec<u8>>, v: impl AsRef<[u8]>) {
    w.write_field(v).expect("memory");
}

/// Writes a formatted number as one field, through the reused buffer `buf`.
fn number(w: &mut csv::Writer<Vec<u8>>, buf: &mut String, v: std::fmt::Arguments) {
    use std::fmt::Write;
    buf.clear();
    buf.write_fmt(v).expect("memory");
    field(w, buf.as_bytes());
}

/// Ends the record whose fields [`field`] and [`number`] wrote.
fn end_record(w: &mut csv::Writer<Vec<u8>>) {
    w.write_record(None::<&[u8]>).expect("memory");
}

/// sample.csv: every drawn person, names and phones masked.
fn render_sample(d: &CustomerDraw) -> Vec<u8> {
    let c = &d.rules.cols;
    let header = &d.scan.header;
    let mut w = writer();
    let mut h: Vec<&str> = vec![
        "unit_id",
        "stratum",
        "outlet_id",
        "role",
        "rank",
        "prn",
        "inclusion_prob",
        "weight",
    ];
    h.extend(header.iter().map(String::as_str));
    w.write_record(&h).expect("memory");
    // Field by field, numbers through one buffer: no string is made per cell.
    let mut num = String::new();
    for r in &d.rows {
        field(&mut w, d.unit_id(r).as_bytes());
        field(&mut w, &r.stratum);
        field(&mut w, &r.outlet);
        field(&mut w, r.role.as_str());
        number(&mut w, &mut num, format_args!("{}", r.rank));
        number(&mut w, &mut num, format_args!("{}", r.person.prn.u()));
        number(&mut w, &mut num, format_args!("{}", r.pi));
        if r.pi > 0.0 {
            number(&mut w, &mut num, format_args!("{}", 1.0 / r.pi));
        } else {
            field(&mut w, "");
        }
        for (i, v) in r.cells.iter().enumerate() {
            // A person key other than the phone (an ID card number, say) is masked too; a
            // customer number is not personal data and stays readable.
            let key = i == c.person && Some(i) != c.id && Some(i) != c.customer;
            if Some(i) == c.phone || key {
                field(&mut w, mask_phone(v));
            } else if Some(i) == c.name {
                field(&mut w, mask_name(v));
            } else {
                field(&mut w, v);
            }
        }
        end_record(&mut w);
    }
    w.into_inner().expect("memory")
}

/// call_sheet.csv (full names and phones, in call order) and flagged.csv.
fn render_call_sheet(d: &CustomerDraw) -> (Vec<u8>, Vec<u8>) {
    let c = &d.rules.cols;
    let header = &d.scan.header;
    let mut w = writer();
    let skip: Vec<usize> = [c.id, Some(c.outlet), c.name, c.phone]
        .into_iter()
        .flatten()
        .collect();
    let mut h: Vec<String> = [
        "outlet_id",
        "call_order",
        "role",
        "unit_id",
        "name",
        "phone",
        "last_service",
        "outlets_served",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(
        header
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, s)| s.clone()),
    );
    w.write_record(&h).expect("memory");
    let mut rows: Vec<&crate::customers::CustomerRow> = d.rows.iter().collect();
    rows.sort_by(|a, b| (&a.outlet, a.rank).cmp(&(&b.outlet, b.rank)));
    let mut num = String::new();
    for r in rows {
        field(&mut w, &r.outlet);
        number(&mut w, &mut num, format_args!("{}", r.rank));
        field(&mut w, r.role.as_str());
        field(&mut w, d.unit_id(r).as_bytes());
        field(&mut w, c.name.map_or("", |i| r.cells[i].as_str()));
        field(&mut w, c.phone.map_or("", |i| r.cells[i].as_str()));
        number(&mut w, &mut num, format_args!("{}", date_of(r.person.date)));
        number(&mut w, &mut num, format_args!("{}", r.person.outlets_seen));
        for (i, v) in r.cells.iter().enumerate() {
            if !skip.contains(&i) {
                field(&mut w, v);
            }
        }
        end_record(&mut w);
    }
    let call_sheet = w.into_inner().expect("memory");

    let mut w = writer();
    w.write_record(["line", "column", "column_name", "reason", "value"])
        .expect("memory");
    for f in &d.scan.flags {
        w.write_record([
            f.line.to_string(),
            f.column.to_string(),
            header.get(f.column - 1).cloned().unwrap_or_default(),
            f.reason.to_string(),
            f.value.clone(),
        ])
        .expect("memory");
    }
    let flagged = w.into_inner().expect("memory");
    (call_sheet, flagged)
}
