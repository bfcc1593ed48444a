//! Lines folded to a pane's width by pieces that must stay whole (a key, a value, a phrase of
//! a date note), continuing under a hanging indent: a terminal's own wrap would split
//! "in 5m" after "in" and start a long value at column 0.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// A run of text that moves to the next row as a whole when it does not fit (and is cut only
/// when it is wider than a row on its own).
pub(super) struct Piece {
    pub text: String,
    pub style: Style,
}

impl Piece {
    pub fn new(text: impl Into<String>, style: Style) -> Piece {
        Piece {
            text: text.into(),
            style,
        }
    }
}

fn width_of(text: &str) -> usize {
    Span::raw(text).width()
}

/// `pieces` as rows of at most `width` columns; every row after the first starts with
/// `lead` (the gutter, drawn again so a mark reads on every row of its line) and `hang`
/// spaces.
pub(super) fn fold(
    pieces: Vec<Piece>,
    width: usize,
    lead: &Span<'static>,
    hang: usize,
) -> Vec<Line<'static>> {
    let width = width.max(8);
    let hang = hang.min(width / 2);
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for piece in pieces {
        let mut text = piece.text;
        loop {
            let w = width_of(&text);
            if used + w <= width {
                used += w;
                rows.last_mut().into_iter().for_each(|r| {
                    r.push(Span::styled(text.clone(), piece.style));
                });
                break;
            }
            let fresh_row = used <= width_of(&lead.content) + hang;
            if !fresh_row {
                rows.push(vec![lead.clone(), Span::raw(" ".repeat(hang))]);
                used = width_of(&lead.content) + hang;
                text = text.trim_start().to_owned();
                continue;
            }
            // Wider than a whole row: cut it where the row ends.
            let room = width.saturating_sub(used).max(1);
            let cut: String = text.chars().take(room).collect();
            let rest: String = text.chars().skip(room).collect();
            rows.last_mut().into_iter().for_each(|r| {
                r.push(Span::styled(cut.clone(), piece.style));
            });
            rows.push(vec![lead.clone(), Span::raw(" ".repeat(hang))]);
            used = width_of(&lead.content) + hang;
            text = rest;
            if text.is_empty() {
                break;
            }
        }
    }
    rows.into_iter().map(Line::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_phrase_moves_whole_under_the_hanging_indent() {
        let pieces = vec![
            Piece::new("  \"exp\": 1769767500,", Style::default()),
            Piece::new("    // 2026-01-30 10:05:00 UTC,", Style::default()),
            Piece::new(" in 5m", Style::default()),
        ];
        let rows = plain(&fold(pieces, 54, &Span::raw("| "), 4));
        assert_eq!(
            rows,
            [
                "  \"exp\": 1769767500,    // 2026-01-30 10:05:00 UTC,",
                "|     in 5m"
            ]
        );
    }

    #[test]
    fn a_long_value_goes_under_its_key_and_is_cut_only_when_wider_than_a_row() {
        let pieces = vec![
            Piece::new("  \"code_challenge\": ", Style::default()),
            Piece::new("\"abcdefghijklmnopqrstuvwxyz\",", Style::default()),
        ];
        let rows = plain(&fold(pieces, 24, &Span::raw("  "), 4));
        assert_eq!(
            rows,
            [
                "  \"code_challenge\": ",
                "      \"abcdefghijklmnopq",
                "      rstuvwxyz\","
            ]
        );
        assert!(rows.iter().skip(1).all(|r| r.starts_with("      ")));
    }
}
