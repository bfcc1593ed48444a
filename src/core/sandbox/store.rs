//! What the sandbox remembers between requests: the pushed requests (by request_uri), the
//! client assertion jti it has seen, the authorization codes and the tokens it issued. All are
//! bounded: an entry lives until it expires and is
//! purged after, and at most `STORE_CAP` live entries are kept, the oldest going first, so
//! memory stays flat whatever the load. The jti store is the exception to "oldest first": it
//! has a larger cap (`JTI_CAP`) and refuses new assertions when full, since forgetting a live
//! jti would let its assertion be replayed.

use std::collections::{BTreeMap, HashMap};

use super::grant::{Asked, Grant, IssuedCode};

/// Live entries per store.
pub const STORE_CAP: usize = 1_000;

/// Live assertion jti: about 100 bytes each, so a few MB at most; at one assertion a
/// millisecond, 5-minute assertions would still take 300,000, which no test client sends.
pub const JTI_CAP: usize = 20_000;

struct Entry<V> {
    /// Insertion order, to find the oldest.
    seq: u64,
    /// Unix seconds; the entry is live up to and including this second.
    expires_at: i64,
    value: V,
}

/// A map whose entries expire and whose size is capped, oldest out.
pub struct Expiring<V> {
    cap: usize,
    next_seq: u64,
    by_key: HashMap<String, Entry<V>>,
    by_age: BTreeMap<u64, String>,
}

impl<V> Expiring<V> {
    pub fn new(cap: usize) -> Self {
        Expiring {
            cap,
            next_seq: 0,
            by_key: HashMap::new(),
            by_age: BTreeMap::new(),
        }
    }

    fn purge(&mut self, now: i64) {
        let by_age = &mut self.by_age;
        self.by_key.retain(|_, entry| {
            let live = entry.expires_at >= now;
            if !live {
                by_age.remove(&entry.seq);
            }
            live
        });
    }

    pub fn insert(&mut self, key: String, expires_at: i64, value: V, now: i64) {
        self.purge(now);
        if let Some(old) = self.by_key.remove(&key) {
            self.by_age.remove(&old.seq);
        }
        while self.by_key.len() >= self.cap {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            self.by_key.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_age.insert(seq, key.clone());
        self.by_key.insert(
            key,
            Entry {
                seq,
                expires_at,
                value,
            },
        );
    }

    /// The live value under `key`; none once it expired.
    pub fn get_mut(&mut self, key: &str, now: i64) -> Option<&mut V> {
        self.purge(now);
        self.by_key.get_mut(key).map(|entry| &mut entry.value)
    }

    pub fn remove(&mut self, key: &str) {
        if let Some(old) = self.by_key.remove(key) {
            self.by_age.remove(&old.seq);
        }
    }

    /// Whether every place is taken by a live entry, so an insert would push one out.
    fn full(&mut self, now: i64) -> bool {
        self.purge(now);
        self.by_key.len() >= self.cap
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_key.len()
    }
}

/// Where a pushed request is on its one way through /authorize.
#[derive(PartialEq, Eq)]
pub enum Stage {
    Pushed,
    /// The consent page is shown; its form carries this id back.
    Shown {
        interaction: String,
    },
    Decided,
}

/// A request pushed to /par, waiting for its one use at /authorize.
pub struct Pushed {
    pub client_id: String,
    pub stage: Stage,
    pub asked: Asked,
}

/// Authorization codes, by code.
pub type Codes = Expiring<IssuedCode>;

/// Access or refresh tokens, by token, with what they were granted.
pub type Tokens = Expiring<Grant>;

pub struct PushedRequests(Expiring<Pushed>);

impl PushedRequests {
    pub fn new(cap: usize) -> Self {
        PushedRequests(Expiring::new(cap))
    }

    pub fn insert(&mut self, request_uri: String, expires_at: i64, pushed: Pushed, now: i64) {
        self.0.insert(request_uri, expires_at, pushed, now);
    }

    /// The live request behind a request_uri; none once it expired.
    pub fn live(&mut self, request_uri: &str, now: i64) -> Option<&mut Pushed> {
        self.0.get_mut(request_uri, now)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JtiUse {
    First,
    /// Seen before, and its assertion has not expired.
    Replay,
    /// Every place holds a live jti; try again once one expires.
    StoreFull,
}

/// jti of client assertions, each kept until its assertion expires so a replay within the
/// assertion's life is refused.
pub struct UsedJti(Expiring<()>);

impl UsedJti {
    pub fn new(cap: usize) -> Self {
        UsedJti(Expiring::new(cap))
    }

    /// Remembers a jti. A full store refuses rather than forgets a live jti: forgetting one
    /// would let its assertion be replayed.
    pub fn first_use(&mut self, jti: &str, expires_at: i64, now: i64) -> JtiUse {
        if self.0.get_mut(jti, now).is_some() {
            return JtiUse::Replay;
        }
        if self.0.full(now) {
            return JtiUse::StoreFull;
        }
        self.0.insert(jti.to_owned(), expires_at, (), now);
        JtiUse::First
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_769_767_200;

    fn pushed() -> Pushed {
        let request = crate::core::jws::DecodedJwt {
            header: serde_json::json!({}),
            claims: serde_json::json!({}),
            compact: String::new(),
        };
        Pushed {
            client_id: "c".into(),
            stage: Stage::Pushed,
            asked: Asked::of(&request),
        }
    }

    #[test]
    fn a_request_uri_lives_until_its_expiry_then_is_gone() {
        let mut store = PushedRequests::new(STORE_CAP);
        store.insert("urn:a".into(), NOW + 90, pushed(), NOW);
        assert!(store.live("urn:a", NOW + 90).is_some());
        assert!(store.live("urn:a", NOW + 91).is_none());
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn a_jti_is_refused_until_its_assertion_expires_then_forgotten() {
        let mut store = UsedJti::new(STORE_CAP);
        assert_eq!(store.first_use("j", NOW + 60, NOW), JtiUse::First);
        assert_eq!(store.first_use("j", NOW + 60, NOW + 60), JtiUse::Replay);
        assert_eq!(store.first_use("k", NOW + 200, NOW + 61), JtiUse::First);
        assert_eq!(store.len(), 1, "the expired jti was purged");
        assert_eq!(store.first_use("j", NOW + 200, NOW + 62), JtiUse::First);
    }

    #[test]
    fn the_cap_holds_and_the_oldest_go_first() {
        let mut pushed_store = PushedRequests::new(STORE_CAP);
        for i in 0..STORE_CAP + 500 {
            pushed_store.insert(format!("urn:{i}"), NOW + 90, pushed(), NOW);
        }
        assert_eq!(pushed_store.len(), STORE_CAP);
        assert!(pushed_store.live("urn:499", NOW).is_none());
        assert!(pushed_store.live("urn:500", NOW).is_some());
        assert!(
            pushed_store
                .live(&format!("urn:{}", STORE_CAP + 499), NOW)
                .is_some()
        );
    }

    #[test]
    fn a_full_jti_store_refuses_rather_than_forgets_a_live_jti() {
        let mut jti = UsedJti::new(STORE_CAP);
        for i in 0..STORE_CAP {
            assert_eq!(
                jti.first_use(&format!("j{i}"), NOW + 60, NOW),
                JtiUse::First
            );
        }
        assert_eq!(jti.first_use("one-more", NOW + 60, NOW), JtiUse::StoreFull);
        assert_eq!(
            jti.first_use("j0", NOW + 60, NOW),
            JtiUse::Replay,
            "the oldest is kept"
        );
        assert_eq!(jti.len(), STORE_CAP);
        // Once they expire, there is room again.
        assert_eq!(
            jti.first_use("one-more", NOW + 200, NOW + 61),
            JtiUse::First
        );
        assert_eq!(jti.len(), 1);
    }

    #[test]
    fn pushing_the_same_key_again_replaces_it_without_growing() {
        let mut store = PushedRequests::new(2);
        store.insert("urn:a".into(), NOW + 90, pushed(), NOW);
        store.insert("urn:a".into(), NOW + 90, pushed(), NOW);
        store.insert("urn:b".into(), NOW + 90, pushed(), NOW);
        assert_eq!(store.len(), 2);
        assert!(store.live("urn:a", NOW).is_some());
    }
}
