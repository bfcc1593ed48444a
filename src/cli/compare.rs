//! `build --compare-sample`: the built JWTs beside the portal's published sample.

use std::process::ExitCode;

use super::output::{self, say};
use super::{Failure, Outcome};
use crate::core::request::ParTicket;
use crate::core::sample::{self, PortalSample};
use crate::core::session::Session;

pub fn compare_sample(session: &Session, ticket: &ParTicket, json: bool) -> Outcome {
    let Some(portal) = PortalSample::for_request(&ticket.request.claims) else {
        return Err(Failure::Other(format!(
            "no portal sample ships for consent type {} (profile {}); samples exist for: {}",
            session.seed().pack.type_,
            session.profile().name,
            PortalSample::known_types().join(", ")
        )));
    };
    let comparison = sample::compare(ticket, &portal);
    let unexplained = comparison.unexplained().count();
    if json {
        output::json(&serde_json::json!({
            "sample": comparison.sample,
            "unexplained": unexplained,
            "keys": comparison.keys,
        }));
    } else {
        say!("{}", sample::human(&comparison, false).join("\n"));
    }
    Ok(if unexplained == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
