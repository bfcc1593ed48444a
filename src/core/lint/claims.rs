//! The request object's own claims: who it is for (aud) and from (iss, client_id), no nested
//! request, a redirect_uri, response_type code; and what the pack adds (required claims,
//! scopes).

use serde_json::Value;

use super::{Rule, Severity, pack_of, shown};
use crate::core::oauth::OAuthError;

/// Who the request is for and from, and its shape.
pub(super) static REQUEST_IDENTITY: &[Rule] = &[
    Rule {
        id: "request.aud",
        severity: Severity::Error,
        reference: "FAPI 2.0 Message Signing 5.3.1 (2); RFC 9101 4",
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidRequest),
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
        refusal: Some(OAuthError::InvalidRequest),
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
];

/// What the pack adds to the request object's claims.
pub(super) static PACK_CLAIMS: &[Rule] = &[
    Rule {
        id: "request.required-claim",
        severity: Severity::Error,
        reference: "the pack's required request claims",
        refusal: Some(OAuthError::InvalidRequestObject),
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
        refusal: Some(OAuthError::InvalidScope),
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
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{Case, FiringCase, check_subject, claims};
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
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
            ("request.required-claim", "local-uae", |c| {
                claims(&mut c.request).remove("iat");
            }),
            ("request.scope-unsupported", "local", |c| {
                c.request.claims["scope"] = json!("openid payments")
            }),
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[REQUEST_IDENTITY, PACK_CLAIMS], firing_cases());
    }

    #[test]
    fn aud_array_containing_the_issuer_is_fine_for_the_request() {
        let mut case = Case::new("local");
        case.request.claims["aud"] = json!([case.issuer.clone(), "https://other"]);
        assert!(!case.ids().contains(&"request.aud"));
    }
}
