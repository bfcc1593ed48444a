//! The probe: what a target authorization server really enforces. Each case takes the
//! profile's valid PAR, changes exactly one thing, sends it, and compares the answer with what
//! FAPI 2.0 or the RFC says the server must answer (the lint rule or clause the case is tied
//! to). The valid request goes first and last, as a control.
//!
//! Safety, because this sends faulty requests to somebody's server: one request at a time with
//! a pause between them, never more than the plan counts, and a stop at the first network
//! error, 5xx or 429. Asking the user to confirm is the shells' job (`Plan::requests` is what
//! they show).

mod cases;
mod markdown;
mod runner;
mod send;
#[cfg(test)]
mod tests;
mod verdict;

pub use cases::{CASES, Case, Facts, Fault, SKEW_STEPS};
pub use markdown::markdown;
pub use runner::{Plan, PlanError, ProbeError, run};
pub use verdict::{Expect, Expected, Got, Row, Sent, Stop, Summary, Verdict, summarize};

use serde::Serialize;

/// The pause between requests unless told otherwise (`--delay`).
pub const DEFAULT_DELAY_MS: u64 = 200;

/// A whole run: where it went, every row in the order sent, and why it stopped early (if so).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: String,
    pub target: String,
    pub rows: Vec<Row>,
    pub summary: Summary,
}

impl Report {
    /// The run was cut short by the server or the network (not by the control).
    pub fn network_stop(&self) -> bool {
        matches!(
            self.summary.stopped,
            Some(Stop::RateLimited { .. } | Stop::ServerError { .. } | Stop::Network { .. })
        )
    }

    pub fn control_refused(&self) -> bool {
        matches!(self.summary.stopped, Some(Stop::ControlRefused { .. }))
    }
}
