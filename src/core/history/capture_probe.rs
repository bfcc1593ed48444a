//! Exchanges made from probe cases: each case's request (a PAR as the case changed it, or a
//! second use of a request_uri at the authorize endpoint) and the server's answer, one flow
//! per run. The PAR's credentials go by their form names, as for any PAR.

use std::time::Duration;

use jiff::Timestamp;

use super::capture::{FormPost, decoded, recorded_body};
use super::{Exchange, ExchangeFields, RawExchange, Step};
use crate::core::request::ParTicket;
use crate::core::transport::{Body, INTERACTION_HEADER};

/// One request of a probe run.
pub struct ProbeRequest<'a> {
    pub profile: &'a str,
    /// Links the cases of one run.
    pub run_key: &'a str,
    pub case: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    /// The PAR a POST case sends; none for a GET to the authorize endpoint.
    pub ticket: Option<&'a ParTicket>,
    /// None when the case leaves the header out.
    pub interaction_id: Option<&'a str>,
}

/// What came back to one probe request.
pub struct ProbeAnswer<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a Body,
    pub elapsed: Duration,
}

impl Exchange {
    /// One probe case: the request as sent, the answer or why none came, and what it meant.
    pub fn of_probe(
        request: ProbeRequest<'_>,
        answer: Result<ProbeAnswer<'_>, &str>,
        meaning: &str,
        at: Timestamp,
    ) -> Exchange {
        let mut secrets = Vec::new();
        let mut fields = match request.ticket {
            Some(ticket) => {
                secrets.extend([
                    ("client_assertion", ticket.client_assertion.compact.clone()),
                    ("request_object", ticket.request.compact.clone()),
                    ("code_verifier", ticket.code_verifier.clone()),
                    (
                        "nonce",
                        ticket
                            .request
                            .claim_str("nonce")
                            .unwrap_or_default()
                            .to_owned(),
                    ),
                ]);
                let mut fields = FormPost {
                    at,
                    profile: request.profile,
                    step: Step::Probe,
                    flow_key: request.run_key.to_owned(),
                    url: request.url,
                    interaction_id: request.interaction_id.unwrap_or_default(),
                    form: &ticket.form,
                    decoded: vec![
                        decoded("request object", &ticket.request),
                        decoded("client assertion", &ticket.client_assertion),
                    ],
                }
                .fields();
                if request.interaction_id.is_none() {
                    fields.interaction_id = None;
                    fields
                        .request_headers
                        .retain(|(k, _)| k != INTERACTION_HEADER);
                }
                fields
            }
            None => ExchangeFields {
                at,
                profile: request.profile.to_owned(),
                step: Step::Probe,
                flow_key: request.run_key.to_owned(),
                method: request.method.to_owned(),
                url: request.url.to_owned(),
                status: None,
                elapsed_ms: 0.0,
                interaction_id: request.interaction_id.map(str::to_owned),
                request_headers: request
                    .interaction_id
                    .map(|id| (INTERACTION_HEADER.to_owned(), id.to_owned()))
                    .into_iter()
                    .collect(),
                request_body: None,
                response_headers: Vec::new(),
                response_body: None,
                decoded: Vec::new(),
                findings: Vec::new(),
                note: None,
            },
        };
        fields.method = request.method.to_owned();
        match answer {
            Ok(answer) => {
                fields.status = Some(answer.status);
                fields.elapsed_ms = answer.elapsed.as_secs_f64() * 1000.0;
                fields.response_headers = answer.headers.to_vec();
                fields.response_body = Some(recorded_body(answer.body));
                fields.note = Some(format!("case {}: {meaning}", request.case));
            }
            Err(network) => {
                fields.note = Some(format!("case {}: no answer: {network}", request.case));
            }
        }
        Exchange::redact(RawExchange { fields, secrets })
    }
}
