//! `history`: list, show, clear, export as HAR, report as Markdown; and the warning a command
//! prints when its history could not be written (the command itself goes on).

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use jiff::Timestamp;

use super::output::{self, complain, say};
use super::{
    Failure, HistoryArgs, HistoryClearArgs, HistoryCommand, HistoryExportArgs, HistoryListArgs,
    HistoryReportArgs, HistoryShowArgs, Outcome,
};
use crate::core::history::curl::{self, CurlTls};
use crate::core::history::{Entry, FlowSummary, History, Limits, har, report};
use crate::core::printable::printable_line;
use crate::core::profile;
use crate::core::session::Session;
use crate::core::time::{self, rfc3339_seconds};

/// The session with its history warnings going to stderr as they happen.
pub(super) fn warned(session: Session) -> Session {
    session.on_history_warning(|warning| complain!("warning: {warning}"))
}

pub fn history(args: &HistoryArgs) -> Outcome {
    match &args.command {
        None => list(&args.list),
        Some(HistoryCommand::List(list_args)) => list(list_args),
        Some(HistoryCommand::Show(show_args)) => show(show_args),
        Some(HistoryCommand::Clear(clear_args)) => clear(clear_args),
        Some(HistoryCommand::Export(export_args)) => export(export_args),
        Some(HistoryCommand::Report(report_args)) => write_report(report_args),
    }
}

fn open() -> Result<History, Failure> {
    let path = History::path_in_data_dir().map_err(|e| Failure::Other(e.to_string()))?;
    let (history, notice) =
        History::open(&path, Limits::default()).map_err(|e| Failure::Other(e.to_string()))?;
    if let Some(notice) = notice {
        complain!("warning: {notice}");
    }
    Ok(history)
}

fn failed(e: impl std::fmt::Display) -> Failure {
    Failure::Other(e.to_string())
}

fn list(args: &HistoryListArgs) -> Outcome {
    let history = open()?;
    let profile = match &args.profile {
        Some(name) => Some(profile::find(name)?.name),
        None => None,
    };
    let flows = history
        .flows(profile.as_deref(), args.limit)
        .map_err(failed)?;
    if args.json {
        output::json(&flows);
        return Ok(ExitCode::SUCCESS);
    }
    if flows.is_empty() {
        say!("No history yet: `consent-explorer flow --profile local` makes some.");
        return Ok(ExitCode::SUCCESS);
    }
    for flow in &flows {
        say!("{}", flow_lines(flow));
    }
    say!(
        "\n`history show ID` shows an exchange; `history report FLOW --out FILE.md` writes a flow up."
    );
    Ok(ExitCode::SUCCESS)
}

fn flow_lines(flow: &FlowSummary) -> String {
    let mut lines = vec![format!(
        "flow {}  {}  {}",
        flow.id,
        flow.profile,
        rfc3339_seconds(flow.started_at)
    )];
    for s in &flow.steps {
        lines.push(format!(
            "  {:>5}  {:<8} {:>3}  {:>6.0} ms  {} {}  {}",
            s.id,
            s.step,
            s.status.map_or("-".to_owned(), |c| c.to_string()),
            s.elapsed_ms,
            s.method,
            printable_line(&s.url),
            printable_line(s.note.as_deref().unwrap_or(""))
        ));
    }
    lines.join("\n")
}

fn entry(history: &History, id: i64) -> Result<Entry, Failure> {
    history.entry(id).map_err(failed)?.ok_or_else(|| {
        Failure::Other(format!(
            "no history entry {id}\n  hint: `consent-explorer history` lists them (the numbers on the step lines)"
        ))
    })
}

fn show(args: &HistoryShowArgs) -> Outcome {
    let history = open()?;
    let entry = entry(&history, args.id)?;
    if args.curl {
        say!(
            "{}",
            curl::entry_command(&entry.exchange, &tls_of(&entry.exchange.fields().profile))
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        output::json(&entry);
        return Ok(ExitCode::SUCCESS);
    }
    let flow = FlowSummary {
        id: entry.summary.flow_id,
        profile: entry.summary.profile.clone(),
        started_at: entry.summary.at,
        steps: Vec::new(),
    };
    say!("{}", report::markdown(&flow, std::slice::from_ref(&entry)));
    Ok(ExitCode::SUCCESS)
}

/// The TLS files of the profile an entry was made with, when that profile still loads.
fn tls_of(profile_name: &str) -> CurlTls {
    profile::find(profile_name)
        .map(|p| CurlTls::of_profile(&p))
        .unwrap_or_default()
}

fn parse_before(text: &str) -> Result<Timestamp, Failure> {
    let bad = || {
        Failure::Other(format!(
            "--before {text}: not a date\n  hint: give a date (2026-01-30), an RFC 3339 time (2026-01-30T10:00:00Z) or a relative one (-7d)"
        ))
    };
    if let Ok(date) = time::parse_date(text) {
        return date
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| bad());
    }
    time::Moment::parse(text)
        .and_then(|m| m.resolve(Timestamp::now()))
        .map_err(|_| bad())
}

fn clear(args: &HistoryClearArgs) -> Outcome {
    let before = args.before.as_deref().map(parse_before).transpose()?;
    let history = open()?;
    let what = match (&args.before, before) {
        (Some(text), Some(_)) => format!("history entries made before {text}"),
        _ => "the whole history".to_owned(),
    };
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::Other(format!(
                "not clearing {what} without a confirmation, and stdin is not a terminal\n  hint: add --yes"
            )));
        }
        complain!("Clear {what} ({})? [y/N]", history.path().display());
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(failed)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            say!("Nothing cleared.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let gone = history.clear(before).map_err(failed)?;
    say!(
        "{gone} history entr{} removed",
        if gone == 1 { "y" } else { "ies" }
    );
    Ok(ExitCode::SUCCESS)
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    crate::core::paths::write_atomic(
        path,
        text.as_bytes(),
        crate::core::paths::Existing::Replace,
        crate::core::paths::Readers::Default,
    )
    .map_err(|e| {
        Failure::Other(format!(
            "cannot write {}: {e}\n  hint: check the folder exists and is writable",
            path.display()
        ))
    })
}

fn flow_entries(history: &History, flow_id: i64) -> Result<Vec<Entry>, Failure> {
    let entries = history.flow_entries(flow_id).map_err(failed)?;
    if entries.is_empty() {
        return Err(Failure::Other(format!(
            "no flow {flow_id} in the history\n  hint: `consent-explorer history` lists the flows (the numbers after \"flow\")"
        )));
    }
    Ok(entries)
}

fn export(args: &HistoryExportArgs) -> Outcome {
    let history = open()?;
    let entries = match args.flow {
        Some(flow_id) => flow_entries(&history, flow_id)?,
        None => history.all_entries().map_err(failed)?,
    };
    let doc = har::document(&entries);
    write_file(
        &args.har,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    say!(
        "{} exchange{} written to {} (HAR 1.2)",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        args.har.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_report(args: &HistoryReportArgs) -> Outcome {
    let history = open()?;
    let entries = flow_entries(&history, args.id)?;
    let first = &entries[0].summary;
    let flow = FlowSummary {
        id: args.id,
        profile: first.profile.clone(),
        started_at: first.at,
        steps: Vec::new(),
    };
    write_file(&args.out, &report::markdown(&flow, &entries))?;
    say!("flow {} written to {}", args.id, args.out.display());
    Ok(ExitCode::SUCCESS)
}
