//! Typed consent edits: the one place where a change to a request's consent values (or its
//! scope, max_age, lifetime and userinfo claims) is checked and applied. The command line's
//! `--permission/--purpose/--expiration/--set` and the TUI's editor both go through here, so
//! a value one of them accepts the other accepts too.

use serde_json::Value;

use super::consent::{ConsentValues, Field, FieldValue, Kind, Pack, ValueError};
use super::error::{ConfigError, Origin};
use super::request::{Overrides, ParSeed};

/// A day: longer lifetimes are no use, and the bound keeps exp arithmetic far from overflow.
pub const MAX_LIFETIME: i64 = 86_400;

/// One change to a request's values. Fields are named by id or by wire path
/// (`dp_id` or `consent.dp_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentEdit {
    /// Adds or removes one value of a multi-value field (a permission).
    ToggleItem {
        field: String,
        value: String,
    },
    /// Flips a yes/no field.
    ToggleFlag {
        field: String,
    },
    /// Moves a selector `step` values on, wrapping; an optional selector also has "none".
    Cycle {
        field: String,
        step: i32,
    },
    /// Sets a field from text, as a profile or a flag would give it.
    SetField {
        field: String,
        text: String,
    },
    /// Adds or removes one claim of claims.userinfo.
    ToggleUserinfo {
        claim: String,
    },
    SetScope(String),
    /// Seconds, or empty for none.
    SetMaxAge(String),
    /// Seconds the request object lives.
    SetLifetime(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the pack {pack} has no field \"{name}\"")]
    UnknownField {
        pack: String,
        name: String,
        fields: String,
    },
    #[error("{problem}")]
    BadValue {
        problem: ValueError,
        described: String,
    },
    #[error("{field} is not a {expected}")]
    WrongKind {
        field: String,
        expected: &'static str,
    },
    #[error("the pack offers no \"{value}\" for {field}")]
    UnknownItem { field: String, value: String },
    #[error("scope cannot be empty (FAPI servers want at least openid)")]
    EmptyScope,
    #[error("a whole number of seconds, or empty for none")]
    BadMaxAge,
    #[error("1 to {MAX_LIFETIME} seconds")]
    BadLifetime,
}

impl EditError {
    /// What to do about it, for messages that have room for a hint.
    pub fn hint(&self) -> String {
        match self {
            EditError::UnknownField { fields, .. } => format!("fields of this pack: {fields}"),
            EditError::BadValue { described, .. } => described.clone(),
            _ => String::new(),
        }
    }
}

/// A field's id, description and kind, pointing at `packs show` when it has listed values.
pub fn describe_field_values(pack: &Pack, field: &Field) -> String {
    let values = if field.values.is_empty() {
        String::new()
    } else {
        format!(
            "; `consent-explorer packs show {}` describes each value",
            pack.id
        )
    };
    format!(
        "{}: {} ({}){values}",
        field.id,
        field.description,
        field.kind.name()
    )
}

pub fn set_value(consent: &mut ConsentValues, id: &str, value: Option<FieldValue>) {
    match value {
        Some(v) => {
            consent.insert(id.to_owned(), v);
        }
        None => {
            consent.remove(id);
        }
    }
}

impl ConsentEdit {
    /// The field, claim or setting the edit changes, as the user named it.
    pub fn target(&self) -> &str {
        match self {
            ConsentEdit::ToggleItem { field, .. }
            | ConsentEdit::ToggleFlag { field }
            | ConsentEdit::Cycle { field, .. }
            | ConsentEdit::SetField { field, .. } => field,
            ConsentEdit::ToggleUserinfo { claim } => claim,
            ConsentEdit::SetScope(_) => "scope",
            ConsentEdit::SetMaxAge(_) => "max_age",
            ConsentEdit::SetLifetime(_) => "signing.lifetime",
        }
    }

    /// Applies the edit to a seed; on error the seed is unchanged.
    pub fn apply(&self, seed: &mut ParSeed) -> Result<(), EditError> {
        match self {
            ConsentEdit::ToggleUserinfo { claim } => {
                let order: Vec<&str> = seed
                    .pack
                    .constraints
                    .userinfo_claims
                    .iter()
                    .map(|c| c.value.as_str())
                    .collect();
                if seed.userinfo_claims.contains(claim) {
                    seed.userinfo_claims.retain(|c| c != claim);
                } else {
                    seed.userinfo_claims.push(claim.clone());
                    seed.userinfo_claims
                        .sort_by_key(|c| order.iter().position(|o| o == c));
                }
            }
            ConsentEdit::SetScope(text) => {
                if text.trim().is_empty() {
                    return Err(EditError::EmptyScope);
                }
                seed.scope = text.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            ConsentEdit::SetMaxAge(text) => {
                seed.max_age = match text.trim() {
                    "" => None,
                    t => Some(
                        t.parse::<i64>()
                            .ok()
                            .filter(|v| *v >= 0)
                            .ok_or(EditError::BadMaxAge)?,
                    ),
                };
            }
            ConsentEdit::SetLifetime(text) => {
                seed.lifetime = text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| (1..=MAX_LIFETIME).contains(v))
                    .ok_or(EditError::BadLifetime)?;
            }
            _ => self.apply_to_consent(&seed.pack, &mut seed.consent)?,
        }
        Ok(())
    }

    /// Applies an edit of a consent field to a pack's values; other edits change nothing.
    pub fn apply_to_consent(
        &self,
        pack: &Pack,
        consent: &mut ConsentValues,
    ) -> Result<(), EditError> {
        let field = match self {
            ConsentEdit::ToggleItem { field, .. }
            | ConsentEdit::ToggleFlag { field }
            | ConsentEdit::Cycle { field, .. }
            | ConsentEdit::SetField { field, .. } => {
                pack.field_by_name(field)
                    .ok_or_else(|| EditError::UnknownField {
                        pack: pack.id.clone(),
                        name: field.clone(),
                        fields: pack.field_names(),
                    })?
            }
            _ => return Ok(()),
        };
        let wrong_kind = |expected| EditError::WrongKind {
            field: field.id.clone(),
            expected,
        };
        let value = match self {
            ConsentEdit::ToggleItem { value, .. } => {
                if field.kind != Kind::MultiEnum {
                    return Err(wrong_kind("checklist"));
                }
                if !field.values.iter().any(|d| d.value == *value) {
                    return Err(EditError::UnknownItem {
                        field: field.id.clone(),
                        value: value.clone(),
                    });
                }
                Some(toggled(field, consent.get(&field.id), value))
            }
            ConsentEdit::ToggleFlag { .. } => {
                if field.kind != Kind::Bool {
                    return Err(wrong_kind("flag"));
                }
                let on = matches!(
                    consent.get(&field.id),
                    Some(FieldValue::Json(Value::Bool(true)))
                );
                Some(FieldValue::Json(Value::Bool(!on)))
            }
            ConsentEdit::Cycle { step, .. } => {
                if field.kind != Kind::Enum {
                    return Err(wrong_kind("selector"));
                }
                cycled(field, consent.get(&field.id), *step)
            }
            ConsentEdit::SetField { text, .. } => {
                let bad = |problem| EditError::BadValue {
                    problem,
                    described: describe_field_values(pack, field),
                };
                let raw = field.parse_text(text).map_err(bad)?;
                field.accept(&raw).map_err(bad)?
            }
            _ => return Ok(()),
        };
        set_value(consent, &field.id, value);
        Ok(())
    }
}

/// The checklist with `value` added or removed, in the pack's order so that toggling back
/// gives the same JWT.
fn toggled(field: &Field, current: Option<&FieldValue>, value: &str) -> FieldValue {
    let mut chosen: Vec<&str> = match current {
        Some(FieldValue::Json(Value::Array(a))) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if chosen.contains(&value) {
        chosen.retain(|c| *c != value);
    } else {
        chosen.push(value);
    }
    let ordered = field
        .values
        .iter()
        .filter(|d| chosen.contains(&d.value.as_str()))
        .map(|d| Value::String(d.value.clone()))
        .collect();
    FieldValue::Json(Value::Array(ordered))
}

fn cycled(field: &Field, current: Option<&FieldValue>, step: i32) -> Option<FieldValue> {
    let mut options: Vec<Option<&str>> = field
        .values
        .iter()
        .map(|v| Some(v.value.as_str()))
        .collect();
    if !field.required {
        options.insert(0, None);
    }
    let current = match current {
        Some(FieldValue::Json(Value::String(s))) => Some(s.as_str()),
        _ => None,
    };
    let at = options.iter().position(|o| *o == current).unwrap_or(0) as i32;
    options[(at + step).rem_euclid(options.len() as i32) as usize]
        .map(|v| FieldValue::Json(Value::String(v.to_owned())))
}

/// The command line's consent flags as edits, each with the flag it came from.
pub fn from_overrides(overrides: &Overrides) -> Vec<(&'static str, ConsentEdit)> {
    let set = |field: &str, text: &str| ConsentEdit::SetField {
        field: field.to_owned(),
        text: text.to_owned(),
    };
    let mut edits = Vec::new();
    if !overrides.permissions.is_empty() {
        edits.push((
            "--permission",
            set("permissions", &overrides.permissions.join(",")),
        ));
    }
    if let Some(p) = &overrides.purpose {
        edits.push(("--purpose", set("purpose", p)));
    }
    if let Some(e) = &overrides.expiration {
        edits.push(("--expiration", set("expiration", e)));
    }
    for (k, v) in &overrides.set {
        edits.push(("--set", set(k, v)));
    }
    edits
}

/// Applies the command line's consent flags; a refused value names its flag.
pub fn apply_overrides(
    pack: &Pack,
    consent: &mut ConsentValues,
    overrides: &Overrides,
) -> Result<(), ConfigError> {
    for (flag, edit) in from_overrides(overrides) {
        edit.apply_to_consent(pack, consent).map_err(|e| {
            ConfigError::new(
                Origin::Flag(flag.to_owned()),
                edit.target(),
                e.to_string(),
                e.hint(),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::PackSet;
    use crate::core::profile;
    use serde_json::json;

    fn seed() -> ParSeed {
        profile::builtin("local")
            .unwrap()
            .seed(&PackSet::builtin(), &Overrides::default(), "")
            .unwrap()
    }

    #[test]
    fn toggles_keep_the_pack_order_and_come_back_to_the_start() {
        let mut s = seed();
        let before = s.consent["permissions"].clone();
        let toggle = ConsentEdit::ToggleItem {
            field: "permissions".into(),
            value: "read_accounts".into(),
        };
        toggle.apply(&mut s).unwrap();
        assert_ne!(s.consent["permissions"], before);
        toggle.apply(&mut s).unwrap();
        assert_eq!(s.consent["permissions"], before);
        let unknown = ConsentEdit::ToggleItem {
            field: "permissions".into(),
            value: "read_minds".into(),
        };
        assert!(matches!(
            unknown.apply(&mut s),
            Err(EditError::UnknownItem { .. })
        ));
    }

    #[test]
    fn text_edits_are_checked_like_the_profile_and_leave_bad_values_out() {
        let mut s = seed();
        let before = s.clone();
        for edit in [
            ConsentEdit::SetScope("  ".into()),
            ConsentEdit::SetMaxAge("-1".into()),
            ConsentEdit::SetLifetime((MAX_LIFETIME + 1).to_string()),
            ConsentEdit::SetField {
                field: "expiration".into(),
                text: "next tuesday".into(),
            },
        ] {
            assert!(edit.apply(&mut s).is_err(), "{edit:?}");
        }
        assert_eq!(s.scope, before.scope);
        assert_eq!(s.consent, before.consent);
        ConsentEdit::SetField {
            field: "consent.dp_id".into(),
            text: "BANK2".into(),
        }
        .apply(&mut s)
        .unwrap();
        assert_eq!(s.consent["dp_id"], FieldValue::Json(json!("BANK2")));
    }
}
