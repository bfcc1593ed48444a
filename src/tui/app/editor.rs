//! The consent editor: its rows, and keys turned into typed consent edits that core checks
//! and applies (the same checks as the command line's flags).

use crossterm::event::{Event, KeyCode, KeyEvent};
use serde_json::Value;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::{App, Effect, Row, TextEdit, ctrl};
use crate::core::consent::{FieldValue, Kind};
use crate::core::edit::{ConsentEdit, EditError};
use crate::core::request::ParSeed;
use crate::core::time::{self, Moment};

pub(super) fn rows_for(seed: &ParSeed) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, field) in seed.pack.fields.iter().enumerate() {
        if field.kind == Kind::Const {
            continue;
        }
        rows.push(Row::Field(i));
        if field.kind == Kind::MultiEnum {
            rows.extend((0..field.values.len()).map(|v| Row::Choice(i, v)));
        }
    }
    rows.extend([Row::Scope, Row::MaxAge, Row::Lifetime]);
    rows.extend((0..seed.pack.constraints.userinfo_claims.len()).map(Row::Userinfo));
    rows
}

/// A multi-value field's heading is only a title: the cursor skips it.
pub(super) fn selectable(seed: &ParSeed, row: Row) -> bool {
    !matches!(row, Row::Field(i) if seed.pack.fields[i].kind == Kind::MultiEnum)
}

impl App {
    pub(super) fn current_row(&self) -> Option<Row> {
        self.rows.get(self.cursor).copied()
    }

    pub(super) fn edited(&mut self) {
        self.dirty = true;
        let before = self.claims_now();
        self.rebuild();
        self.note_change(before);
    }

    /// Applies an edit to the working copy and rebuilds; a refused edit changes nothing.
    fn apply(&mut self, edit: &ConsentEdit) -> Result<(), EditError> {
        edit.apply(&mut self.seed)?;
        self.edited();
        Ok(())
    }

    fn field_id(&self, index: usize) -> String {
        self.seed.pack.fields[index].id.clone()
    }

    pub(super) fn toggle(&mut self) {
        let edit = match self.current_row() {
            Some(Row::Choice(f, v)) => ConsentEdit::ToggleItem {
                field: self.field_id(f),
                value: self.seed.pack.fields[f].values[v].value.clone(),
            },
            Some(Row::Field(f)) if self.seed.pack.fields[f].kind == Kind::Bool => {
                ConsentEdit::ToggleFlag {
                    field: self.field_id(f),
                }
            }
            Some(Row::Userinfo(i)) => ConsentEdit::ToggleUserinfo {
                claim: self.seed.pack.constraints.userinfo_claims[i].value.clone(),
            },
            Some(Row::Field(f)) if self.seed.pack.fields[f].kind == Kind::Enum => {
                return self.cycle(1);
            }
            _ => {
                self.notice =
                    Some("Enter edits this field; space toggles checklists and flags".into());
                return;
            }
        };
        if let Err(e) = self.apply(&edit) {
            self.notice = Some(e.to_string());
        }
    }

    pub(super) fn cycle(&mut self, step: i32) {
        let Some(Row::Field(f)) = self.current_row() else {
            return;
        };
        if self.seed.pack.fields[f].kind != Kind::Enum {
            return;
        }
        let edit = ConsentEdit::Cycle {
            field: self.field_id(f),
            step,
        };
        if let Err(e) = self.apply(&edit) {
            self.notice = Some(e.to_string());
        }
    }

    pub(super) fn start_edit(&mut self) {
        let Some(row) = self.current_row() else {
            return;
        };
        let text = match row {
            Row::Field(f) => {
                let field = &self.seed.pack.fields[f];
                if matches!(field.kind, Kind::Enum | Kind::Bool | Kind::MultiEnum) {
                    return;
                }
                match self.seed.consent.get(&field.id) {
                    Some(FieldValue::Json(Value::String(s))) => s.clone(),
                    Some(FieldValue::Json(v)) => v.to_string(),
                    Some(FieldValue::Moment(Moment::Relative { text, .. })) => text.clone(),
                    Some(FieldValue::Moment(Moment::At(ts))) => time::rfc3339_seconds(*ts),
                    Some(FieldValue::NewUuid) | None => String::new(),
                }
            }
            Row::Scope => self.seed.scope.clone(),
            Row::MaxAge => self.seed.max_age.map(|m| m.to_string()).unwrap_or_default(),
            Row::Lifetime => self.seed.lifetime.to_string(),
            Row::Choice(..) | Row::Userinfo(_) => return,
        };
        self.edit = Some(TextEdit {
            row,
            input: Input::new(text),
            error: None,
        });
    }

    pub(super) fn on_edit_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(edit) = self.edit.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.edit = None,
            KeyCode::Enter => {
                let row = edit.row;
                let text = edit.input.value().to_owned();
                match self.commit(row, text) {
                    Ok(()) => self.edit = None,
                    Err(e) => {
                        if let Some(edit) = self.edit.as_mut() {
                            edit.error = Some(e.to_string());
                        }
                    }
                }
            }
            _ if ctrl(&key, 'c') => self.edit = None,
            _ => {
                edit.input.handle_event(&Event::Key(key));
                edit.error = None;
            }
        }
        Vec::new()
    }

    /// Checks an edited value as the profile loader would, and applies it.
    fn commit(&mut self, row: Row, text: String) -> Result<(), EditError> {
        let edit = match row {
            Row::Field(f) => ConsentEdit::SetField {
                field: self.field_id(f),
                text,
            },
            Row::Scope => ConsentEdit::SetScope(text),
            Row::MaxAge => ConsentEdit::SetMaxAge(text),
            Row::Lifetime => ConsentEdit::SetLifetime(text),
            Row::Choice(..) | Row::Userinfo(_) => {
                self.edited();
                return Ok(());
            }
        };
        self.apply(&edit)
    }
}
