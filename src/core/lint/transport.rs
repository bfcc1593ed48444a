//! TLS everywhere: the redirect_uri and every endpoint https (plain http only on loopback).

use super::{Rule, Severity};
use crate::core::oauth::OAuthError;
use crate::core::printable::redact_url;

fn is_https_or_loopback(url: &str) -> bool {
    url.starts_with("https://")
        || url::Url::parse(url).is_ok_and(|u| crate::core::transport::is_loopback_url(&u))
}

pub(super) static RULES: &[Rule] = &[Rule {
    id: "transport.not-https",
    severity: Severity::Error,
    reference: "FAPI 2.0 Security Profile 5.2.1, 5.3.2.2 (8)",
    refusal: Some(OAuthError::InvalidRequest),
    check: |s, c| {
        let mut plain = Vec::new();
        let urls = [
            ("redirect_uri", s.request.claim_str("redirect_uri")),
            ("issuer", c.issuer),
            ("par_endpoint", c.par_endpoint),
            ("token_endpoint", c.token_endpoint),
            ("authorization_endpoint", c.authorization_endpoint),
        ];
        for (name, url) in urls {
            if let Some(url) = url
                && !is_https_or_loopback(url)
            {
                plain.push(format!("{name} {}", redact_url(url)));
            }
        }
        (!plain.is_empty()).then(|| {
            format!(
                "not https: {}; FAPI 2.0 requires TLS (plain http only on loopback)",
                plain.join(", ")
            )
        })
    },
}];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{FiringCase, check_subject};
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![("transport.not-https", "local", |c| {
            c.request.claims["redirect_uri"] = json!("http://client.example/cb")
        })]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }
}
