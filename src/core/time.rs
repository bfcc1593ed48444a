//! Dates and times: RFC 3339, relative moments like "+30d", human renderings of NumericDates.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// A time the user wrote that does not parse or does not fit; each message shows the
/// text as given and an example of what would be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("\"{0}\" is not a relative time like +30d, +12h or +1y")]
    NotRelative(String),
    #[error("\"{0}\" is out of range; use a smaller offset like +1y")]
    OutOfRange(String),
    #[error("\"{0}\" is not an RFC 3339 date-time like 2026-11-30T23:59:59Z (or use +30d)")]
    NotRfc3339(String),
    #[error("\"{0}\" is not a date like 2026-11-30")]
    NotDate(String),
}

/// A moment given either as an RFC 3339 timestamp or relative to now ("+30d", "+12h", "-1d").
#[derive(Debug, Clone)]
pub enum Moment {
    At(Timestamp),
    Relative { text: String, span: Span },
}

impl Moment {
    pub fn parse(text: &str) -> Result<Moment, TimeError> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix('+').or_else(|| text.strip_prefix('-')) {
            let span: Span = rest
                .parse()
                .map_err(|_| TimeError::NotRelative(text.to_owned()))?;
            let span = if text.starts_with('-') {
                span.negate()
            } else {
                span
            };
            return Ok(Moment::Relative {
                text: text.to_owned(),
                span,
            });
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
                .map_err(|_| TimeError::OutOfRange(text.clone())),
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
    text.parse::<Timestamp>()
        .map_err(|_| TimeError::NotRfc3339(text.to_owned()))
}

pub fn parse_date(text: &str) -> Result<jiff::civil::Date, TimeError> {
    text.trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| TimeError::NotDate(text.to_owned()))
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
    fn dates_parse() {
        assert!(parse_date("2026-11-30").is_ok());
        assert!(parse_date("30/11/2026").is_err());
    }
}
