//! Saving over a profile by editing its TOML text: only keys whose values differ are
//! rewritten (each keeping its own spacing and trailing comment), keys that are gone are
//! removed, new keys are added at the end of their table; every other byte stays.

use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, RawString, TableLike, Value};

use super::absolute_paths;
use crate::core::profile::schema::Profile;

/// The existing file's text with `profile` written into it; None when the text is not a
/// profile (then there is nothing to keep and the caller writes the profile whole).
pub(super) fn edit(existing: &str, profile: &Profile, path: &Path) -> Option<String> {
    let mut doc: DocumentMut = existing.parse().ok()?;
    let mut old: Profile = toml::from_str(existing).ok()?;
    // Compared as loading reads the file: a profile without a name is named after its file,
    // and relative paths are taken from its folder.
    if old.name.is_none() {
        old.name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned());
    }
    absolute_paths(&mut old, path.parent());
    let old = toml::Table::try_from(&old).ok()?;
    let new = toml::Table::try_from(profile).ok()?;
    apply(doc.as_table_mut(), &old, &new);
    Some(doc.to_string())
}

/// Rewrites in `text` what differs between `old` (what `text` means, defaults filled in)
/// and `new`.
fn apply(text: &mut dyn TableLike, old: &toml::Table, new: &toml::Table) {
    for (key, value) in new {
        let before = old.get(key);
        if before == Some(value) {
            continue;
        }
        match (text.get_mut(key), value) {
            (Some(item), toml::Value::Table(inner)) if item.is_table_like() => {
                let empty = toml::Table::new();
                let before = before.and_then(toml::Value::as_table).unwrap_or(&empty);
                if let Some(table) = item.as_table_like_mut() {
                    apply(table, before, inner);
                }
            }
            (Some(Item::Value(current)), value) => replace_value(current, value),
            (Some(item), value) => *item = new_item(value),
            (None, value) => {
                text.insert(key, new_item(value));
            }
        }
    }
    for key in old.keys().filter(|key| !new.contains_key(*key)) {
        text.remove(key);
    }
}

/// A new key's value; a table becomes a `[section]` where its parent allows one.
fn new_item(value: &toml::Value) -> Item {
    match value {
        toml::Value::Table(table) => {
            let mut section = toml_edit::Table::new();
            for (key, value) in table {
                section.insert(key, new_item(value));
            }
            Item::Table(section)
        }
        other => Item::Value(to_value(other)),
    }
}

/// The value replaced in place: the spacing before it and a trailing comment are kept.
fn replace_value(current: &mut Value, value: &toml::Value) {
    if let (Value::Array(array), toml::Value::Array(items)) = (&mut *current, value) {
        merge_array(array, items);
        return;
    }
    let decor = current.decor().clone();
    *current = to_value(value);
    *current.decor_mut() = decor;
}

/// The array made to hold `items`. Elements still there keep their comments: the lines
/// above an element travel with it, and a comment after an element's comma (which TOML
/// parsers file under the next element) stays with the element it follows. New elements take
/// the array's layout: one per line, or all on one.
fn merge_array(array: &mut Array, items: &[toml::Value]) {
    let multiline = array.iter().any(|v| prefix_text(v).contains('\n'))
        || raw_text(array.trailing()).contains('\n');
    let old: Vec<Element> = array
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let (_, own) = split_line_end(&prefix_text(value));
            let next = array.get(i + 1).map(prefix_text);
            let after = next.unwrap_or_else(|| raw_text(array.trailing()));
            let (line_end, _) = split_line_end(&after);
            Element {
                value: value.clone(),
                own,
                line_end,
                last: i + 1 == array.len(),
            }
        })
        .collect();
    let opening = array
        .get(0)
        .map(prefix_text)
        .map(|p| split_line_end(&p).0)
        .unwrap_or_default();
    let bare_line_end = if multiline { "\n" } else { "" };
    let later_own = old
        .get(1)
        .or(old.first().filter(|_| multiline))
        .map_or(" ".to_owned(), |e| e.own.clone());
    let first_own = old.first().map_or(String::new(), |e| e.own.clone());
    // Space before `]` (without a trailing comma) is filed under the last element.
    let closing_space = array
        .iter()
        .last()
        .and_then(|v| v.decor().suffix())
        .map(raw_text)
        .unwrap_or_default();
    let mut unused: Vec<Element> = old;
    let mut merged = Array::new();
    let mut line_end = opening;
    for (position, item) in items.iter().enumerate() {
        let template = if position == 0 {
            &first_own
        } else {
            &later_own
        };
        let kept = unused
            .iter()
            .position(|e| to_toml(&e.value).as_ref() == Some(item))
            .map(|i| unused.remove(i));
        let mut element = kept.unwrap_or_else(|| Element {
            value: to_value(item),
            own: template.clone(),
            line_end: bare_line_end.to_owned(),
            last: false,
        });
        // On one line only the separator differs between first and later elements.
        if !multiline {
            element.own = template.clone();
        }
        element
            .value
            .decor_mut()
            .set_prefix(format!("{line_end}{}", element.own));
        if position + 1 == items.len() {
            element.value.decor_mut().set_suffix(closing_space.clone());
        } else if element.last {
            element.value.decor_mut().set_suffix("");
        }
        line_end = element.line_end;
        merged.push_formatted(element.value);
    }
    let (_, closing) = split_line_end(&raw_text(array.trailing()));
    merged.set_trailing(format!("{line_end}{closing}"));
    merged.set_trailing_comma(array.trailing_comma());
    *merged.decor_mut() = array.decor().clone();
    *array = merged;
}

/// An array element with the text around it that belongs to it.
struct Element {
    value: Value,
    /// The lines above it and its indentation.
    own: String,
    /// What follows its comma up to the end of its line (a comment).
    line_end: String,
    /// It was the last element: the space after it is the array's.
    last: bool,
}

fn prefix_text(value: &Value) -> String {
    value.decor().prefix().map(raw_text).unwrap_or_default()
}

fn raw_text(raw: &RawString) -> String {
    raw.as_str().unwrap_or_default().to_owned()
}

/// Text after a comma split where its line ends: (up to and with the newline, the rest).
fn split_line_end(text: &str) -> (String, String) {
    let (line_end, rest) = match text.find('\n') {
        Some(i) => text.split_at(i + 1),
        None => ("", text),
    };
    (line_end.to_owned(), rest.to_owned())
}

fn to_value(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::from(*d),
        toml::Value::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        toml::Value::Table(table) => Value::InlineTable(
            table
                .iter()
                .map(|(key, value)| (key.as_str(), to_value(value)))
                .collect(),
        ),
    }
}

/// What a written value means, to find an array element that is still wanted.
fn to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::String(s) => toml::Value::String(s.value().clone()),
        Value::Integer(i) => toml::Value::Integer(*i.value()),
        Value::Float(f) => toml::Value::Float(*f.value()),
        Value::Boolean(b) => toml::Value::Boolean(*b.value()),
        Value::Datetime(d) => toml::Value::Datetime(*d.value()),
        Value::Array(items) => {
            toml::Value::Array(items.iter().map(to_toml).collect::<Option<_>>()?)
        }
        Value::InlineTable(table) => toml::Value::Table(
            table
                .iter()
                .map(|(key, value)| Some((key.to_owned(), to_toml(value)?)))
                .collect::<Option<_>>()?,
        ),
    })
}
