//! `probe`: which FAPI 2.0 rules a server really enforces. Shows the target and the request
//! count and asks first (unless --yes), then prints each case as its answer comes, with the
//! interaction id the bank can find it by.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use super::output::{self, complain, say};
use super::submit::runtime;
use super::{Failure, Outcome, ProbeArgs};
use crate::core::error::{ConfigError, Origin};
use crate::core::paths::{self, Existing, Readers};
use crate::core::probe::{self, Plan, ProbeError, Report, Row, Verdict};
use crate::core::session::Session;

/// A pause between requests in milliseconds: `200`, `200ms`, `1s`, at most a minute.
pub(super) fn parse_delay(text: &str) -> Result<Duration, String> {
    const MAX_MS: u64 = 60_000;
    let text = text.trim();
    let millis = match text.strip_suffix("ms") {
        Some(ms) => ms.trim().parse::<u64>().ok(),
        None => match text.strip_suffix('s') {
            Some(s) => s
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|s| s.checked_mul(1000)),
            None => text.parse::<u64>().ok(),
        },
    };
    match millis {
        Some(ms) if ms <= MAX_MS => Ok(Duration::from_millis(ms)),
        Some(_) => Err(format!(
            "{text} is too long a pause\n  hint: at most {MAX_MS} ms (one minute)"
        )),
        None => Err(format!(
            "\"{text}\" is not a pause\n  hint: milliseconds, e.g. 200 (the default), 0, 500ms or 2s"
        )),
    }
}

pub fn probe(args: &ProbeArgs) -> Outcome {
    runtime()?.block_on(probe_async(args))
}

fn only_error(e: probe::PlanError) -> Failure {
    Failure::Config(ConfigError::new(
        Origin::Flag("--only".into()),
        "",
        format!("no case named {}", e.unknown),
        format!("the cases are {}", e.known.join(", ")),
    ))
}

/// Asks on the terminal; without one, refuses: faulty requests go to somebody's server only
/// when a person said so.
fn confirmed(args: &ProbeArgs) -> Result<bool, Failure> {
    if args.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Config(ConfigError::new(
            Origin::Flag("--yes".into()),
            "",
            "nothing was sent: the probe sends faulty requests to the target and asks first, but there is no terminal to ask on",
            "run it in a terminal, or pass --yes to confirm beforehand (CI)",
        )));
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "Send them? [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// "[ 3/42] request.alg-none  enforced  400 invalid_request_object  id 2f1c..."
fn progress_line(index: usize, total: usize, row: &Row) -> String {
    let got = &row.got;
    let answer = match (got.status, &got.error) {
        (None, _) => got.note.clone().unwrap_or_else(|| "not sent".into()),
        (Some(status), Some(error)) => format!("{status} {error}"),
        (Some(status), None) if got.accepted => format!("{status} accepted"),
        (Some(status), None) => status.to_string(),
    };
    format!(
        "[{index:>2}/{total}] {:<34} {:<20} {answer}  x-fapi-interaction-id {}",
        row.id,
        row.verdict.as_str(),
        got.interaction_id.as_deref().unwrap_or("(none sent)")
    )
}

async fn probe_async(args: &ProbeArgs) -> Outcome {
    let plan = if args.only.is_empty() {
        Plan::all()
    } else {
        Plan::only(&args.only).map_err(only_error)?
    };
    let session = Session::open(&args.profile.profile, &args.overrides.to_overrides()).await?;
    let seed = session.seed();
    let target = seed
        .endpoints
        .par
        .as_deref()
        .unwrap_or("(the PAR endpoint discovery names)");
    complain!(
        "probe: {} cases, at most {} requests to {target} (issuer {}), one at a time, {} ms apart; each changes one thing of profile {}'s valid PAR",
        plan.cases().len(),
        plan.requests(),
        seed.endpoints.issuer,
        args.delay.as_millis(),
        seed.profile_name
    );
    if !confirmed(args)? {
        complain!("nothing was sent");
        return Ok(ExitCode::from(2));
    }
    let options = args.network.options();
    let total = plan.cases().len() + 2;
    let mut index = 0;
    let json = args.json;
    let mut on_row = |row: &Row| {
        index += 1;
        let line = progress_line(index, total, row);
        if json {
            complain!("{line}");
        } else {
            say!("{line}");
        }
    };
    let rng = StdRng::from_rng(&mut rand::rng());
    let report = match probe::run(&session, &plan, &options, args.delay, rng, &mut on_row).await {
        Ok(report) => report,
        Err(ProbeError::Network(e)) => {
            complain!("error: {}\n  hint: {}", e.message, e.hint);
            return Ok(ExitCode::from(3));
        }
        Err(ProbeError::Build(e)) => {
            return Err(Failure::Config(ConfigError::new(
                session.profile().origin_of("consent"),
                "",
                e.to_string(),
                "`consent-explorer build --profile ...` shows the profile's request",
            )));
        }
    };
    if let Some(path) = &args.report {
        paths::write_atomic(
            path,
            probe::markdown(&report).as_bytes(),
            Existing::Replace,
            Readers::Default,
        )
        .map_err(|e| {
            Failure::Config(ConfigError::new(
                Origin::Flag("--report".into()),
                "",
                format!("cannot write {}: {e}", path.display()),
                "choose a path in a folder you can write",
            ))
        })?;
    }
    if json {
        output::json(&json!({
            "profile": report.profile,
            "target": report.target,
            "rows": report.rows,
            "summary": report.summary,
        }));
    } else {
        say_summary(&report, args);
    }
    Ok(exit_code(&report, args.strict))
}

fn say_summary(report: &Report, args: &ProbeArgs) {
    say!("");
    say!("summary  {}", report.summary.line());
    if let Some(stop) = &report.summary.stopped {
        say!("stopped  {stop}");
    }
    if report.summary.closing_control_refused {
        say!(
            "note     the closing control was refused: the server may have started refusing this client, so late verdicts may be wrong"
        );
    }
    if let Some(path) = &args.report {
        say!("report   {}", path.display());
    }
}

/// 0 when it ran (whatever the verdicts), 1 with --strict and a lenient row, 2 when the
/// profile itself was refused, 3 when the server or the network stopped it.
fn exit_code(report: &Report, strict: bool) -> ExitCode {
    if report.control_refused() {
        complain!(
            "error: {}",
            report
                .summary
                .stopped
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        return ExitCode::from(2);
    }
    if report.network_stop() {
        return ExitCode::from(3);
    }
    if strict && report.summary.count(Verdict::Lenient) > 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
