//! consent-explorer: build, lint and submit FAPI 2.0 Pushed Authorization Requests.
//!
//! `core` knows nothing of terminals or argument parsing; `cli` and `tui` are thin shells over it.

// Outside data (flags, files, server answers) must never panic the tool: handle it instead.
// Tests may unwrap (clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;
pub mod core;
pub mod tui;
