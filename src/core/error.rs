//! Local problems (a profile, a key, a flag value): what went wrong, where, and what to do.

use std::fmt;
use std::path::PathBuf;

/// Where a bad value came from, so the message can point the user at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk, with the 1-based line of the value when it is known.
    File { path: PathBuf, line: Option<usize> },
    /// A profile or pack compiled into the binary.
    Builtin { name: String, line: Option<usize> },
    /// A command-line flag, e.g. `--permission`.
    Flag(String),
    /// An environment variable.
    Env(String),
}

impl Origin {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Origin::File {
            path: path.into(),
            line: None,
        }
    }

    pub fn at_line(self, at: Option<usize>) -> Self {
        match self {
            Origin::File { path, .. } => Origin::File { path, line: at },
            Origin::Builtin { name, .. } => Origin::Builtin { name, line: at },
            other => other,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::File {
                path,
                line: Some(l),
            } => write!(f, "{}:{l}", path.display()),
            Origin::Builtin { name, line: None } => write!(f, "built-in {name}"),
            Origin::Builtin {
                name,
                line: Some(l),
            } => write!(f, "built-in {name}, line {l}"),
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

/// A problem the user can fix locally: a profile, a pack, a key or a flag value.
/// The CLI maps it to exit code 2.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    pub origin: Origin,
    /// The field in question, e.g. `consent.permissions` or `signing.key`.
    pub field: String,
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl ConfigError {
    pub fn new(
        origin: Origin,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        ConfigError {
            origin,
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)?;
        } else {
            write!(f, "{}: `{}`: {}", self.origin, self.field, self.message)?;
        }
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// 1-based line number of a byte offset in `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// 1-based line of a dotted key (`consent.permissions`) in a TOML document, if present.
pub fn toml_line_of(text: &str, dotted: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut keys = dotted.split('.');
    let first = keys.next()?;
    let mut span = None;
    let mut current: Option<&DeValue> = None;
    for (k, v) in root.get_ref().iter() {
        if k.get_ref() == first {
            span = Some(k.span());
            current = Some(v.get_ref());
        }
    }
    for key in keys {
        let table = match current? {
            DeValue::Table(t) => t,
            _ => return span.map(|s| line_of_offset(text, s.start)),
        };
        let (k, v) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        span = Some(k.span());
        current = Some(v.get_ref());
    }
    span.map(|s| line_of_offset(text, s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_key_lines() {
        let text = "name = \"x\"\n\n[consent]\npack = \"my\"\npermissions = [\"a\"]\n";
        assert_eq!(toml_line_of(text, "name"), Some(1));
        assert_eq!(toml_line_of(text, "consent"), Some(3));
        assert_eq!(toml_line_of(text, "consent.permissions"), Some(5));
        assert_eq!(toml_line_of(text, "consent.missing"), None);
    }

    #[test]
    fn display_names_origin_field_and_hint() {
        let e = ConfigError::new(
            Origin::File {
                path: "p.toml".into(),
                line: Some(4),
            },
            "consent.permissions",
            "unknown value",
            "pick one of a, b",
        );
        assert_eq!(
            e.to_string(),
            "p.toml:4: `consent.permissions`: unknown value\n  hint: pick one of a, b"
        );
    }
}
