//! When two ids are the same id: the comparison rule of outlet and customer ids across the
//! applicant's files (the outlet list, service records, include/exclude/visited lists).
//!
//! Invariant: under [`IdRule::Nfkc`] two ids are equal exactly when their [`key`]s are equal;
//! the key of an id that is plain ASCII without surrounding white space is the id itself, so
//! ordinary ids cost nothing and a lottery number, which is computed from the id as the outlet
//! list writes it, never changes because of this rule. Draws made before the rule existed
//! record no rule and replay with [`IdRule::Exact`].

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// How ids are compared. Recorded in a draw's parameters (`"ids": "nfkc"`); absent means
/// [`IdRule::Exact`], the rule of draws made before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IdRule {
    /// Byte for byte (after the reader's trimming).
    #[default]
    Exact,
    /// After removing BOMs and zero-width characters, Unicode compatibility normalisation
    /// (NFKC: full-width `ＦＷ０７９４` is `FW0794`) and trimming white space.
    Nfkc,
}

impl IdRule {
    /// The rule new draws use.
    pub const CURRENT: IdRule = IdRule::Nfkc;

    /// Whether this is [`IdRule::Exact`] (for serde's `skip_serializing_if`).
    pub fn is_exact(&self) -> bool {
        *self == IdRule::Exact
    }

    /// The comparison key of `id` under this rule.
    pub fn key<'a>(self, id: &'a str) -> Cow<'a, str> {
        match self {
            IdRule::Exact => Cow::Borrowed(id),
            IdRule::Nfkc => key(id),
        }
    }

    /// How the 抽样说明 names the rule: Chinese, then English.
    pub fn describe(self) -> &'static str {
        match self {
            IdRule::Exact => "编号逐字节比较 ids compared byte for byte",
            IdRule::Nfkc => {
                "编号经 Unicode 兼容规范化（NFKC，全角转半角）并去除首尾空白、BOM 与零宽字符后比较 ids compared after Unicode compatibility normalisation (NFKC: full width to half width), trimming, and removing BOMs and zero-width characters"
            }
        }
    }
}

/// Characters that are invisible in an id and never part of it: BOM, zero-width space,
/// joiners, word joiner.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}'
    )
}

/// The NFKC comparison key of an id (see [`IdRule::Nfkc`]).
pub fn key(id: &str) -> Cow<'_, str> {
    let plain = id.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if plain && !id.starts_with(' ') && !id.ends_with(' ') {
        return Cow::Borrowed(id);
    }
    let k: String = id.chars().filter(|&c| !invisible(c)).nfkc().collect();
    Cow::Owned(k.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn full_width_bom_and_spaces_are_the_same_id() {
        for id in [
            "ＦＷ０７９４",
            "\u{feff}FW0794",
            " FW0794\u{3000}",
            "FW\u{200b}0794",
        ] {
            assert_eq!(key(id), "FW0794", "{id:?}");
        }
        assert_eq!(key("网点０１"), "网点01");
        assert_ne!(key("FW0794"), key("FW0795"));
        assert_eq!(IdRule::Exact.key("ＦＷ１"), "ＦＷ１");
    }

    proptest! {
        /// The fast path is NFKC: an ASCII id without surrounding spaces is its own key.
        #[test]
        fn plain_ascii_is_its_own_key(id in "[!-~][ -~]{0,20}[!-~]") {
            let nfkc: String = id.nfkc().collect();
            let k = key(&id);
            prop_assert_eq!(k.as_ref(), nfkc.as_str());
            prop_assert!(matches!(key(&id), Cow::Borrowed(_)));
        }

        /// Full-width ASCII is folded to the ASCII id.
        #[test]
        fn full_width_folds(id in "[!-~]{1,20}") {
            let wide: String = id.chars().map(|c| char::from_u32(c as u32 + 0xfee0).unwrap()).collect();
            prop_assert_eq!(key(&wide), key(&id));
        }
    }
}
