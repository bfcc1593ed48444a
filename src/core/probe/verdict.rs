//! What a case expects, what it got, and the verdict between them.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::core::lint;
use crate::core::oauth::OAuthError;

/// What the spec says of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Refused as the lint rule with this id says (its error and clause).
    Rule(&'static str),
    /// Refused with this error, by a clause no lint rule covers (it needs a second request).
    Clause {
        error: OAuthError,
        reference: &'static str,
    },
    /// The spec lets a server accept it: a refusal is stricter than the spec.
    Allowed { reference: &'static str },
    /// The spec leaves it to the server (the skew between 10 and 60 seconds).
    Either { reference: &'static str },
}

/// `expected` of a row, as the JSON and the report show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// "refused", "accepted" or "either".
    pub outcome: &'static str,
    pub error: Option<&'static str>,
    pub reference: String,
    /// The lint rule the case is tied to, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

impl Expect {
    pub fn expected(self) -> Expected {
        match self {
            Expect::Rule(id) => {
                let rule = lint::rules().find(|r| r.id == id);
                Expected {
                    outcome: "refused",
                    error: rule.and_then(|r| r.refusal).map(OAuthError::code),
                    reference: rule.map_or(String::new(), |r| r.reference.to_owned()),
                    rule: Some(id),
                }
            }
            Expect::Clause { error, reference } => Expected {
                outcome: "refused",
                error: Some(error.code()),
                reference: reference.to_owned(),
                rule: None,
            },
            Expect::Allowed { reference } => Expected {
                outcome: "accepted",
                error: None,
                reference: reference.to_owned(),
                rule: None,
            },
            Expect::Either { reference } => Expected {
                outcome: "either",
                error: None,
                reference: reference.to_owned(),
                rule: None,
            },
        }
    }
}

impl Expected {
    /// A rule-tied case whose rule does not fire on this profile's request: its deployment
    /// allows the change (the Malaysia pack leaves consent keys open), so acceptance is right.
    pub fn not_applying(rule: &'static str) -> Expected {
        Expected {
            outcome: "accepted",
            error: None,
            reference: format!("{rule} does not apply to this profile's consent type"),
            rule: Some(rule),
        }
    }
}

/// What the server answered. A network failure has no status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Got {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The interaction id sent (none when the case leaves the header out), so the bank can
    /// find the request in its logs.
    pub interaction_id: Option<String>,
    /// Whether the server took it: a request_uri issued, or an authorize page or redirect
    /// without an error.
    pub accepted: bool,
    pub elapsed_ms: u64,
    /// Why the case was not sent, or what else is worth knowing of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Refused with the expected code.
    #[serde(rename = "enforced")]
    Enforced,
    /// Refused, but with another code (or none).
    #[serde(rename = "enforced, other code")]
    EnforcedOtherCode,
    /// Accepted what the spec says to refuse.
    #[serde(rename = "lenient")]
    Lenient,
    /// Refused what the spec allows.
    #[serde(rename = "stricter")]
    Stricter,
    /// Accepted what the spec allows (the controls, an aud array with the issuer, a small skew).
    #[serde(rename = "allowed")]
    Allowed,
    /// The network failed or the server answered 5xx or 429.
    #[serde(rename = "error")]
    Error,
    /// Not sent: the profile cannot make this change (RS256 with a non-RSA key, ...).
    #[serde(rename = "skipped")]
    Skipped,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Enforced,
        Verdict::EnforcedOtherCode,
        Verdict::Lenient,
        Verdict::Stricter,
        Verdict::Allowed,
        Verdict::Error,
        Verdict::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Enforced => "enforced",
            Verdict::EnforcedOtherCode => "enforced, other code",
            Verdict::Lenient => "lenient",
            Verdict::Stricter => "stricter",
            Verdict::Allowed => "allowed",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
        }
    }

    /// The verdict of an answer that came back (not a network failure, not a 5xx or 429).
    pub fn of(expected: &Expected, got: &Got) -> Verdict {
        match (expected.outcome, got.accepted) {
            ("refused", true) => Verdict::Lenient,
            ("refused", false) if got.error.as_deref() == expected.error => Verdict::Enforced,
            ("refused", false) => Verdict::EnforcedOtherCode,
            ("accepted", false) => Verdict::Stricter,
            (_, true) => Verdict::Allowed,
            (_, false) => Verdict::Enforced,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was sent, for the TUI's detail view. Holds nonce, state and the PKCE challenge, so
/// `Debug` shows claim names only.
#[derive(Clone, Default, PartialEq)]
pub struct Sent {
    pub method: &'static str,
    pub url: String,
    pub request_header: Value,
    pub request_claims: Value,
    pub assertion_claims: Value,
    /// The answer's body as text.
    pub answer: String,
}

impl fmt::Debug for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        f.debug_struct("Sent")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("request_claims", &names(&self.request_claims))
            .field("assertion_claims", &names(&self.assertion_claims))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: &'static str,
    pub changes: &'static str,
    pub expected: Expected,
    pub got: Got,
    pub verdict: Verdict,
    #[serde(skip)]
    pub sent: Sent,
}

/// Why a run ended before its last case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// The valid request was refused: the profile itself is not accepted.
    ControlRefused {
        error: Option<String>,
        error_description: Option<String>,
    },
    RateLimited {
        case: String,
    },
    ServerError {
        case: String,
        status: u16,
    },
    Network {
        case: String,
        message: String,
    },
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::ControlRefused {
                error,
                error_description,
            } => write!(
                f,
                "the valid request (the control) was refused with {}{}: the profile itself is not accepted, so no case was sent; `consent-explorer submit --profile ...` shows why",
                error.as_deref().unwrap_or("no OAuth error"),
                error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            Stop::RateLimited { case } => write!(
                f,
                "stopped at {case}: the server answered 429 (rate limited); wait, then run again with a longer --delay"
            ),
            Stop::ServerError { case, status } => write!(
                f,
                "stopped at {case}: the server answered {status}; nothing more was sent (quote the interaction id to the bank)"
            ),
            Stop::Network { case, message } => {
                write!(f, "stopped at {case}: network problem: {message}")
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub enforced: usize,
    pub enforced_other_code: usize,
    pub lenient: usize,
    pub stricter: usize,
    pub allowed: usize,
    pub error: usize,
    pub skipped: usize,
    pub requests_sent: usize,
    /// The largest clock skew (seconds ahead) the server accepted in the skew search.
    pub largest_skew_tolerated: Option<i64>,
    /// The closing control was refused: the server may have started refusing this client, so
    /// late verdicts may be wrong.
    pub closing_control_refused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
}

impl Summary {
    pub fn count(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Enforced => self.enforced,
            Verdict::EnforcedOtherCode => self.enforced_other_code,
            Verdict::Lenient => self.lenient,
            Verdict::Stricter => self.stricter,
            Verdict::Allowed => self.allowed,
            Verdict::Error => self.error,
            Verdict::Skipped => self.skipped,
        }
    }

    /// "30 enforced, 2 enforced, other code, 1 lenient, ...": zero counts left out.
    pub fn line(&self) -> String {
        let counts: Vec<String> = Verdict::ALL
            .iter()
            .filter(|v| self.count(**v) > 0)
            .map(|v| format!("{} {}", self.count(*v), v.as_str()))
            .collect();
        let skew = self.largest_skew_tolerated.map_or_else(
            || "no skew tolerated".to_owned(),
            |s| format!("largest skew tolerated {s} s"),
        );
        format!(
            "{}; {} requests sent; {skew}",
            counts.join(", "),
            self.requests_sent
        )
    }
}

/// The counts of a run's rows; the skew tolerated is the largest accepted step of the search.
pub fn summarize(rows: &[Row], requests_sent: usize, stopped: Option<Stop>) -> Summary {
    let mut summary = Summary {
        requests_sent,
        stopped,
        ..Summary::default()
    };
    for row in rows {
        let slot = match row.verdict {
            Verdict::Enforced => &mut summary.enforced,
            Verdict::EnforcedOtherCode => &mut summary.enforced_other_code,
            Verdict::Lenient => &mut summary.lenient,
            Verdict::Stricter => &mut summary.stricter,
            Verdict::Allowed => &mut summary.allowed,
            Verdict::Error => &mut summary.error,
            Verdict::Skipped => &mut summary.skipped,
        };
        *slot += 1;
    }
    summary.largest_skew_tolerated = rows
        .iter()
        .filter(|r| r.got.accepted)
        .filter_map(|r| super::cases::skew_of(r.id))
        .max();
    summary.closing_control_refused = rows
        .iter()
        .any(|r| r.id == super::cases::CLOSING_CONTROL && !r.got.accepted);
    summary
}
