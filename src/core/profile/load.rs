//! Finding and reading profiles: by name (config dir, ./profiles/, built in) or by path,
//! with errors that name the file and line.

use std::path::{Path, PathBuf};

use super::schema::Profile;
use crate::core::error::{ConfigError, Origin, line_of_offset, toml_line_of};
use crate::core::paths;

pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("local", include_str!("../../../profiles/local.toml")),
    (
        "local-uae",
        include_str!("../../../profiles/local-uae.toml"),
    ),
    (
        "ozone-mya-sandbox",
        include_str!("../../../profiles/ozone-mya-sandbox.toml"),
    ),
    (
        "local-dpop",
        include_str!("../../../profiles/local-dpop.toml"),
    ),
];

/// Where a profile was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    File(PathBuf),
    Builtin(String),
}

impl ProfileSource {
    pub fn describe(&self) -> String {
        match self {
            ProfileSource::File(p) => p.display().to_string(),
            ProfileSource::Builtin(name) => format!("built-in profile {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub name: String,
    pub profile: Profile,
    pub source: ProfileSource,
    pub text: String,
}

fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.contains('\\') || name.ends_with(".toml")
}

/// Where a profile name is looked for, in order.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = paths::user_profiles_dir() {
        dirs.push(d);
    }
    dirs.push(PathBuf::from("profiles"));
    dirs
}

/// A profile built into the binary, by name.
pub fn builtin(name: &str) -> Option<LoadedProfile> {
    let (name, text) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == name)?;
    parse(text, ProfileSource::Builtin((*name).into()), name).ok()
}

pub fn find(name: &str) -> Result<LoadedProfile, ConfigError> {
    find_given_by(name, "--profile")
}

/// `find`, for a name given by another flag or argument (`--trust`, `profiles show`), so an
/// unknown name is blamed on what the user actually typed.
pub fn find_given_by(name: &str, given_by: &str) -> Result<LoadedProfile, ConfigError> {
    if looks_like_path(name) {
        return load_file(Path::new(name));
    }
    for dir in search_dirs() {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            return load_file(&path);
        }
    }
    if let Some(loaded) = builtin(name) {
        return Ok(loaded);
    }
    let searched = search_dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let known = list()
        .into_iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ");
    Err(ConfigError::new(
        Origin::Flag(given_by.into()),
        "",
        format!("no profile named \"{name}\" (looked in {searched} and the built-in ones)"),
        format!("use one of: {known}; or give a path to a .toml file"),
    ))
}

pub fn load_file(path: &Path) -> Result<LoadedProfile, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::new(
            Origin::file(path),
            "",
            format!("cannot read the profile: {e}"),
            "check the path; `consent-explorer profiles list` shows the profiles found",
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, &e))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse(&text, ProfileSource::File(path.to_path_buf()), &name)
}

/// The line and byte of the first bad byte, so it can be found in an editor.
fn not_utf8(path: &Path, e: &std::string::FromUtf8Error) -> ConfigError {
    let bytes = e.as_bytes();
    let at = e.utf8_error().valid_up_to();
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let column = at
        - bytes[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    ConfigError::new(
        Origin::file(path).at_line(Some(line)),
        "",
        format!(
            "the profile is not UTF-8 text: byte 0x{:02x} at column {column} is not valid UTF-8",
            bytes[at]
        ),
        "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 FILE > new.toml`, or your editor's \"save with encoding\"); TOML files must be UTF-8",
    )
}

pub fn parse(text: &str, source: ProfileSource, name: &str) -> Result<LoadedProfile, ConfigError> {
    let origin = source_origin(&source);
    let profile: Profile = toml::from_str(text).map_err(|e| malformed(text, origin, &e))?;
    Ok(LoadedProfile {
        name: profile.name.clone().unwrap_or_else(|| name.to_owned()),
        profile,
        source,
        text: text.to_owned(),
    })
}

/// A TOML or schema error, with the key it is about and a hint that fits its kind.
fn malformed(text: &str, origin: Origin, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim();
    let line = e.span().map(|s| line_of_offset(text, s.start));
    let named = backticked(message);
    let (field, hint) = if message.starts_with("missing field") {
        let field = named.unwrap_or_default();
        let hint = format!(
            "add `{field} = ...` (it is required); the README's profile reference lists every key"
        );
        (field, hint)
    } else if message.starts_with("unknown field") {
        let hint = "check the spelling or remove the key: the keys allowed here are listed above";
        (key_path_at(text, line, named), hint.to_owned())
    } else if message.starts_with("invalid type") {
        let hint = "give the type asked for: text in double quotes, numbers and true/false without, lists in [ ]";
        (key_path_at(text, line, None), hint.to_owned())
    } else if message.starts_with("unknown variant") {
        let hint = "use one of the values listed above";
        (key_path_at(text, line, None), hint.to_owned())
    } else if message.starts_with("duplicate key") {
        let hint = "each key may appear once per table: remove one of them";
        (key_path_at(text, line, None), hint.to_owned())
    } else {
        let hint = "fix the TOML syntax on this line: `key = value`, text in double quotes, tables as [name]";
        (String::new(), hint.to_owned())
    };
    ConfigError::new(
        origin.at_line(line),
        field,
        format!("malformed profile: {message}"),
        hint,
    )
}

/// The first `name` in backticks of a serde message ("unknown field `kye`, expected ...").
fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

/// The dotted key written on `line` (`[signing]` then `lifetime = "x"` is `signing.lifetime`),
/// or `key` under that line's table when the key is already known.
fn key_path_at(text: &str, line: Option<usize>, key: Option<String>) -> String {
    let Some(line) = line else {
        return key.unwrap_or_default();
    };
    let lines: Vec<&str> = text.lines().take(line).collect();
    let table = lines
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(['[', ']']).trim().to_owned());
    let key = key.or_else(|| {
        let written = lines.last()?.split_once('=')?.0.trim();
        (!written.is_empty() && !written.starts_with('[')).then(|| written.to_owned())
    });
    match (table, key) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (_, None) => String::new(),
    }
}

fn source_origin(source: &ProfileSource) -> Origin {
    match source {
        ProfileSource::File(p) => Origin::file(p),
        ProfileSource::Builtin(name) => Origin::Builtin {
            name: format!("profile {name}"),
            line: None,
        },
    }
}

/// A profile found by listing, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileEntry {
    pub name: String,
    pub source: ProfileSource,
}

/// Every profile by name, first found wins (config dir, ./profiles/, built-in).
pub fn list() -> Vec<ProfileEntry> {
    let mut entries: Vec<ProfileEntry> = Vec::new();
    let mut add = |name: String, source: ProfileSource| {
        if !entries.iter().any(|e| e.name == name) {
            entries.push(ProfileEntry { name, source });
        }
    };
    for dir in search_dirs() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            if let Some(stem) = path.file_stem() {
                add(
                    stem.to_string_lossy().into_owned(),
                    ProfileSource::File(path),
                );
            }
        }
    }
    for (name, _) in BUILTIN_PROFILES {
        add((*name).into(), ProfileSource::Builtin((*name).into()));
    }
    entries
}

impl LoadedProfile {
    /// Where a field of this profile sits, with its line when it is in the file; a missing
    /// field points at the table it belongs in (`signing.key` at `[signing]`).
    pub fn origin_of(&self, field: &str) -> Origin {
        let mut path = field;
        let line = loop {
            if let Some(line) = toml_line_of(&self.text, path) {
                break Some(line);
            }
            match path.rsplit_once('.') {
                Some((parent, _)) => path = parent,
                None => break None,
            }
        };
        source_origin(&self.source).at_line(line)
    }

    pub(super) fn error(
        &self,
        field: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ConfigError {
        ConfigError::new(self.origin_of(field), field, message, hint)
    }

    pub(super) fn base_dir(&self) -> Option<&Path> {
        match &self.source {
            ProfileSource::File(p) => p.parent(),
            ProfileSource::Builtin(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_toml_names_its_line() {
        let err = parse(
            "client_id = \"c\"\nredirect_uri = \n",
            ProfileSource::File("x.toml".into()),
            "x",
        )
        .unwrap_err();
        assert_eq!(
            err.origin,
            Origin::File {
                path: "x.toml".into(),
                line: Some(2)
            }
        );
        let typo = parse(
            "client_id = \"c\"\nredirect_uri = \"https://a\"\ncliend = 1\n",
            ProfileSource::File("x.toml".into()),
            "x",
        )
        .unwrap_err();
        assert!(typo.message.contains("cliend"), "{}", typo.message);
    }

    #[test]
    fn a_non_utf8_profile_names_the_line_of_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"client_id = \"c\"\ndescription = \"caf\xe9\"\n").unwrap();
        let err = load_file(&path).unwrap_err();
        assert_eq!(err.origin, Origin::file(&path).at_line(Some(2)));
        assert!(err.message.contains("UTF-8"), "{}", err.message);
        assert!(err.message.contains("0xe9"), "{}", err.message);
        assert!(err.hint.contains("save the file as UTF-8"), "{}", err.hint);
    }
}
