//! What a discovery document says against what the client asked for and what a profile will
//! send: the issuer, PAR, PKCE and RFC 9207 support, then a build of the profile through lint's
//! discovery rules (algs, client authentication, consent type, scopes) and the profile's
//! endpoints. Findings share lint's shape (id, severity, message, reference).

use super::consent::PackSet;
use super::lint::{self, Finding, Severity};
use super::request::{ParSeed, ParTicket};
use super::transport::{DiscoveryDocument, DiscoveryError};

/// What a profile sends, as far as discovery can contradict it: its seed and a build of it
/// (lint's discovery rules read the JWTs).
#[derive(Debug, Clone, Copy)]
pub struct ProfileView<'a> {
    pub seed: &'a ParSeed,
    pub ticket: &'a ParTicket,
    pub packs: &'a PackSet,
    /// The profile has [tls]: the client must then use the mTLS endpoint aliases.
    pub mtls: bool,
}

fn finding(
    id: &'static str,
    severity: Severity,
    reference: &'static str,
    message: String,
) -> Finding {
    Finding {
        id,
        severity,
        message,
        reference,
        refusal: None,
    }
}

/// Findings on `doc`, read for `asked_issuer`; errors first. An issuer mismatch stops the
/// check: such a document must not be used at all (RFC 8414 3.3).
pub fn check(
    asked_issuer: &str,
    doc: &DiscoveryDocument,
    profile: Option<&ProfileView>,
) -> Vec<Finding> {
    if let Some(mismatch) = issuer_mismatch(asked_issuer, doc) {
        return vec![mismatch];
    }
    let mut findings = server_findings(doc);
    if let Some(profile) = profile {
        findings.extend(profile_findings(doc, profile));
    }
    findings.sort_by_key(|f| f.severity);
    findings
}

/// The finding for a server that answered, but without a discovery document (a network
/// failure is the caller's to report: it is not the document's fault).
pub fn unavailable(error: &DiscoveryError) -> Finding {
    finding(
        "discovery.no-document",
        Severity::Error,
        "RFC 8414 3; OpenID Connect Discovery 1.0 4",
        format!("{error}; {}", error.hint()),
    )
}

fn issuer_mismatch(asked: &str, doc: &DiscoveryDocument) -> Option<Finding> {
    let stated = doc.str("issuer");
    if stated == Some(asked) {
        return None;
    }
    let stated_text = stated.map_or("no issuer".to_owned(), |s| format!("issuer \"{s}\""));
    let slash_note =
        if stated.is_some_and(|s| s.trim_end_matches('/') == asked.trim_end_matches('/')) {
            " (only a trailing slash differs, and that is enough: the values must be identical)"
        } else {
            ""
        };
    Some(finding(
        "discovery.issuer-mismatch",
        Severity::Error,
        "RFC 8414 3.3; OpenID Connect Discovery 1.0 4.3",
        format!(
            "the document at {} states {stated_text}, but \"{asked}\" was asked for{slash_note}; a client must not use this metadata (another server may be impersonating the issuer)",
            doc.url
        ),
    ))
}

fn server_findings(doc: &DiscoveryDocument) -> Vec<Finding> {
    let mut out = Vec::new();
    if doc.str("pushed_authorization_request_endpoint").is_none() {
        out.push(finding(
            "discovery.par-endpoint-missing",
            Severity::Error,
            "RFC 9126 5; FAPI 2.0 Security Profile 5.3.2.2",
            "no pushed_authorization_request_endpoint: FAPI 2.0 sends every authorization request by PAR; set par_endpoint in the profile if the server has one it does not advertise".into(),
        ));
    }
    match doc.list("code_challenge_methods_supported") {
        Some(methods) if methods.contains(&"S256") => {}
        listed => out.push(finding(
            "discovery.pkce-s256-missing",
            Severity::Error,
            "RFC 8414 2; RFC 7636 4.2; FAPI 2.0 Security Profile 5.3.2.2",
            match listed {
                Some(methods) => format!(
                    "code_challenge_methods_supported is [{}], without S256: FAPI 2.0 clients send PKCE S256 only",
                    methods.join(", ")
                ),
                None => "no code_challenge_methods_supported: by RFC 8414 the server then does not support PKCE, which FAPI 2.0 requires (S256)".into(),
            },
        )),
    }
    if doc.flag("authorization_response_iss_parameter_supported") != Some(true) {
        out.push(finding(
            "discovery.iss-parameter-unsupported",
            Severity::Warning,
            "RFC 9207 2.4, 3",
            "authorization_response_iss_parameter_supported is not true: the callback may carry no iss, and the client then cannot check which server sent it (mix-up attacks); the MY sandbox's sample callback has none".into(),
        ));
    }
    out
}

fn profile_findings(doc: &DiscoveryDocument, profile: &ProfileView) -> Vec<Finding> {
    let mut out = lint::against_discovery(profile.ticket, doc, profile.packs);
    if doc
        .fields
        .get("authorization_details_types_supported")
        .is_none()
    {
        out.push(finding(
            "discovery.authorization-details-unadvertised",
            Severity::Warning,
            "RFC 9396 10",
            format!(
                "no authorization_details_types_supported: the server may not support authorization_details at all, or may just not advertise {}",
                profile.seed.pack.type_
            ),
        ));
    }
    out.extend(differing_endpoints(doc, profile));
    out
}

fn differing_endpoints(doc: &DiscoveryDocument, profile: &ProfileView) -> Vec<Finding> {
    let endpoints = &profile.seed.endpoints;
    let pairs = [
        (
            "pushed_authorization_request_endpoint",
            "par_endpoint",
            &endpoints.par,
        ),
        (
            "authorization_endpoint",
            "authorization_endpoint",
            &endpoints.authorization,
        ),
        ("token_endpoint", "token_endpoint", &endpoints.token),
    ];
    let mut out = Vec::new();
    for (field, key, ours) in pairs {
        // The authorization endpoint is opened in a browser, which presents no client
        // certificate: its mTLS alias does not apply.
        let mtls = profile.mtls && field != "authorization_endpoint";
        let (Some(ours), Some(theirs)) = (ours.as_deref(), doc.endpoint(field, mtls)) else {
            continue;
        };
        if ours == theirs {
            continue;
        }
        let which = if mtls && doc.mtls_alias(field).is_some() {
            format!("its mtls_endpoint_aliases entry (the profile has [tls]) is {theirs}")
        } else {
            format!("discovery says {theirs}")
        };
        out.push(finding(
            "discovery.endpoint-differs",
            Severity::Warning,
            "RFC 8414 2; RFC 8705 5",
            format!("the profile's {key} is {ours}, but {which}: read endpoints from discovery unless the server's operators say otherwise"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::SigningKey;
    use crate::core::profile;
    use crate::core::request::{self, Overrides, tests::now};
    use jsonwebtoken::Algorithm;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use serde_json::{Value, json};

    const ISSUER: &str = "https://as.example";

    fn seed() -> ParSeed {
        profile::builtin("local")
            .unwrap()
            .seed(&PackSet::builtin(), &Overrides::default(), ISSUER)
            .unwrap()
    }

    fn good() -> Value {
        json!({
            "issuer": ISSUER,
            "pushed_authorization_request_endpoint": "https://as.example/par",
            "authorization_endpoint": "https://as.example/authorize",
            "token_endpoint": "https://as.example/token",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token"},
            "request_object_signing_alg_values_supported": ["PS256", "ES256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["PS256", "ES256"],
            "authorization_details_types_supported": [seed().pack.type_],
            "scopes_supported": ["openid", "accounts", "profile"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    fn run(doc: Value, mtls: bool) -> Vec<(&'static str, Severity)> {
        let doc = DiscoveryDocument::parse(
            "https://as.example/.well-known/openid-configuration",
            doc.to_string().as_bytes(),
        )
        .unwrap();
        let seed = seed();
        // ES256: a fast key; the document lists it.
        let key = SigningKey::generate(Algorithm::ES256).unwrap().0;
        let ticket = request::build(&seed, &key, now(), &mut StdRng::seed_from_u64(7)).unwrap();
        let packs = PackSet::builtin();
        let view = ProfileView {
            seed: &seed,
            ticket: &ticket,
            packs: &packs,
            mtls,
        };
        check(ISSUER, &doc, Some(&view))
            .into_iter()
            .map(|f| (f.id, f.severity))
            .collect()
    }

    fn with(changes: &[(&str, Value)]) -> Value {
        let mut doc = good();
        for (k, v) in changes {
            if v.is_null() {
                doc.as_object_mut().unwrap().remove(*k);
            } else {
                doc[*k] = v.clone();
            }
        }
        doc
    }

    #[test]
    fn an_agreeing_document_has_no_findings() {
        assert_eq!(run(good(), false), vec![]);
    }

    #[test]
    fn an_issuer_mismatch_is_the_only_finding() {
        let found = run(
            with(&[
                ("issuer", json!("https://evil.example")),
                ("scopes_supported", json!([])),
            ]),
            false,
        );
        assert_eq!(found, vec![("discovery.issuer-mismatch", Severity::Error)]);
        let slash = run(with(&[("issuer", json!("https://as.example/"))]), false);
        assert_eq!(slash, vec![("discovery.issuer-mismatch", Severity::Error)]);
    }

    #[test]
    fn each_disagreement_is_named() {
        type Case<'a> = (&'a [(&'a str, Value)], &'a str, Severity);
        let cases: &[Case] = &[
            (
                &[("pushed_authorization_request_endpoint", Value::Null)],
                "discovery.par-endpoint-missing",
                Severity::Error,
            ),
            (
                &[("code_challenge_methods_supported", json!(["plain"]))],
                "discovery.pkce-s256-missing",
                Severity::Error,
            ),
            (
                &[("code_challenge_methods_supported", Value::Null)],
                "discovery.pkce-s256-missing",
                Severity::Error,
            ),
            (
                &[(
                    "authorization_response_iss_parameter_supported",
                    json!(false),
                )],
                "discovery.iss-parameter-unsupported",
                Severity::Warning,
            ),
            (
                &[(
                    "request_object_signing_alg_values_supported",
                    json!(["PS256"]),
                )],
                "discovery.request-alg-unsupported",
                Severity::Error,
            ),
            (
                &[(
                    "token_endpoint_auth_signing_alg_values_supported",
                    json!(["PS256"]),
                )],
                "discovery.assertion-alg-unsupported",
                Severity::Error,
            ),
            (
                &[(
                    "token_endpoint_auth_methods_supported",
                    json!(["tls_client_auth"]),
                )],
                "discovery.private-key-jwt-unsupported",
                Severity::Error,
            ),
            (
                &[("authorization_details_types_supported", json!(["other"]))],
                "discovery.consent-type-unlisted",
                Severity::Error,
            ),
            (
                &[("authorization_details_types_supported", Value::Null)],
                "discovery.authorization-details-unadvertised",
                Severity::Warning,
            ),
            (
                &[("scopes_supported", json!(["openid"]))],
                "discovery.scope-unlisted",
                Severity::Warning,
            ),
            (
                &[("authorization_endpoint", json!("https://as.example/auth"))],
                "discovery.endpoint-differs",
                Severity::Warning,
            ),
        ];
        for (changes, id, severity) in cases {
            assert_eq!(
                run(with(changes), false),
                vec![(*id, *severity)],
                "{changes:?}"
            );
        }
    }

    #[test]
    fn with_tls_the_mtls_alias_is_the_endpoint_to_use() {
        let found = run(good(), true);
        assert_eq!(
            found,
            vec![("discovery.endpoint-differs", Severity::Warning)]
        );
    }

    #[test]
    fn without_a_profile_only_the_server_is_checked() {
        let doc = with(&[
            ("scopes_supported", json!([])),
            ("authorization_details_types_supported", Value::Null),
        ]);
        let doc = DiscoveryDocument::parse(
            "https://as.example/.well-known/openid-configuration",
            doc.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(check(ISSUER, &doc, None), vec![]);
    }
}
