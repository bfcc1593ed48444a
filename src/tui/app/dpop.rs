//! The DPoP proofs a request went with, kept decoded for the screen beside that request: the
//! PAR's (answered by the shell apart from the delivery) and the token request's. The compact
//! proofs stay out of the app's state: a proof could be replayed within its iat window.

use serde_json::Value;

use super::{App, RequestId};
use crate::core::dpop::ProofTrail;

/// One request's proof, decoded: the last one sent (the retry's, after a nonce challenge).
#[derive(Debug, Clone, PartialEq)]
pub struct ProofShown {
    pub header: Value,
    /// The claims, a server nonce shown as "(server nonce)": it is the server's, not ours.
    pub claims: Value,
    /// The status of the first try when it was refused with `use_dpop_nonce` and sent again.
    pub nonce_retry: Option<u16>,
}

impl ProofShown {
    pub fn of(trail: &ProofTrail) -> Option<ProofShown> {
        let last = trail.last()?;
        let mut claims = last.claims.clone();
        if let Some(nonce) = claims.get_mut("nonce") {
            *nonce = Value::from("(server nonce)");
        }
        Some(ProofShown {
            header: last.header.clone(),
            claims,
            nonce_retry: trail.nonce_retry.as_ref().map(|r| r.refused_status),
        })
    }
}

impl App {
    /// The proof of the PAR now on screen, if it went with one.
    pub fn par_proof(&self) -> Option<&ProofShown> {
        self.par_proof
            .as_ref()
            .filter(|(id, _)| *id == self.request_id)
            .map(|(_, proof)| proof)
    }

    /// Keeps the proof of the submit `id`; one of an older submit is dropped.
    pub(super) fn keep_par_proof(&mut self, id: RequestId, proof: ProofShown) {
        if id == self.request_id {
            self.par_proof = Some((id, proof));
        }
    }
}
