//! PKCE: a code_challenge, made with S256, that looks like one.

use super::{Rule, Severity};
use crate::core::oauth::OAuthError;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "request.pkce-missing",
        severity: Severity::Error,
        reference: "FAPI 2.0 Security Profile 5.3.2.2 (5); RFC 7636 4.3",
        refusal: Some(OAuthError::InvalidRequest),
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
        refusal: Some(OAuthError::InvalidRequest),
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
        refusal: Some(OAuthError::InvalidRequest),
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
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{FiringCase, check_subject, claims};
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
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
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }
}
