//! The tokens of the latest flow per profile, kept in the data dir (`tokens/`, one 0600 file
//! per profile) so `refresh` and resource calls work across commands. The only place tokens
//! are written down.

use std::fmt;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::token::{Secret, TokenSet};
use crate::core::jws;

use super::{StoreError, hashed_path, json_files, read_json, remove, store_dir, write_private};

/// What a token exchange (or refresh) left for a profile. The tokens are secrets: `Debug`
/// shows only whether each is present (not even the redacted ends: Debug output reaches logs).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub profile: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub scope: Option<String>,
    pub authorization_details: Option<Value>,
    pub consent_id: Option<String>,
    /// The nonce of the authentication these tokens came from: a refreshed ID token may leave
    /// nonce out (OpenID Connect Core 12.2), and must match it when it does not. Absent in
    /// files written before it was kept.
    #[serde(default)]
    pub nonce: Option<String>,
    /// True when the server answered token_type DPoP: the access token then goes out as
    /// `Authorization: DPoP` with a proof (RFC 9449 7.1). Absent in older files: Bearer.
    #[serde(default)]
    pub dpop_bound: bool,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("profile", &self.profile)
            .field("access_token", &HIDDEN)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| HIDDEN),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| HIDDEN))
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("authorization_details", &self.authorization_details)
            .field("consent_id", &self.consent_id)
            .field("nonce", &self.nonce.as_ref().map(|_| HIDDEN))
            .finish()
    }
}

impl StoredTokens {
    /// What a token answer leaves in the store: its tokens, with the earlier refresh and ID
    /// tokens where the answer has none.
    pub fn from_answer(
        profile: &str,
        set: &TokenSet,
        earlier: Option<&StoredTokens>,
    ) -> StoredTokens {
        let expose = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned());
        StoredTokens {
            profile: profile.to_owned(),
            access_token: set.access_token.expose().to_owned(),
            refresh_token: expose(&set.refresh_token)
                .or_else(|| earlier.and_then(|e| e.refresh_token.clone())),
            id_token: expose(&set.id_token).or_else(|| earlier.and_then(|e| e.id_token.clone())),
            // The first authentication's nonce: a refreshed ID token that has one must match it.
            nonce: earlier.and_then(|e| e.nonce.clone()).or_else(|| {
                set.id_token
                    .as_ref()
                    .and_then(|t| jws::decode(t.expose()).ok())
                    .and_then(|jwt| jwt.claim_str("nonce").map(str::to_owned))
            }),
            expires_at: set.expires_at,
            dpop_bound: set.token_type == super::token::TokenType::DPoP,
            scope: set.scope.clone(),
            authorization_details: set
                .authorization_details
                .clone()
                .map(serde_json::Value::from),
            consent_id: set.consent_id().map(str::to_owned),
        }
    }
}

const HIDDEN: &str = "<hidden>";

/// Tokens this short are shown by length only: four characters from each end would give away
/// most of them.
const SHORTEST_SHOWN: usize = 13;

/// A token as it may be shown: the first and last 4 characters, or only its length when it
/// is 12 characters or fewer.
pub fn redacted(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < SHORTEST_SHOWN {
        return format!("<{} characters>", chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// The token files in one folder, each named by the hash of its profile name.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(dir: impl Into<PathBuf>) -> TokenStore {
        TokenStore { dir: dir.into() }
    }

    /// `tokens/` in the data dir.
    pub fn in_data_dir() -> Result<TokenStore, StoreError> {
        store_dir("tokens").map(TokenStore::new)
    }

    /// Replaces what the profile had: only the latest flow's tokens are kept.
    pub fn save(&self, tokens: &StoredTokens) -> Result<(), StoreError> {
        write_private(&hashed_path(&self.dir, &tokens.profile), tokens)
    }

    pub fn load(&self, profile: &str) -> Result<Option<StoredTokens>, StoreError> {
        let found: Option<StoredTokens> = read_json(&hashed_path(&self.dir, profile))?;
        Ok(found.filter(|tokens| tokens.profile == profile))
    }

    /// `false` when the profile had no tokens.
    pub fn clear(&self, profile: &str) -> Result<bool, StoreError> {
        remove(&hashed_path(&self.dir, profile))
    }

    /// Removes every profile's tokens; answers how many files went.
    pub fn clear_all(&self) -> Result<usize, StoreError> {
        let mut cleared = 0;
        for path in json_files(&self.dir)? {
            if remove(&path)? {
                cleared += 1;
            }
        }
        Ok(cleared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokens(profile: &str) -> StoredTokens {
        StoredTokens {
            profile: profile.into(),
            access_token: "at-0123456789-secret-access".into(),
            refresh_token: Some("rt-0123456789-secret-refresh".into()),
            id_token: Some("eyJhbGciOiJQUzI1NiJ9.e30.sig-secret".into()),
            expires_at: Some("2026-01-30T10:10:00Z".parse().unwrap()),
            scope: Some("openid accounts".into()),
            authorization_details: Some(json!([{"type": "t", "consent_id": "c-1"}])),
            consent_id: Some("c-1".into()),
            nonce: Some("n-0123456789-secret-nonce".into()),
            dpop_bound: false,
        }
    }

    #[test]
    fn tokens_round_trip_per_profile_and_the_latest_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("tokens"));
        assert_eq!(store.load("local").unwrap(), None);
        store.save(&tokens("local")).unwrap();
        store.save(&tokens("../other")).unwrap();
        assert_eq!(store.load("local").unwrap(), Some(tokens("local")));
        assert_eq!(store.load("../other").unwrap(), Some(tokens("../other")));

        let mut newer = tokens("local");
        newer.access_token = "at-newer-0123456789".into();
        newer.refresh_token = None;
        store.save(&newer).unwrap();
        assert_eq!(store.load("local").unwrap(), Some(newer));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tokens"))
                .unwrap()
                .count(),
            2
        );
    }

    #[cfg(unix)]
    #[test]
    fn token_files_are_0600_even_when_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        store.save(&tokens("local")).unwrap();
        store.save(&tokens("local")).unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let mode = entry.metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{:?}", entry.path());
        }
    }

    #[test]
    fn clear_removes_one_profile_and_clear_all_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        for profile in ["a", "b", "c"] {
            store.save(&tokens(profile)).unwrap();
        }
        assert!(store.clear("a").unwrap());
        assert!(!store.clear("a").unwrap());
        assert_eq!(store.load("a").unwrap(), None);
        assert_eq!(store.load("b").unwrap(), Some(tokens("b")));
        assert_eq!(store.clear_all().unwrap(), 2);
        assert_eq!(store.load("c").unwrap(), None);
        assert_eq!(
            TokenStore::new(dir.path().join("none"))
                .clear_all()
                .unwrap(),
            0
        );
    }

    #[test]
    fn redaction_shows_four_from_each_end_or_only_the_length() {
        assert_eq!(redacted(""), "<0 characters>");
        assert_eq!(redacted("abcdefghijkl"), "<12 characters>");
        assert_eq!(redacted("abcdefghijklm"), "abcd…jklm");
        assert_eq!(redacted("0123456789abcdefXYZW"), "0123…XYZW");
        // Characters, not bytes: a multi-byte token is never cut inside a character.
        assert_eq!(redacted("ééééxxxxxxxxxüüüü"), "éééé…üüüü");
        assert_eq!(redacted("éééééééééééé"), "<12 characters>");
    }

    #[test]
    fn debug_hides_every_token() {
        let t = tokens("local");
        let debug = format!("{t:?}");
        for secret in [
            &t.access_token,
            t.refresh_token.as_ref().unwrap(),
            t.id_token.as_ref().unwrap(),
            t.nonce.as_ref().unwrap(),
        ] {
            assert!(!debug.contains(&secret[..4]), "{debug}");
        }
        assert!(debug.contains("c-1"));
    }

    #[test]
    fn a_file_written_before_the_nonce_was_kept_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let mut old = serde_json::to_value(tokens("local")).unwrap();
        old.as_object_mut().unwrap().remove("nonce");
        std::fs::write(
            hashed_path(dir.path(), "local"),
            serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
        assert_eq!(store.load("local").unwrap().unwrap().nonce, None);
    }

    #[test]
    fn a_file_of_another_shape_is_named_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        store.save(&tokens("local")).unwrap();
        let path = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(&path, b"{}").unwrap();
        let err = store.load("local").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("delete it"));
    }

    #[test]
    fn a_refresh_without_new_refresh_or_id_token_keeps_the_earlier_ones() {
        let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
        let first = TokenSet::parse(
            &serde_json::json!({
                "access_token": "at-first-0123456789",
                "token_type": "Bearer",
                "expires_in": 600,
                "refresh_token": "rt-first-0123456789",
                "id_token": "eyJhbGciOiJQUzI1NiJ9.e30.c2ln",
                "authorization_details": [{"type": "t", "consent": {"consent_id": "c-1"}}],
            }),
            now,
        )
        .unwrap();
        let kept = StoredTokens::from_answer("local", &first, None);
        assert_eq!(kept.refresh_token.as_deref(), Some("rt-first-0123456789"));
        assert_eq!(kept.consent_id.as_deref(), Some("c-1"));
        assert_eq!(
            kept.expires_at,
            Some(now + jiff::SignedDuration::from_secs(600))
        );

        let refreshed = TokenSet::parse(
            &serde_json::json!({"access_token": "at-second-0123456789", "token_type": "Bearer"}),
            now,
        )
        .unwrap();
        let after = StoredTokens::from_answer("local", &refreshed, Some(&kept));
        assert_eq!(after.access_token, "at-second-0123456789");
        assert_eq!(after.refresh_token, kept.refresh_token);
        assert_eq!(after.id_token, kept.id_token);
        assert_eq!(after.consent_id, None);
        assert_eq!(after.nonce, None, "the first ID token had no nonce");

        // The nonce is taken from the first ID token and outlives refreshes without one.
        let with_nonce = format!(
            "eyJhbGciOiJQUzI1NiJ9.{}.c2ln",
            crate::core::keys::b64url(br#"{"nonce":"n-first"}"#)
        );
        let first = TokenSet::parse(
            &serde_json::json!({"access_token": "at-1-0123456789", "token_type": "Bearer", "id_token": with_nonce}),
            now,
        )
        .unwrap();
        let kept = StoredTokens::from_answer("local", &first, None);
        assert_eq!(kept.nonce.as_deref(), Some("n-first"));
        let after = StoredTokens::from_answer("local", &refreshed, Some(&kept));
        assert_eq!(after.nonce.as_deref(), Some("n-first"));
    }
}
