//! Dates and times: RFC 3339, relative moments like "+30d", human renderings of NumericDates.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// A time the user wrote that does not parse or does not fit; each message shows the
/// text as given and an example of what would be taken. A value that is well formed but names
/// no real moment in range is `OutOfRange`, never a syntax error: the fix is a different number,
/// not a different format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("\"{0}\" is not a relative time like +30d, +12h or +1y")]
    NotRelative(String),
    #[error(
        "\"{0}\" is out of range: it lands outside the years {FIRST_YEAR} to {LAST_YEAR}; use a smaller offset like +1y"
    )]
    OutOfRange(String),
    #[error(
        "\"{0}\" is out of range: the month must be 1 to 12, the day must exist in its month, a time of day must be a real one, and the year {FIRST_YEAR} to {LAST_YEAR}"
    )]
    DateOutOfRange(String),
    #[error("\"{0}\" is out of range: the year must be {FIRST_YEAR} to {LAST_YEAR}")]
    YearOutOfRange(String),
    #[error("\"{0}\" is not an RFC 3339 date-time like 2026-11-30T23:59:59Z (or use +30d)")]
    NotRfc3339(String),
    #[error("\"{0}\" is not a date like 2026-11-30")]
    NotDate(String),
}

/// Consent dates are NumericDates or RFC 3339 strings with four-digit years: nothing before the
/// epoch or past 9999 can be sent.
pub const FIRST_YEAR: i16 = 1970;
pub const LAST_YEAR: i16 = 9999;

/// Whether `text` failed only because of its numbers: the same text with every number made
/// small (and a long leading year cut to four digits) parses.
fn only_numbers_wrong(text: &str, parses: impl Fn(&str) -> bool) -> bool {
    let mut probe = String::with_capacity(text.len());
    let mut first_run = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            probe.push(c);
            continue;
        }
        let mut run = 1;
        while chars.next_if(char::is_ascii_digit).is_some() {
            run += 1;
        }
        let width = if first_run { run.min(4) } else { run };
        probe.extend(std::iter::repeat_n('1', width));
        first_run = false;
    }
    parses(&probe)
}

fn in_range(ts: Timestamp) -> bool {
    let year = ts.to_zoned_datetime(TimeZone::UTC).year();
    (FIRST_YEAR..=LAST_YEAR).contains(&year)
}

/// A moment given either as an RFC 3339 timestamp or relative to now ("+30d", "+12h", "-1d").
#[derive(Debug, Clone)]
pub enum Moment {
    At(Timestamp),
    Relative { text: String, span: Span },
}

impl Moment {
    /// A relative moment is also resolved against the current time here, so a range problem
    /// is reported where the value was written (a profile line, a flag), not later at build.
    pub fn parse(text: &str) -> Result<Moment, TimeError> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix('+').or_else(|| text.strip_prefix('-')) {
            let span: Span = rest.parse().map_err(|_| {
                if only_numbers_wrong(rest, |t| t.parse::<Span>().is_ok()) {
                    TimeError::OutOfRange(text.to_owned())
                } else {
                    TimeError::NotRelative(text.to_owned())
                }
            })?;
            let span = if text.starts_with('-') {
                span.negate()
            } else {
                span
            };
            let moment = Moment::Relative {
                text: text.to_owned(),
                span,
            };
            moment.resolve(Timestamp::now())?;
            return Ok(moment);
        }
        parse_rfc3339(text).map(Moment::At)
    }

    pub fn resolve(&self, now: Timestamp) -> Result<Timestamp, TimeError> {
        match self {
            Moment::At(ts) => Ok(*ts),
            Moment::Relative { text, span } => now
                .to_zoned_datetime(TimeZone::UTC)
                .checked_add(*span)
                .map(|z| z.timestamp())
                .ok()
                .filter(|ts| in_range(*ts))
                .ok_or_else(|| TimeError::OutOfRange(text.clone())),
        }
    }
}

impl PartialEq for Moment {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Moment::At(a), Moment::At(b)) => a == b,
            (Moment::Relative { span: a, .. }, Moment::Relative { span: b, .. }) => {
                a.fieldwise() == b.fieldwise()
            }
            _ => false,
        }
    }
}

pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
    let out_of_range = || TimeError::DateOutOfRange(text.to_owned());
    match text.parse::<Timestamp>() {
        Ok(ts) if in_range(ts) => Ok(ts),
        Ok(_) => Err(TimeError::YearOutOfRange(text.to_owned())),
        Err(_) if only_numbers_wrong(text, |t| t.parse::<Timestamp>().is_ok()) => {
            Err(out_of_range())
        }
        Err(_) => Err(TimeError::NotRfc3339(text.to_owned())),
    }
}

pub fn parse_date(text: &str) -> Result<jiff::civil::Date, TimeError> {
    let trimmed = text.trim();
    let out_of_range = || TimeError::DateOutOfRange(text.to_owned());
    match trimmed.parse::<jiff::civil::Date>() {
        Ok(date) if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) => Ok(date),
        Ok(_) => Err(TimeError::YearOutOfRange(text.to_owned())),
        Err(_) if only_numbers_wrong(trimmed, |t| t.parse::<jiff::civil::Date>().is_ok()) => {
            Err(out_of_range())
        }
        Err(_) => Err(TimeError::NotDate(text.to_owned())),
    }
}

/// Whole seconds, truncated: what a NumericDate or a consent date can carry.
pub fn whole_seconds(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

/// RFC 3339 in UTC with whole seconds, as the consent APIs expect: 2026-11-30T23:59:59Z.
pub fn rfc3339_seconds(ts: Timestamp) -> String {
    whole_seconds(ts).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn from_epoch(seconds: f64) -> Option<Timestamp> {
    Timestamp::from_nanosecond((seconds * 1e9) as i128).ok()
}

/// "2026-01-30 10:36:58 UTC, in 5m 10s" for a NumericDate beside `now`.
pub fn human(seconds: f64, now: Timestamp) -> String {
    let Some(ts) = from_epoch(seconds) else {
        return "out of range".into();
    };
    let when = whole_seconds(ts).strftime("%Y-%m-%d %H:%M:%S UTC");
    let delta = ts.as_second() - now.as_second();
    let relative = if delta == 0 {
        "now".to_owned()
    } else if delta > 0 {
        format!("in {}", short_duration(delta))
    } else {
        format!("{} ago", short_duration(-delta))
    };
    format!("{when}, {relative}")
}

/// 310 -> "5m 10s", 90061 -> "1d 1h 1m 1s".
pub fn short_duration(mut seconds: i64) -> String {
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            parts.push(format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-01-30T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn relative_and_absolute_moments() {
        let plus = Moment::parse("+30d").unwrap().resolve(now()).unwrap();
        assert_eq!(rfc3339_seconds(plus), "2026-03-01T10:00:00Z");
        let minus = Moment::parse("-1d").unwrap().resolve(now()).unwrap();
        assert_eq!(rfc3339_seconds(minus), "2026-01-29T10:00:00Z");
        let year = Moment::parse("+1y").unwrap().resolve(now()).unwrap();
        assert_eq!(rfc3339_seconds(year), "2027-01-30T10:00:00Z");
        let at = Moment::parse("2026-11-30T23:59:59Z").unwrap();
        assert_eq!(
            rfc3339_seconds(at.resolve(now()).unwrap()),
            "2026-11-30T23:59:59Z"
        );
        assert!(Moment::parse("tomorrow").is_err());
        assert!(Moment::parse("+soon").is_err());
        assert!(Moment::parse("2026-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn human_dates_say_how_far() {
        let now = now();
        let t = now.as_second() as f64;
        assert_eq!(human(t + 310.0, now), "2026-01-30 10:05:10 UTC, in 5m 10s");
        assert_eq!(human(t - 60.0, now), "2026-01-30 09:59:00 UTC, 1m ago");
        assert_eq!(short_duration(90_061), "1d 1h 1m 1s");
    }

    #[test]
    fn range_problems_are_out_of_range_not_syntax() {
        let out = |r: Result<Moment, TimeError>| {
            matches!(
                r,
                Err(TimeError::OutOfRange(_)
                    | TimeError::DateOutOfRange(_)
                    | TimeError::YearOutOfRange(_))
            )
        };
        for text in [
            "+999999y",
            "+10000y",
            "-100y",
            "2026-13-40T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T25:00:00Z",
            "1960-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "12026-01-01T00:00:00Z",
        ] {
            assert!(
                out(Moment::parse(text)),
                "{text}: {:?}",
                Moment::parse(text)
            );
        }
        for text in ["+30 bananas", "+soon", "tomorrow", "2026-1x-01T00:00:00Z"] {
            assert!(!out(Moment::parse(text)), "{text}");
            assert!(Moment::parse(text).is_err(), "{text}");
        }
        assert!(matches!(
            parse_date("2026-13-40"),
            Err(TimeError::DateOutOfRange(_))
        ));
        assert!(matches!(
            parse_date("1900-01-01"),
            Err(TimeError::YearOutOfRange(_))
        ));
        assert!(matches!(parse_date("soon"), Err(TimeError::NotDate(_))));
        assert!(
            Moment::parse("+999999y")
                .unwrap_err()
                .to_string()
                .contains("out of range")
        );
    }

    #[test]
    fn dates_parse() {
        assert!(parse_date("2026-11-30").is_ok());
        assert!(parse_date("30/11/2026").is_err());
    }
}
