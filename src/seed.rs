//! Seeds: parsing into a canonical form, SHA-256 commitments and fresh seeds.
//!
//! A seed is an integer or a phrase. Its canonical form is the trimmed text, with leading
//! zeros removed when it is all ASCII digits, so `42`, `0042` and ` 42 ` are one seed. The
//! commitment is the SHA-256 of the canonical text (`printf %s SEED | sha256sum`), which a
//! planner can publish before the draw; a draw given `--seed-commitment` refuses a seed that
//! does not match it.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A validated seed in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed(String);

impl Seed {
    /// Parses a seed given by the user; empty seeds and control characters are usage errors.
    pub fn parse(text: &str) -> Result<Seed> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::usage(
                "--seed: the seed is empty; give an integer or a phrase (svcaudit seed prints a fresh one)",
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(Error::usage(
                "--seed: the seed contains a control character (tab, newline …); use printable text",
            ));
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            let stripped = t.trim_start_matches('0');
            let s = if stripped.is_empty() { "0" } else { stripped };
            return Ok(Seed(s.to_string()));
        }
        Ok(Seed(t.to_string()))
    }

    /// The canonical seed text (UTF-8), as used for keys and commitments.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256 of the canonical text.
    pub fn commitment(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }

    /// Checks a published commitment (hex, any case, surrounding spaces ignored).
    pub fn check_commitment(&self, commitment: &str) -> Result<()> {
        let c = commitment.trim().to_ascii_lowercase();
        if c.len() != 64 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::usage(format!(
                "--seed-commitment: `{commitment}` is not a SHA-256 in hex (64 hex digits)"
            )));
        }
        if c != self.commitment() {
            return Err(Error::data(format!(
                "the seed does not match the published commitment\n  commitment given: {c}\n  SHA-256 of seed:  {}\nhint: use the seed that was committed to; a draw with another seed is not the announced draw",
                self.commitment()
            )));
        }
        Ok(())
    }

    /// A fresh 128-bit seed from the operating system's entropy, as a decimal integer.
    pub fn fresh() -> Seed {
        use rand::TryRng;
        let mut bytes = [0u8; 16];
        rand::rngs::SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random source failed");
        Seed(u128::from_le_bytes(bytes).to_string())
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(Seed::parse("0042").unwrap().canonical(), "42");
        assert_eq!(Seed::parse("000").unwrap().canonical(), "0");
        assert_eq!(
            Seed::parse(" 春季审核 2026 ").unwrap().canonical(),
            "春季审核 2026"
        );
        assert!(Seed::parse("  ").is_err());
        assert!(Seed::parse("a\tb").is_err());
    }

    #[test]
    fn commitment_is_plain_sha256_of_the_text() {
        // printf %s 42 | sha256sum
        assert_eq!(
            Seed::parse("42").unwrap().commitment(),
            "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049"
        );
        let s = Seed::parse("42").unwrap();
        assert!(s.check_commitment(&s.commitment().to_uppercase()).is_ok());
        assert!(s.check_commitment(&"0".repeat(64)).is_err());
    }

    #[test]
    fn fresh_seeds_differ() {
        assert_ne!(Seed::fresh(), Seed::fresh());
    }
}
