//! What an accepted PAR leaves for the callback and the token exchange, kept in the data dir
//! (`flows/`, one 0600 file per flow) until it is used once or has expired.

use std::fmt;
use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    StoreError, hashed_path, json_files, read_json, remove, store_dir, write_private_unsynced,
};
use crate::core::request::{ParSeed, ParTicket};
use crate::core::transport::Outcome;

/// How long after its request_uri expires a flow may still be completed. The request_uri only
/// has to be alive when the browser reaches the authorize endpoint; the person then logs in at
/// the bank and approves, which takes minutes, and the code issued at the end lives 60 s (10
/// minutes in the Malaysia sandbox). Ten minutes covers that, and is short enough that a
/// forgotten flow's verifier does not linger.
pub const COMPLETION_GRACE: SignedDuration = SignedDuration::from_mins(10);

/// A flow between an accepted PAR and its token exchange. The nonce and the PKCE verifier are
/// secrets: `Debug` hides them (and the file holding them is 0600).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFlow {
    pub profile: String,
    pub issuer: String,
    pub client_id: String,
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    pub redirect_uri: String,
    pub request_uri: String,
    /// When the request_uri expires.
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

impl fmt::Debug for PendingFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingFlow")
            .field("profile", &self.profile)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("state", &self.state)
            .field("redirect_uri", &self.redirect_uri)
            .field("request_uri", &self.request_uri)
            .field("expires_at", &self.expires_at)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Why no pending flow can be made from a PAR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PendingError {
    #[error("the PAR was not accepted: there is no request_uri to continue with")]
    NotAccepted,
    #[error("the request object has no string claim {0}: the callback could not be checked")]
    MissingClaim(&'static str),
}

impl PendingFlow {
    /// The flow of an accepted PAR. State, nonce, client_id and redirect_uri are read from the
    /// request object as it was signed (the token request must repeat that redirect_uri), the
    /// profile name and issuer from the seed it was built from.
    pub fn from_accepted(
        seed: &ParSeed,
        ticket: &ParTicket,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Result<PendingFlow, PendingError> {
        let Outcome::Accepted {
            request_uri,
            expires_at,
            ..
        } = outcome
        else {
            return Err(PendingError::NotAccepted);
        };
        let claim = |name: &'static str| {
            ticket
                .request
                .claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(PendingError::MissingClaim(name))
        };
        Ok(PendingFlow {
            profile: seed.profile_name.clone(),
            issuer: seed.endpoints.issuer.clone(),
            client_id: claim("client_id")?,
            state: claim("state")?,
            nonce: claim("nonce")?,
            code_verifier: ticket.code_verifier.clone(),
            redirect_uri: claim("redirect_uri")?,
            request_uri: request_uri.clone(),
            expires_at: *expires_at,
            created_at: now,
        })
    }

    /// The last moment a callback for this flow is taken (see `COMPLETION_GRACE`).
    pub fn usable_until(&self) -> Timestamp {
        self.expires_at
            .checked_add(COMPLETION_GRACE)
            .unwrap_or(Timestamp::MAX)
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.usable_until()
    }
}

/// The pending flows in one folder, each file named by the hash of its state.
#[derive(Debug, Clone)]
pub struct FlowStore {
    dir: PathBuf,
}

impl FlowStore {
    pub fn new(dir: impl Into<PathBuf>) -> FlowStore {
        FlowStore { dir: dir.into() }
    }

    /// `flows/` in the data dir.
    pub fn in_data_dir() -> Result<FlowStore, StoreError> {
        store_dir("flows").map(FlowStore::new)
    }

    pub fn record(&self, flow: &PendingFlow) -> Result<(), StoreError> {
        write_private_unsynced(&hashed_path(&self.dir, &flow.state), flow)
    }

    pub fn find_by_state(&self, state: &str) -> Result<Option<PendingFlow>, StoreError> {
        let found: Option<PendingFlow> = read_json(&hashed_path(&self.dir, state))?;
        // A hash collision cannot happen in practice; comparing keeps the lookup exact anyway.
        Ok(found.filter(|flow| flow.state == state))
    }

    /// The flow, removed: a code is exchanged once, so its flow is used once. Of two
    /// processes taking the same flow, only the one whose removal succeeds gets it.
    pub fn take(&self, state: &str) -> Result<Option<PendingFlow>, StoreError> {
        let Some(found) = self.find_by_state(state)? else {
            return Ok(None);
        };
        Ok(remove(&hashed_path(&self.dir, state))?.then_some(found))
    }

    /// Removes the flows past `usable_until`, and files that are no flow (left by another
    /// version); answers how many went.
    pub fn purge_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut purged = 0;
        for path in json_files(&self.dir)? {
            let stale = match read_json::<PendingFlow>(&path) {
                Ok(Some(flow)) => flow.is_expired(now),
                Ok(None) => false,
                Err(StoreError::Corrupt { .. }) => true,
                Err(e) => return Err(e),
            };
            if stale && remove(&path)? {
                purged += 1;
            }
        }
        Ok(purged)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::keys::SigningKey;
    use crate::core::request::tests::{now, seed};
    use crate::core::request::{self};
    use jsonwebtoken::Algorithm;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    pub(crate) fn accepted(expires_in: i64) -> Outcome {
        Outcome::Accepted {
            request_uri: "urn:ietf:params:oauth:request_uri:abc".into(),
            expires_in,
            expires_at: now() + SignedDuration::from_secs(expires_in),
        }
    }

    /// A flow as `local` leaves it, built with a fixed clock and rng.
    pub(crate) fn flow() -> PendingFlow {
        let seed = seed("local");
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let ticket = request::build(&seed, &key, now(), &mut StdRng::seed_from_u64(3)).unwrap();
        PendingFlow::from_accepted(&seed, &ticket, &accepted(60), now()).unwrap()
    }

    #[test]
    fn from_accepted_keeps_what_was_signed() {
        let seed = seed("local");
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let ticket = request::build(&seed, &key, now(), &mut StdRng::seed_from_u64(3)).unwrap();
        let flow = PendingFlow::from_accepted(&seed, &ticket, &accepted(60), now()).unwrap();
        let claims = &ticket.request.claims;
        assert_eq!(flow.state, claims["state"]);
        assert_eq!(flow.nonce, claims["nonce"]);
        assert_eq!(flow.redirect_uri, claims["redirect_uri"]);
        assert_eq!(flow.client_id, seed.client_id);
        assert_eq!(flow.code_verifier, ticket.code_verifier);
        assert_eq!(flow.issuer, seed.endpoints.issuer);
        assert_eq!(flow.profile, "local");
        assert_eq!(flow.request_uri, "urn:ietf:params:oauth:request_uri:abc");
        assert_eq!(flow.expires_at, now() + SignedDuration::from_secs(60));
        assert_eq!(flow.created_at, now());

        let refused = Outcome::Unexpected {
            explanation: "html".into(),
        };
        assert_eq!(
            PendingFlow::from_accepted(&seed, &ticket, &refused, now()),
            Err(PendingError::NotAccepted)
        );
        let mut no_state = ticket.clone();
        no_state
            .request
            .claims
            .as_object_mut()
            .unwrap()
            .remove("state");
        assert_eq!(
            PendingFlow::from_accepted(&seed, &no_state, &accepted(60), now()),
            Err(PendingError::MissingClaim("state"))
        );
    }

    #[test]
    fn debug_hides_the_verifier_and_the_nonce() {
        let flow = flow();
        let debug = format!("{flow:?}");
        assert!(!debug.contains(&flow.code_verifier));
        assert!(!debug.contains(&flow.nonce));
        assert!(debug.contains(&flow.state));
    }

    #[test]
    fn a_flow_is_found_once_taken_and_then_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = FlowStore::new(dir.path().join("flows"));
        let flow = flow();
        assert_eq!(store.find_by_state(&flow.state).unwrap(), None);
        store.record(&flow).unwrap();
        assert_eq!(
            store.find_by_state(&flow.state).unwrap(),
            Some(flow.clone())
        );
        assert_eq!(store.find_by_state("other").unwrap(), None);
        assert_eq!(store.take(&flow.state).unwrap(), Some(flow.clone()));
        assert_eq!(store.take(&flow.state).unwrap(), None);
        assert_eq!(store.find_by_state(&flow.state).unwrap(), None);
    }

    #[test]
    fn the_file_is_0600_and_not_named_by_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = FlowStore::new(dir.path());
        let mut flow = flow();
        flow.state = "../../escape".into();
        store.record(&flow).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        assert!(!files[0].file_name().to_string_lossy().contains("escape"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = files[0].metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(store.take("../../escape").unwrap(), Some(flow));
    }

    #[test]
    fn purge_keeps_a_flow_for_the_grace_after_its_request_uri_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = FlowStore::new(dir.path());
        let flow = flow();
        store.record(&flow).unwrap();
        std::fs::write(dir.path().join("junk.json"), b"not a flow").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"not ours").unwrap();

        let last = flow.expires_at + COMPLETION_GRACE;
        assert!(!flow.is_expired(last));
        assert_eq!(store.purge_expired(last).unwrap(), 1, "only the junk goes");
        assert!(store.find_by_state(&flow.state).unwrap().is_some());

        let after = last + SignedDuration::from_secs(1);
        assert!(flow.is_expired(after));
        assert_eq!(store.purge_expired(after).unwrap(), 1);
        assert_eq!(store.find_by_state(&flow.state).unwrap(), None);
        assert!(dir.path().join("notes.txt").exists());
        let empty = FlowStore::new(dir.path().join("never-made"));
        assert_eq!(empty.purge_expired(after).unwrap(), 0);
    }
}
