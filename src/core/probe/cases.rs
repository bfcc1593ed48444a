//! The matrix: each case changes exactly one thing of the profile's valid PAR, and is tied to
//! the lint rule (or, when no rule can see it, the clause) that says what the server must
//! answer. Data, so the CLI, the TUI, the report and the tests read the same list.

use serde_json::{Value, json};

use super::verdict::Expect;
use crate::core::oauth::OAuthError;

/// What a fault may need to know of the target.
#[derive(Debug, Clone)]
pub struct Facts {
    pub issuer: String,
    pub par_endpoint: String,
    pub token_endpoint: Option<String>,
    pub client_id: String,
    /// Seconds since the epoch when the case is built.
    pub now: i64,
}

/// A change to a JWT's header and claims; `Err` says why this profile cannot make it.
pub type Change = fn(&mut Value, &mut Value, &Facts) -> Result<(), &'static str>;

/// The one thing a case changes.
#[derive(Clone, Copy)]
pub enum Fault {
    Request(Change),
    Assertion(Change),
    /// Both JWTs signed with a key the server was never given.
    UnregisteredKey,
    /// The PAR sent without the x-fapi-interaction-id header.
    NoInteractionId,
    /// The opening control's client assertion sent again (same jti).
    ReplayControlAssertion,
    /// The opening control's request_uri opened at the authorize endpoint twice.
    ReuseRequestUri,
    /// Both JWTs made as by a client whose clock is this many seconds ahead.
    Skew(i64),
}

impl Fault {
    /// How many requests the case sends.
    pub fn requests(self) -> usize {
        match self {
            Fault::ReuseRequestUri => 2,
            _ => 1,
        }
    }
}

pub struct Case {
    pub id: &'static str,
    pub changes: &'static str,
    pub expect: Expect,
    pub fault: Fault,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

pub const OPENING_CONTROL: &str = "control.first";
pub const CLOSING_CONTROL: &str = "control.last";
/// The clock-skew search, in seconds ahead.
pub const SKEW_STEPS: [i64; 5] = [5, 10, 30, 60, 120];
const SKEW_PREFIX: &str = "skew.";

pub fn skew_of(id: &str) -> Option<i64> {
    id.strip_prefix(SKEW_PREFIX)?.parse().ok()
}

const OTHER_CLIENT: &str = "probe-other-client";
const SKEW_REF: &str =
    "FAPI 2.0 Security Profile 5.3.2.1 (13): accept iat/nbf up to 10 s ahead, refuse beyond 60 s";
const SKEW_EITHER_REF: &str = "FAPI 2.0 Security Profile 5.3.2.1 (13): between 10 and 60 s ahead the server may accept or refuse";

// A JWT's header and claims are JSON objects (the builder makes them so).
fn set(claims: &mut Value, name: &str, value: Value) {
    if let Some(object) = claims.as_object_mut() {
        object.insert(name.to_owned(), value);
    }
}

fn remove(claims: &mut Value, name: &str) {
    if let Some(object) = claims.as_object_mut() {
        object.remove(name);
    }
}

/// The first authorization_details item's consent object.
fn consent(claims: &mut Value) -> Result<&mut serde_json::Map<String, Value>, &'static str> {
    claims
        .pointer_mut("/authorization_details/0/consent")
        .and_then(Value::as_object_mut)
        .ok_or("the profile's authorization_details item has no consent object")
}

/// Changes the consent value whose key holds `part`, case aside (MY: `permissions`, UAE:
/// `Permissions`).
fn consent_change(
    claims: &mut Value,
    part: &'static str,
    missing: &'static str,
    change: impl FnOnce(&mut Value),
) -> Result<(), &'static str> {
    let value = consent(claims)?
        .iter_mut()
        .find(|(key, _)| key.to_ascii_lowercase().contains(part))
        .map(|(_, value)| value)
        .ok_or(missing)?;
    change(value);
    Ok(())
}

macro_rules! request {
    (|$h:ident, $c:ident, $f:ident| $body:expr) => {
        Fault::Request(|$h, $c, $f| {
            let _ = (&$h, &$c, &$f);
            $body
        })
    };
}

macro_rules! assertion {
    (|$h:ident, $c:ident, $f:ident| $body:expr) => {
        Fault::Assertion(|$h, $c, $f| {
            let _ = (&$h, &$c, &$f);
            $body
        })
    };
}

/// Every case, in the order sent (between the two controls).
pub static CASES: &[Case] = &[
    Case {
        id: "request.alg-none",
        changes: "request object alg none (unsigned)",
        expect: Expect::Rule("request.alg"),
        fault: request!(|h, c, f| {
            set(h, "alg", "none".into());
            Ok(())
        }),
    },
    Case {
        id: "request.alg-hs256",
        changes: "request object alg HS256",
        expect: Expect::Rule("request.alg"),
        fault: request!(|h, c, f| {
            set(h, "alg", "HS256".into());
            Ok(())
        }),
    },
    Case {
        id: "request.alg-rs256",
        changes: "request object alg RS256 (same RSA key)",
        expect: Expect::Rule("request.alg"),
        fault: request!(|h, c, f| {
            set(h, "alg", "RS256".into());
            Ok(())
        }),
    },
    Case {
        id: "request.aud-wrong",
        changes: "request object aud another server",
        expect: Expect::Rule("request.aud"),
        fault: request!(|h, c, f| {
            set(c, "aud", "https://probe.invalid".into());
            Ok(())
        }),
    },
    Case {
        id: "request.aud-par-endpoint",
        changes: "request object aud the PAR endpoint",
        expect: Expect::Rule("request.aud"),
        fault: request!(|h, c, f| {
            set(c, "aud", f.par_endpoint.clone().into());
            Ok(())
        }),
    },
    Case {
        id: "request.aud-trailing-slash",
        changes: "request object aud the issuer with a trailing slash (or without, if it has one)",
        expect: Expect::Rule("request.aud"),
        fault: request!(|h, c, f| {
            let aud = match f.issuer.strip_suffix('/') {
                Some(bare) => bare.to_owned(),
                None => format!("{}/", f.issuer),
            };
            set(c, "aud", aud.into());
            Ok(())
        }),
    },
    Case {
        id: "request.aud-array",
        changes: "request object aud an array with the issuer",
        expect: Expect::Allowed {
            reference: "RFC 7519 4.1.3; RFC 9101 4 (aud is, or contains, the issuer)",
        },
        fault: request!(|h, c, f| {
            set(c, "aud", json!([f.issuer.clone(), "https://probe.invalid"]));
            Ok(())
        }),
    },
    Case {
        id: "request.exp-missing",
        changes: "request object without exp",
        expect: Expect::Rule("request.exp-missing"),
        fault: request!(|h, c, f| {
            remove(c, "exp");
            Ok(())
        }),
    },
    Case {
        id: "request.nbf-missing",
        changes: "request object without nbf",
        expect: Expect::Rule("request.nbf-missing"),
        fault: request!(|h, c, f| {
            remove(c, "nbf");
            Ok(())
        }),
    },
    Case {
        id: "request.lifetime-over-60m",
        changes: "request object exp - nbf 61 minutes",
        expect: Expect::Rule("request.lifetime"),
        fault: request!(|h, c, f| {
            set(c, "nbf", f.now.into());
            set(c, "exp", (f.now + 3660).into());
            Ok(())
        }),
    },
    Case {
        id: "request.expired",
        changes: "request object expired 100 s ago",
        expect: Expect::Rule("request.expired"),
        fault: request!(|h, c, f| {
            set(c, "nbf", (f.now - 400).into());
            set(c, "exp", (f.now - 100).into());
            Ok(())
        }),
    },
    Case {
        id: "request.nbf-future",
        changes: "request object nbf 5 minutes in the future",
        expect: Expect::Rule("request.nbf-future"),
        fault: request!(|h, c, f| {
            set(c, "nbf", (f.now + 300).into());
            set(c, "exp", (f.now + 600).into());
            Ok(())
        }),
    },
    Case {
        id: "request.iss-not-client",
        changes: "request object iss another client",
        expect: Expect::Rule("request.iss"),
        fault: request!(|h, c, f| {
            set(c, "iss", OTHER_CLIENT.into());
            Ok(())
        }),
    },
    Case {
        id: "request.client-id-mismatch",
        changes: "request object client_id differs from the form's",
        expect: Expect::Rule("request.client-id-mismatch"),
        fault: request!(|h, c, f| {
            set(c, "client_id", OTHER_CLIENT.into());
            Ok(())
        }),
    },
    Case {
        id: "request.pkce-missing",
        changes: "no code_challenge (PKCE missing)",
        expect: Expect::Rule("request.pkce-missing"),
        fault: request!(|h, c, f| {
            remove(c, "code_challenge");
            remove(c, "code_challenge_method");
            Ok(())
        }),
    },
    Case {
        id: "request.pkce-plain",
        changes: "code_challenge_method plain",
        expect: Expect::Rule("request.pkce-method"),
        fault: request!(|h, c, f| {
            set(c, "code_challenge_method", "plain".into());
            Ok(())
        }),
    },
    Case {
        id: "request.pkce-short",
        changes: "code_challenge 20 characters",
        expect: Expect::Rule("request.pkce-challenge"),
        fault: request!(|h, c, f| {
            set(c, "code_challenge", "dBjftJeZ4CVP-mB92K27".into());
            Ok(())
        }),
    },
    Case {
        id: "request.redirect-uri-unregistered",
        changes: "redirect_uri not registered",
        expect: Expect::Clause {
            error: OAuthError::InvalidRequest,
            reference: "RFC 9126 2.1; RFC 6749 3.1.2.4",
        },
        fault: request!(|h, c, f| {
            set(c, "redirect_uri", "https://probe.invalid/callback".into());
            Ok(())
        }),
    },
    Case {
        id: "request.response-type",
        changes: "response_type code id_token",
        expect: Expect::Rule("request.response-type"),
        fault: request!(|h, c, f| {
            set(c, "response_type", "code id_token".into());
            Ok(())
        }),
    },
    Case {
        id: "request.claims-without-openid",
        changes: "scope without openid while claims is sent",
        expect: Expect::Rule("request.claims-without-openid"),
        fault: request!(|h, c, f| {
            if c.get("claims").is_none() {
                return Err("the profile sends no claims parameter");
            }
            let scope = c.get("scope").and_then(Value::as_str).unwrap_or_default();
            let without: Vec<&str> = scope.split(' ').filter(|s| *s != "openid").collect();
            set(c, "scope", without.join(" ").into());
            Ok(())
        }),
    },
    Case {
        id: "rar.type-unknown",
        changes: "authorization_details type unknown",
        expect: Expect::Rule("rar.type-unknown"),
        fault: request!(|h, c, f| {
            let item = c
                .pointer_mut("/authorization_details/0")
                .and_then(Value::as_object_mut)
                .ok_or("the profile sends no authorization_details item")?;
            item.insert("type".into(), "urn:probe:unknown-type".into());
            Ok(())
        }),
    },
    Case {
        id: "consent.permissions-empty",
        changes: "consent permissions empty",
        expect: Expect::Rule("consent.permissions-empty"),
        fault: request!(|h, c, f| {
            consent_change(c, "permission", "the consent has no permissions", |v| {
                *v = json!([]);
            })
        }),
    },
    Case {
        id: "consent.permission-unknown",
        changes: "consent permissions with an unknown one",
        expect: Expect::Rule("consent.unknown-value"),
        fault: request!(|h, c, f| {
            consent_change(c, "permission", "the consent has no permissions", |v| {
                if let Some(list) = v.as_array_mut() {
                    list.push("probe_unknown_permission".into());
                }
            })
        }),
    },
    Case {
        id: "consent.expiry-past",
        changes: "consent expiry yesterday",
        expect: Expect::Rule("consent.expiry-past"),
        fault: request!(|h, c, f| {
            let yesterday = jiff::Timestamp::from_second(f.now - 86_400)
                .map(crate::core::time::rfc3339_seconds)
                .unwrap_or_default();
            consent_change(c, "expir", "the consent has no expiry", |v| {
                *v = yesterday.into();
            })
        }),
    },
    Case {
        id: "consent.type-wrong",
        changes: "consent_type another consent type",
        expect: Expect::Rule("consent.bad-value"),
        fault: request!(|h, c, f| {
            consent_change(c, "consent_type", "the consent has no consent_type", |v| {
                *v = "urn:probe:other-consent:v1".into();
            })
        }),
    },
    Case {
        id: "consent.extra-key",
        changes: "consent with an extra key",
        expect: Expect::Rule("consent.unknown-key"),
        fault: request!(|h, c, f| {
            consent(c)?.insert("probe_extra".into(), true.into());
            Ok(())
        }),
    },
    Case {
        id: "assertion.aud-token-endpoint",
        changes: "client assertion aud the token endpoint",
        expect: Expect::Rule("assertion.aud"),
        fault: assertion!(|h, c, f| {
            let token = f
                .token_endpoint
                .clone()
                .ok_or("the profile has no token_endpoint")?;
            set(c, "aud", token.into());
            Ok(())
        }),
    },
    Case {
        id: "assertion.aud-par-endpoint",
        changes: "client assertion aud the PAR endpoint",
        expect: Expect::Rule("assertion.aud"),
        fault: assertion!(|h, c, f| {
            set(c, "aud", f.par_endpoint.clone().into());
            Ok(())
        }),
    },
    Case {
        id: "assertion.aud-array",
        changes: "client assertion aud an array with the issuer",
        expect: Expect::Rule("assertion.aud"),
        fault: assertion!(|h, c, f| {
            set(c, "aud", json!([f.issuer.clone()]));
            Ok(())
        }),
    },
    Case {
        id: "assertion.expired",
        changes: "client assertion expired 100 s ago",
        expect: Expect::Rule("assertion.expired"),
        fault: assertion!(|h, c, f| {
            set(c, "iat", (f.now - 400).into());
            set(c, "exp", (f.now - 100).into());
            Ok(())
        }),
    },
    Case {
        id: "assertion.iss-not-sub",
        changes: "client assertion iss differs from sub",
        expect: Expect::Rule("assertion.iss-sub"),
        fault: assertion!(|h, c, f| {
            set(c, "iss", OTHER_CLIENT.into());
            Ok(())
        }),
    },
    Case {
        id: "assertion.jti-replayed",
        changes: "client assertion of the opening control sent again (same jti)",
        expect: Expect::Clause {
            error: OAuthError::InvalidClient,
            reference: "RFC 7523 3 (7); OpenID Connect Core 1.0 9 (jti used once)",
        },
        fault: Fault::ReplayControlAssertion,
    },
    Case {
        id: "key.unregistered",
        changes: "both JWTs signed with a key never registered",
        expect: Expect::Rule("assertion.signature"),
        fault: Fault::UnregisteredKey,
    },
    Case {
        id: "header.no-interaction-id",
        changes: "no x-fapi-interaction-id header",
        expect: Expect::Allowed {
            reference: "FAPI 2.0 does not require the client to send x-fapi-interaction-id at the PAR endpoint",
        },
        fault: Fault::NoInteractionId,
    },
    Case {
        id: "authorize.request-uri-reused",
        changes: "the opening control's request_uri opened at the authorize endpoint a second time",
        // RFC 9126 4: servers SHOULD treat a request_uri as one-time but MAY allow a reload,
        // so a second use accepted is allowed, and refused (the sandbox) is enforced.
        expect: Expect::Either {
            reference: "RFC 9126 4: one-time use SHOULD, a reload of the same request_uri MAY be allowed",
        },
        fault: Fault::ReuseRequestUri,
    },
    Case {
        id: "skew.5",
        changes: "nbf and iat 5 s in the future",
        expect: Expect::Allowed {
            reference: SKEW_REF,
        },
        fault: Fault::Skew(5),
    },
    Case {
        id: "skew.10",
        changes: "nbf and iat 10 s in the future",
        expect: Expect::Allowed {
            reference: SKEW_REF,
        },
        fault: Fault::Skew(10),
    },
    Case {
        id: "skew.30",
        changes: "nbf and iat 30 s in the future",
        expect: Expect::Either {
            reference: SKEW_EITHER_REF,
        },
        fault: Fault::Skew(30),
    },
    Case {
        id: "skew.60",
        changes: "nbf and iat 60 s in the future",
        expect: Expect::Either {
            reference: SKEW_EITHER_REF,
        },
        fault: Fault::Skew(60),
    },
    Case {
        id: "skew.120",
        changes: "nbf and iat 120 s in the future",
        expect: Expect::Rule("request.nbf-future"),
        fault: Fault::Skew(120),
    },
];
