//! OpenID parameters: claims, nonce and max_age mean something only with openid in scope;
//! and the pack's max_age cap.

use super::{Rule, Severity, number, pack_of};
use crate::core::jws::DecodedJwt;
use crate::core::oauth::OAuthError;

fn scope_has_openid(jwt: &DecodedJwt) -> bool {
    jwt.claim_str("scope")
        .is_some_and(|s| s.split_whitespace().any(|v| v == "openid"))
}

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "request.claims-without-openid",
        severity: Severity::Error,
        reference: "OpenID Connect Core 1.0 3.1.2.1, 5.5",
        refusal: Some(OAuthError::InvalidRequest),
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
        refusal: None,
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
        refusal: None,
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
        refusal: Some(OAuthError::InvalidRequest),
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
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{FiringCase, check_subject};
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
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
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }
}
