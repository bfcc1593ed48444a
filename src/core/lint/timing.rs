//! When the request object is valid: exp and nbf present, the lifetime within FAPI's 60
//! minutes (and the pack's cap), nbf neither too old nor ahead of the clock, and whole seconds.

use super::{Rule, Severity, number, pack_of};
use crate::core::oauth::OAuthError;
use crate::core::time;

/// FAPI 2.0 Message Signing: exp - nbf at most 60 minutes; nbf at most 60 minutes old.
pub const FAPI_MAX_LIFETIME: i64 = 3600;
/// FAPI 2.0 Security Profile 5.3.2.1: servers accept iat/nbf up to 10 s in the future.
pub const FUTURE_TOLERANCE: i64 = 10;

fn fractional(jwt: &crate::core::jws::DecodedJwt) -> Vec<String> {
    ["exp", "nbf", "iat"]
        .into_iter()
        .filter(|c| jwt.claim(c).is_some_and(|v| v.is_f64()))
        .map(str::to_owned)
        .collect()
}

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "request.exp-missing",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (4)",
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
        check: |s, c| {
            let age = c.now.as_second() as f64 - number(s.request, "nbf")?;
            (age > FAPI_MAX_LIFETIME as f64).then(|| {
                format!(
                    "nbf is {} in the past; FAPI 2.0 allows at most 60 minutes",
                    time::short_duration(age as i64)
                )
            })
        },
    },
    Rule {
        id: "request.nbf-future",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.1 (13)",
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
        check: |s, c| {
            let exp = number(s.request, "exp")?;
            (exp <= c.now.as_second() as f64)
                .then(|| format!("the request object expired ({})", time::human(exp, c.now)))
        },
    },
    Rule {
        id: "jwt.fractional-time",
        severity: Severity::Warning,
        reference: "RFC 7519 2 (NumericDate)",
        refusal: None,
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
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{Case, FiringCase, check_subject, claims, fires, now};
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
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
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }

    /// Each limit exactly: at the limit silent, one second past it the rule fires.
    #[test]
    fn limits_are_inclusive() {
        let now = now().as_second();
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
    }

    /// FAPI's own caps, with packs that add none: the message and the clause, not only the id.
    #[test]
    fn generic_fapi_limits_fire_on_their_own() {
        let now = now().as_second();
        let mut case = Case::generic();
        case.request.claims["nbf"] = json!(now);
        case.request.claims["exp"] = json!(now + 3600);
        assert_eq!(case.finding("request.lifetime"), None);
        case.request.claims["exp"] = json!(now + 3601);
        let f = case.finding("request.lifetime").unwrap();
        assert_eq!(
            f.message,
            "exp - nbf is 3601 s; FAPI 2.0 allows at most 60 minutes (3600 s)"
        );
        assert_eq!(
            f.reference,
            "FAPI 2.0 Message Signing 5.3.1 (4); the pack's lifetime cap"
        );

        let mut case = Case::generic();
        case.request.claims["nbf"] = json!(now - 3601);
        case.request.claims["exp"] = json!(now + 10);
        let f = case.finding("request.nbf-too-old").unwrap();
        assert!(
            f.message
                .ends_with("in the past; FAPI 2.0 allows at most 60 minutes"),
            "{}",
            f.message
        );
        assert_eq!(f.reference, "FAPI 2.0 Message Signing 5.3.1 (3)");

        let mut case = Case::generic();
        case.request.claims["nbf"] = json!(now + 11);
        let f = case.finding("request.nbf-future").unwrap();
        assert!(
            f.message
                .starts_with("nbf is 11 s in the future; servers must accept only up to 10 s"),
            "{}",
            f.message
        );
        assert_eq!(f.reference, "FAPI 2.0 Security Profile 5.3.2.1 (13)");
    }

    #[test]
    fn uae_lifetime_cap_is_marked_disputed() {
        let mut case = Case::new("local-uae");
        let nbf = case.request.claims["nbf"].as_i64().unwrap();
        case.request.claims["exp"] = json!(nbf + 600);
        let f = case.finding("request.lifetime").unwrap();
        assert!(f.message.contains("disputed"), "{}", f.message);
        assert!(f.message.contains("allows at most 300 s"), "{}", f.message);
    }
}
