//! The pack model: an ecosystem's authorization_details item as data (kinds, wire paths,
//! values with descriptions, constraints), and the item a build makes from it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::value::{ConsentValues, ValueError};
use crate::core::error::Origin;
use crate::core::time::TimeError;

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
    use crate::core::consent::FieldValue;
    use crate::core::consent::test_support::{counter, my, now, uae};
    use serde_json::json;

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
