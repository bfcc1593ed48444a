//! consent-explorer: build, lint and submit FAPI 2.0 Pushed Authorization Requests.
//!
//! `core` knows nothing of terminals or argument parsing; `cli` is a thin shell over it.

pub mod cli;
pub mod core;
