//! Renderers that turn results into documents people read.

pub mod chart;
pub mod customer_files;
pub mod customers;
pub mod html;
pub mod justification;
pub mod scores;
pub mod workbook;

/// A CSV writer into memory with LF line ends, as every svcaudit CSV output is written.
pub fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}
