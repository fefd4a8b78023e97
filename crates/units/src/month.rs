//! Calendar months (`YYYY-MM`): the time step of every timeline.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar month. Ordered, and convertible to a month index for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    index: i32,
}

/// Why a month string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", if *.out_of_range { format!("`{}` is outside the years 1900 to 2200 this tool plans in", .text) } else { format!("`{}` is not a month: write it as YYYY-MM, for example 2026-07", .text) })]
pub struct MonthError {
    /// The text that was refused.
    pub text: String,
    /// The text is a month, but its year is outside 1900..=2200.
    pub out_of_range: bool,
}

impl Month {
    /// The month `month` (1..=12) of `year`, or `None` if `month` is out of range.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        if !(1..=12).contains(&month) || !(1900..=2200).contains(&year) {
            return None;
        }
        Some(Month {
            index: year * 12 + month as i32 - 1,
        })
    }

    /// Calendar year.
    pub fn year(self) -> i32 {
        self.index.div_euclid(12)
    }

    /// Month of the year, 1..=12.
    pub fn month(self) -> u32 {
        self.index.rem_euclid(12) as u32 + 1
    }

    /// The month `n` months later (earlier when `n` is negative).
    pub fn plus(self, n: i32) -> Month {
        Month {
            index: self.index + n,
        }
    }

    /// Months from `earlier` to `self` (negative when `earlier` is later).
    pub fn months_since(self, earlier: Month) -> i32 {
        self.index - earlier.index
    }

    /// Parses `YYYY-MM`, or the month of a `YYYY-MM-DD` date.
    pub fn parse_lenient(text: &str) -> Result<Month, MonthError> {
        let err = || MonthError {
            text: text.to_string(),
            out_of_range: false,
        };
        let mut parts = text.trim().split('-');
        let year: i32 = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        let month: u32 = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        if let Some(day) = parts.next() {
            let day: u32 = day.parse().map_err(|_| err())?;
            if !(1..=31).contains(&day) {
                return Err(err());
            }
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Month::new(year, month).ok_or_else(err)
    }
}

impl FromStr for Month {
    type Err = MonthError;

    /// Parses exactly `YYYY-MM`.
    fn from_str(text: &str) -> Result<Month, MonthError> {
        let err = || MonthError {
            text: text.to_string(),
            out_of_range: false,
        };
        let (year, month) = text.split_once('-').ok_or_else(err)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(err());
        }
        let year: i32 = year.parse().map_err(|_| err())?;
        let month: u32 = month.parse().map_err(|_| err())?;
        if (1..=12).contains(&month) && !(1900..=2200).contains(&year) {
            return Err(MonthError {
                text: text.to_string(),
                out_of_range: true,
            });
        }
        Month::new(year, month).ok_or_else(err)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Month, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let m: Month = "2026-07".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2026, 7));
        assert_eq!(m.to_string(), "2026-07");
    }

    #[test]
    fn arithmetic_crosses_year_boundaries() {
        let m: Month = "2026-11".parse().unwrap();
        // November + 3 months = February of the next year.
        assert_eq!(m.plus(3).to_string(), "2027-02");
        assert_eq!(m.plus(-11).to_string(), "2025-12");
        assert_eq!(m.plus(3).months_since(m), 3);
    }

    #[test]
    fn refuses_malformed_months() {
        for bad in [
            "2026-13", "2026-00", "26-07", "2026/07", "2026-7", "july", "",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn lenient_parse_takes_dates() {
        assert_eq!(
            Month::parse_lenient("2025-09-22").unwrap().to_string(),
            "2025-09"
        );
        assert!(Month::parse_lenient("2025-09-42").is_err());
    }
}
