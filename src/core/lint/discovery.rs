//! The JWTs against the server's discovery document, when one is at hand: what it says it
//! accepts (algs, client authentication, consent types, scopes). Silent without a document.

use super::{Rule, Severity, items};
use crate::core::oauth::OAuthError;
use crate::core::transport::DiscoveryDocument;

/// `value` when the document lists `field` and `value` is not in it: the message.
fn not_listed(doc: &DiscoveryDocument, field: &str, what: &str, value: &str) -> Option<String> {
    let listed = doc.list(field)?;
    (!listed.contains(&value)).then(|| {
        format!(
            "{what} {value} is not in the server's {field} [{}]",
            listed.join(", ")
        )
    })
}

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "discovery.request-alg-unsupported",
        severity: Severity::Error,
        reference: "RFC 8414 2; OpenID Connect Discovery 1.0 3",
        refusal: Some(OAuthError::InvalidRequestObject),
        check: |s, c| {
            let doc = c.discovery?;
            let alg = s.request.alg()?;
            not_listed(
                doc,
                "request_object_signing_alg_values_supported",
                "the request object's alg",
                alg,
            )
        },
    },
    Rule {
        id: "discovery.assertion-alg-unsupported",
        severity: Severity::Error,
        reference: "RFC 8414 2",
        refusal: Some(OAuthError::InvalidClient),
        check: |s, c| {
            let doc = c.discovery?;
            let alg = s.assertion?.alg()?;
            not_listed(
                doc,
                "token_endpoint_auth_signing_alg_values_supported",
                "the client assertion's alg",
                alg,
            )
        },
    },
    Rule {
        id: "discovery.private-key-jwt-unsupported",
        severity: Severity::Error,
        reference: "RFC 8414 2; FAPI 2.0 Security Profile 5.3.3",
        refusal: Some(OAuthError::InvalidClient),
        check: |s, c| {
            s.assertion?;
            not_listed(
                c.discovery?,
                "token_endpoint_auth_methods_supported",
                "client authentication",
                "private_key_jwt",
            )
        },
    },
    Rule {
        id: "discovery.consent-type-unlisted",
        severity: Severity::Error,
        reference: "RFC 9396 10",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            let doc = c.discovery?;
            let unlisted: Vec<String> = items(s)?
                .iter()
                .filter_map(|item| item.get("type")?.as_str())
                .filter_map(|t| not_listed(doc, "authorization_details_types_supported", "type", t))
                .collect();
            (!unlisted.is_empty()).then(|| unlisted.join("; "))
        },
    },
    // A warning: RFC 8414 lets a server leave supported scopes unadvertised.
    Rule {
        id: "discovery.scope-unlisted",
        severity: Severity::Warning,
        reference: "RFC 8414 2",
        refusal: None,
        check: |s, c| {
            let doc = c.discovery?;
            let listed = doc.list("scopes_supported")?;
            let unknown: Vec<&str> = s
                .request
                .claim_str("scope")?
                .split_whitespace()
                .filter(|v| !listed.contains(v))
                .collect();
            (!unknown.is_empty()).then(|| {
                format!(
                    "scope {} is not in the server's scopes_supported [{}]: it may refuse it (invalid_scope) or drop it",
                    unknown.join(" "),
                    listed.join(", ")
                )
            })
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{Case, FiringCase, check_subject};
    use serde_json::{Value, json};

    fn doc(value: Value) -> Option<DiscoveryDocument> {
        let mut fields = json!({
            "request_object_signing_alg_values_supported": ["PS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["PS256"],
            "authorization_details_types_supported": [
                "urn:openfinance-ml:account-access-consent:v1.2",
                "urn:openfinanceuae:account-access-consent:v2.1",
            ],
            "scopes_supported": ["openid", "accounts", "profile"],
        });
        for (k, v) in value.as_object().unwrap() {
            fields[k] = v.clone();
        }
        DiscoveryDocument::parse("https://as.example/d", fields.to_string().as_bytes()).ok()
    }

    fn firing_cases() -> Vec<FiringCase> {
        vec![
            ("discovery.request-alg-unsupported", "local", |c| {
                c.discovery = doc(json!({"request_object_signing_alg_values_supported": ["ES256"]}))
            }),
            ("discovery.assertion-alg-unsupported", "local", |c| {
                c.discovery =
                    doc(json!({"token_endpoint_auth_signing_alg_values_supported": ["EdDSA"]}))
            }),
            ("discovery.private-key-jwt-unsupported", "local", |c| {
                c.discovery =
                    doc(json!({"token_endpoint_auth_methods_supported": ["tls_client_auth"]}))
            }),
            ("discovery.consent-type-unlisted", "local-uae", |c| {
                c.discovery = doc(
                    json!({"authorization_details_types_supported": ["urn:openfinance-ml:account-access-consent:v1.2"]}),
                )
            }),
            ("discovery.scope-unlisted", "local", |c| {
                c.discovery = doc(json!({"scopes_supported": ["openid"]}))
            }),
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }

    #[test]
    fn an_agreeing_document_or_unlisted_fields_say_nothing() {
        for profile in ["local", "local-uae"] {
            let mut case = Case::new(profile);
            case.discovery = doc(json!({}));
            assert_eq!(case.run(), vec![], "{profile}");
            case.discovery = DiscoveryDocument::parse("https://as.example/d", b"{}").ok();
            assert_eq!(case.run(), vec![], "{profile}");
        }
    }
}
