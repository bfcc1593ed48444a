//! What the preview remembers between builds: the claims before the latest edit (the panes mark
//! what changed against them) and whether the JAR pane follows the change or the user's scroll.

use std::cell::Cell;

use serde_json::Value;

use super::{App, Pane};
use crate::core::consent::FieldValue;
use crate::core::diff;
use crate::core::display::{JsonLine, json_lines, json_lines_with_dates};
use crate::core::time::Moment;

/// The claims of both JWTs as built before the latest edit.
pub struct Before {
    pub request: Value,
    pub assertion: Value,
}

pub struct Preview {
    pub before: Option<Before>,
    /// The JAR pane brings the change (or the consent) into view until the user scrolls it.
    pub follow: bool,
    /// Where the JAR pane was drawn from, so a scroll by the user starts there.
    pub drawn_scroll: Cell<u16>,
}

impl Default for Preview {
    fn default() -> Preview {
        Preview {
            before: None,
            follow: true,
            drawn_scroll: Cell::new(0),
        }
    }
}

impl App {
    /// The claims as they are now, to compare the next build with.
    pub(super) fn claims_now(&self) -> Option<Before> {
        self.ticket.as_ref().map(|t| Before {
            request: t.request.claims.clone(),
            assertion: t.client_assertion.claims.clone(),
        })
    }

    /// The consent keys whose value is made anew on each build: a fresh UUID, a relative expiry.
    fn fresh_fields(&self) -> Vec<String> {
        self.seed
            .pack
            .fields
            .iter()
            .filter(|f| {
                matches!(
                    self.seed.consent.get(&f.id),
                    Some(FieldValue::NewUuid | FieldValue::Moment(Moment::Relative { .. }))
                )
            })
            .filter_map(|f| f.path.rsplit('.').next().map(str::to_owned))
            .collect()
    }

    /// The claims of a JWT pane as drawn: dated, each line marked with how it differs from the
    /// build before the latest edit.
    pub fn marked_claims(&self, pane: Pane) -> Option<Vec<JsonLine>> {
        let ticket = self.ticket.as_ref()?;
        let (now, before) = if pane == Pane::Request {
            (
                &ticket.request.claims,
                self.preview.before.as_ref().map(|b| &b.request),
            )
        } else {
            (
                &ticket.client_assertion.claims,
                self.preview.before.as_ref().map(|b| &b.assertion),
            )
        };
        let lines = json_lines_with_dates(now, self.now);
        Some(match before {
            Some(old) => diff::mark_changes_with(&json_lines(old), &lines, &self.fresh_fields()),
            None => lines,
        })
    }

    /// After a rebuild caused by an edit: remember what it was built from, follow the change
    /// in the JAR pane and name it in the footer.
    pub(super) fn note_change(&mut self, before: Option<Before>) {
        self.preview.follow = true;
        self.preview.before = before;
        let change = self
            .marked_claims(Pane::Request)
            .filter(|_| self.preview.before.is_some())
            .and_then(|lines| diff::describe(&lines));
        if let Some(change) = change {
            self.notice = Some(change);
        }
    }

    /// A scroll of the JAR pane by the user: it stops following and starts where it was drawn.
    pub(super) fn stop_following(&mut self, pane: Pane) {
        if pane == Pane::Request && self.preview.follow {
            self.preview.follow = false;
            self.scroll[pane.index()] = self.preview.drawn_scroll.get();
        }
    }
}
