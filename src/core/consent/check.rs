//! Checks of an authorization_details item someone built (ours or the user's own
//! client's) against its pack, for lint.

use jiff::Timestamp;
use serde_json::Value;

use super::pack::{Field, Kind, Pack, get_path};
use crate::core::time::{self, Moment};

/// What is wrong with an authorization_details item, for lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemIssue {
    MissingRequired {
        field: String,
        path: String,
    },
    /// Present without a field it needs, e.g. subscription.Webhook.Url without IsActive.
    MissingCompanion {
        field: String,
        path: String,
        with: String,
    },
    UnknownValue {
        path: String,
        value: String,
        allowed: String,
    },
    BadValue {
        path: String,
        message: String,
    },
    UnknownKey {
        path: String,
    },
    EmptyList {
        path: String,
    },
    ExpiryPast {
        path: String,
        value: String,
    },
    ExpiryBeyondCap {
        path: String,
        value: String,
        cap: String,
    },
}

impl Pack {
    /// Checks an item someone built (ours or the user's own client's) against the pack.
    pub fn check_item(&self, item: &Value, now: Timestamp) -> Vec<ItemIssue> {
        let mut issues = Vec::new();
        for field in &self.fields {
            let found = get_path(item, &field.path);
            let path = field.path.clone();
            // An empty string is no value; an empty list is one (min_items says if it is enough).
            let Some(found) =
                found.filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
            else {
                if field.required {
                    issues.push(ItemIssue::MissingRequired {
                        field: field.id.clone(),
                        path,
                    });
                }
                continue;
            };
            if field.kind == Kind::MultiEnum
                && found
                    .as_array()
                    .is_some_and(|a| a.len() < field.min_items.unwrap_or(0))
            {
                issues.push(ItemIssue::EmptyList { path: path.clone() });
            }
            let unknown: Vec<&str> = match (field.kind, found) {
                (Kind::Enum, Value::String(s)) => vec![s.as_str()],
                (Kind::MultiEnum, Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            }
            .into_iter()
            .filter(|v| !field.knows(v))
            .collect();
            for value in unknown {
                issues.push(ItemIssue::UnknownValue {
                    path: path.clone(),
                    value: value.to_owned(),
                    allowed: field.allowed_values(),
                });
            }
            for companion in field.requires.iter().filter_map(|id| self.field(id)) {
                if get_path(item, &companion.path).is_none_or(Value::is_null) {
                    issues.push(ItemIssue::MissingCompanion {
                        field: companion.id.clone(),
                        path: companion.path.clone(),
                        with: field.path.clone(),
                    });
                }
            }
            match field.kind {
                Kind::Const if Some(found) != field.const_value().as_ref() => {
                    issues.push(ItemIssue::BadValue {
                        path,
                        message: format!("must be {}", field.const_value().unwrap_or(Value::Null)),
                    })
                }
                // Unknown values are reported above; here only the shape.
                Kind::Enum if !found.is_string() => issues.push(ItemIssue::BadValue {
                    path,
                    message: format!("expected a string, found {found}"),
                }),
                Kind::MultiEnum
                    if !found
                        .as_array()
                        .is_some_and(|a| a.iter().all(Value::is_string)) =>
                {
                    issues.push(ItemIssue::BadValue {
                        path,
                        message: format!("expected a list of strings, found {found}"),
                    })
                }
                Kind::Enum | Kind::MultiEnum => {}
                Kind::Datetime => self.check_expiry(field, found, now, &mut issues),
                _ => {
                    if let Err(problem) = field.accept(found) {
                        issues.push(ItemIssue::BadValue {
                            path,
                            message: problem.to_string(),
                        });
                    }
                }
            }
        }
        if self.constraints.strict_keys {
            let mut known: Vec<String> = vec!["type".into()];
            known.extend(self.fields.iter().map(|f| f.path.clone()));
            unknown_keys(item, "", &known, &mut issues);
        }
        issues
    }

    fn check_expiry(&self, field: &Field, found: &Value, now: Timestamp, out: &mut Vec<ItemIssue>) {
        let path = field.path.clone();
        let Some(text) = found.as_str() else {
            out.push(ItemIssue::BadValue {
                path,
                message: format!("expected an RFC 3339 string, found {found}"),
            });
            return;
        };
        let ts = match time::parse_rfc3339(text) {
            Ok(ts) => ts,
            Err(problem) => {
                out.push(ItemIssue::BadValue {
                    path,
                    message: problem.to_string(),
                });
                return;
            }
        };
        if field.id != "expiration" {
            return;
        }
        // Whole seconds on both sides: the wire value has no fraction.
        let now = time::whole_seconds(now);
        if ts <= now {
            out.push(ItemIssue::ExpiryPast {
                path,
                value: text.into(),
            });
        } else if let Some(cap) = &self.constraints.max_consent_expiry
            && let Ok(limit) = Moment::parse(&format!("+{cap}")).and_then(|m| m.resolve(now))
            && ts > limit
        {
            out.push(ItemIssue::ExpiryBeyondCap {
                path,
                value: text.into(),
                cap: cap.clone(),
            });
        }
    }
}
fn unknown_keys(node: &Value, prefix: &str, known: &[String], out: &mut Vec<ItemIssue>) {
    let Some(object) = node.as_object() else {
        return;
    };
    for (key, child) in object {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if known.contains(&path) {
            continue;
        }
        let is_parent = known.iter().any(|k| k.starts_with(&format!("{path}.")));
        if is_parent {
            unknown_keys(child, &path, known, out);
        } else {
            out.push(ItemIssue::UnknownKey { path });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::test_support::{now, uae};
    use serde_json::json;

    #[test]
    fn check_item_finds_each_issue() {
        let pack = uae();
        let item = json!({"type": pack.type_, "consent": {
            "Permissions": ["ReadNothing"],
            "ExpirationDateTime": "2020-01-01T00:00:00Z",
            "OpenFinanceBilling": {"UserType": "Retail", "Purpose": "Onboarding", "Extra": 1},
            "Surprise": true}});
        let issues = pack.check_item(&item, now());
        assert!(issues.contains(&ItemIssue::MissingRequired {
            field: "consent_id".into(),
            path: "consent.ConsentId".into()
        }));
        assert!(
            issues.iter().any(
                |i| matches!(i, ItemIssue::UnknownValue { value, .. } if value == "ReadNothing")
            )
        );
        assert!(
            issues
                .iter()
                .any(|i| matches!(i, ItemIssue::ExpiryPast { .. }))
        );
        assert!(issues.contains(&ItemIssue::UnknownKey {
            path: "consent.Surprise".into()
        }));
        assert!(issues.contains(&ItemIssue::UnknownKey {
            path: "consent.OpenFinanceBilling.Extra".into()
        }));
        let far =
            json!({"type": pack.type_, "consent": {"ExpirationDateTime": "2030-01-01T00:00:00Z"}});
        assert!(
            pack.check_item(&far, now())
                .iter()
                .any(|i| matches!(i, ItemIssue::ExpiryBeyondCap { .. }))
        );
    }
}
