//! DPoP (RFC 9449): the proof a build would send at PAR, against FAPI 2.0's algorithms, the
//! request object's `dpop_jkt`, the server's discovery document and the profile's mTLS.
//! Silent when the build sends no proof. The sandbox refuses proofs by these same rules.

use serde_json::Value;

use super::{Rule, Severity};
use crate::core::jws::DecodedJwt;
use crate::core::keys::{FAPI_ALGS, thumbprint};
use crate::core::oauth::OAuthError;

/// What lint reads of DPoP: a proof as sent (or received), and whether mutual TLS is on too.
#[derive(Debug, Clone)]
pub struct DpopFacts {
    pub proof: DecodedJwt,
    pub mtls: bool,
}

impl DpopFacts {
    fn alg(&self) -> Option<&str> {
        self.proof.alg()
    }

    /// The thumbprint of the proof header's jwk, when it is a usable public JWK.
    pub fn jkt(&self) -> Option<String> {
        let jwk = serde_json::from_value(self.proof.header.get("jwk")?.clone()).ok()?;
        Some(thumbprint(&jwk)).filter(|t| !t.is_empty())
    }
}

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "dpop.proof-alg",
        severity: Severity::Error,
        reference: "RFC 9449 4.3 (5); FAPI 2.0 Security Profile 5.4",
        refusal: Some(OAuthError::InvalidDpopProof),
        check: |_, c| {
            let alg = c.dpop?.alg().unwrap_or("missing");
            (!FAPI_ALGS.contains(&alg)).then(|| {
                format!(
                    "the DPoP proof's alg is {alg}; FAPI 2.0 allows {} only",
                    FAPI_ALGS.join(", ")
                )
            })
        },
    },
    Rule {
        id: "dpop.htu-query",
        severity: Severity::Error,
        reference: "RFC 9449 4.2, 4.3 (9)",
        refusal: Some(OAuthError::InvalidDpopProof),
        check: |_, c| {
            let htu = c.dpop?.proof.claim_str("htu")?;
            htu.contains(['?', '#']).then(|| {
                format!(
                    "the DPoP proof's htu {} has a query or fragment: htu is the URL without them",
                    crate::core::printable::redact_url(htu)
                )
            })
        },
    },
    Rule {
        id: "dpop.jkt-mismatch",
        severity: Severity::Error,
        reference: "RFC 9449 10.1",
        refusal: Some(OAuthError::InvalidDpopProof),
        check: |s, c| {
            let facts = c.dpop?;
            let asked = s.request.claim("dpop_jkt").and_then(Value::as_str)?;
            let proof_jkt = facts.jkt().unwrap_or_default();
            (asked != proof_jkt).then(|| {
                format!(
                    "the request object's dpop_jkt {asked} is not the thumbprint of the DPoP proof's key ({proof_jkt})"
                )
            })
        },
    },
    Rule {
        id: "dpop.alg-unadvertised",
        severity: Severity::Error,
        reference: "RFC 9449 5.1",
        refusal: None,
        check: |_, c| {
            let alg = c.dpop?.alg()?;
            let listed = c.discovery?.list("dpop_signing_alg_values_supported")?;
            (!listed.contains(&alg)).then(|| {
                format!(
                    "the DPoP proof's alg {alg} is not in the server's dpop_signing_alg_values_supported [{}]",
                    listed.join(", ")
                )
            })
        },
    },
    Rule {
        id: "dpop.with-mtls",
        severity: Severity::Warning,
        reference: "FAPI 2.0 Security Profile 5.3.2.2; RFC 8705; RFC 9449 7",
        refusal: None,
        check: |_, c| {
            c.dpop?.mtls.then(|| {
                "both DPoP and a client certificate are configured: a server binds the tokens by one of them, and resource calls must then satisfy that one; use one sender constraint".to_owned()
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
            ("dpop.proof-alg", "local+dpop", |c| {
                c.dpop.as_mut().unwrap().proof.header["alg"] = json!("RS256")
            }),
            ("dpop.htu-query", "local+dpop", |c| {
                c.dpop.as_mut().unwrap().proof.claims["htu"] =
                    json!("http://127.0.0.1:9126/par?x=1")
            }),
            ("dpop.jkt-mismatch", "local+dpop", |c| {
                c.request.claims["dpop_jkt"] = json!("another-key-thumbprint")
            }),
            ("dpop.alg-unadvertised", "local+dpop", |c| {
                let doc = json!({"dpop_signing_alg_values_supported": ["PS256"]});
                c.discovery = crate::core::transport::DiscoveryDocument::parse(
                    "https://as.example/d",
                    doc.to_string().as_bytes(),
                )
                .ok();
            }),
            ("dpop.with-mtls", "local+dpop", |c| {
                c.dpop.as_mut().unwrap().mtls = true
            }),
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }
}
