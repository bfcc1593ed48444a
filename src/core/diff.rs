//! What changed between two builds of the same JWT, line by line, as a reader sees it.
//!
//! A line diff (longest common subsequence over what each line says, its comma and date note
//! left out) rather than a path diff: removing one permission then marks that one item, not
//! every item after it whose array index moved. Claims that change on every build (jti,
//! nonce, state, the times, the PKCE challenge) are marked `Fresh`, so the edit the user made
//! stands out from the churn of re-signing.

use serde_json::Value;

use crate::core::display::{DiffMark, JsonLine, json_lines};

/// Top-level claims that differ on every build whatever the user changes.
pub const FRESH_CLAIMS: [&str; 7] = [
    "jti",
    "nonce",
    "state",
    "exp",
    "nbf",
    "iat",
    "code_challenge",
];

/// Whether a top-level key (quoted, as a `JsonLine` holds it) is one of `FRESH_CLAIMS`.
pub fn is_fresh_key(quoted_key: &str) -> bool {
    FRESH_CLAIMS
        .iter()
        .any(|c| quoted_key.len() == c.len() + 2 && quoted_key[1..quoted_key.len() - 1] == **c)
}

/// What a line says, regardless of the comma that follows it or its date note.
fn identity(line: &JsonLine) -> (usize, Option<&str>, &str) {
    (line.depth, line.key.as_deref(), line.value.text.as_str())
}

/// `new` with a mark on each line that differs from `old`, and each line of `old` that is gone
/// put back where it was, marked `Removed`. A removed line followed by an added one with the
/// same key at the same depth is one `Changed` line.
pub fn mark_changes(old: &[JsonLine], new: &[JsonLine]) -> Vec<JsonLine> {
    mark_changes_with(old, new, &[])
}

/// `mark_changes`, with more keys counted as fresh below the top level: consent fields made
/// anew on each build (a client-made consent id, an expiry relative to now).
pub fn mark_changes_with(
    old: &[JsonLine],
    new: &[JsonLine],
    fresh_fields: &[String],
) -> Vec<JsonLine> {
    let marked = |line: &JsonLine, mark| marked(line, mark, fresh_fields);
    let (n, m) = (old.len(), new.len());
    // common[i][j]: the longest common run of old[i..] and new[j..].
    let mut common = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if identity(&old[i]) == identity(&new[j]) {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(m);
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && identity(&old[i]) == identity(&new[j]) {
            out.push(new[j].clone());
            i += 1;
            j += 1;
        } else if i < n
            && j < m
            && old[i].depth == new[j].depth
            && old[i].key.is_some()
            && old[i].key == new[j].key
        {
            let mut line = marked(&new[j], DiffMark::Changed);
            line.was = Some(old[i].value.text.clone());
            out.push(line);
            i += 1;
            j += 1;
        } else if j < m && (i == n || common[i][j + 1] >= common[i + 1][j]) {
            out.push(marked(&new[j], DiffMark::Added));
            j += 1;
        } else {
            out.push(marked(&old[i], DiffMark::Removed));
            i += 1;
        }
    }
    out
}

fn marked(line: &JsonLine, mark: DiffMark, fresh_fields: &[String]) -> JsonLine {
    let fresh = match (line.depth, line.key.as_deref()) {
        (1, Some(key)) => is_fresh_key(key),
        (_, Some(key)) => fresh_fields.iter().any(|f| unquote(key) == *f),
        _ => false,
    };
    JsonLine {
        mark: Some(if fresh { DiffMark::Fresh } else { mark }),
        ..line.clone()
    }
}

/// Where the first change that is not fresh is, as an index into `mark_changes`'s lines.
pub fn first_change(lines: &[JsonLine]) -> Option<usize> {
    lines
        .iter()
        .position(|l| l.mark.is_some_and(|m| m != DiffMark::Fresh))
}

/// The change in a few words for a status line: `permissions: - read_balances`,
/// `consent_purpose: "pfm" → "sme"`. `None` when only fresh values changed.
pub fn describe(lines: &[JsonLine]) -> Option<String> {
    // The key of the object or array each depth is inside, to name an array item's list.
    let mut keys: Vec<String> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for line in lines {
        keys.truncate(line.depth);
        let own = line.key.as_deref().map(unquote);
        let name = own
            .clone()
            .or_else(|| keys.last().cloned())
            .unwrap_or_else(|| "value".into());
        let item = line.key.is_none();
        match line.mark {
            Some(DiffMark::Added) if item => {
                parts.push(format!("{name}: + {}", unquote(&line.value.text)))
            }
            Some(DiffMark::Removed) if item => {
                parts.push(format!("{name}: - {}", unquote(&line.value.text)))
            }
            Some(DiffMark::Added) => parts.push(format!("+ {name}")),
            Some(DiffMark::Removed) => parts.push(format!("- {name}")),
            Some(DiffMark::Changed) => parts.push(match &line.was {
                Some(before) => format!("{name}: {before} → {}", line.value.text),
                None => format!("{name}: {}", line.value.text),
            }),
            _ => {}
        }
        if line.value.text == "{" || line.value.text == "[" {
            let inherited = keys.last().cloned().unwrap_or_default();
            keys.push(own.unwrap_or(inherited));
        }
    }
    parts.dedup();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn unquote(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::String(s)) => s,
        _ => text.to_owned(),
    }
}

/// Both steps at once, for two versions of one JSON value.
pub fn compare(old: &Value, new: &Value) -> Vec<JsonLine> {
    mark_changes(&json_lines(old), &json_lines(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn marks(lines: &[JsonLine]) -> Vec<(String, Option<DiffMark>)> {
        lines
            .iter()
            .filter(|l| l.mark.is_some())
            .map(|l| (l.to_string().trim().to_owned(), l.mark))
            .collect()
    }

    #[test]
    fn consent_fields_made_on_each_build_are_fresh_too() {
        let old = json!({"consent": {"id": "u1", "p": "a"}});
        let new = json!({"consent": {"id": "u2", "p": "a"}});
        let lines = mark_changes_with(&json_lines(&old), &json_lines(&new), &["id".into()]);
        assert_eq!(
            marks(&lines),
            [("\"id\": \"u2\",".into(), Some(DiffMark::Fresh))]
        );
        assert_eq!(describe(&lines), None);
    }

    fn claims(permissions: &[&str], purpose: &str, nonce: &str) -> Value {
        json!({"nonce": nonce, "exp": 10, "authorization_details": [{"consent": {
            "purpose": purpose, "permissions": permissions, "expires": "2026"}}]})
    }

    #[test]
    fn removing_a_permission_marks_only_that_item_and_fresh_claims_quietly() {
        let old = claims(&["a", "b", "c"], "pfm", "n1");
        let new = claims(&["a", "c"], "pfm", "n2");
        let lines = compare(&old, &new);
        assert_eq!(
            marks(&lines),
            [
                ("\"nonce\": \"n2\",".into(), Some(DiffMark::Fresh)),
                ("\"b\",".into(), Some(DiffMark::Removed)),
            ]
        );
        assert_eq!(first_change(&lines), Some(9));
        assert_eq!(describe(&lines).as_deref(), Some("permissions: - b"));
        let back = compare(&new, &old);
        assert_eq!(describe(&back).as_deref(), Some("permissions: + b"));
    }

    #[test]
    fn a_changed_value_is_one_changed_line_named_with_both_values() {
        let lines = compare(&claims(&["a"], "pfm", "n"), &claims(&["a"], "sme", "n"));
        assert_eq!(
            marks(&lines),
            [("\"purpose\": \"sme\",".into(), Some(DiffMark::Changed))]
        );
        assert_eq!(
            describe(&lines).as_deref(),
            Some("purpose: \"pfm\" → \"sme\"")
        );
    }

    #[test]
    fn only_fresh_changes_describe_nothing() {
        let lines = compare(&claims(&["a"], "p", "n1"), &claims(&["a"], "p", "n2"));
        assert_eq!(first_change(&lines), None);
        assert_eq!(describe(&lines), None);
        assert!(is_fresh_key("\"jti\"") && !is_fresh_key("\"jtix\"") && !is_fresh_key("jti"));
    }

    #[test]
    fn a_claim_added_or_dropped_is_named() {
        let lines = compare(&json!({"a": 1}), &json!({"a": 1, "max_age": 60}));
        assert_eq!(describe(&lines).as_deref(), Some("+ max_age"));
        let lines = compare(&json!({"a": 1, "max_age": 60}), &json!({"a": 1}));
        assert_eq!(describe(&lines).as_deref(), Some("- max_age"));
    }
}
