//! The working-day calendar (工作日历): weekends are days off, except the make-up working
//! days (调休) the user lists; public holidays (法定节假日) the user lists are days off. The
//! State Council publishes each year's holidays and make-up days; the user provides them as
//! a CSV, since they cannot be computed.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

/// Holidays and make-up working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    pub holidays: BTreeSet<NaiveDate>,
    pub workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Whether offices work on `d`: a listed make-up day, or a weekday that is not a holiday.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !is_weekend(d) && !self.holidays.contains(&d)
    }

    /// Whether `d` is a day off for most customers (weekend or holiday, not a make-up day):
    /// mystery visits are spread between such days and working days.
    pub fn is_day_off(&self, d: NaiveDate) -> bool {
        !self.is_working_day(d)
    }
}

pub fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// What a calendar row says about its date, from the words users write.
pub fn day_kind(word: &str) -> Option<bool> {
    // Some(true): a working day; Some(false): a holiday.
    match word.trim().to_lowercase().as_str() {
        "holiday" | "off" | "休" | "假" | "休息" | "放假" | "节假日" | "法定节假日" => {
            Some(false)
        }
        "workday" | "work" | "working" | "班" | "上班" | "调休" | "调休上班" | "补班"
        | "工作日" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekends_holidays_and_make_up_days() {
        let c = Calendar {
            holidays: [d("2027-01-01")].into(),
            workdays: [d("2026-12-27")].into(),
        };
        assert!(c.is_working_day(d("2026-12-31"))); // Thursday
        assert!(!c.is_working_day(d("2027-01-01"))); // Friday, a holiday
        assert!(!c.is_working_day(d("2027-01-02"))); // Saturday
        assert!(c.is_working_day(d("2026-12-27"))); // Sunday, a make-up day
        assert_eq!(day_kind("调休上班"), Some(true));
        assert_eq!(day_kind("Holiday"), Some(false));
        assert_eq!(day_kind("maybe"), None);
    }
}
