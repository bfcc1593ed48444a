//! The private_key_jwt client assertion: FAPI algorithm, iss and sub the client_id, aud the
//! issuer alone, a near expiry, a jti, the right kid and a verifying signature.

use serde_json::Value;

use super::signing::{FAPI_ALG_REF, alg_check, kid_mismatch, signature_check};
use super::{Rule, Severity, number, pack_of};
use crate::core::oauth::OAuthError;
use crate::core::time;

/// How far ahead a client assertion may expire before lint warns.
pub const ASSERTION_MAX_AHEAD: i64 = 300;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "assertion.alg",
        severity: Severity::Error,
        reference: FAPI_ALG_REF,
        refusal: Some(OAuthError::InvalidClient),
        check: |s, c| alg_check(s.assertion?, "client assertion", s, c),
    },
    Rule {
        id: "assertion.iss-sub",
        severity: Severity::Error,
        reference: "RFC 7523 3 (1, 2)",
        refusal: Some(OAuthError::InvalidClient),
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
        refusal: Some(OAuthError::InvalidClient),
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
        refusal: Some(OAuthError::InvalidClient),
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
        refusal: Some(OAuthError::InvalidClient),
        check: |s, c| {
            let exp = number(s.assertion?, "exp")?;
            (exp <= c.now.as_second() as f64)
                .then(|| format!("the client assertion expired ({})", time::human(exp, c.now)))
        },
    },
    Rule {
        id: "assertion.exp-far",
        severity: Severity::Warning,
        reference: "RFC 7523 3 (4); OpenID Connect Core 1.0 9",
        refusal: None,
        check: |s, c| {
            let ahead = number(s.assertion?, "exp")? - c.now.as_second() as f64;
            (ahead > ASSERTION_MAX_AHEAD as f64).then(|| {
                format!("the client assertion is valid for {} more; keep it under 5 minutes (servers may refuse long-lived assertions, and a leaked one stays usable)", time::short_duration(ahead as i64))
            })
        },
    },
    Rule {
        id: "assertion.jti-missing",
        severity: Severity::Error,
        reference: "OpenID Connect Core 1.0 9; RFC 7523 3 (7)",
        refusal: Some(OAuthError::InvalidClient),
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
        refusal: Some(OAuthError::InvalidClient),
        check: |s, c| kid_mismatch(s.assertion?, "client assertion", c),
    },
    Rule {
        id: "assertion.signature",
        severity: Severity::Error,
        reference: "RFC 7523 3 (9); RFC 7515 5.2",
        refusal: Some(OAuthError::InvalidClient),
        check: |s, c| signature_check(s.assertion?, "client assertion", c),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jws;
    use crate::core::keys::SigningKey;
    use crate::core::lint::cases::{Case, FiringCase, assertion, check_subject, fires, now};
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
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
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }

    #[test]
    fn exp_far_limit_is_inclusive() {
        let now = now().as_second();
        let assertion_exp = |seconds: i64| {
            move |c: &mut Case| {
                assertion(c).insert("exp".into(), json!(now + seconds));
            }
        };
        assert!(!fires("local", "assertion.exp-far", &assertion_exp(300)));
        assert!(fires("local", "assertion.exp-far", &assertion_exp(301)));
    }

    #[test]
    fn aud_array_containing_the_issuer_is_refused_for_the_assertion() {
        let mut case = Case::new("local");
        let issuer = case.issuer.clone();
        assertion(&mut case).insert("aud".into(), json!([issuer]));
        let aud = case.finding("assertion.aud").unwrap();
        assert!(aud.message.contains("an array containing the issuer"));
        assert!(aud.message.contains("RFC 9126"));
    }
}
