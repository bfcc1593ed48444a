//! Human renderings: JSON with dates spelled out, lint findings, section titles.

use jiff::Timestamp;
use serde_json::Value;

use crate::core::lint::{Finding, Severity};
use crate::core::time;

const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

/// Pretty JSON with a human date after each top-level exp, nbf and iat.
pub fn json_with_dates(value: &Value, now: Timestamp) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    pretty
        .lines()
        .map(|line| {
            let top_level = line.starts_with("  \"") && !line.starts_with("   ");
            let claim = line.trim_start().trim_start_matches('"');
            let date = TIME_CLAIMS.iter().find_map(|c| {
                let rest = claim.strip_prefix(c)?.strip_prefix("\": ")?;
                rest.trim_end_matches(',').parse::<f64>().ok()
            });
            match date {
                Some(seconds) if top_level => format!("{line}    // {}", time::human(seconds, now)),
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn title(text: &str) -> String {
    let rule = "─".repeat(72usize.saturating_sub(text.chars().count() + 4));
    format!("── {text} {rule}")
}

pub fn finding(f: &Finding) -> String {
    let label = match f.severity {
        Severity::Error => "error  ",
        Severity::Warning => "warning",
        Severity::Info => "info   ",
    };
    format!(
        "  {label} {}\n          {}\n          [{}]",
        f.id, f.message, f.reference
    )
}

pub fn summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "{} errors, {} warnings, {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )
}

pub fn findings_block(findings: &[Finding]) -> String {
    let mut out = vec![title(&format!("Lint: {}", summary(findings)))];
    if findings.is_empty() {
        out.push("  nothing a strict FAPI 2.0 server would refuse".into());
    }
    out.extend(findings.iter().map(finding));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_times_get_a_human_date() {
        let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
        let t = now.as_second();
        let text = json_with_dates(&json!({"exp": t + 300, "x": {"exp": 1}, "nbf": t}), now);
        assert!(text.contains(&format!(
            "\"exp\": {},    // 2026-01-30 10:05:00 UTC, in 5m",
            t + 300
        )));
        assert!(text.contains(&format!("\"nbf\": {t}    // 2026-01-30 10:00:00 UTC, now")));
        assert!(text.contains("\"exp\": 1\n"));
    }
}
