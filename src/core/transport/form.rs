//! A form POST as the PAR and token endpoints take it, and its answer read within the body
//! cap: status, headers and a body that is JSON when it parses.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::client::{NetworkError, classify, read_capped};

pub const INTERACTION_HEADER: &str = "x-fapi-interaction-id";

/// The answer's body: JSON when it parses, text otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Body {
    Json(Value),
    Text(String),
}

impl Body {
    pub fn parse(bytes: &[u8]) -> Body {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Body::Json(v),
            Err(_) => Body::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    pub fn json(&self) -> Option<&Value> {
        match self {
            Body::Json(v) => Some(v),
            Body::Text(_) => None,
        }
    }

    pub fn pretty(&self) -> String {
        match self {
            Body::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            Body::Text(t) => t.clone(),
        }
    }
}

/// An endpoint's answer to a form POST, read within the body cap.
#[derive(Debug, Clone)]
pub struct FormAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub elapsed: Duration,
    pub received_at: Timestamp,
}

impl crate::core::dpop::Answered for FormAnswer {
    fn status(&self) -> u16 {
        self.status
    }

    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    fn json(&self) -> Option<&Value> {
        self.body.json()
    }
}

impl FormAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer's headers as (lower-case name, value) pairs, values read leniently.
pub fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// POSTs a form as the PAR and token endpoints take it: JSON asked for, the interaction id
/// sent, network failures named.
pub async fn post_form(
    client: &reqwest::Client,
    endpoint: &str,
    interaction_id: &str,
    form: &[(String, String)],
) -> Result<FormAnswer, NetworkError> {
    post_form_with(client, endpoint, interaction_id, form, &[]).await
}

/// `post_form` with more request headers (a DPoP proof).
pub async fn post_form_with(
    client: &reqwest::Client,
    endpoint: &str,
    interaction_id: &str,
    form: &[(String, String)],
    extra_headers: &[(&str, &str)],
) -> Result<FormAnswer, NetworkError> {
    let started = Instant::now();
    let mut request = client
        .post(endpoint)
        .header(INTERACTION_HEADER, interaction_id)
        .header(reqwest::header::ACCEPT, "application/json");
    for (name, value) in extra_headers {
        request = request.header(*name, *value);
    }
    let response = request
        .form(form)
        .send()
        .await
        .map_err(|e| classify(e, endpoint))?;
    let status = response.status().as_u16();
    let headers = header_pairs(response.headers());
    let bytes = read_capped(response, endpoint).await?;
    Ok(FormAnswer {
        status,
        headers,
        body: Body::parse(&bytes),
        elapsed: started.elapsed(),
        received_at: Timestamp::now(),
    })
}
