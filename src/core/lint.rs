//! Pre-flight lint: what a strict FAPI 2.0 authorization server would refuse, why, and which
//! clause says so. One rulebook: the CLI and TUI show it, the embedded sandbox server refuses
//! by it.
//!
//! Clause numbers: FAPI 2.0 Security Profile (Final) and Message Signing, RFC 9101, 9126,
//! 7523, 9396, 7636, 7638, OpenID Connect Core 1.0, draft-ietf-oauth-rfc7523bis.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::consent::{ItemIssue, Pack, PackSet};
use super::jws::DecodedJwt;
use super::keys::SigningKey;
use super::keys::{KeyFacts, KeyKind, MIN_RSA_BITS, rsa_bits_of};
use super::request::{ParSeed, ParTicket};

pub use super::keys::FAPI_ALGS;
/// FAPI 2.0 Message Signing: exp - nbf at most 60 minutes; nbf at most 60 minutes old.
pub const FAPI_MAX_LIFETIME: i64 = 3600;
/// FAPI 2.0 Security Profile 5.3.2.1: servers accept iat/nbf up to 10 s in the future.
pub const FUTURE_TOLERANCE: i64 = 10;
pub const ASSERTION_MAX_AHEAD: i64 = 300;

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

/// The OAuth error a strict server answers when it refuses for this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    InvalidRequest,
    InvalidRequestObject,
    InvalidClient,
    InvalidAuthorizationDetails,
    InvalidScope,
    /// Client-side advice only; no server answer.
    None,
}

impl Refusal {
    pub fn error_code(self) -> Option<&'static str> {
        match self {
            Refusal::InvalidRequest => Some("invalid_request"),
            Refusal::InvalidRequestObject => Some("invalid_request_object"),
            Refusal::InvalidClient => Some("invalid_client"),
            Refusal::InvalidAuthorizationDetails => Some("invalid_authorization_details"),
            Refusal::InvalidScope => Some("invalid_scope"),
            Refusal::None => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    pub reference: &'static str,
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
    pub refusal: Refusal,
    pub check: fn(&Subject, &Context) -> Option<String>,
}

impl Rule {
    fn finding(&self, message: String) -> Finding {
        Finding {
            id: self.id,
            severity: self.severity,
            message,
            reference: self.reference,
        }
    }
}

/// Runs every rule; findings sorted errors first, in rulebook order.
pub fn lint(subject: &Subject, ctx: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES
        .iter()
        .filter_map(|rule| (rule.check)(subject, ctx).map(|m| rule.finding(m)))
        .collect();
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Lints a build against what its profile expects, with the key's facts.: what the profile expects, and the key's facts.
pub fn lint_ticket(
    ticket: &ParTicket,
    seed: &ParSeed,
    key: &SigningKey,
    packs: &PackSet,
    now: Timestamp,
) -> Vec<Finding> {
    let facts = key.facts();
    let ctx = Context::for_seed(seed, packs, Some(&facts), now);
    lint(
        &Subject {
            request: &ticket.request,
            assertion: Some(&ticket.client_assertion),
            form_client_id: ticket.form_value("client_id"),
        },
        &ctx,
    )
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
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

// ---- helpers -------------------------------------------------------------------------------

fn number(jwt: &DecodedJwt, claim: &str) -> Option<f64> {
    jwt.claim(claim).and_then(Value::as_f64)
}

fn scope_has_openid(jwt: &DecodedJwt) -> bool {
    jwt.claim_str("scope")
        .is_some_and(|s| s.split_whitespace().any(|v| v == "openid"))
}

fn is_https_or_loopback(url: &str) -> bool {
    url.starts_with("https://")
        || url::Url::parse(url).is_ok_and(|u| super::transport::is_loopback_url(&u))
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

/// Issues of every item of a known type, of one kind, as one message.
fn item_issues(
    subject: &Subject,
    ctx: &Context,
    pick: fn(&ItemIssue) -> Option<String>,
) -> Option<String> {
    let mut messages = Vec::new();
    for item in items(subject)? {
        let Some(pack) = item
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| ctx.packs.find(t))
        else {
            continue;
        };
        messages.extend(pack.check_item(item, ctx.now).iter().filter_map(pick));
    }
    (!messages.is_empty()).then(|| messages.join("; "))
}

fn alg_check(jwt: &DecodedJwt, what: &str, subject: &Subject, ctx: &Context) -> Option<String> {
    let alg = jwt.alg().unwrap_or("(none)");
    if !FAPI_ALGS.contains(&alg) {
        return Some(format!(
            "the {what} is signed with {alg}; FAPI 2.0 allows only PS256, ES256 and EdDSA (Ed25519)"
        ));
    }
    let pack = pack_of(subject, ctx)?;
    (!pack.allows_alg(alg)).then(|| {
        format!(
            "the {what} is signed with {alg}; {} allows only {}",
            pack.ecosystem,
            pack.constraints.allowed_algs.join(", ")
        )
    })
}

fn kid_mismatch(jwt: &DecodedJwt, what: &str, ctx: &Context) -> Option<String> {
    let declared = ctx.key?.declared_kid.as_deref()?;
    let kid = jwt.kid();
    (kid != Some(declared)).then(|| {
        format!(
            "the {what}'s kid is {} but the key's JWK says kid \"{declared}\": the server looks the key up by kid and will not find it",
            kid.map_or("missing".into(), |k| format!("\"{k}\""))
        )
    })
}

fn kid_not_thumbprint(jwt: &DecodedJwt, what: &str, ctx: &Context) -> Option<String> {
    let facts = ctx.key?;
    let kid = jwt.kid()?;
    (kid != facts.thumbprint).then(|| {
        format!(
            "the {what}'s kid \"{kid}\" is not the key's RFC 7638 thumbprint ({}); fine if that is the kid you registered (e.g. a certificate thumbprint)",
            facts.thumbprint
        )
    })
}

fn signature_check(jwt: &DecodedJwt, what: &str, ctx: &Context) -> Option<String> {
    let facts = ctx.key?;
    match jwt.verify(&facts.public_jwk) {
        Ok(true) => None,
        Ok(false) => Some(format!(
            "the {what}'s signature does not verify with the profile's key (thumbprint {}): signed with another key?",
            facts.thumbprint
        )),
        Err(e) => Some(format!("the {what}'s signature cannot be checked: {e}")),
    }
}

/// A claim as it appears, for messages: `"abc"`, `5`, or missing.
fn shown(jwt: &DecodedJwt, claim: &str) -> String {
    jwt.claim(claim).map_or("missing".into(), Value::to_string)
}

fn fractional(jwt: &DecodedJwt) -> Vec<String> {
    ["exp", "nbf", "iat"]
        .into_iter()
        .filter(|c| jwt.claim(c).is_some_and(|v| v.is_f64()))
        .map(str::to_owned)
        .collect()
}

// ---- the rules -----------------------------------------------------------------------------

const FAPI_ALG_REF: &str = "FAPI 2.0 Security Profile 5.4.1 (1)";

pub static RULES: &[Rule] = &[
    Rule {
        id: "request.alg",
        severity: Severity::Error,
        reference: FAPI_ALG_REF,
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| alg_check(s.request, "request object", s, c),
    },
    Rule {
        id: "request.exp-missing",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (4)",
        refusal: Refusal::InvalidRequestObject,
        check: |s, _| {
            number(s.request, "exp")
                .is_none()
                .then(|| "the request object has no numeric exp claim".into())
        },
    },
    Rule {
        id: "request.nbf-missing",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (3)",
        refusal: Refusal::InvalidRequestObject,
        check: |s, _| {
            number(s.request, "nbf")
                .is_none()
                .then(|| "the request object has no numeric nbf claim".into())
        },
    },
    Rule {
        id: "request.lifetime",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (4); the pack's lifetime cap",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let lifetime = number(s.request, "exp")? - number(s.request, "nbf")?;
            if lifetime > FAPI_MAX_LIFETIME as f64 {
                return Some(format!(
                    "exp - nbf is {lifetime} s; FAPI 2.0 allows at most 60 minutes (3600 s)"
                ));
            }
            let pack = pack_of(s, c)?;
            let cap = pack.constraints.max_request_lifetime?;
            (lifetime > cap as f64).then(|| {
                let disputed = pack
                    .constraints
                    .max_request_lifetime_disputed
                    .as_deref()
                    .map(|d| format!(" (disputed: {d})"))
                    .unwrap_or_default();
                format!(
                    "exp - nbf is {lifetime} s; {} allows at most {cap} s{disputed}",
                    pack.ecosystem
                )
            })
        },
    },
    Rule {
        id: "request.nbf-too-old",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (3)",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let age = c.now.as_second() as f64 - number(s.request, "nbf")?;
            (age > FAPI_MAX_LIFETIME as f64).then(|| {
                format!(
                    "nbf is {} in the past; FAPI 2.0 allows at most 60 minutes",
                    crate::core::time::short_duration(age as i64)
                )
            })
        },
    },
    Rule {
        id: "request.nbf-future",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.1 (13)",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let ahead = number(s.request, "nbf")? - c.now.as_second() as f64;
            (ahead > FUTURE_TOLERANCE as f64).then(|| {
                format!("nbf is {ahead} s in the future; servers must accept only up to 10 s (and refuse beyond 60 s): is the local clock ahead?")
            })
        },
    },
    Rule {
        id: "request.expired",
        severity: Severity::Error,
        reference: "RFC 7519 4.1.4",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let exp = number(s.request, "exp")?;
            (exp <= c.now.as_second() as f64).then(|| {
                format!(
                    "the request object expired ({})",
                    crate::core::time::human(exp, c.now)
                )
            })
        },
    },
    Rule {
        id: "jwt.fractional-time",
        severity: Severity::Warning,
        reference: "RFC 7519 2 (NumericDate)",
        refusal: Refusal::None,
        check: |s, _| {
            let mut parts = Vec::new();
            let request = fractional(s.request);
            if !request.is_empty() {
                parts.push(format!("request object {}", request.join(", ")));
            }
            if let Some(a) = s.assertion {
                let assertion = fractional(a);
                if !assertion.is_empty() {
                    parts.push(format!("client assertion {}", assertion.join(", ")));
                }
            }
            (!parts.is_empty()).then(|| {
                format!(
                    "fractional seconds in {} (as in the Ozone sample): NumericDate allows them, but some servers truncate or refuse them; send whole seconds",
                    parts.join("; ")
                )
            })
        },
    },
    Rule {
        id: "request.aud",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (2); RFC 9101 4",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let issuer = c.issuer?;
            let ok = match s.request.claim("aud") {
                Some(Value::String(a)) => a == issuer,
                Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(issuer)),
                _ => false,
            };
            (!ok).then(|| {
                format!(
                    "the request object's aud is {}; it must be the issuer \"{issuer}\" (or an array containing it)",
                    s.request.claim("aud").map_or("missing".into(), Value::to_string)
                )
            })
        },
    },
    Rule {
        id: "request.iss",
        severity: Severity::Error,
        reference: "RFC 9101 4; FAPI 2.0 Message Signing 5.3.2",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let client_id = c.client_id.or(s.form_client_id)?;
            let iss = s.request.claim_str("iss");
            (iss != Some(client_id)).then(|| {
                format!(
                    "the request object's iss is {}; strict servers (e.g. oidc-provider) verify it equals the client_id \"{client_id}\"",
                    shown(s.request, "iss")
                )
            })
        },
    },
    Rule {
        id: "request.client-id-mismatch",
        severity: Severity::Error,
        reference: "RFC 9101 5, 6.3",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let inside = s.request.claim_str("client_id");
            let outside = s.form_client_id.or(c.client_id)?;
            (inside != Some(outside)).then(|| {
                format!(
                    "client_id inside the request object is {} but the client_id outside it is \"{outside}\"; they must be identical",
                    shown(s.request, "client_id")
                )
            })
        },
    },
    Rule {
        id: "request.nested-request",
        severity: Severity::Error,
        reference: "RFC 9101 4, 10.7; RFC 9126 2.1",
        refusal: Refusal::InvalidRequestObject,
        check: |s, _| {
            let nested: Vec<&str> = ["request", "request_uri"]
                .into_iter()
                .filter(|c| s.request.claim(c).is_some())
                .collect();
            (!nested.is_empty()).then(|| {
                format!("the request object contains {}: a request object must not carry request or request_uri", nested.join(" and "))
            })
        },
    },
    Rule {
        id: "request.redirect-uri-missing",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.2 (6)",
        refusal: Refusal::InvalidRequest,
        check: |s, _| {
            s.request
                .claim_str("redirect_uri")
                .is_none()
                .then(|| "the request object has no redirect_uri; FAPI 2.0 servers require it in pushed requests".into())
        },
    },
    Rule {
        id: "request.response-type",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.2 (1)",
        refusal: Refusal::InvalidRequest,
        check: |s, _| {
            let rt = s.request.claim_str("response_type");
            (rt != Some("code")).then(|| {
                format!(
                    "response_type is {}; FAPI 2.0 allows only \"code\"",
                    rt.map_or("missing".into(), |r| format!("\"{r}\""))
                )
            })
        },
    },
    Rule {
        id: "request.pkce-missing",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.2 (5); RFC 7636 4.3",
        refusal: Refusal::InvalidRequest,
        check: |s, _| {
            s.request
                .claim_str("code_challenge")
                .is_none()
                .then(|| "no code_challenge: FAPI 2.0 requires PKCE with S256".into())
        },
    },
    Rule {
        id: "request.pkce-method",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.2 (5); RFC 7636 4.2, 4.3",
        refusal: Refusal::InvalidRequest,
        check: |s, _| {
            s.request.claim_str("code_challenge")?;
            let method = s.request.claim_str("code_challenge_method");
            (method != Some("S256")).then(|| {
                format!(
                    "code_challenge_method is {}; FAPI 2.0 requires S256 (a missing method means plain)",
                    method.map_or("missing".into(), |m| format!("\"{m}\""))
                )
            })
        },
    },
    Rule {
        id: "request.pkce-challenge",
        severity: Severity::Error,
        reference: "RFC 7636 4.2",
        refusal: Refusal::InvalidRequest,
        check: |s, _| {
            let challenge = s.request.claim_str("code_challenge")?;
            let ok = challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            (!ok).then(|| {
                format!("code_challenge \"{challenge}\" is not an S256 challenge (43 base64url characters)")
            })
        },
    },
    Rule {
        id: "request.claims-without-openid",
        severity: Severity::Error,
        reference: "OpenID Connect Core 1.0 3.1.2.1, 5.5",
        refusal: Refusal::InvalidRequest,
        check: |s, _| {
            (s.request.claim("claims").is_some() && !scope_has_openid(s.request)).then(|| {
                "the claims parameter is sent while scope lacks openid: strict OpenID servers (e.g. oidc-provider) refuse it with invalid_request. The Ozone MY portal sample does this (scope \"accounts profile\"); add openid to scope".into()
            })
        },
    },
    Rule {
        id: "request.nonce-without-openid",
        severity: Severity::Info,
        reference: "OpenID Connect Core 1.0 3.1.2.1",
        refusal: Refusal::None,
        check: |s, _| {
            (s.request.claim("nonce").is_some() && !scope_has_openid(s.request)).then(|| {
                "nonce is sent while scope lacks openid: without openid this is not an OpenID request and nonce has no meaning (oidc-provider refuses it with invalid_request)".into()
            })
        },
    },
    Rule {
        id: "request.max-age-without-openid",
        severity: Severity::Info,
        reference: "OpenID Connect Core 1.0 3.1.2.1",
        refusal: Refusal::None,
        check: |s, _| {
            (s.request.claim("max_age").is_some() && !scope_has_openid(s.request)).then(|| {
                "max_age is sent while scope lacks openid: its meaning is OpenID's (oidc-provider refuses it with invalid_request)".into()
            })
        },
    },
    Rule {
        id: "request.max-age-cap",
        severity: Severity::Error,
        reference: "the pack's max_age cap",
        refusal: Refusal::InvalidRequest,
        check: |s, c| {
            let max_age = number(s.request, "max_age")?;
            let pack = pack_of(s, c)?;
            let cap = pack.constraints.max_age?;
            (max_age > cap as f64).then(|| {
                format!(
                    "max_age is {max_age}; {} allows at most {cap}",
                    pack.ecosystem
                )
            })
        },
    },
    Rule {
        id: "request.required-claim",
        severity: Severity::Error,
        reference: "the pack's required request claims",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| {
            let pack = pack_of(s, c)?;
            let missing: Vec<&str> = pack
                .constraints
                .required_request_claims
                .iter()
                .map(String::as_str)
                .filter(|claim| s.request.claim(claim).is_none())
                .collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "{} requires {} in the request object",
                    pack.ecosystem,
                    missing.join(", ")
                )
            })
        },
    },
    Rule {
        id: "request.scope-unsupported",
        severity: Severity::Warning,
        reference: "RFC 6749 3.3; the pack's scopes",
        refusal: Refusal::InvalidScope,
        check: |s, c| {
            let pack = pack_of(s, c)?;
            if pack.constraints.scopes.is_empty() {
                return None;
            }
            let unknown: Vec<&str> = s
                .request
                .claim_str("scope")?
                .split_whitespace()
                .filter(|v| !pack.constraints.scopes.iter().any(|k| k == v))
                .collect();
            (!unknown.is_empty()).then(|| {
                format!(
                    "scope {} is not among the scopes {} supports ({})",
                    unknown.join(" "),
                    pack.ecosystem,
                    pack.constraints.scopes.join(" ")
                )
            })
        },
    },
    Rule {
        id: "request.kid-mismatch",
        severity: Severity::Error,
        reference: "RFC 7515 4.1.4",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| kid_mismatch(s.request, "request object", c),
    },
    Rule {
        id: "request.kid-not-thumbprint",
        severity: Severity::Info,
        reference: "RFC 7638 3",
        refusal: Refusal::None,
        check: |s, c| kid_not_thumbprint(s.request, "request object", c),
    },
    Rule {
        id: "request.signature",
        severity: Severity::Error,
        reference: "RFC 9101 6.2; RFC 7515 5.2",
        refusal: Refusal::InvalidRequestObject,
        check: |s, c| signature_check(s.request, "request object", c),
    },
    Rule {
        id: "assertion.alg",
        severity: Severity::Error,
        reference: FAPI_ALG_REF,
        refusal: Refusal::InvalidClient,
        check: |s, c| alg_check(s.assertion?, "client assertion", s, c),
    },
    Rule {
        id: "assertion.iss-sub",
        severity: Severity::Error,
        reference: "RFC 7523 3 (1, 2)",
        refusal: Refusal::InvalidClient,
        check: |s, c| {
            let a = s.assertion?;
            let client_id = c.client_id.or(s.form_client_id)?;
            let wrong: Vec<String> = ["iss", "sub"]
                .into_iter()
                .filter(|claim| a.claim_str(claim) != Some(client_id))
                .map(|claim| {
                    format!(
                        "{claim} is {}",
                        a.claim(claim).map_or("missing".into(), Value::to_string)
                    )
                })
                .collect();
            (!wrong.is_empty()).then(|| {
                format!(
                    "in the client assertion {}; both must be the client_id \"{client_id}\"",
                    wrong.join(" and ")
                )
            })
        },
    },
    Rule {
        id: "assertion.aud",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.1 (8), 5.3.3.1 (5); RFC 9126 2; draft-ietf-oauth-rfc7523bis 4, 5",
        refusal: Refusal::InvalidClient,
        check: |s, c| {
            let a = s.assertion?;
            let issuer = c.issuer?;
            let aud = a.claim("aud");
            if aud.and_then(Value::as_str) == Some(issuer) {
                return None;
            }
            let what = match aud {
                None => "missing".to_owned(),
                Some(Value::Array(list)) if list.iter().any(|v| v.as_str() == Some(issuer)) => {
                    "an array containing the issuer".to_owned()
                }
                Some(Value::String(v)) if Some(v.as_str()) == c.token_endpoint => {
                    format!("the token endpoint \"{v}\"")
                }
                Some(Value::String(v)) if Some(v.as_str()) == c.par_endpoint => {
                    format!("the PAR endpoint \"{v}\"")
                }
                Some(other) => other.to_string(),
            };
            let deployment = pack_of(s, c)
                .and_then(|p| p.constraints.assertion_audience_note.as_deref())
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            Some(format!(
                "the client assertion's aud is {what}. FAPI 2.0 servers accept only the issuer \"{issuer}\", as a single string (oidc-provider answers invalid_client); RFC 9126 section 2 lets servers also accept the token or PAR endpoint, and draft-ietf-oauth-rfc7523bis removes that.{deployment}"
            ))
        },
    },
    Rule {
        id: "assertion.exp-missing",
        severity: Severity::Error,
        reference: "RFC 7523 3 (4)",
        refusal: Refusal::InvalidClient,
        check: |s, _| {
            number(s.assertion?, "exp")
                .is_none()
                .then(|| "the client assertion has no numeric exp claim".into())
        },
    },
    Rule {
        id: "assertion.expired",
        severity: Severity::Error,
        reference: "RFC 7523 3 (4)",
        refusal: Refusal::InvalidClient,
        check: |s, c| {
            let exp = number(s.assertion?, "exp")?;
            (exp <= c.now.as_second() as f64).then(|| {
                format!(
                    "the client assertion expired ({})",
                    crate::core::time::human(exp, c.now)
                )
            })
        },
    },
    Rule {
        id: "assertion.exp-far",
        severity: Severity::Warning,
        reference: "RFC 7523 3 (4); OpenID Connect Core 1.0 9",
        refusal: Refusal::None,
        check: |s, c| {
            let ahead = number(s.assertion?, "exp")? - c.now.as_second() as f64;
            (ahead > ASSERTION_MAX_AHEAD as f64).then(|| {
                format!("the client assertion is valid for {} more; keep it under 5 minutes (servers may refuse long-lived assertions, and a leaked one stays usable)", crate::core::time::short_duration(ahead as i64))
            })
        },
    },
    Rule {
        id: "assertion.jti-missing",
        severity: Severity::Error,
        reference: "OpenID Connect Core 1.0 9; RFC 7523 3 (7)",
        refusal: Refusal::InvalidClient,
        check: |s, _| {
            s.assertion?
                .claim_str("jti")
                .is_none()
                .then(|| "the client assertion has no jti: private_key_jwt requires a unique jti so the server can refuse replays".into())
        },
    },
    Rule {
        id: "assertion.kid-mismatch",
        severity: Severity::Error,
        reference: "RFC 7515 4.1.4",
        refusal: Refusal::InvalidClient,
        check: |s, c| kid_mismatch(s.assertion?, "client assertion", c),
    },
    Rule {
        id: "assertion.signature",
        severity: Severity::Error,
        reference: "RFC 7523 3 (9); RFC 7515 5.2",
        refusal: Refusal::InvalidClient,
        check: |s, c| signature_check(s.assertion?, "client assertion", c),
    },
    Rule {
        id: "key.rsa-too-small",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.4.1 (2)",
        refusal: Refusal::InvalidClient,
        check: |_, c| {
            let facts = c.key?;
            let bits = match facts.kind {
                KeyKind::Rsa { bits } => bits,
                _ => rsa_bits_of(&facts.public_jwk)?,
            };
            (bits < MIN_RSA_BITS)
                .then(|| format!("the RSA key has {bits} bits; FAPI 2.0 requires at least 2048"))
        },
    },
    Rule {
        id: "rar.missing",
        severity: Severity::Error,
        reference: "RFC 9396 2",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, _| match s.request.claim("authorization_details") {
            None => Some(
                "the request object has no authorization_details: the consent is asked for there"
                    .into(),
            ),
            Some(Value::Array(a))
                if a.iter()
                    .all(|i| i.get("type").is_some_and(Value::is_string)) =>
            {
                None
            }
            Some(Value::Array(_)) => {
                Some("every authorization_details item needs a string type".into())
            }
            Some(_) => Some("authorization_details must be a JSON array of objects".into()),
        },
    },
    Rule {
        id: "rar.type-unknown",
        severity: Severity::Error,
        reference: "RFC 9396 5",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            let unknown: Vec<&str> = items(s)?
                .iter()
                .filter_map(|i| i.get("type").and_then(Value::as_str))
                .filter(|t| c.packs.find(t).is_none())
                .collect();
            (!unknown.is_empty()).then(|| {
                format!(
                    "authorization_details type {} is unknown (servers answer invalid_authorization_details); known: {}",
                    unknown.join(", "),
                    c.packs.packs.iter().map(|p| p.type_.as_str()).collect::<Vec<_>>().join(", ")
                )
            })
        },
    },
    Rule {
        id: "rar.too-many",
        severity: Severity::Error,
        reference: "the pack's max_items",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            let count = items(s)?.len();
            let pack = pack_of(s, c)?;
            let max = pack.constraints.max_items?;
            (count > max).then(|| {
                format!(
                    "authorization_details has {count} items; {} accepts exactly {max}",
                    pack.ecosystem
                )
            })
        },
    },
    Rule {
        id: "consent.required",
        severity: Severity::Error,
        reference: "the pack's required fields; RFC 9396 5",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::MissingRequired { field, path } => {
                    Some(format!("{path} ({field}) is required"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.permissions-empty",
        severity: Severity::Error,
        reference: "the pack's min_items; RFC 9396 5",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::EmptyList { path } => {
                    Some(format!("{path} is empty: ask for at least one"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.unknown-value",
        severity: Severity::Error,
        reference: "the pack's values; RFC 9396 5",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::UnknownValue {
                    path,
                    value,
                    allowed,
                } => Some(format!(
                    "{path}: \"{value}\" is not a known value (known: {allowed})"
                )),
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.unknown-key",
        severity: Severity::Error,
        reference: "RFC 9396 5; the pack's schema (additionalProperties: false)",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::UnknownKey { path } => {
                    Some(format!("{path} is not a field of this consent type"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.bad-value",
        severity: Severity::Error,
        reference: "the pack's field kinds",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::BadValue { path, message } => Some(format!("{path} {message}")),
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.expiry-past",
        severity: Severity::Error,
        reference: "the pack's expiration field",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::ExpiryPast { path, value } => {
                    Some(format!("{path} {value} is in the past"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.expiry-cap",
        severity: Severity::Error,
        reference: "the pack's max_consent_expiry",
        refusal: Refusal::InvalidAuthorizationDetails,
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::ExpiryBeyondCap { path, value, cap } => {
                    Some(format!("{path} {value} is more than {cap} ahead"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "transport.not-https",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.2.1, 5.3.2.2 (8)",
        refusal: Refusal::InvalidRequest,
        check: |s, c| {
            let mut plain = Vec::new();
            let urls = [
                ("redirect_uri", s.request.claim_str("redirect_uri")),
                ("issuer", c.issuer),
                ("par_endpoint", c.par_endpoint),
                ("token_endpoint", c.token_endpoint),
                ("authorization_endpoint", c.authorization_endpoint),
            ];
            for (name, url) in urls {
                if let Some(url) = url
                    && !is_https_or_loopback(url)
                {
                    plain.push(format!("{name} {url}"));
                }
            }
            (!plain.is_empty()).then(|| {
                format!(
                    "not https: {}; FAPI 2.0 requires TLS (plain http only on loopback)",
                    plain.join(", ")
                )
            })
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jws;
    use crate::core::keys::SigningKey;
    use crate::core::request::{
        build,
        tests::{now, seed},
    };
    use jsonwebtoken::Algorithm;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use serde_json::json;

    struct Case {
        request: DecodedJwt,
        assertion: Option<DecodedJwt>,
        form_client_id: String,
        facts: KeyFacts,
        issuer: String,
        par: String,
        token: String,
        deployment: String,
    }

    impl Case {
        fn new(profile: &str) -> Case {
            let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
            let seed = seed(profile);
            let t = build(&seed, &key, now(), &mut StdRng::seed_from_u64(3)).unwrap();
            Case {
                request: t.request.clone(),
                assertion: Some(t.client_assertion.clone()),
                form_client_id: seed.client_id.clone(),
                facts: key.facts(),
                issuer: seed.endpoints.issuer.clone(),
                par: seed.endpoints.par.clone().unwrap(),
                token: seed.endpoints.token.clone().unwrap(),
                deployment: seed.pack.id.clone(),
            }
        }

        fn run(&self) -> Vec<Finding> {
            let packs = PackSet::builtin();
            let deployment = packs.find(&self.deployment).cloned();
            let ctx = Context {
                now: now(),
                issuer: Some(&self.issuer),
                client_id: Some("consent-explorer-demo"),
                par_endpoint: Some(&self.par),
                token_endpoint: Some(&self.token),
                authorization_endpoint: None,
                packs: &packs,
                key: Some(&self.facts),
                deployment: deployment.as_ref(),
            };
            lint(
                &Subject {
                    request: &self.request,
                    assertion: self.assertion.as_ref(),
                    form_client_id: Some(&self.form_client_id),
                },
                &ctx,
            )
        }

        fn ids(&self) -> Vec<&'static str> {
            self.run().iter().map(|f| f.id).collect()
        }
    }

    fn claims(jwt: &mut DecodedJwt) -> &mut serde_json::Map<String, Value> {
        jwt.claims.as_object_mut().unwrap()
    }

    fn consent(case: &mut Case) -> &mut serde_json::Map<String, Value> {
        case.request.claims["authorization_details"][0]["consent"]
            .as_object_mut()
            .unwrap()
    }

    fn assertion(case: &mut Case) -> &mut serde_json::Map<String, Value> {
        claims(case.assertion.as_mut().unwrap())
    }

    /// A rule id, the profile to build, and the change that must make the rule fire.
    type FiringCase = (&'static str, &'static str, fn(&mut Case));

    fn firing_cases() -> Vec<FiringCase> {
        vec![
            ("request.alg", "local", |c| {
                c.request.header["alg"] = json!("RS256")
            }),
            ("request.exp-missing", "local", |c| {
                claims(&mut c.request).remove("exp");
            }),
            ("request.nbf-missing", "local", |c| {
                claims(&mut c.request).remove("nbf");
            }),
            ("request.lifetime", "local", |c| {
                let nbf = c.request.claims["nbf"].as_i64().unwrap();
                c.request.claims["exp"] = json!(nbf + 3601);
            }),
            ("request.nbf-too-old", "local", |c| {
                let now = now().as_second();
                c.request.claims["nbf"] = json!(now - 3700);
                c.request.claims["exp"] = json!(now + 10);
            }),
            ("request.nbf-future", "local", |c| {
                let now = now().as_second();
                c.request.claims["nbf"] = json!(now + 30);
                c.request.claims["exp"] = json!(now + 300);
            }),
            ("request.expired", "local", |c| {
                let now = now().as_second();
                c.request.claims["nbf"] = json!(now - 400);
                c.request.claims["exp"] = json!(now - 100);
            }),
            ("jwt.fractional-time", "local", |c| {
                let exp = c.request.claims["exp"].as_i64().unwrap();
                c.request.claims["exp"] = json!(exp as f64 + 0.445);
            }),
            ("request.aud", "local", |c| {
                c.request.claims["aud"] = json!("https://elsewhere.example")
            }),
            ("request.iss", "local", |c| {
                c.request.claims["iss"] = json!("someone-else")
            }),
            ("request.client-id-mismatch", "local", |c| {
                c.form_client_id = "other-client".into()
            }),
            ("request.nested-request", "local", |c| {
                c.request.claims["request_uri"] = json!("urn:x")
            }),
            ("request.redirect-uri-missing", "local", |c| {
                claims(&mut c.request).remove("redirect_uri");
            }),
            ("request.response-type", "local", |c| {
                c.request.claims["response_type"] = json!("code id_token")
            }),
            ("request.pkce-missing", "local", |c| {
                claims(&mut c.request).remove("code_challenge");
                claims(&mut c.request).remove("code_challenge_method");
            }),
            ("request.pkce-method", "local", |c| {
                c.request.claims["code_challenge_method"] = json!("plain")
            }),
            ("request.pkce-challenge", "local", |c| {
                c.request.claims["code_challenge"] = json!("short")
            }),
            ("request.claims-without-openid", "local", |c| {
                c.request.claims["scope"] = json!("accounts profile")
            }),
            ("request.nonce-without-openid", "local", |c| {
                c.request.claims["scope"] = json!("accounts profile")
            }),
            ("request.max-age-without-openid", "local", |c| {
                c.request.claims["scope"] = json!("accounts profile")
            }),
            ("request.max-age-cap", "local-uae", |c| {
                c.request.claims["max_age"] = json!(7200)
            }),
            ("request.required-claim", "local-uae", |c| {
                claims(&mut c.request).remove("iat");
            }),
            ("request.scope-unsupported", "local", |c| {
                c.request.claims["scope"] = json!("openid payments")
            }),
            ("request.kid-mismatch", "local", |c| {
                c.facts.declared_kid = Some("registered".into())
            }),
            ("request.kid-not-thumbprint", "local", |c| {
                c.request.header["kid"] = json!("my-own-kid")
            }),
            ("request.signature", "local", |c| {
                c.facts = SigningKey::generate(Algorithm::PS256).unwrap().0.facts();
                // Keep only this rule's concern: a kid that matches the other key.
                c.request.header["kid"] = json!(c.facts.thumbprint.clone());
            }),
            ("assertion.alg", "local", |c| {
                c.assertion.as_mut().unwrap().header["alg"] = json!("HS256")
            }),
            ("assertion.iss-sub", "local", |c| {
                assertion(c).insert("sub".into(), json!("x"));
            }),
            ("assertion.aud", "local", |c| {
                let token = c.token.clone();
                assertion(c).insert("aud".into(), json!(token));
            }),
            ("assertion.exp-missing", "local", |c| {
                assertion(c).remove("exp");
            }),
            ("assertion.expired", "local", |c| {
                assertion(c).insert("exp".into(), json!(now().as_second() - 1));
            }),
            ("assertion.exp-far", "local", |c| {
                assertion(c).insert("exp".into(), json!(now().as_second() + 600));
            }),
            ("assertion.jti-missing", "local", |c| {
                assertion(c).remove("jti");
            }),
            ("assertion.kid-mismatch", "local", |c| {
                c.facts.declared_kid = Some("registered".into());
            }),
            ("assertion.signature", "local", |c| {
                let other = SigningKey::generate(Algorithm::PS256).unwrap().0;
                let a = c.assertion.as_ref().unwrap();
                let compact = jws::sign(&a.header, &a.claims, &other).unwrap();
                c.assertion = Some(jws::decode(&compact).unwrap());
            }),
            ("key.rsa-too-small", "local", |c| {
                c.facts.kind = KeyKind::Rsa { bits: 1024 };
            }),
            ("rar.missing", "local", |c| {
                claims(&mut c.request).remove("authorization_details");
            }),
            ("rar.type-unknown", "local", |c| {
                c.request.claims["authorization_details"][0]["type"] = json!("urn:unknown")
            }),
            ("rar.too-many", "local-uae", |c| {
                let item = c.request.claims["authorization_details"][0].clone();
                c.request.claims["authorization_details"]
                    .as_array_mut()
                    .unwrap()
                    .push(item);
            }),
            ("consent.required", "local", |c| {
                consent(c).remove("dc_id");
            }),
            ("consent.permissions-empty", "local", |c| {
                consent(c).insert("permissions".into(), json!([]));
            }),
            ("consent.unknown-value", "local", |c| {
                consent(c).insert("permissions".into(), json!(["read_minds"]));
            }),
            ("consent.unknown-key", "local-uae", |c| {
                consent(c).insert("Colour".into(), json!("blue"));
            }),
            ("consent.bad-value", "local-uae", |c| {
                consent(c).insert("ConsentId".into(), json!("not-a-uuid"));
            }),
            ("consent.expiry-past", "local", |c| {
                consent(c).insert("expiration_datetime".into(), json!("2025-01-01T00:00:00Z"));
            }),
            ("consent.expiry-cap", "local-uae", |c| {
                consent(c).insert("ExpirationDateTime".into(), json!("2028-01-01T00:00:00Z"));
            }),
            ("transport.not-https", "local", |c| {
                c.request.claims["redirect_uri"] = json!("http://client.example/cb")
            }),
        ]
    }

    #[test]
    fn clean_builds_have_no_findings() {
        for profile in ["local", "local-uae"] {
            let case = Case::new(profile);
            assert_eq!(case.run(), vec![], "{profile}");
        }
    }

    #[test]
    fn every_rule_fires_on_its_case() {
        for (id, profile, mutate) in firing_cases() {
            let mut case = Case::new(profile);
            assert!(
                !case.ids().contains(&id),
                "{id} fires on a clean {profile} build"
            );
            mutate(&mut case);
            let findings = case.run();
            let finding = findings.iter().find(|f| f.id == id);
            assert!(finding.is_some(), "{id} did not fire; got {findings:?}");
            let rule = rule(id).unwrap();
            assert_eq!(finding.unwrap().severity, rule.severity);
            assert!(!finding.unwrap().message.is_empty());
        }
    }

    #[test]
    fn every_rule_has_a_firing_case() {
        let covered: Vec<&str> = firing_cases().iter().map(|(id, _, _)| *id).collect();
        for rule in RULES {
            assert!(covered.contains(&rule.id), "no firing case for {}", rule.id);
            assert!(!rule.reference.is_empty());
        }
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "duplicate rule ids");
    }

    /// Each limit exactly: at the limit silent, one second past it the rule fires.
    #[test]
    fn limits_are_inclusive() {
        let now = now().as_second();
        let fires = |profile: &str, id: &str, mutate: &dyn Fn(&mut Case)| {
            let mut case = Case::new(profile);
            mutate(&mut case);
            case.ids().contains(&id)
        };
        let lifetime = |seconds: i64| {
            move |c: &mut Case| {
                c.request.claims["nbf"] = json!(now);
                c.request.claims["exp"] = json!(now + seconds);
            }
        };
        assert!(!fires("local", "request.lifetime", &lifetime(3600)));
        assert!(fires("local", "request.lifetime", &lifetime(3601)));
        assert!(!fires("local-uae", "request.lifetime", &lifetime(300)));
        assert!(fires("local-uae", "request.lifetime", &lifetime(301)));
        let nbf_ahead =
            |seconds: i64| move |c: &mut Case| c.request.claims["nbf"] = json!(now + seconds);
        assert!(!fires("local", "request.nbf-future", &nbf_ahead(10)));
        assert!(fires("local", "request.nbf-future", &nbf_ahead(11)));
        let nbf_age =
            |seconds: i64| move |c: &mut Case| c.request.claims["nbf"] = json!(now - seconds);
        assert!(!fires("local", "request.nbf-too-old", &nbf_age(3600)));
        assert!(fires("local", "request.nbf-too-old", &nbf_age(3601)));
        let expiry = |text: &'static str| {
            move |c: &mut Case| {
                consent(c).insert("ExpirationDateTime".into(), json!(text));
            }
        };
        // now() is 2026-01-30T10:00:00Z; the UAE cap is one year.
        assert!(!fires(
            "local-uae",
            "consent.expiry-cap",
            &expiry("2027-01-30T10:00:00Z")
        ));
        assert!(fires(
            "local-uae",
            "consent.expiry-cap",
            &expiry("2027-01-30T10:00:01Z")
        ));
        assert!(fires(
            "local-uae",
            "consent.expiry-past",
            &expiry("2026-01-30T10:00:00Z")
        ));
        assert!(!fires(
            "local-uae",
            "consent.expiry-past",
            &expiry("2026-01-30T10:00:01Z")
        ));
        let assertion_exp = |seconds: i64| {
            move |c: &mut Case| {
                assertion(c).insert("exp".into(), json!(now + seconds));
            }
        };
        assert!(!fires("local", "assertion.exp-far", &assertion_exp(300)));
        assert!(fires("local", "assertion.exp-far", &assertion_exp(301)));
    }

    #[test]
    fn aud_array_containing_the_issuer_is_fine_for_the_request_only() {
        let mut case = Case::new("local");
        case.request.claims["aud"] = json!([case.issuer.clone(), "https://other"]);
        assert!(!case.ids().contains(&"request.aud"));
        let issuer = case.issuer.clone();
        assertion(&mut case).insert("aud".into(), json!([issuer]));
        let findings = case.run();
        let aud = findings.iter().find(|f| f.id == "assertion.aud").unwrap();
        assert!(aud.message.contains("an array containing the issuer"));
        assert!(aud.message.contains("RFC 9126"));
    }

    #[test]
    fn uae_lifetime_cap_is_marked_disputed() {
        let mut case = Case::new("local-uae");
        let nbf = case.request.claims["nbf"].as_i64().unwrap();
        case.request.claims["exp"] = json!(nbf + 600);
        let findings = case.run();
        let f = findings
            .iter()
            .find(|f| f.id == "request.lifetime")
            .unwrap();
        assert!(f.message.contains("disputed"), "{}", f.message);
    }

    #[test]
    fn uae_allows_only_ps256() {
        let mut case = Case::new("local-uae");
        case.request.header["alg"] = json!("ES256");
        let findings = case.run();
        let f = findings.iter().find(|f| f.id == "request.alg").unwrap();
        assert!(f.message.contains("allows only PS256"), "{}", f.message);
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
        let readme = include_str!("../../README.md");
        for rule in RULES {
            let row = format!(
                "| `{}` | {} | {} | {} |",
                rule.id,
                rule.severity.as_str(),
                rule.reference,
                rule.refusal.error_code().unwrap_or("")
            );
            assert!(readme.contains(&row), "README lacks {row}");
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
