//! The HTTP side of a run: one request at a time with the pause before it, counted against
//! the plan's total, and each answer read into what a row needs (and whether it stops the run).

use std::time::Instant;

use jiff::Timestamp;

use super::verdict::{Got, Stop};
use crate::core::history::{Exchange, ProbeAnswer, ProbeRequest};
use crate::core::request::ParTicket;
use crate::core::session::Session;
use crate::core::transport::{
    self, Body, INTERACTION_HEADER, NetworkError, Outcome, read_answer, read_capped,
};

/// One answer as the rows need it.
pub(super) struct Answer {
    pub(super) got: Got,
    pub(super) stop: Option<Stop>,
    pub(super) request_uri: Option<String>,
    pub(super) body: String,
}

/// Where the requests go and how, fixed for the run.
pub(super) struct Target<'a> {
    pub(super) session: &'a Session,
    pub(super) client: reqwest::Client,
    pub(super) par_endpoint: String,
    pub(super) authorization_endpoint: Option<String>,
    pub(super) delay: std::time::Duration,
    pub(super) sent: usize,
    pub(super) cap: usize,
    /// Links the run's requests in the history.
    pub(super) run_key: String,
}

/// What a request was, for the history.
struct Described<'a> {
    case: &'a str,
    method: &'a str,
    url: &'a str,
    ticket: Option<&'a ParTicket>,
    interaction_id: Option<&'a str>,
}

impl Target<'_> {
    /// Waits the pause (not before the first request) and counts the request; `None` once the
    /// plan's count is spent, which the plan's arithmetic should make impossible.
    async fn pace(&mut self) -> Option<()> {
        if self.sent >= self.cap {
            return None;
        }
        if self.sent > 0 && !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.sent += 1;
        Some(())
    }

    pub(super) async fn post_par(
        &mut self,
        case: &str,
        ticket: &ParTicket,
        with_id: bool,
    ) -> Answer {
        let interaction_id = with_id.then(|| ticket.interaction_id.clone());
        if self.pace().await.is_none() {
            return over_cap(case);
        }
        let started = Instant::now();
        let mut post = self
            .client
            .post(&self.par_endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&ticket.form);
        if let Some(id) = &interaction_id {
            post = post.header(INTERACTION_HEADER, id);
        }
        let described = Described {
            case,
            method: "POST",
            url: &self.par_endpoint,
            ticket: Some(ticket),
            interaction_id: interaction_id.as_deref(),
        };
        let answer = self.read(post, &described, started).await;
        Answer {
            got: Got {
                interaction_id,
                ..answer.got
            },
            ..answer
        }
    }

    pub(super) async fn get_authorize(
        &mut self,
        case: &str,
        url: &str,
        interaction_id: &str,
    ) -> Answer {
        if self.pace().await.is_none() {
            return over_cap(case);
        }
        let started = Instant::now();
        let get = self
            .client
            .get(url)
            .header(INTERACTION_HEADER, interaction_id);
        let described = Described {
            case,
            method: "GET",
            url,
            ticket: None,
            interaction_id: Some(interaction_id),
        };
        let mut answer = self.read(get, &described, started).await;
        answer.got.interaction_id = Some(interaction_id.to_owned());
        answer
    }

    async fn read(
        &self,
        request: reqwest::RequestBuilder,
        described: &Described<'_>,
        started: Instant,
    ) -> Answer {
        let case = described.case;
        let url = self.par_endpoint.clone();
        let network = |e: NetworkError| {
            self.record(described, Err(&e.to_string()), "");
            Answer {
                got: Got {
                    note: Some(e.to_string()),
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    ..Got::default()
                },
                stop: Some(Stop::Network {
                    case: case.to_owned(),
                    message: e.to_string(),
                }),
                request_uri: None,
                body: String::new(),
            }
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return network(transport::classify(e, &url)),
        };
        let status = response.status().as_u16();
        let headers = transport::header_pairs(response.headers());
        let bytes = match read_capped(response, &url).await {
            Ok(b) => b,
            Err(e) => return network(e),
        };
        let mut answer = answer_of(status, &headers, &bytes, case);
        answer.got.elapsed_ms = started.elapsed().as_millis() as u64;
        if self.session.records_history() {
            let meaning = match (&answer.got.error, answer.got.accepted) {
                (Some(error), _) => format!("refused: {error}"),
                (None, true) => "accepted".to_owned(),
                (None, false) => answer.got.note.clone().unwrap_or_default(),
            };
            let body = Body::parse(&bytes);
            let answered = ProbeAnswer {
                status,
                headers: &headers,
                body: &body,
                elapsed: started.elapsed(),
            };
            self.record(described, Ok(answered), &meaning);
        }
        answer
    }

    fn record(
        &self,
        described: &Described<'_>,
        answer: Result<ProbeAnswer<'_>, &str>,
        meaning: &str,
    ) {
        if !self.session.records_history() {
            return;
        }
        let request = ProbeRequest {
            profile: &self.session.seed().profile_name,
            run_key: &self.run_key,
            case: described.case,
            method: described.method,
            url: described.url,
            ticket: described.ticket,
            interaction_id: described.interaction_id,
        };
        self.session.record(&Exchange::of_probe(
            request,
            answer,
            meaning,
            Timestamp::now(),
        ));
    }
}

fn over_cap(case: &str) -> Answer {
    Answer {
        got: Got {
            note: Some("not sent: the plan's request count is spent".into()),
            ..Got::default()
        },
        stop: Some(Stop::Network {
            case: case.to_owned(),
            message: "the plan's request count is spent".into(),
        }),
        request_uri: None,
        body: String::new(),
    }
}

/// An answer read: a PAR answer (request_uri or OAuth error), or an authorize answer (a page,
/// or a redirect carrying `error` in its query).
fn answer_of(status: u16, headers: &[(String, String)], bytes: &[u8], case: &str) -> Answer {
    let (body, outcome) = read_answer(status, headers, bytes, Timestamp::now());
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.as_str());
    let redirect_error = location.and_then(|l| {
        let url = url::Url::parse(l).ok()?;
        let field = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        Some((field("error")?, field("error_description")))
    });
    let mut got = Got {
        status: Some(status),
        ..Got::default()
    };
    let mut request_uri = None;
    match outcome {
        Outcome::Accepted {
            request_uri: uri, ..
        } => {
            got.accepted = true;
            request_uri = Some(uri);
        }
        Outcome::Refused {
            error,
            error_description,
            ..
        } => {
            got.error = Some(error);
            got.error_description = error_description;
        }
        Outcome::Unexpected { explanation } => match redirect_error {
            Some((error, description)) => {
                got.error = Some(error);
                got.error_description = description;
            }
            // An authorize endpoint answers a page (2xx) or a redirect onwards (3xx).
            None if (200..400).contains(&status) => {
                got.accepted = true;
                got.note = Some(match location {
                    Some(onwards) => format!("redirected onwards to {onwards}"),
                    None => explanation,
                });
            }
            None => got.note = Some(explanation),
        },
    }
    let stop = match status {
        429 => Some(Stop::RateLimited {
            case: case.to_owned(),
        }),
        s if s >= 500 => Some(Stop::ServerError {
            case: case.to_owned(),
            status: s,
        }),
        _ => None,
    };
    Answer {
        got,
        stop,
        request_uri,
        body: body.pretty(),
    }
}
