//! One flow as Markdown for a ticket with the bank: each step's request and response, the
//! JWTs decoded, lint at the time, timings and interaction ids. Built from recorded (so
//! redacted) exchanges only.

use std::fmt::Write;

use super::{Entry, FlowSummary, RecordedBody};
use crate::core::time::rfc3339_seconds;

fn fenced(out: &mut String, lang: &str, text: &str) {
    // A fence longer than any backtick run inside, so the body cannot close it.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{fence}{lang}\n{text}\n{fence}\n");
}

fn body_block(out: &mut String, body: &RecordedBody) {
    match body {
        RecordedBody::Form(fields) => {
            let text: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            fenced(out, "", &text.join("\n"));
        }
        RecordedBody::Json(v) => fenced(
            out,
            "json",
            &serde_json::to_string_pretty(v).unwrap_or_default(),
        ),
        RecordedBody::Text(t) => fenced(out, "", t),
    }
}

fn headers_block(out: &mut String, headers: &[(String, String)]) {
    if headers.is_empty() {
        return;
    }
    let text: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    fenced(out, "http", &text.join("\n"));
}

/// The report of one flow.
pub fn markdown(flow: &FlowSummary, entries: &[Entry]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Flow {} (profile {})\n\nStarted {}. Recorded by consent-explorer {}. Secrets (client assertion, request object, code, code_verifier, nonce, tokens, DPoP proofs, signatures) are shown as named placeholders such as `{{{{code}}}}`: they were never stored.\n",
        flow.id,
        flow.profile,
        rfc3339_seconds(flow.started_at),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "| # | step | request | status | time | interaction id |\n|---|---|---|---|---|---|"
    );
    for e in entries {
        let f = e.exchange.fields();
        let _ = writeln!(
            out,
            "| {} | {} | `{} {}` | {} | {:.0} ms | `{}` |",
            e.summary.id,
            f.step.as_str(),
            f.method,
            f.url.replace('|', "%7C"),
            f.status.map_or("-".to_owned(), |s| s.to_string()),
            f.elapsed_ms,
            f.interaction_id.as_deref().unwrap_or("-")
        );
    }
    out.push('\n');
    for e in entries {
        let f = e.exchange.fields();
        let _ = writeln!(
            out,
            "## {} {}: {}\n\n{} {} at {}, {:.0} ms{}\n",
            e.summary.id,
            f.step.as_str(),
            f.note.as_deref().unwrap_or(""),
            f.method,
            f.url,
            rfc3339_seconds(f.at),
            f.elapsed_ms,
            f.interaction_id
                .as_deref()
                .map(|i| format!(", x-fapi-interaction-id `{i}`"))
                .unwrap_or_default()
        );
        out.push_str("### Request\n\n");
        headers_block(&mut out, &f.request_headers);
        if let Some(body) = &f.request_body {
            body_block(&mut out, body);
        }
        for part in &f.decoded {
            let _ = writeln!(out, "### {} (decoded)\n", part.name);
            fenced(
                &mut out,
                "json",
                &serde_json::to_string_pretty(&serde_json::json!({
                    "header": part.header,
                    "claims": part.claims,
                }))
                .unwrap_or_default(),
            );
        }
        if !f.findings.is_empty() {
            out.push_str("### Lint at the time\n\n");
            for finding in &f.findings {
                let _ = writeln!(
                    out,
                    "- **{}** `{}`: {}",
                    finding.severity, finding.id, finding.message
                );
            }
            out.push('\n');
        }
        match f.status {
            Some(status) => {
                let _ = writeln!(out, "### Response: {status}\n");
                headers_block(&mut out, &f.response_headers);
                if let Some(body) = &f.response_body {
                    body_block(&mut out, body);
                }
            }
            None => out.push_str("### Response: none\n\n"),
        }
    }
    out
}
