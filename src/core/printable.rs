//! What may be shown of a string. Text that came from outside (a server's answer, a file, a JWT someone else made) is shown
//! only through `printable`: a raw ESC, BEL or C1 control would let a hostile server clear the
//! screen, retitle the terminal or write the user's clipboard (OSC 52). One function, so no
//! output path forgets it.

use std::borrow::Cow;

/// `text` with every control character, and every bidirectional override (which can make shown
/// text read differently from what it is), replaced by a visible escape such as `\u{1b}`.
/// Newlines and tabs stay: multi-line bodies keep their shape.
pub fn printable(text: &str) -> Cow<'_, str> {
    escaped(text, visible_escape)
}

/// Like `printable`, for a value that should stay on one line (a header, an error code).
pub fn printable_line(text: &str) -> Cow<'_, str> {
    escaped(text, |c| match c {
        '\n' => Some("\\n".into()),
        '\t' => Some("\\t".into()),
        c => visible_escape(c),
    })
}

/// Serialized JSON made safe for a terminal while staying valid JSON: serde_json escapes only
/// U+0000 to U+001F, so DEL, the C1 controls and bidi overrides would pass raw; they become
/// `\u009b`-style escapes (all of them lie in the Basic Multilingual Plane, and outside strings
/// JSON is plain ASCII, so the document parses to the same value).
pub fn printable_json(json: &str) -> Cow<'_, str> {
    escaped(json, |c| {
        needs_escape(c).then(|| format!("\\u{:04x}", u32::from(c)).into())
    })
}

fn visible_escape(c: char) -> Option<Cow<'static, str>> {
    needs_escape(c).then(|| format!("\\u{{{:x}}}", u32::from(c)).into())
}

/// `text` with each character `escape` has an escape for replaced by it; borrowed when none has.
fn escaped(text: &str, escape: impl Fn(char) -> Option<Cow<'static, str>>) -> Cow<'_, str> {
    let Some(first) = text.char_indices().find(|&(_, c)| escape(c).is_some()) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first.0]);
    for c in text[first.0..].chars() {
        match escape(c) {
            Some(escape) => out.push_str(&escape),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` would act on a terminal (a control character other than newline and tab) or
/// make shown text read differently from what it is (a bidi control).
pub fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `url` as it may be shown or recorded: any `user:password@` replaced by `***@`, so
/// credentials written into an endpoint never reach a terminal, a log or the history.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("***");
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `text` (a profile, a log line) with the credentials of every URL in it replaced by `***`.
pub fn redact_urls_in(text: &str) -> Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(user_end) => {
                out.push_str("***");
                out.push_str(&authority[user_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "invalid_request: exp is more than 60 minutes after nbf\n\tsee FAPI 2.0 5.3.2";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        assert_eq!(printable("Überweisung ✓ 中文"), "Überweisung ✓ 中文");
    }

    #[test]
    fn terminal_sequences_are_made_visible() {
        // OSC 52 (write the clipboard), clear screen, BEL, a C1 CSI, DEL, carriage return.
        let hostile = "a\u{1b}]52;c;ZXZpbA==\u{7}b\u{1b}[2Jc\u{9b}31md\u{7f}e\rf";
        let shown = printable(hostile);
        assert_eq!(
            shown,
            "a\\u{1b}]52;c;ZXZpbA==\\u{7}b\\u{1b}[2Jc\\u{9b}31md\\u{7f}e\\u{d}f"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
    }

    #[test]
    fn json_stays_valid_json_with_the_same_value() {
        let value = serde_json::json!({"error_description": "a\u{9b}31m\u{7f}\u{202e}b\u{1b}c"});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let shown = printable_json(&text);
        assert!(!shown.chars().any(needs_escape), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn credentials_in_text_are_redacted() {
        let text = "issuer = \"https://as.example\"\npar_endpoint = \"https://alice:pw@gw.example:8443/par\" # x@y\n";
        assert_eq!(
            redact_urls_in(text),
            "issuer = \"https://as.example\"\npar_endpoint = \"https://***@gw.example:8443/par\" # x@y\n"
        );
        assert!(matches!(
            redact_urls_in("mail me@example.com"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn bidi_overrides_are_made_visible() {
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("x\u{2066}y"), "x\\u{2066}y");
    }

    #[test]
    fn one_line_values_escape_newlines_and_tabs_too() {
        assert_eq!(printable_line("a\nb\tc\u{1b}"), "a\\nb\\tc\\u{1b}");
        assert!(matches!(printable_line("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_url("https://alice:s3cret@as.example/par?x=1"),
            "https://***@as.example/par?x=1"
        );
        assert_eq!(
            redact_url("https://token@as.example/"),
            "https://***@as.example/"
        );
        assert_eq!(
            redact_url("https://as.example/par"),
            "https://as.example/par"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
