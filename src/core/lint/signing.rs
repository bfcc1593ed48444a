//! Signatures and keys: a FAPI algorithm (and the pack's), the kid the server looks the key up
//! by, a signature that verifies with the profile's key, and RSA keys of 2048 bits or more.
//! The client assertion's rules reuse the checks here.

use super::{Context, Rule, Severity, Subject, pack_of};
use crate::core::jws::DecodedJwt;
use crate::core::keys::{FAPI_ALGS, KeyKind, MIN_RSA_BITS, rsa_bits_of};
use crate::core::oauth::OAuthError;

pub(super) const FAPI_ALG_REF: &str = "FAPI 2.0 Security Profile 5.4.1 (1)";

pub(super) fn alg_check(
    jwt: &DecodedJwt,
    what: &str,
    subject: &Subject,
    ctx: &Context,
) -> Option<String> {
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

pub(super) fn kid_mismatch(jwt: &DecodedJwt, what: &str, ctx: &Context) -> Option<String> {
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

pub(super) fn signature_check(jwt: &DecodedJwt, what: &str, ctx: &Context) -> Option<String> {
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

/// The request object's algorithm, checked first.
pub(super) static REQUEST_ALG: &[Rule] = &[Rule {
    id: "request.alg",
    severity: Severity::Error,
    reference: FAPI_ALG_REF,
    refusal: Some(OAuthError::InvalidRequestObject),
    check: |s, c| alg_check(s.request, "request object", s, c),
}];

/// The request object's key and signature.
pub(super) static REQUEST_KEY: &[Rule] = &[
    Rule {
        id: "request.kid-mismatch",
        severity: Severity::Error,
        reference: "RFC 7515 4.1.4",
        refusal: Some(OAuthError::InvalidRequestObject),
        check: |s, c| kid_mismatch(s.request, "request object", c),
    },
    Rule {
        id: "request.kid-not-thumbprint",
        severity: Severity::Info,
        reference: "RFC 7638 3",
        refusal: None,
        check: |s, c| kid_not_thumbprint(s.request, "request object", c),
    },
    Rule {
        id: "request.signature",
        severity: Severity::Error,
        reference: "RFC 9101 6.2; RFC 7515 5.2",
        refusal: Some(OAuthError::InvalidRequestObject),
        check: |s, c| signature_check(s.request, "request object", c),
    },
];

/// The key itself.
pub(super) static KEY_SIZE: &[Rule] = &[Rule {
    id: "key.rsa-too-small",
    severity: Severity::Error,
    reference: "FAPI 2.0 Security Profile 5.4.1 (2)",
    refusal: Some(OAuthError::InvalidClient),
    check: |_, c| {
        let facts = c.key?;
        let bits = match facts.kind {
            KeyKind::Rsa { bits } => bits,
            _ => rsa_bits_of(&facts.public_jwk)?,
        };
        (bits < MIN_RSA_BITS)
            .then(|| format!("the RSA key has {bits} bits; FAPI 2.0 requires at least 2048"))
    },
}];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::SigningKey;
    use crate::core::lint::cases::{Case, FiringCase, check_subject};
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
            ("request.alg", "local", |c| {
                c.request.header["alg"] = json!("RS256")
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
            ("key.rsa-too-small", "local", |c| {
                c.facts.kind = KeyKind::Rsa { bits: 1024 };
            }),
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[REQUEST_ALG, REQUEST_KEY, KEY_SIZE], firing_cases());
    }

    #[test]
    fn a_non_fapi_alg_is_named_with_fapi_s_list() {
        let mut case = Case::generic();
        case.request.header["alg"] = json!("RS256");
        let f = case.finding("request.alg").unwrap();
        assert_eq!(
            f.message,
            "the request object is signed with RS256; FAPI 2.0 allows only PS256, ES256 and EdDSA (Ed25519)"
        );
        assert_eq!(f.reference, FAPI_ALG_REF);
    }

    #[test]
    fn uae_allows_only_ps256() {
        let mut case = Case::new("local-uae");
        case.request.header["alg"] = json!("ES256");
        let f = case.finding("request.alg").unwrap();
        assert!(f.message.contains("allows only PS256"), "{}", f.message);
    }
}
