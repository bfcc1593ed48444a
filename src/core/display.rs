//! JSON as lines of tokens to draw, walked from the `serde_json::Value` itself so that no shell
//! has to re-parse pretty-printed text to find keys, values or time claims. The CLI joins the
//! lines into plain text; the TUI colours each token by its kind.

use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

use crate::core::time;

/// NumericDate claims (RFC 7519 section 4.1) that a reader wants to see as a date.
const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

/// Between a line and its date note. Four spaces and `//` keep the note readable as a comment
/// when the text is pasted into an editor, while making clear it is not part of the JSON.
pub const NOTE_SEPARATOR: &str = "    // ";

/// The indentation of one nesting level, as `serde_json::to_string_pretty` writes it.
const INDENT: &str = "  ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    String,
    Number,
    Bool,
    Null,
    /// Brackets and braces, opening, closing or empty (`{}`, `[]`).
    Punctuation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: JsonKind,
    /// Exactly as it is drawn: strings quoted and escaped as JSON.
    pub text: String,
}

/// How a line differs from the same line of another value (a preview of an edit, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffMark {
    Added,
    Removed,
    Changed,
    /// Differs, as it does on every build (a new jti, nonce, time): not the user's doing.
    Fresh,
}

/// One line of pretty JSON. Its plain text (`Display`) is what `serde_json::to_string_pretty`
/// prints for that line, followed by the date note if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonLine {
    pub depth: usize,
    /// The object key, quoted and escaped as JSON; `None` for array items and closing brackets.
    pub key: Option<String>,
    pub value: Token,
    /// Another entry of the same object or array follows.
    pub comma: bool,
    /// When a top-level time claim falls, beside the `now` it was walked with.
    pub date: Option<String>,
    /// The walker never sets it: only a comparison of two walks knows.
    pub mark: Option<DiffMark>,
    /// A `Changed` line's value before, as drawn then.
    pub was: Option<String>,
}

impl JsonLine {
    pub fn indent(&self) -> String {
        INDENT.repeat(self.depth)
    }

    /// The value with its trailing comma: drawn as one piece.
    pub fn value_text(&self) -> String {
        let comma = if self.comma { "," } else { "" };
        format!("{}{comma}", self.value.text)
    }

    pub fn note(&self) -> Option<String> {
        self.date
            .as_ref()
            .map(|date| format!("{NOTE_SEPARATOR}{date}"))
    }
}

impl fmt::Display for JsonLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.indent())?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.value_text())?;
        if let Some(note) = self.note() {
            f.write_str(&note)?;
        }
        Ok(())
    }
}

/// The lines of `value`, as `serde_json::to_string_pretty` would print it.
pub fn json_lines(value: &Value) -> Vec<JsonLine> {
    Walker::new(None).run(value)
}

/// The lines of `value` with a human date beside each top-level exp, nbf and iat that is a number.
pub fn json_lines_with_dates(value: &Value, now: Timestamp) -> Vec<JsonLine> {
    Walker::new(Some(now)).run(value)
}

/// Pretty JSON with a human date after each top-level exp, nbf and iat.
pub fn json_with_dates(value: &Value, now: Timestamp) -> String {
    plain_text(&json_lines_with_dates(value, now))
}

pub fn plain_text(lines: &[JsonLine]) -> String {
    lines
        .iter()
        .map(JsonLine::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

struct Walker {
    /// `None`: no date notes at all (a server's answer is shown as it came).
    now: Option<Timestamp>,
    lines: Vec<JsonLine>,
}

impl Walker {
    fn new(now: Option<Timestamp>) -> Walker {
        Walker {
            now,
            lines: Vec::new(),
        }
    }

    fn run(mut self, value: &Value) -> Vec<JsonLine> {
        self.walk(0, None, value, false);
        self.lines
    }

    fn walk(&mut self, depth: usize, key: Option<&str>, value: &Value, comma: bool) {
        let (open, close, entries): (_, _, Vec<(Option<&str>, &Value)>) = match value {
            Value::Object(map) => (
                "{",
                "}",
                map.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
            ),
            Value::Array(items) => ("[", "]", items.iter().map(|v| (None, v)).collect()),
            Value::String(_) => return self.scalar(depth, key, value, comma, JsonKind::String),
            Value::Number(_) => return self.scalar(depth, key, value, comma, JsonKind::Number),
            Value::Bool(_) => return self.scalar(depth, key, value, comma, JsonKind::Bool),
            Value::Null => return self.scalar(depth, key, value, comma, JsonKind::Null),
        };
        if entries.is_empty() {
            self.push(
                depth,
                key,
                punctuation(format!("{open}{close}")),
                comma,
                None,
            );
            return;
        }
        self.push(depth, key, punctuation(open.into()), false, None);
        let last = entries.len() - 1;
        for (i, (entry_key, entry)) in entries.into_iter().enumerate() {
            self.walk(depth + 1, entry_key, entry, i < last);
        }
        self.push(depth, None, punctuation(close.into()), comma, None);
    }

    fn scalar(
        &mut self,
        depth: usize,
        key: Option<&str>,
        value: &Value,
        comma: bool,
        kind: JsonKind,
    ) {
        let date = self.date_note(depth, key, value);
        let token = Token {
            kind,
            text: value.to_string(),
        };
        self.push(depth, key, token, comma, date);
    }

    fn date_note(&self, depth: usize, key: Option<&str>, value: &Value) -> Option<String> {
        let now = self.now?;
        let top_level_time_claim = depth == 1 && key.is_some_and(|k| TIME_CLAIMS.contains(&k));
        if !top_level_time_claim {
            return None;
        }
        value.as_f64().map(|seconds| time::human(seconds, now))
    }

    fn push(
        &mut self,
        depth: usize,
        key: Option<&str>,
        value: Token,
        comma: bool,
        date: Option<String>,
    ) {
        self.lines.push(JsonLine {
            depth,
            key: key.map(|k| Value::from(k).to_string()),
            value,
            comma,
            date,
            mark: None,
            was: None,
        });
    }
}

fn punctuation(text: String) -> Token {
    Token {
        kind: JsonKind::Punctuation,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-01-30T10:00:00Z".parse().unwrap()
    }

    /// The walker's plain text must be serde_json's pretty print, byte for byte.
    fn same_as_serde(value: &Value) {
        assert_eq!(
            plain_text(&json_lines(value)),
            serde_json::to_string_pretty(value).unwrap()
        );
    }

    #[test]
    fn top_level_times_get_a_human_date() {
        let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
        let t = now.as_second();
        let text = json_with_dates(
            &serde_json::json!({"exp": t + 300, "x": {"exp": 1}, "nbf": t}),
            now,
        );
        assert!(text.contains(&format!(
            "\"exp\": {},    // 2026-01-30 10:05:00 UTC, in 5m",
            t + 300
        )));
        assert!(text.contains(&format!("\"nbf\": {t}    // 2026-01-30 10:00:00 UTC, now")));
        assert!(text.contains("\"exp\": 1\n"));
    }

    #[test]
    fn nested_objects_and_arrays_print_as_serde_does() {
        same_as_serde(&json!({
            "a": {"b": {"c": [1, 2.5, -3, 1e300]}, "empty": {}, "none": []},
            "list": [{"x": true}, [null, false], [], {}],
            "last": "z"
        }));
        same_as_serde(&json!([[], {}, [[1]], {"k": [{"k": {}}]}]));
        for scalar in [json!(1), json!("s"), json!(null), json!({}), json!([])] {
            same_as_serde(&scalar);
        }
    }

    #[test]
    fn lines_carry_depth_key_kind_and_comma() {
        let lines = json_lines(&json!({"a": [1, "two"], "b": null}));
        let shape: Vec<_> = lines
            .iter()
            .map(|l| (l.depth, l.key.as_deref(), l.value.kind, l.comma))
            .collect();
        use JsonKind::*;
        assert_eq!(
            shape,
            [
                (0, None, Punctuation, false),
                (1, Some("\"a\""), Punctuation, false),
                (2, None, Number, true),
                (2, None, String, false),
                (1, None, Punctuation, true),
                (1, Some("\"b\""), Null, false),
                (0, None, Punctuation, false),
            ]
        );
        assert!(lines.iter().all(|l| l.mark.is_none()));
    }

    #[test]
    fn strings_with_quotes_newlines_and_slashes_stay_one_token() {
        let value = json!({
            "say \"hi\": now": "line one\nline two",
            "url": "https://example.com/a    // not a note",
            "exp\": 5": "\"exp\": 5"
        });
        same_as_serde(&value);
        let lines = json_lines_with_dates(&value, now());
        assert_eq!(lines.len(), 5);
        let first = &lines[1];
        assert_eq!(first.key.as_deref(), Some(r#""say \"hi\": now""#));
        assert_eq!(first.value.kind, JsonKind::String);
        assert_eq!(first.value.text, r#""line one\nline two""#);
        assert_eq!(
            lines[2].value.text,
            r#""https://example.com/a    // not a note""#
        );
        assert!(lines.iter().all(|l| l.date.is_none()));
    }

    #[test]
    fn a_time_claim_that_is_not_a_number_gets_no_date() {
        let lines = json_lines_with_dates(
            &json!({"exp": "1769767500", "nbf": null, "iat": {"at": 1}}),
            now(),
        );
        assert!(lines.iter().all(|l| l.date.is_none()));
    }

    #[test]
    fn dates_only_for_top_level_claims_and_only_when_asked() {
        let t = now().as_second();
        let value = json!({"iat": t - 60, "inner": {"iat": t}, "list": [{"iat": t}]});
        let dated: Vec<_> = json_lines_with_dates(&value, now())
            .into_iter()
            .filter_map(|l| l.date)
            .collect();
        assert_eq!(dated, ["2026-01-30 09:59:00 UTC, 1m ago"]);
        assert!(json_lines(&value).iter().all(|l| l.date.is_none()));
        let array_root = json_lines_with_dates(&json!([{"iat": t}]), now());
        assert!(array_root.iter().all(|l| l.date.is_none()));
    }

    #[test]
    fn out_of_range_dates_say_so() {
        let lines = json_lines_with_dates(&json!({"exp": 1e300}), now());
        assert_eq!(lines[1].date.as_deref(), Some("out of range"));
        assert_eq!(lines[1].to_string(), "  \"exp\": 1e+300    // out of range");
    }
}
