//! What the sandbox's resource server knows: the access tokens it issued (by SHA-256, never
//! the token itself) with the consent each stands for, and each consent's status and history.
//!
//! An embedded sandbox lives as long as one command, and `call` runs after `flow` in another
//! process: so when a state file is configured (the data dir's, 0600) this is written there and
//! read back. Bounded: expired tokens are dropped a day after they expire, and at most
//! `STORE_CAP` tokens and consents are kept, the oldest going first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::STORE_CAP;
use crate::core::keys::b64url;
use crate::core::paths::{self, Existing, Readers};

/// Expired tokens are kept this long after, so a late call is told "expired", not "unknown".
const EXPIRED_KEPT_SECS: i64 = 86_400;

/// What an access token stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenGrant {
    pub client_id: String,
    pub scope: String,
    /// None for a client_credentials token: it stands for the client, not a consent.
    pub consent_id: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The JWK thumbprint a DPoP-bound token is bound to (its `cnf.jkt`): kept here so the
    /// next command's sandbox still asks for a proof of that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

/// A consent as the server keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The approved authorization_details item (its `consent` object when it has one).
    pub consent: Value,
    pub status: String,
    /// Each change: {at, status, by}.
    pub history: Vec<Value>,
    pub issued_at: i64,
}

impl ConsentRecord {
    pub fn permissions(&self) -> Vec<String> {
        ["permissions", "Permissions"]
            .iter()
            .find_map(|k| self.consent.get(*k)?.as_array())
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.consent.get(name).and_then(Value::as_str)
    }

    pub fn account_ids(&self) -> Vec<String> {
        crate::core::resource::account_ids(Some(&Value::Array(vec![self.consent.clone()])))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ResourceState {
    tokens: BTreeMap<String, TokenGrant>,
    consents: BTreeMap<String, ConsentRecord>,
    /// Refresh token hash -> (the grant, as the token endpoint keeps it; its expiry).
    #[serde(default)]
    refresh: BTreeMap<String, (Value, i64)>,
    #[serde(skip)]
    file: Option<PathBuf>,
}

/// The key a token is filed under: its SHA-256, so the state file holds no token.
fn token_key(token: &str) -> String {
    b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

impl ResourceState {
    pub fn new(file: Option<PathBuf>) -> ResourceState {
        ResourceState {
            file,
            ..ResourceState::default()
        }
    }

    /// Reads what another process of the same profile left, when there is a file.
    fn reload(&mut self) {
        let Some(file) = self.file.clone() else {
            return;
        };
        if let Some(saved) = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<ResourceState>(&b).ok())
        {
            for (k, v) in saved.tokens {
                self.tokens.entry(k).or_insert(v);
            }
            for (k, v) in saved.consents {
                self.consents.entry(k).or_insert(v);
            }
            for (k, v) in saved.refresh {
                self.refresh.entry(k).or_insert(v);
            }
        }
    }

    fn save(&self) {
        if let Some(file) = &self.file {
            let _ = write_state(file, self);
        }
    }

    fn trim(&mut self, now: i64) {
        self.tokens
            .retain(|_, g| g.expires_at + EXPIRED_KEPT_SECS >= now);
        self.refresh.retain(|_, (_, expires_at)| *expires_at >= now);
        trim_oldest(&mut self.refresh, |(_, expires_at)| *expires_at);
        trim_oldest(&mut self.tokens, |g| g.issued_at);
        trim_oldest(&mut self.consents, |c| c.issued_at);
    }

    pub fn issue_token(&mut self, token: &str, grant: TokenGrant, consent: Option<Value>) {
        let now = grant.issued_at;
        self.reload();
        if let (Some(id), Some(consent)) = (&grant.consent_id, consent) {
            self.consents
                .entry(id.clone())
                .or_insert_with(|| ConsentRecord {
                    consent,
                    status: "authorized".into(),
                    history: vec![
                        serde_json::json!({"at": now, "status": "authorized", "by": "user"}),
                    ],
                    issued_at: now,
                });
        }
        self.tokens.insert(token_key(token), grant);
        self.trim(now);
        self.save();
    }

    /// Files the grant of `opaque` under `bound` instead, bound to `jkt` (the DPoP-bound JWT
    /// the token endpoint answers in place of the opaque token).
    pub fn bind_token(&mut self, opaque: &str, bound: &str, jkt: &str) -> Option<TokenGrant> {
        let mut grant = self.tokens.remove(&token_key(opaque))?;
        grant.jkt = Some(jkt.to_owned());
        self.tokens.insert(token_key(bound), grant.clone());
        self.save();
        Some(grant)
    }

    pub fn token(&mut self, token: &str) -> Option<TokenGrant> {
        let key = token_key(token);
        if !self.tokens.contains_key(&key) {
            self.reload();
        }
        self.tokens.get(&key).cloned()
    }

    pub fn consent(&mut self, consent_id: &str) -> Option<ConsentRecord> {
        // Another process may have revoked it: the file is the truth when there is one.
        self.reload_consent(consent_id);
        self.consents.get(consent_id).cloned()
    }

    fn reload_consent(&mut self, consent_id: &str) {
        let Some(file) = &self.file else { return };
        if let Some(saved) = std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<ResourceState>(&b).ok())
            .and_then(|mut s| s.consents.remove(consent_id))
        {
            self.consents.insert(consent_id.to_owned(), saved);
        }
    }

    /// Marks a consent revoked; false when it is unknown.
    pub fn revoke(&mut self, consent_id: &str, by: &str, now: i64) -> Option<ConsentRecord> {
        self.reload_consent(consent_id);
        let record = self.consents.get_mut(consent_id)?;
        if record.status != "revoked" {
            record.status = "revoked".into();
            record
                .history
                .push(serde_json::json!({"at": now, "status": "revoked", "by": by}));
        }
        let record = record.clone();
        self.save();
        Some(record)
    }

    pub fn keep_refresh(&mut self, token: &str, grant: Value, expires_at: i64) {
        self.reload();
        self.refresh.insert(token_key(token), (grant, expires_at));
        self.save();
    }

    pub fn refresh_grant(&mut self, token: &str, now: i64) -> Option<Value> {
        let key = token_key(token);
        if !self.refresh.contains_key(&key) {
            self.reload();
        }
        self.refresh
            .get(&key)
            .filter(|(_, expires_at)| *expires_at >= now)
            .map(|(grant, _)| grant.clone())
    }

    #[cfg(test)]
    pub fn insert_token_for_test(&mut self, token: &str, grant: TokenGrant) {
        self.tokens.insert(token_key(token), grant);
    }
}

fn trim_oldest<V>(map: &mut BTreeMap<String, V>, age: impl Fn(&V) -> i64) {
    while map.len() > STORE_CAP {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| age(v))
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

fn write_state(file: &Path, state: &ResourceState) -> std::io::Result<()> {
    let text = serde_json::to_vec(state).map_err(std::io::Error::other)?;
    paths::write_atomic(file, &text, Existing::Replace, Readers::Owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(consent: &str, at: i64) -> TokenGrant {
        TokenGrant {
            client_id: "c".into(),
            scope: "accounts".into(),
            consent_id: Some(consent.into()),
            issued_at: at,
            expires_at: at + 600,
            jkt: None,
        }
    }

    #[test]
    fn a_second_process_sees_tokens_and_revocations_and_the_file_holds_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        let mut first = ResourceState::new(Some(file.clone()));
        first.issue_token(
            "token-abc-123456",
            grant("c-1", 100),
            Some(serde_json::json!({"permissions": ["read_balances"]})),
        );
        let mut second = ResourceState::new(Some(file.clone()));
        assert_eq!(
            second
                .token("token-abc-123456")
                .unwrap()
                .consent_id
                .as_deref(),
            Some("c-1")
        );
        assert_eq!(
            second.consent("c-1").unwrap().permissions(),
            ["read_balances"]
        );
        second.revoke("c-1", "client", 200).unwrap();
        assert_eq!(first.consent("c-1").unwrap().status, "revoked");
        assert_eq!(first.consent("c-1").unwrap().history.len(), 2);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("token-abc-123456"));
    }
}
