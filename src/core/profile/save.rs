//! Writing a profile back: a seed's edits folded in, saved atomically. Saving over a file
//! edits its TOML in place (`in_place`), so the user's comments and layout survive.

mod in_place;

use std::path::Path;

use serde_json::Value;

use super::load::LoadedProfile;
use super::resolve::DEFAULT_LIFETIME;
use super::schema::Profile;
use crate::core::consent::{FieldValue, Kind, Pack, toml_to_json};
use crate::core::edit::set_value;
use crate::core::error::{ConfigError, Origin};
use crate::core::paths;
use crate::core::request::ParSeed;
use crate::core::time::{self, Moment};

/// A consent value back as TOML; null has no TOML form, so its key is left out.
fn json_to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    })
}

/// A field's value as a profile writes it; a fresh UUID per build is written as no value.
fn field_to_toml(value: &FieldValue) -> Option<toml::Value> {
    match value {
        FieldValue::Json(v) => json_to_toml(v),
        FieldValue::Moment(Moment::Relative { text, .. }) => {
            Some(toml::Value::String(text.clone()))
        }
        FieldValue::Moment(Moment::At(ts)) => Some(toml::Value::String(time::rfc3339_seconds(*ts))),
        FieldValue::NewUuid => None,
    }
}

/// A name a profile file can have: letters, digits, `.`, `_` and `-`.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A consent field as the profile's `[consent]` table writes it.
struct WrittenField {
    id: String,
    /// Its keys from `[consent]` down (`[consent.on_behalf_of] trading_name` is two).
    path: Vec<String>,
    raw: toml::Value,
}

/// The fields `[consent]` sets, walked as loading does: nested tables that are not
/// themselves a field name the fields inside them.
fn written_fields(consent: &toml::Table, pack: &Pack) -> Vec<WrittenField> {
    fn walk(path: &[String], table: &toml::Table, pack: &Pack, out: &mut Vec<WrittenField>) {
        for (key, value) in table {
            let mut here = path.to_vec();
            here.push(key.clone());
            match (pack.field_by_name(&here.join(".")), value) {
                (Some(field), _) => out.push(WrittenField {
                    id: field.id.clone(),
                    path: here,
                    raw: value.clone(),
                }),
                (None, toml::Value::Table(inner)) => walk(&here, inner, pack, out),
                // `pack`, `type`, or a key loading reports: not ours to change.
                (None, _) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&[], consent, pack, &mut out);
    out
}

/// The table that holds the last key of `path`, created where missing.
fn parent_table<'a>(table: &'a mut toml::Table, path: &[String]) -> Option<&'a mut toml::Table> {
    let (_, parents) = path.split_last()?;
    parents.iter().try_fold(table, |t, key| {
        t.entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
    })
}

fn pack_named(consent: &toml::Table) -> Option<&str> {
    consent
        .get("pack")
        .or_else(|| consent.get("type"))
        .and_then(toml::Value::as_str)
}

impl LoadedProfile {
    /// The profile with a seed's edits written back: consent values, scope, max_age,
    /// lifetime and userinfo claims. Relative paths become absolute, so the copy works
    /// wherever it is saved. What the edits left as they were stays as the profile wrote it
    /// (a nested consent table, `type` for `pack`, a default left unsaid), so saving over the
    /// profile changes only what was edited.
    pub fn with_edits(&self, seed: &ParSeed, name: &str) -> Profile {
        let mut profile = self.profile.clone();
        profile.name = Some(name.to_owned());
        profile.scope = seed.scope.clone();
        profile.max_age = seed.max_age;
        if profile.signing.lifetime.is_some() || seed.lifetime != DEFAULT_LIFETIME {
            profile.signing.lifetime = Some(seed.lifetime);
        }
        profile.userinfo.claims = seed.userinfo_claims.clone();
        profile.consent = self.edited_consent(seed);
        absolute_paths(&mut profile, self.base_dir());
        profile
    }

    /// The `[consent]` table with each field the seed changed rewritten where it was written
    /// (or added at the top level), and everything else as the profile had it.
    fn edited_consent(&self, seed: &ParSeed) -> toml::Table {
        let pack = &seed.pack;
        let mut consent = self.profile.consent.clone();
        if pack_named(&consent) != Some(pack.id.as_str()) {
            consent = toml::Table::new();
            consent.insert("pack".into(), toml::Value::String(pack.id.clone()));
        }
        let written = written_fields(&consent, pack);
        // What the profile resolved to before the edits; a value that no longer passes its
        // field's checks counts as changed.
        let mut before = pack.default_values().unwrap_or_default();
        for written in &written {
            let accepted = pack
                .field(&written.id)
                .and_then(|field| field.accept(&toml_to_json(&written.raw)).ok().flatten());
            set_value(&mut before, &written.id, accepted);
        }
        for field in pack.fields.iter().filter(|f| f.kind != Kind::Const) {
            let now = seed.consent.get(&field.id);
            if before.get(&field.id) == now {
                continue;
            }
            let path = written
                .iter()
                .find(|written| written.id == field.id)
                .map(|written| written.path.clone())
                .unwrap_or_else(|| vec![field.id.clone()]);
            let Some(table) = parent_table(&mut consent, &path) else {
                continue;
            };
            let key = path.last().cloned().unwrap_or_default();
            match now.and_then(field_to_toml) {
                Some(value) => table.insert(key, value),
                None => table.remove(&key),
            };
        }
        consent
    }
}

/// Key and TLS paths made absolute from the folder they were read in (`demo` and empty
/// values mean no file).
fn absolute_paths(profile: &mut Profile, base_dir: Option<&Path>) {
    let absolute = |path: &mut Option<String>| {
        if let Some(p) = path.as_mut()
            && !p.is_empty()
            && p != "demo"
        {
            *p = paths::resolve_from(base_dir, p).display().to_string();
        }
    };
    absolute(&mut profile.signing.key);
    // "generated" names a key of the profile's own, not a path.
    if let Some(dpop) = profile.dpop.as_mut()
        && dpop.key.as_deref() != Some(super::dpop::GENERATED)
    {
        absolute(&mut dpop.key);
    }
    if let Some(tls) = profile.tls.as_mut() {
        absolute(&mut tls.cert);
        absolute(&mut tls.key);
        absolute(&mut tls.ca);
        absolute(&mut tls.pkcs12);
    }
    if let Some(encryption) = profile.encryption.as_mut() {
        absolute(&mut encryption.key);
    }
    if let Some(resource) = profile.resource.as_mut() {
        absolute(&mut resource.jwks);
    }
}

/// Writes a profile atomically: a failed write leaves the old file as it was. Over an
/// existing profile only the keys whose values differ are rewritten, so its comments, key
/// order and layout stay; a new file (or one that is not a profile) is written whole.
pub fn save(profile: &Profile, path: &Path) -> Result<(), ConfigError> {
    let fail = |e: String| {
        ConfigError::new(
            Origin::file(path),
            "",
            format!("cannot save the profile: {e}"),
            "check the folder exists and is writable; nothing was changed",
        )
    };
    let edited = match std::fs::read_to_string(path) {
        Ok(existing) => in_place::edit(&existing, profile, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        // A folder in the way is reported by the write itself, which names it.
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => None,
        Err(e) => return Err(fail(e.to_string())),
    };
    let text = match edited {
        Some(text) => text,
        None => {
            let text = toml::to_string_pretty(profile).map_err(|e| fail(e.to_string()))?;
            format!("# Saved by consent-explorer.\n{text}")
        }
    };
    paths::write_atomic(
        path,
        text.as_bytes(),
        paths::Existing::Replace,
        paths::Readers::Default,
    )
    .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests;
