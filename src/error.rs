//! Errors as values with a location and a hint, mapped to the exit codes of the contract.
//!
//! Exit codes (CONTRACT.md): 0 success; 1 a data, input or verification failure; 2 a usage
//! error. Every message a user sees is built here or by the reader that found the problem, and
//! names the file, line and column where it applies.

use std::fmt;

/// What went wrong, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input data, an I/O failure or a sample that does not verify: exit code 1.
    Data,
    /// A bad combination or value of command-line options: exit code 2.
    Usage,
}

/// An error message ready for the user, with its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn data(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Data,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Usage,
            message: message.into(),
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Data => 1,
            ErrorKind::Usage => 2,
        }
    }

    /// An I/O error on `path`, worded for the user.
    pub fn io(path: &std::path::Path, what: &str, err: &std::io::Error) -> Self {
        Error::data(format!("{}: cannot {what}: {err}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Collects located problems (one per bad row or cell) and turns them into one error that
/// lists the first [`Problems::CAP`] of them, the number left out, and a hint.
#[derive(Debug, Default)]
pub struct Problems {
    items: Vec<String>,
    total: usize,
}

impl Problems {
    /// How many problems one error message lists before it says "and N more".
    pub const CAP: usize = 50;

    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, message: impl Into<String>) {
        self.total += 1;
        if self.items.len() < Self::CAP {
            self.items.push(message.into());
        }
    }

    /// Counts `n` further problems without listing them.
    pub fn add_more(&mut self, n: usize) {
        self.total += n;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn len(&self) -> usize {
        self.total
    }

    /// `Ok(())` when nothing was pushed, else a data error listing the problems and `hint`.
    pub fn into_result(self, hint: &str) -> Result<()> {
        if self.total == 0 {
            return Ok(());
        }
        let mut msg = self.items.join("\n");
        if self.total > self.items.len() {
            msg.push_str(&format!(
                "\n… and {} more problems of this kind",
                self.total - self.items.len()
            ));
        }
        if !hint.is_empty() {
            msg.push_str("\nhint: ");
            msg.push_str(hint);
        }
        Err(Error::data(msg))
    }
}
