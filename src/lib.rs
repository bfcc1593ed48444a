//! consent-explorer: build, lint and submit FAPI 2.0 Pushed Authorization Requests.
//!
//! `core` knows nothing of terminals or argument parsing; `cli` and `tui` are thin shells over it.

pub mod cli;
pub mod core;
pub mod tui;
