//! Exchanges made from the live types of each step: the PAR, the callback, the token and
//! refresh grants. Each hands every secret it knows to `Exchange::redact`.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::{
    DecodedPart, Exchange, ExchangeFields, RawExchange, RecordedBody, RecordedFinding, Step,
};
use crate::core::flow::callback::Callback;
use crate::core::flow::token::{TokenExchange, TokenOutcome, TokenRequest, TokenSet};
use crate::core::jws::{self, DecodedJwt};
use crate::core::lint::Finding;
use crate::core::request::ParTicket;
use crate::core::transport::{Body, INTERACTION_HEADER, NetworkError, Outcome, ParExchange};

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// What the PAR and token endpoints are sent: a form POST asking for JSON, with the
/// interaction id; no answer yet.
pub(super) struct FormPost<'a> {
    pub(super) at: Timestamp,
    pub(super) profile: &'a str,
    pub(super) step: Step,
    pub(super) flow_key: String,
    pub(super) url: &'a str,
    pub(super) interaction_id: &'a str,
    pub(super) form: &'a [(String, String)],
    pub(super) decoded: Vec<DecodedPart>,
}

impl FormPost<'_> {
    pub(super) fn fields(self) -> ExchangeFields {
        ExchangeFields {
            at: self.at,
            profile: self.profile.to_owned(),
            step: self.step,
            flow_key: self.flow_key,
            method: "POST".to_owned(),
            url: self.url.to_owned(),
            status: None,
            elapsed_ms: 0.0,
            interaction_id: Some(self.interaction_id.to_owned()),
            request_headers: vec![
                (
                    INTERACTION_HEADER.to_owned(),
                    self.interaction_id.to_owned(),
                ),
                ("accept".to_owned(), "application/json".to_owned()),
                ("content-type".to_owned(), FORM_CONTENT_TYPE.to_owned()),
            ],
            request_body: Some(RecordedBody::Form(self.form.to_vec())),
            response_headers: Vec::new(),
            response_body: None,
            decoded: self.decoded,
            findings: Vec::new(),
            note: None,
        }
    }
}

pub(super) fn decoded(name: &str, jwt: &DecodedJwt) -> DecodedPart {
    DecodedPart {
        name: name.to_owned(),
        header: jwt.header.clone(),
        claims: jwt.claims.clone(),
    }
}

pub(super) fn recorded_body(body: &Body) -> RecordedBody {
    match body {
        Body::Json(v) => RecordedBody::Json(v.clone()),
        Body::Text(t) => RecordedBody::Text(t.clone()),
    }
}

fn elapsed_ms(elapsed: std::time::Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

/// The flow a PAR starts is known by its `state` from then on (the callback carries it back).
pub(super) fn flow_key_of(ticket: &ParTicket) -> String {
    ticket
        .request
        .claim_str("state")
        .map_or_else(|| ticket.interaction_id.clone(), str::to_owned)
}

impl Exchange {
    /// A PAR: the ticket's form, and the answer or the network failure.
    pub fn of_par(
        profile: &str,
        par_url: &str,
        ticket: &ParTicket,
        answer: Result<&ParExchange, &NetworkError>,
        findings: &[Finding],
    ) -> Exchange {
        let mut fields = FormPost {
            at: ticket.built_at,
            profile,
            step: Step::Par,
            flow_key: flow_key_of(ticket),
            url: par_url,
            interaction_id: &ticket.interaction_id,
            form: &ticket.form,
            decoded: vec![
                decoded("request object", &ticket.request),
                decoded("client assertion", &ticket.client_assertion),
            ],
        }
        .fields();
        fields.findings = findings
            .iter()
            .map(|f| RecordedFinding {
                id: f.id.to_owned(),
                severity: f.severity.as_str().to_owned(),
                message: f.message.clone(),
            })
            .collect();
        match answer {
            Ok(exchange) => {
                fields.at = exchange.received_at;
                fields.status = Some(exchange.status);
                fields.elapsed_ms = elapsed_ms(exchange.elapsed);
                fields.response_headers = exchange.headers.clone();
                fields.response_body = Some(recorded_body(&exchange.body));
                fields.note = Some(match &exchange.outcome {
                    Outcome::Accepted { .. } => "accepted".to_owned(),
                    Outcome::Refused { error, .. } => format!("refused: {error}"),
                    Outcome::Unexpected { explanation } => explanation.clone(),
                });
            }
            Err(network) => fields.note = Some(format!("no answer: {}", network.message)),
        }
        Exchange::redact(RawExchange {
            fields,
            secrets: vec![
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
            ],
        })
    }

    /// The redirect back from the authorization endpoint, and whether it was taken.
    pub fn of_callback(
        profile: &str,
        redirect_uri: &str,
        callback: &Callback,
        verdict: Result<(), String>,
        at: Timestamp,
    ) -> Exchange {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("code", &callback.code),
            ("state", &callback.state),
            ("iss", &callback.iss),
            ("error", &callback.error),
            ("error_description", &callback.error_description),
        ] {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        let url = format!("{redirect_uri}{separator}{}", query.finish());
        let fields = ExchangeFields {
            at,
            profile: profile.to_owned(),
            step: Step::Callback,
            flow_key: callback.state.clone().unwrap_or_default(),
            method: "GET".to_owned(),
            url,
            status: None,
            elapsed_ms: 0.0,
            interaction_id: None,
            request_headers: Vec::new(),
            request_body: None,
            response_headers: Vec::new(),
            response_body: None,
            decoded: Vec::new(),
            findings: Vec::new(),
            note: Some(match verdict {
                Ok(()) => "taken: state and iss checked".to_owned(),
                Err(why) => format!("refused: {why}"),
            }),
        };
        let secrets = callback.code.iter().map(|c| ("code", c.clone())).collect();
        Exchange::redact(RawExchange { fields, secrets })
    }

    /// A token or refresh grant: the form (assertion, code, verifier or refresh token) and
    /// the answer, with the issued tokens named, not kept.
    pub fn of_token(
        profile: &str,
        flow_key: &str,
        token_url: &str,
        request: &TokenRequest,
        answer: Result<&TokenExchange, &NetworkError>,
        at: Timestamp,
    ) -> Exchange {
        let step = if request.grant_type == "refresh_token" {
            Step::Refresh
        } else {
            Step::Token
        };
        let mut secrets: Vec<(&'static str, String)> =
            vec![("client_assertion", request.client_assertion.compact.clone())];
        for name in ["code", "code_verifier", "refresh_token"] {
            if let Some(value) = request.form_value(name) {
                secrets.push((secret_label(name), value.to_owned()));
            }
        }
        let mut fields = FormPost {
            at,
            profile,
            step,
            flow_key: flow_key.to_owned(),
            url: token_url,
            interaction_id: &request.interaction_id,
            form: &request.form,
            decoded: vec![decoded("client assertion", &request.client_assertion)],
        }
        .fields();
        match answer {
            Ok(exchange) => {
                fields.at = exchange.received_at;
                fields.status = Some(exchange.status);
                fields.elapsed_ms = elapsed_ms(exchange.elapsed);
                fields.response_body = exchange.refusal_body.as_ref().map(recorded_body);
                fields.note = Some(match &exchange.outcome {
                    TokenOutcome::Issued(set) => {
                        secrets.extend(token_secrets(set));
                        fields.response_body = Some(RecordedBody::Json(answer_shape(set)));
                        if let Some(id_token) = &set.id_token
                            && let Ok(jwt) = jws::decode(id_token.expose())
                        {
                            fields.decoded.push(decoded("ID token", &jwt));
                        }
                        "issued".to_owned()
                    }
                    TokenOutcome::Refused { error, .. } => format!("refused: {error}"),
                    TokenOutcome::Malformed(problem) => format!("malformed answer: {problem}"),
                    TokenOutcome::Unexpected { explanation } => explanation.clone(),
                });
            }
            Err(network) => fields.note = Some(format!("no answer: {}", network.message)),
        }
        Exchange::redact(RawExchange { fields, secrets })
    }
}

impl Exchange {
    /// The same exchange with the DPoP header it was sent with, by name: a proof is a
    /// credential for its request and never kept.
    pub fn with_dpop_proof(mut self) -> Exchange {
        self.0
            .request_headers
            .push(("dpop".to_owned(), super::placeholder("dpop_proof")));
        self
    }
}

fn secret_label(form_name: &str) -> &'static str {
    match form_name {
        "code" => "code",
        "code_verifier" => "code_verifier",
        _ => "refresh_token",
    }
}

fn token_secrets(set: &TokenSet) -> Vec<(&'static str, String)> {
    let mut secrets = vec![("access_token", set.access_token.expose().to_owned())];
    if let Some(t) = &set.refresh_token {
        secrets.push(("refresh_token", t.expose().to_owned()));
    }
    if let Some(t) = &set.id_token {
        secrets.push(("id_token", t.expose().to_owned()));
        if let Some(nonce) = jws::decode(t.expose())
            .ok()
            .and_then(|jwt| jwt.claim_str("nonce").map(str::to_owned))
        {
            secrets.push(("nonce", nonce));
        }
    }
    secrets
}

/// The token answer as it came, rebuilt from the checked set (the body itself is not kept
/// once tokens came): every token a placeholder by name.
fn answer_shape(set: &TokenSet) -> Value {
    let mut doc = Map::new();
    doc.insert("access_token".into(), json!("{{access_token}}"));
    doc.insert("token_type".into(), json!(format!("{:?}", set.token_type)));
    if let Some(expires_in) = set.expires_in {
        doc.insert("expires_in".into(), json!(expires_in));
    }
    if let Some(scope) = &set.scope {
        doc.insert("scope".into(), json!(scope));
    }
    if set.refresh_token.is_some() {
        doc.insert("refresh_token".into(), json!("{{refresh_token}}"));
    }
    if set.id_token.is_some() {
        doc.insert("id_token".into(), json!("{{id_token}}"));
    }
    if let Some(details) = &set.authorization_details {
        doc.insert(
            "authorization_details".into(),
            Value::Array(details.clone()),
        );
    }
    for (k, v) in &set.extra {
        doc.insert(k.clone(), v.clone());
    }
    Value::Object(doc)
}
