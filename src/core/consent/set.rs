//! The packs known: built in, then the user's own from the config dir, each checked on load
//! with errors that name the file and line.

use std::path::{Path, PathBuf};

use super::pack::{Kind, Pack};
use crate::core::error::{ConfigError, Origin, line_of_offset, toml_line_of};

/// The packs shipped inside the binary (also in assets/consent-packs/).
const BUILTIN_PACKS: &[(&str, &str)] = &[
    (
        "openfinance-my-account-access-v1.2.toml",
        include_str!("../../../assets/consent-packs/openfinance-my-account-access-v1.2.toml"),
    ),
    (
        "openfinance-uae-account-access-v2.1.toml",
        include_str!("../../../assets/consent-packs/openfinance-uae-account-access-v2.1.toml"),
    ),
];

/// All the packs known: built in, then the user's own (same type or id replaces).
#[derive(Debug, Clone, Default)]
pub struct PackSet {
    pub packs: Vec<Pack>,
}

/// One pack from its TOML text, checked; `origin` is where the text came from, for errors.
pub fn parse_pack(text: &str, origin: Origin) -> Result<Pack, ConfigError> {
    let mut pack: Pack = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start));
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
    // The built-in packs are compiled in and each is loaded by a test: failing here is a bug in
    // this build, not something a user can fix.
    #[allow(clippy::expect_used)]
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
