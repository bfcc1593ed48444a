//! The report as Markdown, to attach to a ticket with the bank's support: the same rows as
//! `--json`, a table a person reads.

use super::Report;
use super::verdict::Row;

/// A table cell: one line, no pipe to break the table, outside text made printable.
fn cell(text: &str) -> String {
    crate::core::printable::printable_line(text)
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn got_text(row: &Row) -> String {
    let got = &row.got;
    let mut parts = Vec::new();
    if let Some(status) = got.status {
        parts.push(status.to_string());
    }
    if got.accepted {
        parts.push("accepted".into());
    }
    if let Some(error) = &got.error {
        parts.push(format!("`{}`", cell(error)));
    }
    if let Some(description) = &got.error_description {
        parts.push(cell(description));
    }
    if let Some(note) = &got.note {
        parts.push(format!("({})", cell(note)));
    }
    parts.join(" ")
}

fn expected_text(row: &Row) -> String {
    let e = &row.expected;
    match e.error {
        Some(error) => format!("{} `{error}`", e.outcome),
        None => e.outcome.to_owned(),
    }
}

pub fn markdown(report: &Report) -> String {
    let mut out = format!(
        "# FAPI 2.0 probe of {}\n\nProfile `{}`. Target `{}`.\n\n**{}**\n\n",
        cell(&report.target),
        cell(&report.profile),
        cell(&report.target),
        cell(&report.summary.line())
    );
    if let Some(stop) = &report.summary.stopped {
        out.push_str(&format!("Stopped early: {}\n\n", cell(&stop.to_string())));
    }
    if report.summary.closing_control_refused {
        out.push_str("The closing control was refused: the server may have started refusing this client, so late verdicts may be wrong.\n\n");
    }
    out.push_str("| case | changed | expected | reference | got | verdict | x-fapi-interaction-id |\n|---|---|---|---|---|---|---|\n");
    for row in &report.rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | **{}** | {} |\n",
            row.id,
            cell(row.changes),
            expected_text(row),
            cell(&row.expected.reference),
            got_text(row),
            row.verdict,
            row.got
                .interaction_id
                .as_deref()
                .map_or("(none sent)".to_owned(), |id| format!("`{}`", cell(id)))
        ));
    }
    out
}
