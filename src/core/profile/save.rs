//! Writing a profile back: a seed's edits folded in, saved atomically.

use std::path::Path;

use serde_json::Value;

use super::load::LoadedProfile;
use super::schema::Profile;
use crate::core::consent::{FieldValue, Kind};
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

/// A name a profile file can have: letters, digits, `.`, `_` and `-`.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl LoadedProfile {
    /// The profile with a seed's edits written back: consent values, scope, max_age,
    /// lifetime and userinfo claims. Relative paths become absolute, so the copy works
    /// wherever it is saved.
    pub fn with_edits(&self, seed: &ParSeed, name: &str) -> Profile {
        let mut profile = self.profile.clone();
        profile.name = Some(name.to_owned());
        profile.scope = seed.scope.clone();
        profile.max_age = seed.max_age;
        profile.signing.lifetime = Some(seed.lifetime);
        profile.userinfo.claims = seed.userinfo_claims.clone();
        let mut consent = toml::Table::new();
        consent.insert("pack".into(), toml::Value::String(seed.pack.id.clone()));
        for field in seed.pack.fields.iter().filter(|f| f.kind != Kind::Const) {
            let value = match seed.consent.get(&field.id) {
                Some(FieldValue::Json(v)) => json_to_toml(v),
                Some(FieldValue::Moment(Moment::Relative { text, .. })) => {
                    Some(toml::Value::String(text.clone()))
                }
                Some(FieldValue::Moment(Moment::At(ts))) => {
                    Some(toml::Value::String(time::rfc3339_seconds(*ts)))
                }
                Some(FieldValue::NewUuid) | None => None,
            };
            if let Some(value) = value {
                consent.insert(field.id.clone(), value);
            }
        }
        profile.consent = consent;
        let absolute = |path: &mut Option<String>| {
            if let Some(p) = path.as_mut()
                && !p.is_empty()
                && p != "demo"
            {
                *p = paths::resolve_from(self.base_dir(), p)
                    .display()
                    .to_string();
            }
        };
        absolute(&mut profile.signing.key);
        if let Some(tls) = profile.tls.as_mut() {
            absolute(&mut tls.cert);
            absolute(&mut tls.key);
            absolute(&mut tls.ca);
            absolute(&mut tls.pkcs12);
        }
        profile
    }
}

/// Writes a profile atomically over the old one: a failed write leaves the old file as it was.
pub fn save(profile: &Profile, path: &Path) -> Result<(), ConfigError> {
    let fail = |e: String| {
        ConfigError::new(
            Origin::file(path),
            "",
            format!("cannot save the profile: {e}"),
            "check the folder exists and is writable; nothing was changed",
        )
    };
    let text = toml::to_string_pretty(profile).map_err(|e| fail(e.to_string()))?;
    let text = format!("# Saved by consent-explorer.\n{text}");
    paths::write_atomic(
        path,
        text.as_bytes(),
        paths::Existing::Replace,
        paths::Readers::Default,
    )
    .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::PackSet;
    use crate::core::profile::{default_embedded_base, load_file};
    use crate::core::request::Overrides;

    fn builtin(name: &str) -> LoadedProfile {
        crate::core::profile::builtin(name).unwrap()
    }

    #[test]
    fn saved_edits_load_back_the_same() {
        let loaded = builtin("local-uae");
        let packs = PackSet::builtin();
        let overrides = Overrides {
            permissions: vec!["ReadBalances".into()],
            set: vec![
                ("on_behalf_of.trading_name".into(), "Acme".into()),
                ("webhook.is_active".into(), "true".into()),
            ],
            ..Overrides::default()
        };
        let mut seed = loaded
            .seed(&packs, &overrides, &default_embedded_base())
            .unwrap();
        seed.scope = "openid accounts extra".into();
        seed.max_age = Some(60);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        save(&loaded.with_edits(&seed, "mine"), &path).unwrap();
        let again = load_file(&path).unwrap();
        assert_eq!(again.name, "mine");
        let reseed = again
            .seed(&packs, &Overrides::default(), &default_embedded_base())
            .unwrap();
        assert_eq!(reseed.consent, seed.consent);
        assert_eq!(reseed.scope, "openid accounts extra");
        assert_eq!(reseed.max_age, Some(60));
        assert_eq!(reseed.clock_skew, 10);
        // A failed save (the rename meets a folder) keeps what was there and leaves no temp file.
        let taken = dir.path().join("taken.toml");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("keep"), "old").unwrap();
        let err = save(&again.profile, &taken).unwrap_err();
        assert!(err.hint.contains("nothing was changed"));
        assert_eq!(std::fs::read_to_string(taken.join("keep")).unwrap(), "old");
        let litter: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(litter.is_empty(), "{litter:?}");
        assert!(valid_profile_name("my-profile_2.uae"));
        assert!(!valid_profile_name("../evil") && !valid_profile_name(""));
    }
}
