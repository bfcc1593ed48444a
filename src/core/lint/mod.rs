//! Pre-flight lint: what a strict FAPI 2.0 authorization server would refuse, why, and which
//! clause says so. One rulebook: the CLI and TUI show it, the embedded sandbox server refuses
//! by it.
//!
//! The rules live by subject, each file with the cases where its rules fire and stay silent;
//! this module holds the rule type, the registry (the order the README and outputs show) and
//! the runner.
//!
//! Clause numbers: FAPI 2.0 Security Profile (Final) and Message Signing, RFC 9101, 9126,
//! 7523, 9396, 7636, 7638, OpenID Connect Core 1.0, draft-ietf-oauth-rfc7523bis.

mod assertion;
mod authorization_details;
#[cfg(test)]
mod cases;
mod claims;
mod discovery;
mod dpop;
mod openid;
mod pkce;
mod signing;
mod timing;
mod transport;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::consent::{Pack, PackSet};
use super::jws::DecodedJwt;
use super::keys::{KeyFacts, SigningKey};
use super::oauth::OAuthError;
use super::request::{ParSeed, ParTicket};
use super::transport::DiscoveryDocument;

pub use super::keys::FAPI_ALGS;
pub use assertion::ASSERTION_MAX_AHEAD;
pub use dpop::DpopFacts;
pub use timing::{FAPI_MAX_LIFETIME, FUTURE_TOLERANCE};

/// Every rule, in rulebook order. The subjects interleave because the order is the one users
/// already see (README table, lint output); a new rule joins its subject's group.
static REGISTRY: &[&[Rule]] = &[
    signing::REQUEST_ALG,
    timing::RULES,
    claims::REQUEST_IDENTITY,
    pkce::RULES,
    openid::RULES,
    claims::PACK_CLAIMS,
    signing::REQUEST_KEY,
    assertion::RULES,
    signing::KEY_SIZE,
    authorization_details::RULES,
    transport::RULES,
    discovery::RULES,
    dpop::RULES,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    pub reference: &'static str,
    /// What a strict server answers for it; none for client-side advice. Not part of the
    /// JSON output, whose shape scripts rely on.
    #[serde(skip)]
    pub refusal: Option<OAuthError>,
}

/// The JWTs under lint.
pub struct Subject<'a> {
    pub request: &'a DecodedJwt,
    pub assertion: Option<&'a DecodedJwt>,
    /// `client_id` of the PAR form, outside the request object.
    pub form_client_id: Option<&'a str>,
}

/// What the JWTs are checked against.
pub struct Context<'a> {
    pub now: Timestamp,
    pub issuer: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub par_endpoint: Option<&'a str>,
    pub token_endpoint: Option<&'a str>,
    pub authorization_endpoint: Option<&'a str>,
    pub packs: &'a PackSet,
    /// The key the JWTs should be signed with, when known.
    pub key: Option<&'a KeyFacts>,
    /// The deployment's pack (its constraints apply even before the item's type is read).
    pub deployment: Option<&'a Pack>,
    /// The server's discovery document, when one is at hand: what it says it accepts.
    pub discovery: Option<&'a DiscoveryDocument>,
    /// The DPoP proof a build sends (or a server received), when DPoP is on.
    pub dpop: Option<&'a DpopFacts>,
}

impl<'a> Context<'a> {
    /// Checks that need no profile: the JWTs against the packs and the clock.
    pub fn bare(packs: &'a PackSet, now: Timestamp) -> Self {
        Context {
            now,
            issuer: None,
            client_id: None,
            par_endpoint: None,
            token_endpoint: None,
            authorization_endpoint: None,
            packs,
            key: None,
            deployment: None,
            discovery: None,
            dpop: None,
        }
    }

    /// Checks against what a profile expects, and its key when known.
    pub fn for_seed(
        seed: &'a ParSeed,
        packs: &'a PackSet,
        key: Option<&'a KeyFacts>,
        now: Timestamp,
    ) -> Self {
        Context {
            issuer: Some(&seed.endpoints.issuer),
            client_id: Some(&seed.client_id),
            par_endpoint: seed.endpoints.par.as_deref(),
            token_endpoint: seed.endpoints.token.as_deref(),
            authorization_endpoint: seed.endpoints.authorization.as_deref(),
            key,
            deployment: Some(&seed.pack),
            ..Context::bare(packs, now)
        }
    }
}

pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub reference: &'static str,
    /// The error a strict server answers; none when the rule is client-side advice.
    pub refusal: Option<OAuthError>,
    pub check: fn(&Subject, &Context) -> Option<String>,
}

impl Rule {
    fn finding(&self, message: String) -> Finding {
        Finding {
            id: self.id,
            severity: self.severity,
            message,
            reference: self.reference,
            refusal: self.refusal,
        }
    }
}

/// Every rule, in rulebook order.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    REGISTRY.iter().flat_map(|group| group.iter())
}

/// Runs every rule; findings sorted errors first, in rulebook order.
pub fn lint(subject: &Subject, ctx: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules()
        .filter_map(|rule| (rule.check)(subject, ctx).map(|m| rule.finding(m)))
        .collect();
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Lints a build against what its profile expects, with the key's facts.
pub fn lint_ticket(
    ticket: &ParTicket,
    seed: &ParSeed,
    key: &SigningKey,
    packs: &PackSet,
    now: Timestamp,
) -> Vec<Finding> {
    lint_ticket_with(ticket, seed, key, packs, now, None)
}

/// `lint_ticket` with the DPoP proof the build would send, when it sends one.
pub fn lint_ticket_with(
    ticket: &ParTicket,
    seed: &ParSeed,
    key: &SigningKey,
    packs: &PackSet,
    now: Timestamp,
    dpop: Option<&DpopFacts>,
) -> Vec<Finding> {
    let facts = key.facts();
    let ctx = Context {
        dpop,
        ..Context::for_seed(seed, packs, Some(&facts), now)
    };
    lint(
        &Subject {
            request: &ticket.request,
            assertion: Some(&ticket.client_assertion),
            form_client_id: ticket.form_value("client_id"),
        },
        &ctx,
    )
}

/// Only the rules that read the discovery document: what a server would refuse of this build
/// by what it advertises.
pub fn against_discovery(
    ticket: &ParTicket,
    doc: &DiscoveryDocument,
    packs: &PackSet,
) -> Vec<Finding> {
    let ctx = Context {
        discovery: Some(doc),
        ..Context::bare(packs, ticket.built_at)
    };
    let subject = Subject {
        request: &ticket.request,
        assertion: Some(&ticket.client_assertion),
        form_client_id: ticket.form_value("client_id"),
    };
    discovery::RULES
        .iter()
        .filter_map(|rule| (rule.check)(&subject, &ctx).map(|m| rule.finding(m)))
        .collect()
}

/// Only the DPoP rules, on a proof a server received (the sandbox refuses by them) with the
/// request object it came with, if any, and the server's discovery document when at hand.
pub fn lint_dpop(
    request: &DecodedJwt,
    facts: &DpopFacts,
    discovery: Option<&DiscoveryDocument>,
    packs: &PackSet,
    now: Timestamp,
) -> Vec<Finding> {
    let ctx = Context {
        dpop: Some(facts),
        discovery,
        ..Context::bare(packs, now)
    };
    let subject = Subject {
        request,
        assertion: None,
        form_client_id: None,
    };
    dpop::RULES
        .iter()
        .filter_map(|rule| (rule.check)(&subject, &ctx).map(|m| rule.finding(m)))
        .collect()
}

/// "1 errors, 0 warnings, 2 info".
pub fn summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "{} errors, {} warnings, {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )
}

pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

// ---- helpers the subjects share ------------------------------------------------------------

fn number(jwt: &DecodedJwt, claim: &str) -> Option<f64> {
    jwt.claim(claim).and_then(Value::as_f64)
}

/// The pack whose rules apply: the item's type if known, else the deployment's.
fn pack_of<'a>(subject: &Subject, ctx: &'a Context) -> Option<&'a Pack> {
    first_item(subject)
        .and_then(|item| item.get("type"))
        .and_then(Value::as_str)
        .and_then(|t| ctx.packs.find(t))
        .or(ctx.deployment)
}

fn items<'a>(subject: &Subject<'a>) -> Option<&'a Vec<Value>> {
    subject
        .request
        .claim("authorization_details")
        .and_then(Value::as_array)
}

fn first_item<'a>(subject: &Subject<'a>) -> Option<&'a Value> {
    items(subject).and_then(|a| a.first())
}

/// A claim as it appears, for messages: `"abc"`, `5`, or missing.
fn shown(jwt: &DecodedJwt, claim: &str) -> String {
    jwt.claim(claim).map_or("missing".into(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::cases::{Case, now};
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_builds_have_no_findings() {
        for profile in ["local", "local-uae"] {
            let case = Case::new(profile);
            assert_eq!(case.run(), vec![], "{profile}");
        }
    }

    #[test]
    fn rule_ids_are_unique_and_referenced() {
        let mut ids: Vec<&str> = rules().map(|r| r.id).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate rule ids");
        assert_eq!(count, 57);
        assert!(rules().all(|r| !r.reference.is_empty()));
    }

    #[test]
    fn without_a_profile_context_profile_rules_stay_silent() {
        let case = Case::new("local");
        let packs = PackSet::builtin();
        let ctx = Context::bare(&packs, now());
        let findings = lint(
            &Subject {
                request: &case.request,
                assertion: case.assertion.as_ref(),
                form_client_id: None,
            },
            &ctx,
        );
        assert_eq!(findings, vec![]);
    }

    #[test]
    fn readme_lists_every_rule_as_it_is() {
        let readme = include_str!("../../../README.md");
        let mut last = 0;
        for rule in rules() {
            let row = format!(
                "| `{}` | {} | {} | {} |",
                rule.id,
                rule.severity.as_str(),
                rule.reference,
                rule.refusal.map_or("", OAuthError::code)
            );
            let at = readme.find(&row);
            assert!(at.is_some(), "README lacks {row}");
            assert!(at > Some(last), "README lists {} out of order", rule.id);
            last = at.unwrap_or_default();
        }
    }

    #[test]
    fn errors_sort_first() {
        let mut case = Case::new("local");
        case.request.claims["scope"] = json!("accounts profile");
        let findings = case.run();
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings.iter().any(|f| f.severity == Severity::Info));
        assert!(has_errors(&findings));
    }
}
