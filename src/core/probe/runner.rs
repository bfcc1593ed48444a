//! Runs a plan: the opening control, each case, the closing control; one request at a time
//! with a pause between requests, and a stop at the first network error, 5xx or 429.

use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use serde_json::Value;

use super::Report;
use super::cases::{CASES, CLOSING_CONTROL, Case, Facts, Fault, OPENING_CONTROL};
use super::send::Target;
use super::verdict::{Expect, Expected, Got, Row, Sent, Stop, Verdict, summarize};
use crate::core::keys::SigningKey;
use crate::core::lint;
use crate::core::request::{self, BuildError, JwtFault, ParTicket, Tamper};
use crate::core::session::Session;
use crate::core::transport::{self, ClientOptions, NetworkError, authorize_url};

const CONTROL_EXPECT: Expect = Expect::Allowed {
    reference: "the profile's own valid request",
};

/// The cases a run sends, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    cases: Vec<&'static Case>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--only: no case named {unknown}\n  hint: the cases are {}", .known.join(", "))]
pub struct PlanError {
    pub unknown: String,
    pub known: Vec<&'static str>,
}

impl Plan {
    pub fn all() -> Plan {
        Plan {
            cases: CASES.iter().collect(),
        }
    }

    /// Only the cases named (in the matrix's order); an unknown name is an error.
    pub fn only(ids: &[String]) -> Result<Plan, PlanError> {
        if let Some(unknown) = ids.iter().find(|id| !CASES.iter().any(|c| c.id == *id)) {
            return Err(PlanError {
                unknown: unknown.clone(),
                known: CASES.iter().map(|c| c.id).collect(),
            });
        }
        Ok(Plan {
            cases: CASES
                .iter()
                .filter(|c| ids.iter().any(|id| id == c.id))
                .collect(),
        })
    }

    pub fn cases(&self) -> &[&'static Case] {
        &self.cases
    }

    /// The most requests the run sends: both controls and every case's.
    pub fn requests(&self) -> usize {
        2 + self.cases.iter().map(|c| c.fault.requests()).sum::<usize>()
    }
}

/// Why a run could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("the valid request could not be built: {0}")]
    Build(#[from] BuildError),
}

/// What one case built and sent.
pub(super) struct Built {
    pub(super) ticket: ParTicket,
    pub(super) with_id: bool,
}

/// The valid request, or the case's fault in it; `Err` carries why the case is not sent.
pub(super) fn build_case(
    session: &Session,
    fault: Fault,
    facts: &Facts,
    now: Timestamp,
    rng: &mut StdRng,
    control_assertion: &str,
) -> Result<Built, String> {
    let seed = session.seed();
    let key = session.key();
    let not_applicable: Mutex<Option<&'static str>> = Mutex::new(None);
    let recorded = &not_applicable;
    let apply = |change: super::cases::Change| {
        move |h: &mut Value, c: &mut Value| {
            if let Err(why) = change(h, c, facts) {
                *recorded.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            }
        }
    };
    let built = match fault {
        Fault::Request(change) => {
            let fault = apply(change);
            let tamper = Tamper {
                request: Some(&fault as &JwtFault<'_>),
                assertion: None,
            };
            request::build_tampered(seed, key, now, rng, tamper)
        }
        Fault::Assertion(change) => {
            let fault = apply(change);
            let tamper = Tamper {
                request: None,
                assertion: Some(&fault as &JwtFault<'_>),
            };
            request::build_tampered(seed, key, now, rng, tamper)
        }
        Fault::UnregisteredKey => {
            let (stranger, _) = SigningKey::generate(key.alg()).map_err(|e| e.to_string())?;
            request::build(seed, &stranger, now, rng)
        }
        Fault::Skew(seconds) => {
            let mut ahead = seed.clone();
            ahead.clock_skew = 0;
            request::build(&ahead, key, now + SignedDuration::from_secs(seconds), rng)
        }
        Fault::ReplayControlAssertion => request::build(seed, key, now, rng).map(|mut t| {
            for (name, value) in &mut t.form {
                if name == "client_assertion" {
                    *value = control_assertion.to_owned();
                }
            }
            if let Ok(replayed) = crate::core::jws::decode(control_assertion) {
                t.client_assertion = replayed;
            }
            t
        }),
        Fault::NoInteractionId | Fault::ReuseRequestUri => request::build(seed, key, now, rng),
    };
    let ticket = built.map_err(|e| format!("not sent: {e}"))?;
    if let Some(why) = *not_applicable.lock().unwrap_or_else(|e| e.into_inner()) {
        return Err(format!("not sent: {why}"));
    }
    Ok(Built {
        ticket,
        with_id: !matches!(fault, Fault::NoInteractionId),
    })
}

fn sent(method: &'static str, url: &str, ticket: Option<&ParTicket>, body: String) -> Sent {
    Sent {
        method,
        url: url.to_owned(),
        request_header: ticket.map_or(Value::Null, |t| t.request.header.clone()),
        request_claims: ticket.map_or(Value::Null, |t| t.request.claims.clone()),
        assertion_claims: ticket.map_or(Value::Null, |t| t.client_assertion.claims.clone()),
        answer: body,
    }
}

/// What the spec says of the case as built: a rule that does not fire on this profile's
/// request (a deployment that allows the change) expects acceptance.
fn expected_of(case: &Case, ticket: &ParTicket, session: &Session, now: Timestamp) -> Expected {
    match case.expect {
        Expect::Rule(id) => {
            let findings =
                lint::lint_ticket(ticket, session.seed(), session.key(), session.packs(), now);
            if findings.iter().any(|f| f.id == id) {
                case.expect.expected()
            } else {
                Expected::not_applying(id)
            }
        }
        other => other.expected(),
    }
}

fn row(
    id: &'static str,
    changes: &'static str,
    expected: Expected,
    got: Got,
    sent: Sent,
    error: bool,
) -> Row {
    let verdict = if error {
        Verdict::Error
    } else {
        Verdict::of(&expected, &got)
    };
    Row {
        id,
        changes,
        expected,
        got,
        verdict,
        sent,
    }
}

fn skipped(case: &Case, note: String) -> Row {
    Row {
        id: case.id,
        changes: case.changes,
        expected: case.expect.expected(),
        got: Got {
            note: Some(note),
            ..Got::default()
        },
        verdict: Verdict::Skipped,
        sent: Sent::default(),
    }
}

/// Runs the plan against the session's target. `on_row` sees each row as it is decided (the
/// CLI prints it, the TUI sends it through its channel). `Err` only when nothing could be sent.
pub async fn run(
    session: &Session,
    plan: &Plan,
    options: &ClientOptions,
    delay: Duration,
    mut rng: StdRng,
    on_row: &mut (dyn FnMut(&Row) + Send),
) -> Result<Report, ProbeError> {
    let seed = session.seed();
    let tls = session.tls();
    let mut endpoints = (
        seed.endpoints.par.clone(),
        seed.endpoints.authorization.clone(),
    );
    if endpoints.0.is_none() {
        let client = transport::http_client(&seed.endpoints.issuer, tls, options)?;
        let found =
            transport::discover(&client, &seed.endpoints.issuer, tls.identity_pem.is_some())
                .await?;
        endpoints = (
            found.par_endpoint,
            endpoints.1.or(found.authorization_endpoint),
        );
    }
    let par_endpoint = endpoints.0.ok_or_else(|| {
        NetworkError::new(
            transport::NetworkErrorKind::Discovery,
            "discovery names no pushed_authorization_request_endpoint",
            "set par_endpoint in the profile",
        )
    })?;
    let mut target = Target {
        session,
        client: transport::http_client(&par_endpoint, tls, options)?,
        par_endpoint,
        authorization_endpoint: endpoints.1,
        delay,
        sent: 0,
        cap: plan.requests(),
        run_key: format!("probe-{}", uuid::Uuid::new_v4()),
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |row: Row, rows: &mut Vec<Row>| {
        on_row(&row);
        rows.push(row);
    };

    let (control, control_row, stop) = target.control(OPENING_CONTROL, &mut rng).await?;
    let opening_accepted = control_row.got.accepted;
    let refused = (!opening_accepted && stop.is_none()).then(|| Stop::ControlRefused {
        error: control_row.got.error.clone(),
        error_description: control_row.got.error_description.clone(),
    });
    push(control_row, &mut rows);
    if let Some(stop) = stop.or(refused) {
        return Ok(target.report(rows, Some(stop)));
    }

    for case in plan.cases() {
        let (row, stop) = target.case(case, &control, &mut rng).await;
        push(row, &mut rows);
        if let Some(stop) = stop {
            return Ok(target.report(rows, Some(stop)));
        }
    }
    let (_, closing, stop) = target.control(CLOSING_CONTROL, &mut rng).await?;
    push(closing, &mut rows);
    Ok(target.report(rows, stop))
}

/// What later cases reuse of the opening control.
struct Control {
    assertion: String,
    request_uri: Option<String>,
}

impl Target<'_> {
    fn facts(&self) -> Facts {
        let seed = self.session.seed();
        Facts {
            issuer: seed.endpoints.issuer.clone(),
            par_endpoint: self.par_endpoint.clone(),
            token_endpoint: seed.endpoints.token.clone(),
            client_id: seed.client_id.clone(),
            now: Timestamp::now().as_second(),
        }
    }

    async fn control(
        &mut self,
        id: &'static str,
        rng: &mut StdRng,
    ) -> Result<(Control, Row, Option<Stop>), ProbeError> {
        let ticket = request::build(
            self.session.seed(),
            self.session.key(),
            Timestamp::now(),
            rng,
        )?;
        let answer = self.post_par(id, &ticket, true).await;
        let control = Control {
            assertion: ticket.client_assertion.compact.clone(),
            request_uri: answer.request_uri.clone(),
        };
        let sent = sent("POST", &self.par_endpoint, Some(&ticket), answer.body);
        let error = answer.stop.is_some();
        let row = row(
            id,
            "nothing (the valid request)",
            CONTROL_EXPECT.expected(),
            answer.got,
            sent,
            error,
        );
        Ok((control, row, answer.stop))
    }

    async fn case(
        &mut self,
        case: &'static Case,
        control: &Control,
        rng: &mut StdRng,
    ) -> (Row, Option<Stop>) {
        let facts = self.facts();
        let now = Timestamp::now();
        let built = match build_case(
            self.session,
            case.fault,
            &facts,
            now,
            rng,
            &control.assertion,
        ) {
            Ok(built) => built,
            Err(note) => return (skipped(case, note), None),
        };
        let expected = expected_of(case, &built.ticket, self.session, now);
        let (answer, method, url) = if let Fault::ReuseRequestUri = case.fault {
            let (Some(endpoint), Some(uri)) = (&self.authorization_endpoint, &control.request_uri)
            else {
                let note =
                    "not sent: no authorization_endpoint (or the control got no request_uri)";
                return (skipped(case, note.into()), None);
            };
            let url = authorize_url(endpoint, &self.session.seed().client_id, uri);
            let id = built.ticket.interaction_id.clone();
            let first = self.get_authorize(case.id, &url, &id).await;
            if first.stop.is_some() || !first.got.accepted {
                let mut got = first.got;
                got.note = Some(format!(
                    "the first use was not accepted, so the second was not sent{}",
                    got.note.map(|n| format!(": {n}")).unwrap_or_default()
                ));
                let sent = sent("GET", &url, None, first.body);
                return (
                    row(case.id, case.changes, expected, got, sent, true),
                    first.stop,
                );
            }
            (self.get_authorize(case.id, &url, &id).await, "GET", url)
        } else {
            let answer = self.post_par(case.id, &built.ticket, built.with_id).await;
            (answer, "POST", self.par_endpoint.clone())
        };
        let ticket = (method == "POST").then_some(&built.ticket);
        let sent = sent(method, &url, ticket, answer.body);
        let error = answer.stop.is_some();
        (
            row(case.id, case.changes, expected, answer.got, sent, error),
            answer.stop,
        )
    }

    fn report(&self, rows: Vec<Row>, stop: Option<Stop>) -> Report {
        let summary = summarize(&rows, self.sent, stop);
        Report {
            profile: self.session.seed().profile_name.clone(),
            target: self.par_endpoint.clone(),
            rows,
            summary,
        }
    }
}
