//! authorization_details and the consent in them: present, of a known type, as many items as
//! the pack takes, and each item as its pack describes it (required fields, known values and
//! keys, well-formed values, an expiry in the future and within the pack's cap).

use serde_json::Value;

use super::{Context, Rule, Severity, Subject, items, pack_of};
use crate::core::consent::ItemIssue;
use crate::core::oauth::OAuthError;

/// Issues of every item of a known type, of one kind, as one message.
fn item_issues(
    subject: &Subject,
    ctx: &Context,
    pick: fn(&ItemIssue) -> Option<String>,
) -> Option<String> {
    let mut messages = Vec::new();
    for item in items(subject)? {
        let Some(pack) = item
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| ctx.packs.find(t))
        else {
            continue;
        };
        messages.extend(pack.check_item(item, ctx.now).iter().filter_map(pick));
    }
    (!messages.is_empty()).then(|| messages.join("; "))
}

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "rar.missing",
        severity: Severity::Error,
        reference: "RFC 9396 2",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, _| match s.request.claim("authorization_details") {
            None => Some(
                "the request object has no authorization_details: the consent is asked for there"
                    .into(),
            ),
            Some(Value::Array(a))
                if a.iter()
                    .all(|i| i.get("type").is_some_and(Value::is_string)) =>
            {
                None
            }
            Some(Value::Array(_)) => {
                Some("every authorization_details item needs a string type".into())
            }
            Some(_) => Some("authorization_details must be a JSON array of objects".into()),
        },
    },
    Rule {
        id: "rar.type-unknown",
        severity: Severity::Error,
        reference: "RFC 9396 5",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            let unknown: Vec<&str> = items(s)?
                .iter()
                .filter_map(|i| i.get("type").and_then(Value::as_str))
                .filter(|t| c.packs.find(t).is_none())
                .collect();
            (!unknown.is_empty()).then(|| {
                format!(
                    "authorization_details type {} is unknown (servers answer invalid_authorization_details); known: {}",
                    unknown.join(", "),
                    c.packs.packs.iter().map(|p| p.type_.as_str()).collect::<Vec<_>>().join(", ")
                )
            })
        },
    },
    Rule {
        id: "rar.too-many",
        severity: Severity::Error,
        reference: "the pack's max_items",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            let count = items(s)?.len();
            let pack = pack_of(s, c)?;
            let max = pack.constraints.max_items?;
            (count > max).then(|| {
                format!(
                    "authorization_details has {count} items; {} accepts exactly {max}",
                    pack.ecosystem
                )
            })
        },
    },
    Rule {
        id: "consent.required",
        severity: Severity::Error,
        reference: "the pack's required fields; RFC 9396 5",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::MissingRequired { field, path } => {
                    Some(format!("{path} ({field}) is required"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.permissions-empty",
        severity: Severity::Error,
        reference: "the pack's min_items; RFC 9396 5",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::EmptyList { path } => {
                    Some(format!("{path} is empty: ask for at least one"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.unknown-value",
        severity: Severity::Error,
        reference: "the pack's values; RFC 9396 5",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::UnknownValue {
                    path,
                    value,
                    allowed,
                } => Some(format!(
                    "{path}: \"{value}\" is not a known value (known: {allowed})"
                )),
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.unknown-key",
        severity: Severity::Error,
        reference: "RFC 9396 5; the pack's schema (additionalProperties: false)",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::UnknownKey { path } => {
                    Some(format!("{path} is not a field of this consent type"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.bad-value",
        severity: Severity::Error,
        reference: "the pack's field kinds",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::BadValue { path, message } => Some(format!("{path} {message}")),
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.expiry-past",
        severity: Severity::Error,
        reference: "the pack's expiration field",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::ExpiryPast { path, value } => {
                    Some(format!("{path} {value} is in the past"))
                }
                _ => None,
            })
        },
    },
    Rule {
        id: "consent.expiry-cap",
        severity: Severity::Error,
        reference: "the pack's max_consent_expiry",
        refusal: Some(OAuthError::InvalidAuthorizationDetails),
        check: |s, c| {
            item_issues(s, c, |i| match i {
                ItemIssue::ExpiryBeyondCap { path, value, cap } => {
                    Some(format!("{path} {value} is more than {cap} ahead"))
                }
                _ => None,
            })
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lint::cases::{Case, FiringCase, check_subject, claims, consent, fires};
    use serde_json::json;

    fn firing_cases() -> Vec<FiringCase> {
        vec![
            ("rar.missing", "local", |c| {
                claims(&mut c.request).remove("authorization_details");
            }),
            ("rar.type-unknown", "local", |c| {
                c.request.claims["authorization_details"][0]["type"] = json!("urn:unknown")
            }),
            ("rar.too-many", "local-uae", |c| {
                let item = c.request.claims["authorization_details"][0].clone();
                c.request.claims["authorization_details"]
                    .as_array_mut()
                    .unwrap()
                    .push(item);
            }),
            ("consent.required", "local", |c| {
                consent(c).remove("dc_id");
            }),
            ("consent.permissions-empty", "local", |c| {
                consent(c).insert("permissions".into(), json!([]));
            }),
            ("consent.unknown-value", "local", |c| {
                consent(c).insert("permissions".into(), json!(["read_minds"]));
            }),
            ("consent.unknown-key", "local-uae", |c| {
                consent(c).insert("Colour".into(), json!("blue"));
            }),
            ("consent.bad-value", "local-uae", |c| {
                consent(c).insert("ConsentId".into(), json!("not-a-uuid"));
            }),
            ("consent.expiry-past", "local", |c| {
                consent(c).insert("expiration_datetime".into(), json!("2025-01-01T00:00:00Z"));
            }),
            ("consent.expiry-cap", "local-uae", |c| {
                consent(c).insert("ExpirationDateTime".into(), json!("2028-01-01T00:00:00Z"));
            }),
        ]
    }

    #[test]
    fn each_rule_fires_on_its_case_and_stays_silent_on_a_clean_build() {
        check_subject(&[RULES], firing_cases());
    }

    /// The expiry limits exactly: now() is 2026-01-30T10:00:00Z; the UAE cap is one year.
    #[test]
    fn expiry_limits_are_inclusive() {
        let expiry = |text: &'static str| {
            move |c: &mut Case| {
                consent(c).insert("ExpirationDateTime".into(), json!(text));
            }
        };
        assert!(!fires(
            "local-uae",
            "consent.expiry-cap",
            &expiry("2027-01-30T10:00:00Z")
        ));
        assert!(fires(
            "local-uae",
            "consent.expiry-cap",
            &expiry("2027-01-30T10:00:01Z")
        ));
        assert!(fires(
            "local-uae",
            "consent.expiry-past",
            &expiry("2026-01-30T10:00:00Z")
        ));
        assert!(!fires(
            "local-uae",
            "consent.expiry-past",
            &expiry("2026-01-30T10:00:01Z")
        ));
    }
}
