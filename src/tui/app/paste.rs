//! Pasted text (bracketed paste). It goes into the open text field as if typed, never runs as
//! keys, and is refused whole, with the reason, when a one-line field could not show it as it
//! is: a line break, a control or bidirectional character, bytes that were not UTF-8.

use std::fmt;

use tui_input::InputRequest;

use super::{App, Overlay};
use crate::core::printable::{needs_escape, printable_line};

/// Far longer than any consent value or profile name: a longer paste is the wrong clipboard.
pub const MAX_PASTE_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasteRefused {
    TooLong(usize),
    LineBreak,
    /// The terminal replaced bytes that were not UTF-8 by U+FFFD.
    NotUtf8,
    /// A control or bidirectional character, as shown escaped (`\u{1b}`).
    Unprintable(String),
}

impl fmt::Display for PasteRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasteRefused::TooLong(n) => write!(
                f,
                "{n} characters is more than a field takes ({MAX_PASTE_CHARS} at most)"
            ),
            PasteRefused::LineBreak => write!(f, "the text has a line break; paste one line"),
            PasteRefused::NotUtf8 => write!(f, "the text has bytes that are not UTF-8"),
            PasteRefused::Unprintable(shown) => {
                write!(f, "the text has the control character {shown}")
            }
        }
    }
}

/// The text to insert. One trailing line break is dropped: copying a whole line brings it.
pub fn checked_paste(text: &str) -> Result<&str, PasteRefused> {
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(text);
    let count = text.chars().count();
    if count > MAX_PASTE_CHARS {
        return Err(PasteRefused::TooLong(count));
    }
    if text.contains(['\n', '\r']) {
        return Err(PasteRefused::LineBreak);
    }
    if text.contains(char::REPLACEMENT_CHARACTER) {
        return Err(PasteRefused::NotUtf8);
    }
    // A one-line field: a tab is refused like the characters that would act on the terminal.
    match text.chars().find(|&c| c == '\t' || needs_escape(c)) {
        Some(c) => Err(PasteRefused::Unprintable(
            printable_line(c.encode_utf8(&mut [0; 4])).into_owned(),
        )),
        None => Ok(text),
    }
}

impl App {
    pub(super) fn on_paste(&mut self, text: &str) {
        // A paste while a callback is awaited is the redirect URL: straight into its field.
        if self.edit.is_none()
            && matches!(self.overlay, Overlay::None | Overlay::Authorize)
            && self.awaits_callback()
        {
            self.ask_callback_paste();
        }
        let (input, error) = match (&mut self.edit, &mut self.overlay) {
            (Some(edit), _) => (&mut edit.input, &mut edit.error),
            (None, Overlay::SaveAs { input, error }) => (input, error),
            (None, Overlay::PasteCallback { input, error }) => (input, error),
            _ => {
                self.notice =
                    Some("Nothing to paste into: Enter edits the selected field first".into());
                return;
            }
        };
        match checked_paste(text) {
            Ok(text) => {
                for c in text.chars() {
                    input.handle(InputRequest::InsertChar(c));
                }
                *error = None;
            }
            Err(refused) => *error = Some(format!("not pasted: {refused}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_passes_and_one_trailing_line_break_is_dropped() {
        assert_eq!(checked_paste("urn:é-ok"), Ok("urn:é-ok"));
        assert_eq!(checked_paste("value\r\n"), Ok("value"));
        assert_eq!(checked_paste("value\n"), Ok("value"));
        assert_eq!(checked_paste(""), Ok(""));
    }

    #[test]
    fn what_a_field_cannot_show_is_refused_and_named() {
        assert_eq!(checked_paste("a\nb"), Err(PasteRefused::LineBreak));
        assert_eq!(checked_paste("a\n\n"), Err(PasteRefused::LineBreak));
        assert_eq!(checked_paste("ab\u{fffd}cd"), Err(PasteRefused::NotUtf8));
        let refused = checked_paste("x\u{1b}]52;c;aGk=\u{7}").unwrap_err();
        assert_eq!(refused, PasteRefused::Unprintable("\\u{1b}".into()));
        assert_eq!(
            refused.to_string(),
            "the text has the control character \\u{1b}"
        );
        assert_eq!(
            checked_paste("a\tb"),
            Err(PasteRefused::Unprintable("\\t".into()))
        );
        // C1 CSI and a right-to-left override: printable_line escapes both.
        assert_eq!(
            checked_paste("a\u{9b}2J"),
            Err(PasteRefused::Unprintable("\\u{9b}".into()))
        );
        assert_eq!(
            checked_paste("abc\u{202e}def"),
            Err(PasteRefused::Unprintable("\\u{202e}".into()))
        );
    }

    #[test]
    fn a_paste_longer_than_any_field_is_refused() {
        let long = "a".repeat(MAX_PASTE_CHARS + 1);
        assert_eq!(
            checked_paste(&long),
            Err(PasteRefused::TooLong(MAX_PASTE_CHARS + 1))
        );
        assert!(checked_paste(&long[1..]).is_ok());
    }
}
