//! Field values: what a user may give a field (profile, `--set`, the TUI editor), checked
//! against the field's kind and values, and the authorization_details item built from them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::pack::{Auto, Field, Kind, Pack, is_empty_value, set_path, toml_to_json};
use crate::core::time::{self, Moment, TimeError};

/// A consent value as the user gave it, before a build fixes times and UUIDs.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Json(Value),
    Moment(Moment),
    NewUuid,
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Json(v) => write!(f, "{v}"),
            FieldValue::Moment(Moment::At(ts)) => write!(f, "{}", time::rfc3339_seconds(*ts)),
            FieldValue::Moment(Moment::Relative { text, .. }) => {
                write!(f, "{text} (from each build)")
            }
            FieldValue::NewUuid => write!(f, "(a fresh UUID per build)"),
        }
    }
}

/// Why a field refuses a value. The message is the problem alone, so the caller names the
/// field its own way: the TUI beside the field, a profile error by key and line, a flag by name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("\"{0}\" is not true or false")]
    NotBool(String),
    #[error("\"{0}\" is not a whole number")]
    NotInteger(String),
    #[error("\"{0}\" is not a JSON object")]
    NotJson(String),
    /// The pack's fixed value, as JSON text.
    #[error("is fixed to {0} by the pack")]
    Fixed(String),
    #[error("unknown value \"{value}\"; allowed: {allowed}")]
    Unknown { value: String, allowed: String },
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        /// What was found, as JSON text.
        found: String,
    },
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("\"{0}\" is not a UUID")]
    NotUuid(String),
    #[error(transparent)]
    Time(#[from] TimeError),
}

/// A pack whose own default for a field is refused by that field: the pack file needs fixing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pack {pack} field {field} default: {problem}")]
pub struct DefaultError {
    pub pack: String,
    pub field: String,
    #[source]
    pub problem: ValueError,
}

/// A consent value that cannot become a wire value at build time (a relative date that
/// runs out of range).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct MaterializeError {
    pub field: String,
    #[source]
    pub problem: TimeError,
}

/// Field id -> value, for the fields that have one.
pub type ConsentValues = BTreeMap<String, FieldValue>;

fn wrong_type(expected: &'static str, found: &Value) -> ValueError {
    ValueError::WrongType {
        expected,
        found: found.to_string(),
    }
}

impl Field {
    pub fn allowed_values(&self) -> String {
        self.values
            .iter()
            .map(|v| v.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn knows(&self, value: &str) -> bool {
        self.values.iter().any(|v| v.value == value)
    }

    pub fn const_value(&self) -> Option<Value> {
        self.value.as_ref().map(toml_to_json)
    }

    /// Turns command-line text into the raw value `accept` takes: comma-separated lists for
    /// multi-value fields, true/false for bools, JSON for objects.
    pub fn parse_text(&self, text: &str) -> Result<Value, ValueError> {
        Ok(match self.kind {
            Kind::MultiEnum => Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
            Kind::Bool => match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => return Err(ValueError::NotBool(other.to_owned())),
            },
            Kind::Integer => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| ValueError::NotInteger(text.to_owned()))?,
            Kind::Object => {
                serde_json::from_str(text).map_err(|_| ValueError::NotJson(text.to_owned()))?
            }
            _ => Value::String(text.to_owned()),
        })
    }

    /// Checks a value against the field's kind and values. `Ok(None)` means "no value".
    pub fn accept(&self, raw: &Value) -> Result<Option<FieldValue>, ValueError> {
        let empty = match self.kind {
            Kind::Const => false,
            // An empty list is a value (lint says whether the pack allows it).
            Kind::MultiEnum => raw.is_null(),
            _ => is_empty_value(raw),
        };
        if empty {
            return Ok(self.auto.map(|Auto::Uuid| FieldValue::NewUuid));
        }
        let want_string = || {
            raw.as_str()
                .map(str::trim)
                .ok_or_else(|| wrong_type("a string", raw))
        };
        let value = match self.kind {
            Kind::Const => {
                let fixed = self.const_value().unwrap_or(Value::Null);
                if !is_empty_value(raw) && *raw != fixed {
                    return Err(ValueError::Fixed(fixed.to_string()));
                }
                FieldValue::Json(fixed)
            }
            Kind::Enum => {
                let s = want_string()?;
                if !self.knows(s) {
                    return Err(self.unknown(s));
                }
                FieldValue::Json(Value::String(s.to_owned()))
            }
            Kind::MultiEnum => {
                let items = raw.as_array().ok_or_else(|| wrong_type("a list", raw))?;
                let mut out = Vec::new();
                for item in items {
                    let s = item
                        .as_str()
                        .ok_or_else(|| wrong_type("strings in the list", item))?;
                    if !self.knows(s) {
                        return Err(self.unknown(s));
                    }
                    if !out.contains(&Value::String(s.to_owned())) {
                        out.push(Value::String(s.to_owned()));
                    }
                }
                FieldValue::Json(Value::Array(out))
            }
            Kind::Date => {
                let s = want_string()?;
                if s.starts_with(['+', '-']) {
                    FieldValue::Moment(Moment::parse(s)?)
                } else {
                    time::parse_date(s)?;
                    FieldValue::Json(Value::String(s.to_owned()))
                }
            }
            Kind::Datetime => FieldValue::Moment(Moment::parse(want_string()?)?),
            Kind::String => {
                let s = want_string()?;
                if let Some(max) = self.max_length
                    && s.chars().count() > max
                {
                    return Err(ValueError::TooLong(max));
                }
                FieldValue::Json(Value::String(s.to_owned()))
            }
            Kind::Uuid => {
                let s = want_string()?;
                if s == "auto" && self.auto.is_some() {
                    FieldValue::NewUuid
                } else {
                    uuid::Uuid::parse_str(s).map_err(|_| ValueError::NotUuid(s.to_owned()))?;
                    FieldValue::Json(Value::String(s.to_owned()))
                }
            }
            Kind::Bool => FieldValue::Json(Value::Bool(
                raw.as_bool()
                    .ok_or_else(|| wrong_type("true or false", raw))?,
            )),
            Kind::Integer => FieldValue::Json(Value::from(
                raw.as_i64()
                    .ok_or_else(|| wrong_type("a whole number", raw))?,
            )),
            Kind::Object => {
                if !raw.is_object() {
                    return Err(wrong_type("an object", raw));
                }
                FieldValue::Json(raw.clone())
            }
        };
        Ok(Some(value))
    }

    fn unknown(&self, value: &str) -> ValueError {
        ValueError::Unknown {
            value: value.to_owned(),
            allowed: self.allowed_values(),
        }
    }

    /// The wire value of a user value at build time.
    fn materialize(
        &self,
        value: &FieldValue,
        now: Timestamp,
        new_uuid: &mut dyn FnMut() -> String,
    ) -> Result<Value, TimeError> {
        Ok(match value {
            FieldValue::Json(v) => v.clone(),
            FieldValue::NewUuid => Value::String(new_uuid()),
            FieldValue::Moment(m) => {
                let ts = m.resolve(now)?;
                Value::String(if self.kind == Kind::Date {
                    ts.strftime("%Y-%m-%d").to_string()
                } else {
                    time::rfc3339_seconds(ts)
                })
            }
        })
    }
}

impl Pack {
    /// The values a profile gets when it gives none: defaults, constants, auto UUIDs.
    pub fn default_values(&self) -> Result<ConsentValues, DefaultError> {
        let mut values = ConsentValues::new();
        for field in &self.fields {
            let raw = match (&field.kind, &field.default) {
                (Kind::Const, _) => field.const_value().unwrap_or(Value::Null),
                (_, Some(d)) => toml_to_json(d),
                _ => Value::Null,
            };
            if let Some(v) = field.accept(&raw).map_err(|problem| DefaultError {
                pack: self.id.clone(),
                field: field.id.clone(),
                problem,
            })? {
                values.insert(field.id.clone(), v);
            }
        }
        Ok(values)
    }

    /// Builds the authorization_details item: `type` first, then each field at its path.
    pub fn authorization_detail(
        &self,
        values: &ConsentValues,
        now: Timestamp,
        new_uuid: &mut dyn FnMut() -> String,
    ) -> Result<Value, MaterializeError> {
        let mut item = Map::new();
        item.insert("type".into(), Value::String(self.type_.clone()));
        for field in &self.fields {
            let Some(value) = values.get(&field.id) else {
                continue;
            };
            let wire =
                field
                    .materialize(value, now, new_uuid)
                    .map_err(|problem| MaterializeError {
                        field: field.id.clone(),
                        problem,
                    })?;
            if field.omit_when_empty && is_empty_value(&wire) {
                continue;
            }
            set_path(&mut item, &field.path, wire);
        }
        Ok(Value::Object(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::test_support::{counter, my, now, uae};
    use serde_json::json;

    #[test]
    fn accept_checks_kinds() {
        let pack = my();
        let perms = pack.field("permissions").unwrap();
        assert!(
            perms
                .accept(&json!(["read_foo"]))
                .unwrap_err()
                .to_string()
                .contains("read_foo")
        );
        assert_eq!(
            perms.accept(&perms.parse_text("read_balances, read_balances").unwrap()),
            Ok(Some(FieldValue::Json(json!(["read_balances"]))))
        );
        let exp = pack.field("expiration").unwrap();
        assert!(exp.accept(&json!("next week")).is_err());
        let ctype = pack.field("consent_type").unwrap();
        assert!(ctype.accept(&json!("urn:other")).is_err());
        let uae = uae();
        let id = uae.field("consent_id").unwrap();
        assert_eq!(id.accept(&json!("")), Ok(Some(FieldValue::NewUuid)));
        assert!(id.accept(&json!("not-a-uuid")).is_err());
    }

    #[test]
    fn object_and_bool_fields_take_json_and_booleans() {
        let field: Field = toml::from_str(
            "id = \"extra\"\npath = \"consent.Extra\"\nkind = \"object\"\nlabel = \"x\"\ndescription = \"x\"",
        )
        .unwrap();
        let raw = field.parse_text(r#"{"a": [1, 2]}"#).unwrap();
        assert_eq!(
            field.accept(&raw),
            Ok(Some(FieldValue::Json(json!({"a": [1, 2]}))))
        );
        assert!(
            field
                .parse_text("[1]")
                .and_then(|v| field.accept(&v))
                .is_err()
        );
        assert!(field.parse_text("{not json").is_err());
        let active = uae();
        let active = active.field("webhook.is_active").unwrap();
        assert_eq!(
            active.accept(&active.parse_text("true").unwrap()),
            Ok(Some(FieldValue::Json(json!(true))))
        );
        assert!(active.parse_text("yes").is_err());
        assert_eq!(FieldValue::NewUuid.to_string(), "(a fresh UUID per build)");
        assert_eq!(
            FieldValue::Moment(Moment::parse("+30d").unwrap()).to_string(),
            "+30d (from each build)"
        );
    }

    #[test]
    fn my_item_has_the_sample_shape_and_drops_empty_dp_id() {
        let pack = my();
        let mut values = pack.default_values().unwrap();
        values.insert("dc_id".into(), FieldValue::Json(json!("dc1")));
        let item = pack
            .authorization_detail(&values, now(), &mut counter())
            .unwrap();
        assert_eq!(
            item,
            json!({"type": pack.type_, "consent": {
                "dc_id": "dc1",
                "consent_type": pack.type_,
                "consent_purpose": "pfm",
                "permissions": ["read_accounts", "read_balances", "read_transactions"],
                "expiration_datetime": "2026-03-01T10:00:00Z"}})
        );
        assert!(pack.check_item(&item, now()).is_empty());
    }

    #[test]
    fn uae_item_nests_billing_and_makes_a_consent_id_per_build() {
        let pack = uae();
        let values = pack.default_values().unwrap();
        let mut uuids = counter();
        let a = pack
            .authorization_detail(&values, now(), &mut uuids)
            .unwrap();
        let b = pack
            .authorization_detail(&values, now(), &mut uuids)
            .unwrap();
        assert_ne!(a["consent"]["ConsentId"], b["consent"]["ConsentId"]);
        assert!(a["consent"]["OpenFinanceBilling"]["Purpose"].is_string());
        assert!(a["consent"]["OpenFinanceBilling"]["UserType"].is_string());
        assert!(
            pack.check_item(&a, now()).is_empty(),
            "{:?}",
            pack.check_item(&a, now())
        );
    }
}
