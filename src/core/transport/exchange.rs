//! The PAR exchange: POST the ticket's form, read the answer as a model (accepted, refused
//! with the OAuth error explained, or not an OAuth answer), and the authorize URL.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::client::{
    ClientOptions, NetworkError, NetworkErrorKind, closed_after_handshake, http_client,
};
use super::discovery::discover;
use super::form::{Body, FormAnswer, INTERACTION_HEADER, post_form};
use crate::core::oauth;
use crate::core::request::{Endpoints, ParTicket};
use crate::core::tls::TlsMaterial;

/// What the PAR endpoint answered.
#[derive(Debug, Clone, Serialize)]
pub struct ParExchange {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub elapsed: Duration,
    pub received_at: Timestamp,
    /// The interaction id sent, and the one echoed (if any).
    pub interaction_id: String,
    pub echoed_interaction_id: Option<String>,
    pub server_date: Option<Timestamp>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Accepted {
        request_uri: String,
        expires_in: i64,
        expires_at: Timestamp,
    },
    Refused {
        error: String,
        error_description: Option<String>,
        explanation: String,
    },
    /// Not an OAuth answer: an HTML error page, a 2xx without request_uri, ...
    Unexpected { explanation: String },
}

impl ParExchange {
    /// Notes worth showing: a non-201 success, an interaction id not echoed, a clock apart.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if matches!(self.outcome, Outcome::Accepted { .. }) && self.status == 200 {
            notes.push("the server answered 200; RFC 9126 says 201 (the Malaysia and UAE deployments answer 200)".into());
        }
        match &self.echoed_interaction_id {
            Some(echoed) if *echoed != self.interaction_id => notes.push(format!(
                "the server echoed x-fapi-interaction-id {echoed}, not the {} sent",
                self.interaction_id
            )),
            None => notes.push("the server did not echo x-fapi-interaction-id".into()),
            _ => {}
        }
        if self.is_time_related()
            && let Some(server) = self.server_date
        {
            let apart = self.received_at.as_second() - server.as_second();
            if apart.abs() > 5 {
                notes.push(format!(
                    "your clock is {} {} the server's (its Date header says {}): fix the local clock, or set signing.clock_skew",
                    crate::core::time::short_duration(apart.abs()),
                    if apart > 0 { "ahead of" } else { "behind" },
                    crate::core::time::rfc3339_seconds(server)
                ));
            } else {
                notes.push("your clock agrees with the server's Date header (within 5 s)".into());
            }
        }
        notes
    }

    fn is_time_related(&self) -> bool {
        let Outcome::Refused {
            error_description, ..
        } = &self.outcome
        else {
            return false;
        };
        let text = error_description
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        // Whole words: "exp" must not match "expected" or "unexpected".
        let words: Vec<&str> = text
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .collect();
        const TIME_WORDS: [&str; 7] = [
            "exp",
            "nbf",
            "iat",
            "expired",
            "future",
            "clock",
            "timestamp",
        ];
        words.iter().any(|w| TIME_WORDS.contains(w)) || text.contains("too far")
    }
}

/// The two fields of a successful PAR answer, each checked: which one is wrong, and how.
fn acceptance(json: Option<&Value>, received_at: Timestamp) -> Result<Outcome, String> {
    let Some(doc) = json.and_then(Value::as_object) else {
        return Err("the body is not a JSON object".into());
    };
    let request_uri = match doc.get("request_uri") {
        None => return Err("request_uri is missing".into()),
        Some(Value::String(uri)) if uri.trim().is_empty() => {
            return Err("request_uri is empty".into());
        }
        Some(Value::String(uri)) => uri.clone(),
        Some(other) => return Err(format!("request_uri is {}, not a string", kind_of(other))),
    };
    let expires_in = match doc.get("expires_in") {
        None => return Err("expires_in is missing".into()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(seconds) if seconds > 0 => seconds,
            Some(seconds) => {
                return Err(format!(
                    "expires_in is {seconds}: the request_uri would be expired already"
                ));
            }
            None => return Err(format!("expires_in is {n}, not a whole number of seconds")),
        },
        Some(other) => return Err(format!("expires_in is {}, not a number", kind_of(other))),
    };
    let expires_at = received_at
        .checked_add(jiff::SignedDuration::from_secs(expires_in))
        .ok()
        .ok_or_else(|| format!("expires_in {expires_in} is out of range (not a date)"))?;
    Ok(Outcome::Accepted {
        request_uri,
        expires_in,
        expires_at,
    })
}

/// A JSON value's type as a message names it ("a string", "an array").
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn outcome_of(status: u16, location: Option<&str>, body: &Body, received_at: Timestamp) -> Outcome {
    let json = body.json();
    let str_field = |name: &str| {
        json.and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if (200..300).contains(&status) {
        return match acceptance(json, received_at) {
            Ok(accepted) => accepted,
            Err(problem) => Outcome::Unexpected {
                explanation: format!(
                    "the server answered {status}, but {problem} (RFC 9126 2.2: a JSON object with request_uri, a string, and expires_in, a positive number of seconds)"
                ),
            },
        };
    }
    if (300..400).contains(&status) {
        let location = location.unwrap_or("nowhere (no Location header)");
        return Outcome::Unexpected {
            explanation: format!(
                "the server answered {status}, a redirect to {location}: not followed, so the signed request object and client assertion went nowhere else; put the final URL in the profile if it is right"
            ),
        };
    }
    match str_field("error") {
        Some(error) => Outcome::Refused {
            explanation: oauth::explain(&error),
            error,
            error_description: str_field("error_description"),
        },
        None => Outcome::Unexpected {
            explanation: match (status, body) {
                (_, Body::Text(t)) if t.trim_start().starts_with('<') => format!(
                    "the server answered {status} with an HTML page, not OAuth JSON: often a proxy, gateway or WAF in front of the authorization server (a wrong URL, a missing client certificate, a blocked path)"
                ),
                (404, _) => "404: the PAR endpoint URL is wrong (read it from the issuer's discovery document)".into(),
                (405, _) => "405: this URL does not take POST: is it really the PAR endpoint?".into(),
                (s, _) if s >= 500 => format!("{s}: the server failed; retry, and quote the x-fapi-interaction-id"),
                (s, _) => format!("{s} without an OAuth error body"),
            },
        },
    }
}

/// A PAR answer as it came off the wire (status, lower-case header names, body bytes) read
/// into a model. Pure, so the fuzz targets and property tests reach it without a server.
pub fn read_answer(
    status: u16,
    headers: &[(String, String)],
    bytes: &[u8],
    received_at: Timestamp,
) -> (Body, Outcome) {
    let body = Body::parse(bytes);
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.as_str());
    let outcome = outcome_of(status, location, &body, received_at);
    (body, outcome)
}

/// POSTs the ticket's form to the PAR endpoint.
pub async fn send(
    client: &reqwest::Client,
    par_endpoint: &str,
    ticket: &ParTicket,
) -> Result<ParExchange, NetworkError> {
    let answer = post_form(client, par_endpoint, &ticket.interaction_id, &ticket.form).await?;
    Ok(read_par_answer(answer, ticket))
}

/// A PAR endpoint's answer to `ticket` read into the exchange shown to the user.
pub fn read_par_answer(answer: FormAnswer, ticket: &ParTicket) -> ParExchange {
    let server_date = answer
        .header("date")
        .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
        .map(|z| z.timestamp());
    ParExchange {
        status: answer.status,
        outcome: outcome_of(
            answer.status,
            answer.header("location"),
            &answer.body,
            answer.received_at,
        ),
        echoed_interaction_id: answer.header(INTERACTION_HEADER).map(str::to_owned),
        interaction_id: ticket.interaction_id.clone(),
        server_date,
        headers: answer.headers,
        body: answer.body,
        elapsed: answer.elapsed,
        received_at: answer.received_at,
    }
}

/// Where a PAR went and what came back.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub par_endpoint: String,
    pub authorization_endpoint: Option<String>,
    pub exchange: ParExchange,
}

/// Sends a ticket to the profile's endpoints, reading them from discovery when the profile
/// has no PAR endpoint. The CLI and the TUI both call this.
pub async fn deliver(
    endpoints: &Endpoints,
    tls: &TlsMaterial,
    options: &ClientOptions,
    ticket: &ParTicket,
) -> Result<Delivery, NetworkError> {
    let (par_endpoint, authorization_endpoint) = par_endpoints(endpoints, tls, options).await?;
    let client = http_client(&par_endpoint, tls, options)?;
    let exchange = send(&client, &par_endpoint, ticket)
        .await
        .map_err(|e| closed_after_handshake(e, &par_endpoint, tls.identity_pem.is_some()))?;
    Ok(Delivery {
        par_endpoint,
        authorization_endpoint,
        exchange,
    })
}

/// The PAR and authorization endpoints: the profile's, else discovery's.
pub async fn par_endpoints(
    endpoints: &Endpoints,
    tls: &TlsMaterial,
    options: &ClientOptions,
) -> Result<(String, Option<String>), NetworkError> {
    let mut par_endpoint = endpoints.par.clone();
    let mut authorization_endpoint = endpoints.authorization.clone();
    if par_endpoint.is_none() {
        let client = http_client(&endpoints.issuer, tls, options)?;
        let found = discover(&client, &endpoints.issuer, tls.identity_pem.is_some())
            .await
            .map_err(|e| {
                closed_after_handshake(e, &endpoints.issuer, tls.identity_pem.is_some())
            })?;
        par_endpoint = found.par_endpoint;
        authorization_endpoint = authorization_endpoint.or(found.authorization_endpoint);
    }
    let par_endpoint = par_endpoint.ok_or_else(|| {
        NetworkError::new(
            NetworkErrorKind::Discovery,
            "discovery names no pushed_authorization_request_endpoint",
            "set par_endpoint in the profile",
        )
    })?;
    Ok((par_endpoint, authorization_endpoint))
}

/// authorization_endpoint?client_id=...&request_uri=... (RFC 9126 4).
pub fn authorize_url(authorization_endpoint: &str, client_id: &str, request_uri: &str) -> String {
    match url::Url::parse(authorization_endpoint) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("client_id", client_id)
                .append_pair("request_uri", request_uri);
            url.to_string()
        }
        Err(_) => authorization_endpoint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-01-30T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn success_needs_request_uri_and_expires_in() {
        let body = Body::Json(
            json!({"request_uri": "urn:ietf:params:oauth:request_uri:x", "expires_in": 90}),
        );
        let Outcome::Accepted { expires_at, .. } = outcome_of(201, None, &body, now()) else {
            panic!()
        };
        assert_eq!(expires_at, now() + jiff::SignedDuration::from_secs(90));
        assert!(matches!(
            outcome_of(200, None, &Body::Json(json!({})), now()),
            Outcome::Unexpected { .. }
        ));
    }

    #[test]
    fn a_malformed_acceptance_names_the_field_and_what_is_wrong() {
        let cases = [
            (
                json!({"request_uri": "urn:x", "expires_in": 1_000_000_000_000_i64}),
                "expires_in 1000000000000 is out of range",
            ),
            (
                json!({"request_uri": "urn:x", "expires_in": 0}),
                "expires_in is 0",
            ),
            (
                json!({"request_uri": "urn:x", "expires_in": -5}),
                "expires_in is -5",
            ),
            (
                json!({"request_uri": "urn:x", "expires_in": "60"}),
                "expires_in is a string, not a number",
            ),
            (
                json!({"request_uri": "urn:x", "expires_in": 60.5}),
                "expires_in is 60.5, not a whole number",
            ),
            (json!({"expires_in": 60}), "request_uri is missing"),
            (
                json!({"request_uri": 7, "expires_in": 60}),
                "request_uri is a number, not a string",
            ),
            (
                json!({"request_uri": " ", "expires_in": 60}),
                "request_uri is empty",
            ),
            (json!([1]), "not a JSON object"),
        ];
        for (doc, expected) in cases {
            let Outcome::Unexpected { explanation } =
                outcome_of(201, None, &Body::Json(doc.clone()), now())
            else {
                panic!("{doc} was accepted")
            };
            assert!(explanation.contains(expected), "{doc}: {explanation}");
        }
        let Outcome::Unexpected { explanation } =
            outcome_of(200, None, &Body::Text("<html>".into()), now())
        else {
            panic!()
        };
        assert!(explanation.contains("not a JSON object"), "{explanation}");
    }

    #[test]
    fn a_redirect_is_shown_not_followed() {
        let Outcome::Unexpected { explanation } = outcome_of(
            307,
            Some("https://elsewhere.example/par"),
            &Body::Text(String::new()),
            now(),
        ) else {
            panic!()
        };
        assert!(explanation.contains("307"), "{explanation}");
        assert!(
            explanation.contains("https://elsewhere.example/par"),
            "{explanation}"
        );
        assert!(explanation.contains("not followed"), "{explanation}");
    }

    #[test]
    fn oauth_errors_are_explained_and_html_pages_named() {
        let body = Body::parse(
            br#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
        );
        let Outcome::Refused {
            error, explanation, ..
        } = outcome_of(401, None, &body, now())
        else {
            panic!()
        };
        assert_eq!(error, "invalid_client");
        assert!(explanation.contains("client assertion"));
        for code in [
            "invalid_request",
            "invalid_client",
            "invalid_request_object",
            "invalid_authorization_details",
            "unauthorized_client",
            "invalid_scope",
            "access_denied",
            "server_error",
            "temporarily_unavailable",
        ] {
            assert!(!oauth::explain(code).contains("non-standard"), "{code}");
        }
        let html = Body::parse(b"<html><body>Bad Gateway</body></html>");
        let Outcome::Unexpected { explanation } = outcome_of(502, None, &html, now()) else {
            panic!()
        };
        assert!(explanation.contains("HTML page"));
    }

    #[test]
    fn authorize_url_encodes_its_parameters() {
        assert_eq!(
            authorize_url(
                "https://as.example/auth",
                "a b",
                "urn:ietf:params:oauth:request_uri:1"
            ),
            "https://as.example/auth?client_id=a+b&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A1"
        );
    }

    fn exchange(
        status: u16,
        description: &str,
        date: Option<Timestamp>,
        echoed: Option<&str>,
    ) -> ParExchange {
        let body = Body::Json(
            json!({"error": "invalid_request_object", "error_description": description}),
        );
        ParExchange {
            status,
            headers: vec![],
            outcome: outcome_of(status, None, &body, now()),
            body,
            elapsed: Duration::from_millis(3),
            received_at: now(),
            interaction_id: "a".into(),
            echoed_interaction_id: echoed.map(str::to_owned),
            server_date: date,
        }
    }

    #[test]
    fn notes_compare_clocks_on_time_refusals_and_interaction_ids() {
        let behind = now() - jiff::SignedDuration::from_secs(120);
        let notes = exchange(400, "request object expired (exp)", Some(behind), Some("a")).notes();
        assert!(
            notes.iter().any(|n| n.contains("2m ahead of the server's")),
            "{notes:?}"
        );
        let notes = exchange(400, "signature invalid", Some(behind), Some("b")).notes();
        assert!(!notes.iter().any(|n| n.contains("clock")), "{notes:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("echoed x-fapi-interaction-id b"))
        );
        let notes = exchange(400, "unexpected claim; expected aud", Some(behind), None).notes();
        assert!(!notes.iter().any(|n| n.contains("clock")), "{notes:?}");
    }
}
