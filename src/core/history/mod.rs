//! History: every exchange with a server (PAR, callback, token, refresh, and whatever later
//! steps record) kept in an SQLite file in the data dir, redacted by construction: an
//! `Exchange` can only be made by `Exchange::redact`, which replaces every secret with a named
//! placeholder (`{{client_assertion}}`, `{{code}}`, ...). From there: a list, a HAR 1.2 file,
//! a Markdown report for a ticket with the bank, and a curl command per entry.

mod capture;
mod capture_probe;
mod capture_resource;
pub mod curl;
pub mod har;
mod recorder;
mod redact;
pub mod report;
mod store;

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use capture_probe::{ProbeAnswer, ProbeRequest};
pub use capture_resource::ResourceCall;
pub use recorder::Recorder;
pub use redact::placeholder;
pub use store::{Entry, FlowSummary, History, HistoryError, Limits, StepSummary};

/// Which step of a flow an exchange was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Par,
    Callback,
    Token,
    Refresh,
    Resource,
    Consent,
    Probe,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Par => "par",
            Step::Callback => "callback",
            Step::Token => "token",
            Step::Refresh => "refresh",
            Step::Resource => "resource",
            Step::Consent => "consent",
            Step::Probe => "probe",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        [
            Step::Par,
            Step::Callback,
            Step::Token,
            Step::Refresh,
            Step::Resource,
            Step::Consent,
            Step::Probe,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A request or response body as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RecordedBody {
    /// application/x-www-form-urlencoded fields, in order.
    Form(Vec<(String, String)>),
    Json(Value),
    Text(String),
}

/// A JWT of the exchange, decoded: the compact form itself is never kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodedPart {
    /// What it is: "request object", "client assertion", "ID token", ...
    pub name: String,
    pub header: Value,
    pub claims: Value,
}

/// A lint finding as it stood when the exchange was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedFinding {
    pub id: String,
    pub severity: String,
    pub message: String,
}

/// The fields of an exchange. As `RawExchange` it may hold secrets (the caller fills it from
/// the live request); inside an `Exchange` it has been through redaction.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeFields {
    pub at: Timestamp,
    pub profile: String,
    pub step: Step,
    /// Links the steps of one flow across commands (the PAR's `state`, say).
    pub flow_key: String,
    pub method: String,
    pub url: String,
    /// None when no answer came (a network failure, or a callback, which is not ours to answer).
    pub status: Option<u16>,
    pub elapsed_ms: f64,
    pub interaction_id: Option<String>,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<RecordedBody>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<RecordedBody>,
    pub decoded: Vec<DecodedPart>,
    pub findings: Vec<RecordedFinding>,
    /// The outcome in a line: "accepted", "refused: invalid_client", a network error.
    pub note: Option<String>,
}

/// What a caller hands in: the fields as they were on the wire, and the secret values it
/// knows of, which are replaced wherever they appear.
pub struct RawExchange {
    pub fields: ExchangeFields,
    /// (placeholder name, value): "client_assertion", "code", "access_token", ...
    pub secrets: Vec<(&'static str, String)>,
}

impl fmt::Debug for RawExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawExchange")
            .field("step", &self.fields.step)
            .field("url", &self.fields.url)
            .finish_non_exhaustive()
    }
}

/// One recorded exchange. The only ways in are `Exchange::redact` and deserializing, which
/// redacts again: an `Exchange` holds no secret.
#[derive(Clone, PartialEq)]
pub struct Exchange(ExchangeFields);

impl Exchange {
    pub fn redact(raw: RawExchange) -> Exchange {
        Exchange(redact::redact(raw.fields, &raw.secrets))
    }

    pub fn fields(&self) -> &ExchangeFields {
        &self.0
    }
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("step", &self.0.step)
            .field("method", &self.0.method)
            .field("url", &self.0.url)
            .field("status", &self.0.status)
            .finish_non_exhaustive()
    }
}

impl Serialize for Exchange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Exchange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Exchange, D::Error> {
        let fields = ExchangeFields::deserialize(deserializer)?;
        Ok(Exchange::redact(RawExchange {
            fields,
            secrets: Vec::new(),
        }))
    }
}
