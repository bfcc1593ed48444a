//! Human renderings: JSON with dates spelled out, lint findings, section titles.

pub use crate::core::display::json_with_dates;
use crate::core::lint::{Finding, Severity};

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

pub use crate::core::lint::summary;

pub fn findings_block(findings: &[Finding]) -> String {
    let mut out = vec![title(&format!("Lint: {}", summary(findings)))];
    if findings.is_empty() {
        out.push("  nothing a strict FAPI 2.0 server would refuse".into());
    }
    out.extend(findings.iter().map(finding));
    out.join("\n")
}
