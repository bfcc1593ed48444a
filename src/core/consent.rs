//! Consent packs: what an ecosystem's authorization_details item looks like, as data.
//!
//! A pack names the `type`, its fields (kind, wire path, values with descriptions, required),
//! and the ecosystem's constraints that lint enforces. The TUI draws its editor from a pack,
//! so a new ecosystem is a TOML file, not code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{ConfigError, Origin, toml_line_of};
use super::time::{self, Moment, TimeError};

/// The packs shipped inside the binary (also in assets/consent-packs/).
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    (
        "openfinance-my-account-access-v1.2.toml",
        include_str!("../../assets/consent-packs/openfinance-my-account-access-v1.2.toml"),
    ),
    (
        "openfinance-uae-account-access-v2.1.toml",
        include_str!("../../assets/consent-packs/openfinance-uae-account-access-v2.1.toml"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// One value from `values`.
    Enum,
    /// Any number of values from `values`, as a JSON array.
    MultiEnum,
    /// A calendar date, 2026-11-30.
    Date,
    /// RFC 3339 in UTC, 2026-11-30T23:59:59Z; relative input like +30d is resolved at build.
    Datetime,
    String,
    Uuid,
    Bool,
    Integer,
    /// A JSON object given as is.
    Object,
    /// A fixed value (`value`), always sent.
    Const,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Enum => "enum",
            Kind::MultiEnum => "multi_enum",
            Kind::Date => "date",
            Kind::Datetime => "datetime",
            Kind::String => "string",
            Kind::Uuid => "uuid",
            Kind::Bool => "bool",
            Kind::Integer => "integer",
            Kind::Object => "object",
            Kind::Const => "const",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueDesc {
    pub value: String,
    pub description: String,
    /// How sure the sources are, e.g. "unconfirmed on the wire".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auto {
    /// A fresh UUID for every build unless the profile fixes one.
    Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The name in profiles (`[consent]`), `--set` and the TUI.
    pub id: String,
    /// Where the value goes in the authorization_details item, dotted: `consent.dc_id`.
    pub path: String,
    pub kind: Kind,
    pub label: String,
    pub description: String,
    #[serde(default)]
    pub required: bool,
    /// Leave the key out of the item when the value is empty.
    #[serde(default)]
    pub omit_when_empty: bool,
    /// The value when the profile gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<toml::Value>,
    /// The fixed value of a `const` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueDesc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<Auto>,
    /// Field ids that must be present whenever this one is (e.g. a webhook's Url and IsActive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// How many authorization_details items the ecosystem accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// Cap on the request object's exp - nbf, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_lifetime: Option<i64>,
    /// Set when the sources disagree on that cap: what each says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_lifetime_disputed: Option<String>,
    /// How far ahead the consent may expire, e.g. "1y".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_consent_expiry: Option<String>,
    /// Cap on the max_age parameter, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// Claims the request object must carry beyond the FAPI set, e.g. iat.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_request_claims: Vec<String>,
    /// Signature algorithms the deployment allows; empty means FAPI 2.0's PS256, ES256, EdDSA.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_algs: Vec<String>,
    /// The PAR success status the deployment answers with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub par_success_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_audience_note: Option<String>,
    /// Keys the pack does not name are refused (the schema says additionalProperties: false).
    #[serde(default)]
    pub strict_keys: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo_claims: Vec<ValueDesc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// Short name for profiles and the CLI, e.g. `my-account-access`.
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    pub ecosystem: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub constraints: Constraints,
    pub fields: Vec<Field>,
    /// Where the pack was read from.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

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
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("\"{0}\" is not true or false")]
    NotBool(String),
    #[error("\"{0}\" is not a whole number")]
    NotInteger(String),
    #[error("\"{0}\" is not a JSON object")]
    NotJson(String),
    #[error("is fixed to {0} by the pack")]
    Fixed(Value),
    #[error("unknown value \"{value}\"; allowed: {allowed}")]
    Unknown { value: String, allowed: String },
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: Value,
    },
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("\"{0}\" is not a UUID")]
    NotUuid(String),
    #[error(transparent)]
    Time(#[from] TimeError),
}

/// A pack whose own default for a field is refused by that field: the pack file needs fixing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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

pub fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

pub fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The value at a dotted path in a JSON object.
pub fn get_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |node, key| node.get(key))
}

/// Sets a value at a dotted path, making the objects on the way.
pub fn set_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().unwrap_or_default();
    let mut node = root;
    for key in keys {
        let entry = node
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        node = entry.as_object_mut().expect("made an object just above");
    }
    node.insert(last.to_owned(), value);
}

fn wrong_type(expected: &'static str, found: &Value) -> ValueError {
    ValueError::WrongType {
        expected,
        found: found.clone(),
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
                    return Err(ValueError::Fixed(fixed));
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
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// A field by id or by wire path (`purpose` or `consent.consent_purpose`).
    pub fn field_by_name(&self, name: &str) -> Option<&Field> {
        self.field(name)
            .or_else(|| self.fields.iter().find(|f| f.path == name))
    }

    pub fn field_names(&self) -> String {
        self.fields
            .iter()
            .filter(|f| f.kind != Kind::Const)
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn allows_alg(&self, alg: &str) -> bool {
        if self.constraints.allowed_algs.is_empty() {
            super::keys::FAPI_ALGS.contains(&alg)
        } else {
            self.constraints.allowed_algs.iter().any(|a| a == alg)
        }
    }

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

/// All the packs known: built in, then the user's own (same type or id replaces).
#[derive(Debug, Clone, Default)]
pub struct PackSet {
    pub packs: Vec<Pack>,
}

fn parse_pack(text: &str, origin: Origin) -> Result<Pack, ConfigError> {
    let mut pack: Pack = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| super::error::line_of_offset(text, s.start));
        ConfigError::new(
            origin.clone().at_line(line),
            "",
            format!("malformed consent pack: {}", e.message()),
            "fix the pack file; the README's pack reference lists the keys",
        )
    })?;
    validate_pack(&pack, text, &origin)?;
    pack.origin = Some(origin);
    Ok(pack)
}

fn validate_pack(pack: &Pack, text: &str, origin: &Origin) -> Result<(), ConfigError> {
    let fail = |message: String| {
        ConfigError::new(
            origin.clone().at_line(toml_line_of(text, "fields")),
            "fields",
            message,
            "each field needs a unique id and path; enums need values; const fields need value",
        )
    };
    for (i, field) in pack.fields.iter().enumerate() {
        if pack.fields[..i].iter().any(|f| f.id == field.id) {
            return Err(fail(format!("field id \"{}\" appears twice", field.id)));
        }
        if pack.fields[..i].iter().any(|f| f.path == field.path) {
            return Err(fail(format!("field path \"{}\" appears twice", field.path)));
        }
        if matches!(field.kind, Kind::Enum | Kind::MultiEnum) && field.values.is_empty() {
            return Err(fail(format!(
                "{} field \"{}\" has no values",
                field.kind.name(),
                field.id
            )));
        }
        if field.kind == Kind::Const && field.value.is_none() {
            return Err(fail(format!("const field \"{}\" has no value", field.id)));
        }
        if let Some(unknown) = field.requires.iter().find(|id| pack.field(id).is_none()) {
            return Err(fail(format!(
                "field \"{}\" requires \"{unknown}\", which the pack does not have",
                field.id
            )));
        }
    }
    pack.default_values().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

impl PackSet {
    pub fn builtin() -> PackSet {
        let packs = BUILTIN_PACKS
            .iter()
            .map(|(name, text)| {
                parse_pack(
                    text,
                    Origin::Builtin {
                        name: format!("pack {name}"),
                        line: None,
                    },
                )
                .expect("built-in packs are tested")
            })
            .collect();
        PackSet { packs }
    }

    /// Built-in packs plus `*.toml` in `user_dir`, the user's replacing built-ins of the same type.
    pub fn load(user_dir: Option<&Path>) -> Result<PackSet, ConfigError> {
        let mut set = PackSet::builtin();
        let Some(dir) = user_dir.filter(|d| d.is_dir()) else {
            return Ok(set);
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io_error(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
            set.insert(parse_pack(&text, Origin::file(&path))?);
        }
        Ok(set)
    }

    pub fn insert(&mut self, pack: Pack) {
        self.packs
            .retain(|p| p.type_ != pack.type_ && p.id != pack.id);
        self.packs.push(pack);
    }

    /// By `type` URN or by short id.
    pub fn find(&self, name: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.type_ == name || p.id == name)
    }

    pub fn names(&self) -> String {
        self.packs
            .iter()
            .map(|p| format!("{} ({})", p.id, p.type_))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn io_error(path: &Path, e: std::io::Error) -> ConfigError {
    ConfigError::new(
        Origin::file(path),
        "",
        format!("cannot read: {e}"),
        "check the path and its permissions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-01-30T10:00:00Z".parse().unwrap()
    }

    fn my() -> Pack {
        PackSet::builtin()
            .find("urn:openfinance-ml:account-access-consent:v1.2")
            .unwrap()
            .clone()
    }

    fn uae() -> Pack {
        PackSet::builtin()
            .find("uae-account-access")
            .unwrap()
            .clone()
    }

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        }
    }

    #[test]
    fn builtin_packs_load_and_are_complete() {
        let set = PackSet::builtin();
        assert_eq!(set.packs.len(), 2);
        for pack in &set.packs {
            for field in &pack.fields {
                assert!(!field.description.is_empty(), "{} {}", pack.id, field.id);
                for v in &field.values {
                    assert!(!v.description.is_empty(), "{} {}", field.id, v.value);
                }
            }
            assert!(pack.field("permissions").is_some());
            assert!(pack.field("purpose").is_some());
            assert!(pack.field("expiration").is_some());
        }
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

    #[test]
    fn user_pack_replaces_builtin_and_bad_pack_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = BUILTIN_PACKS[0]
            .1
            .replace("Personal finance management", "PFM (mine)");
        std::fs::write(dir.path().join("mine.toml"), &text).unwrap();
        let set = PackSet::load(Some(dir.path())).unwrap();
        assert_eq!(set.packs.len(), 2);
        let pack = set.find("my-account-access").unwrap();
        assert_eq!(
            pack.field("purpose").unwrap().values[0].description,
            "PFM (mine)"
        );

        text = text.replace("kind = \"multi_enum\"", "kind = \"multi\"");
        std::fs::write(dir.path().join("mine.toml"), &text).unwrap();
        let err = PackSet::load(Some(dir.path())).unwrap_err();
        let line = text
            .lines()
            .position(|l| l.contains("kind = \"multi\""))
            .unwrap()
            + 1;
        assert_eq!(
            err.origin,
            Origin::File {
                path: dir.path().join("mine.toml"),
                line: Some(line)
            }
        );
    }
}
