//! A profile ready to send: the loaded profile, the packs, the signing key, the TLS material
//! and, when the profile targets the embedded sandbox, the running sandbox server. Both
//! shells open one of these and only build and deliver through it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jiff::Timestamp;
use rand::RngCore;

use super::consent::PackSet;
use super::dpop::DpopKey;
use super::edit::{ConsentEdit, EditError};
use super::error::{ConfigError, Origin};
use super::flow::StoreError;
use super::flow::callback::CheckError;
use super::flow::id_token::{self, IdTokenError, JwksError};
use super::flow::pending::PendingError;
use super::flow::token::TokenExchange;
use super::history::Recorder;
use super::keys::SigningKey;
use super::lint::{self, Finding};
use super::paths;
use super::profile::{self, LoadedProfile, Target};
use super::request::{self, BuildError, Overrides, ParSeed, ParTicket};
use super::resource::jwe::EncryptionKey;
use super::sandbox::{Config, Sandbox, TrustedClient};
use super::tls::TlsMaterial;
use super::transport::{self, ClientOptions, Delivery, NetworkError};

mod dpop;
pub use dpop::DpopUse;
mod calls;
pub use calls::CallInput;
mod flow_steps;

/// A signed request and what lint says of it: lint is part of every build.
#[derive(Debug, Clone)]
pub struct Built {
    pub ticket: ParTicket,
    pub findings: Vec<Finding>,
}

/// Why a step after the PAR (recording the flow, the callback, the token exchange, the ID
/// token) did not go through. Nothing here carries a code, verifier or token.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pending(#[from] PendingError),
    #[error(transparent)]
    Callback(#[from] CheckError),
    #[error("the token request could not be signed: {0}")]
    Build(#[from] BuildError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("the server's keys could not be had to verify the ID token: {0}")]
    Jwks(JwksError),
    #[error("{}: {}", .0.code(), .0)]
    IdToken(#[from] IdTokenError),
    #[error(
        "no refresh token is kept for profile {profile}: run `consent-explorer flow --profile {profile}` first"
    )]
    NoRefreshToken { profile: String },
}

impl From<JwksError> for FlowError {
    fn from(e: JwksError) -> FlowError {
        match e {
            JwksError::Network(network) => FlowError::Network(network),
            other => FlowError::Jwks(other),
        }
    }
}

/// A token endpoint's answer and, when it issued an ID token, that token verified.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub exchange: TokenExchange,
    pub id_token: Option<id_token::VerifiedIdToken>,
    /// The proofs sent and the token's binding, when the profile uses DPoP.
    pub dpop: Option<DpopUse>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildFailure {
    /// The edit at `index` of those given was refused.
    #[error("{error}")]
    Edit { index: usize, error: EditError },
    #[error(transparent)]
    Request(#[from] BuildError),
}

pub struct Session {
    profile: LoadedProfile,
    packs: PackSet,
    key: Arc<SigningKey>,
    tls: TlsMaterial,
    seed: ParSeed,
    /// What the command line changed; the seed is made again with them once the sandbox's
    /// address is known.
    overrides: Overrides,
    /// Kept alive as long as the session: the seed's endpoints point at it.
    sandbox: Option<Sandbox>,
    /// HTTP clients reused by every call of this session (one build costs milliseconds).
    clients: transport::ClientCache,
    /// The `[dpop]` proof key, when enabled.
    dpop: Option<Arc<DpopKey>>,
    /// The DPoP nonce each server (by origin) last offered, for the next proof to it.
    dpop_nonces: Mutex<HashMap<String, String>>,
    /// Where every exchange is recorded (off unless the session was opened to send).
    history: Recorder,
    /// The profile's encryption key, read at the first resource call (or sandbox start).
    encryption: OnceLock<Option<Arc<EncryptionKey>>>,
    /// Whether the embedded sandbox keeps its resource state in the data dir for the next
    /// command's sandbox.
    keep_sandbox_state: bool,
    /// The resource server's HTTP client and envelope keys, kept between calls.
    resource_cache: calls::ResourceCache,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("profile", &self.profile.name)
            .field("sandbox", &self.sandbox.as_ref().map(Sandbox::issuer))
            .finish_non_exhaustive()
    }
}

/// Where the profile comes from: a name (or path) and the command line's overrides, whose
/// `key` replaces the profile's key.
fn load_parts(
    name: &str,
    overrides: &Overrides,
) -> Result<(LoadedProfile, PackSet, SigningKey), ConfigError> {
    let profile = profile::find(name)?;
    let packs = PackSet::load(paths::user_packs_dir().as_deref())?;
    // Seeded once before the key so that a bad value is reported before a missing key.
    profile.seed(&packs, overrides, &profile::default_embedded_base())?;
    let key = profile.signing_key(overrides.key.as_deref())?;
    Ok((profile, packs, key))
}

impl Session {
    /// A session to build and lint with, without TLS and without a sandbox: an embedded
    /// target gets the sandbox's nominal address.
    pub fn offline(name: &str, overrides: &Overrides) -> Result<Session, ConfigError> {
        let (profile, packs, key) = load_parts(name, overrides)?;
        Session::assemble(profile, packs, key, TlsMaterial::default(), overrides)
    }

    /// A session ready to send: TLS material loaded, and the sandbox server started when the
    /// profile targets it.
    pub async fn open(name: &str, overrides: &Overrides) -> Result<Session, ConfigError> {
        let (profile, packs, key) = load_parts(name, overrides)?;
        let tls = profile.tls()?;
        let mut session = Session::assemble(profile, packs, key, tls, overrides)?;
        session.history = Recorder::in_data_dir();
        session.start_sandbox().await
    }

    /// A session from parts already loaded (a key made in memory, say), without a sandbox.
    pub fn assemble(
        profile: LoadedProfile,
        packs: PackSet,
        key: SigningKey,
        tls: TlsMaterial,
        overrides: &Overrides,
    ) -> Result<Session, ConfigError> {
        let seed = profile.seed(&packs, overrides, &profile::default_embedded_base())?;
        let dpop = profile.dpop_key()?.map(Arc::new);
        Ok(Session {
            dpop,
            dpop_nonces: Mutex::new(HashMap::new()),
            profile,
            packs,
            key: Arc::new(key),
            tls,
            seed,
            overrides: overrides.clone(),
            sandbox: None,
            clients: transport::ClientCache::new(),
            history: Recorder::off(),
            encryption: OnceLock::new(),
            keep_sandbox_state: true,
            resource_cache: Default::default(),
        })
    }

    /// A built-in profile signed with a key made in memory, with the built-in packs and no
    /// TLS: for benches and tests, which must not depend on files.
    pub fn builtin_with_key(name: &str, key: SigningKey) -> Result<Session, ConfigError> {
        let profile = profile::builtin(name).ok_or_else(|| {
            ConfigError::new(
                Origin::Builtin {
                    name: name.to_owned(),
                    line: None,
                },
                "",
                format!("no built-in profile named {name}"),
                "`consent-explorer profiles list` shows them",
            )
        })?;
        let packs = PackSet::builtin();
        let mut session = Session::assemble(
            profile,
            packs,
            key,
            TlsMaterial::default(),
            &Overrides::default(),
        )?;
        // Nothing from files: no demo encryption key (`with_encryption_key` gives one) and
        // no sandbox state kept in the data dir.
        session.encryption = OnceLock::from(None);
        session.keep_sandbox_state = false;
        Ok(session)
    }

    /// Starts the sandbox server on a free loopback port when the profile targets it, and
    /// points the seed at it. It trusts this session's client, redirect_uri and key.
    pub async fn start_sandbox(self) -> Result<Session, ConfigError> {
        self.start_sandbox_with(|_| {}).await
    }

    /// `start_sandbox` with the server's configuration adjusted (DPoP nonces required, say).
    pub async fn start_sandbox_with(
        mut self,
        adjust: impl FnOnce(&mut Config),
    ) -> Result<Session, ConfigError> {
        if self.profile.profile.target != Target::Embedded || self.sandbox.is_some() {
            return Ok(self);
        }
        let mut config = Config::new(TrustedClient::of(&self.seed, &self.key), self.packs.clone());
        self.prepare_resource_sandbox(&mut config)?;
        adjust(&mut config);
        let server = Sandbox::start(config, 0).await.map_err(|e| {
            ConfigError::new(
                Origin::Flag("embedded server".into()),
                "",
                format!("cannot listen on 127.0.0.1: {e}"),
                "another process may hold every loopback port; try again",
            )
        })?;
        self.seed = self
            .profile
            .seed(&self.packs, &self.overrides, server.issuer())?;
        self.sandbox = Some(server);
        Ok(self)
    }

    pub fn profile(&self) -> &LoadedProfile {
        &self.profile
    }

    pub fn packs(&self) -> &PackSet {
        &self.packs
    }

    pub fn key(&self) -> &Arc<SigningKey> {
        &self.key
    }

    pub fn tls(&self) -> &TlsMaterial {
        &self.tls
    }

    /// The profile resolved against its pack, before any edit.
    pub fn seed(&self) -> &ParSeed {
        &self.seed
    }

    /// The seed with edits applied in order; the first refused one stops it.
    pub fn edited(&self, edits: &[ConsentEdit]) -> Result<ParSeed, BuildFailure> {
        let mut seed = self.seed.clone();
        for (index, edit) in edits.iter().enumerate() {
            edit.apply(&mut seed)
                .map_err(|error| BuildFailure::Edit { index, error })?;
        }
        Ok(seed)
    }

    /// Applies the edits, signs both JWTs and lints them.
    pub fn build(
        &self,
        edits: &[ConsentEdit],
        now: Timestamp,
        rng: &mut dyn RngCore,
    ) -> Result<Built, BuildFailure> {
        let seed = self.edited(edits)?;
        Ok(self.build_draft(&seed, now, rng)?)
    }

    /// Signs and lints a seed the caller keeps edited (the TUI's working copy).
    pub fn build_draft(
        &self,
        draft: &ParSeed,
        now: Timestamp,
        rng: &mut dyn RngCore,
    ) -> Result<Built, BuildError> {
        let ticket = request::build_bound(draft, &self.key, now, rng, self.dpop_jkt())?;
        let dpop = self.dpop_facts(now);
        let findings =
            lint::lint_ticket_with(&ticket, draft, &self.key, &self.packs, now, dpop.as_ref());
        Ok(Built { ticket, findings })
    }

    /// Sends a ticket to this session's endpoints (discovery first when there is no PAR
    /// endpoint), with its TLS material.
    pub async fn deliver(
        &self,
        ticket: &ParTicket,
        options: &ClientOptions,
    ) -> Result<Delivery, NetworkError> {
        Ok(self.deliver_traced(ticket, options).await?.0)
    }

    /// This session with an encryption key made in memory (benches and tests).
    pub fn with_encryption_key(mut self, key: EncryptionKey) -> Session {
        self.encryption = OnceLock::from(Some(Arc::new(key)));
        self
    }

    /// Where the sandbox server listens, when this session runs one.
    pub fn sandbox_issuer(&self) -> Option<&str> {
        self.sandbox.as_ref().map(Sandbox::issuer)
    }
}

mod record;

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Session {
        let key = SigningKey::generate(jsonwebtoken::Algorithm::ES256)
            .unwrap()
            .0;
        Session::builtin_with_key("local", key).unwrap()
    }

    #[test]
    fn a_build_applies_the_edits_and_lints() {
        let session = local();
        let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
        let built = session
            .build(
                &[ConsentEdit::SetField {
                    field: "purpose".into(),
                    text: "credit_underwriting".into(),
                }],
                now,
                &mut rand::rng(),
            )
            .unwrap();
        let consent = &built.ticket.request.claims["authorization_details"][0]["consent"];
        assert_eq!(consent["consent_purpose"], "credit_underwriting");
        assert!(!lint::has_errors(&built.findings), "{:?}", built.findings);

        let refused = session.build(
            &[
                ConsentEdit::SetScope("openid".into()),
                ConsentEdit::SetScope(String::new()),
            ],
            now,
            &mut rand::rng(),
        );
        assert!(matches!(
            refused,
            Err(BuildFailure::Edit {
                index: 1,
                error: EditError::EmptyScope
            })
        ));
    }

    #[tokio::test]
    async fn the_sandbox_starts_once_and_the_seed_points_at_it() {
        let session = local().start_sandbox().await.unwrap();
        let issuer = session.sandbox_issuer().unwrap().to_owned();
        assert_eq!(session.seed().endpoints.issuer, issuer);
        let again = session.start_sandbox().await.unwrap();
        assert_eq!(again.sandbox_issuer(), Some(issuer.as_str()));
    }
}
