//! The pack model: an ecosystem's authorization_details item as data (kinds, wire paths,
//! values with descriptions, constraints), and the item a build makes from it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::error::Origin;

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
    /// The resource API a granted consent opens, when the pack describes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<super::resource_api::ResourceApi>,
    /// Where the pack was read from.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

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
        let Value::Object(inner) = entry else {
            return;
        };
        node = inner;
    }
    node.insert(last.to_owned(), value);
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
            crate::core::keys::FAPI_ALGS.contains(&alg)
        } else {
            self.constraints.allowed_algs.iter().any(|a| a == alg)
        }
    }
}
