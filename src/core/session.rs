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
use super::flow::callback::{self, AuthorizationCode, Callback, CheckError};
use super::flow::id_token::{self, Expected, ID_TOKEN_SKEW_SECS, IdTokenError, JwksError};
use super::flow::pending::{FlowStore, PendingError, PendingFlow};
use super::flow::store::{StoredTokens, TokenStore};
use super::flow::token::{self, Grant, Secret, TokenExchange, TokenOutcome, TokenRequest};
use super::history::Recorder;
use super::jws;
use super::keys::SigningKey;
use super::lint::{self, Finding};
use super::paths;
use super::profile::{self, LoadedProfile, Target};
use super::request::{self, BuildError, Overrides, ParSeed, ParTicket};
use super::resource::jwe::EncryptionKey;
use super::sandbox::{Config, Sandbox, TrustedClient};
use super::tls::TlsMaterial;
use super::transport::{
    self, ClientOptions, Delivery, DiscoveryDocument, DiscoveryError, NetworkError,
    NetworkErrorKind, Outcome,
};

mod dpop;
pub use dpop::DpopUse;
mod calls;
pub use calls::CallInput;

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

    /// Records the flow an accepted PAR of `ticket` started (0600, in the data dir), so a
    /// later callback finds its state, nonce and verifier.
    pub fn record_flow(
        &self,
        ticket: &ParTicket,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Result<PendingFlow, FlowError> {
        let flow = PendingFlow::from_accepted(&self.seed, ticket, outcome, now)?;
        let store = FlowStore::in_data_dir()?;
        // Old flows go while we are here: their verifiers should not linger.
        store.purge_expired(now)?;
        store.record(&flow)?;
        Ok(flow)
    }

    /// The issuer's discovery document, read with the profile's TLS material.
    pub async fn discovery(
        &self,
        options: &ClientOptions,
    ) -> Result<DiscoveryDocument, DiscoveryError> {
        let issuer = &self.seed.endpoints.issuer;
        self.clients
            .scope(async {
                let client =
                    transport::http_client(&transport::discovery_url(issuer), &self.tls, options)?;
                transport::fetch_document(&client, issuer).await
            })
            .await
    }

    /// Checks a callback and takes its pending flow (a flow is used once). `iss` is required
    /// when the discovery document announces `authorization_response_iss_parameter_supported`.
    pub fn check_callback(
        &self,
        callback: &Callback,
        discovery: Option<&DiscoveryDocument>,
        now: Timestamp,
    ) -> Result<AuthorizationCode, FlowError> {
        let store = FlowStore::in_data_dir()?;
        let profile = &self.seed.profile_name;
        let iss_required = discovery
            .and_then(|d| d.flag("authorization_response_iss_parameter_supported"))
            .unwrap_or(false);
        // Another profile's flow is not this one's to use up.
        let lookup = |state: &str| match store.find_by_state(state)? {
            Some(flow) if &flow.profile == profile => store.take(state),
            _ => Ok(None),
        };
        let checked = callback::check(
            callback,
            lookup,
            &self.seed.endpoints.issuer,
            iss_required,
            now,
        );
        self.record_callback(callback, checked.as_ref().map(drop), now);
        Ok(checked?)
    }

    /// Trades the code at the token endpoint (a fresh assertion, the flow's verifier and
    /// redirect_uri, the profile's TLS) and verifies the ID token with the flow's nonce.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<Tokens, FlowError> {
        let grant = Grant::AuthorizationCode {
            code: Secret::new(code.code.clone()),
            redirect_uri: code.flow.redirect_uri.clone(),
            code_verifier: Secret::new(code.flow.code_verifier.clone()),
        };
        self.trade(
            &grant,
            Some(&code.flow.nonce),
            &code.flow.state,
            options,
            rng,
        )
        .await
    }

    /// The refresh_token grant with the kept refresh token; a new ID token is verified
    /// against the nonce of the one kept.
    pub async fn refresh(
        &self,
        kept: &StoredTokens,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<Tokens, FlowError> {
        let Some(refresh_token) = &kept.refresh_token else {
            return Err(FlowError::NoRefreshToken {
                profile: self.seed.profile_name.clone(),
            });
        };
        let grant = Grant::RefreshToken {
            refresh_token: Secret::new(refresh_token.clone()),
        };
        // Files kept before the nonce was stored still have it in their ID token.
        let nonce = kept.nonce.clone().or_else(|| {
            kept.id_token
                .as_deref()
                .and_then(|t| jws::decode(t).ok())
                .and_then(|jwt| jwt.claim_str("nonce").map(str::to_owned))
        });
        let flow_key = format!("refresh-{}", uuid::Uuid::new_v4());
        self.trade(&grant, nonce.as_deref(), &flow_key, options, rng)
            .await
    }

    async fn trade(
        &self,
        grant: &Grant,
        nonce: Option<&str>,
        flow_key: &str,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<Tokens, FlowError> {
        let request = TokenRequest::new(&self.seed, &self.key, grant, Timestamp::now(), rng)?;
        self.clients
            .scope(self.trade_request(&request, nonce, flow_key, options))
            .await
    }

    async fn trade_request(
        &self,
        request: &TokenRequest,
        nonce: Option<&str>,
        flow_key: &str,
        options: &ClientOptions,
    ) -> Result<Tokens, FlowError> {
        let answer = self.token_with_proof(request, options).await;
        self.record_token(
            flow_key,
            request,
            answer.as_ref().map(|(exchange, _)| exchange),
        );
        let (exchange, dpop) = answer?;
        let id_token = match &exchange.outcome {
            TokenOutcome::Issued(set) => match &set.id_token {
                Some(compact) => Some(
                    self.verify_id_token(
                        compact.expose(),
                        nonce.unwrap_or_default(),
                        request.grant_type == "refresh_token",
                        options,
                    )
                    .await?,
                ),
                None => None,
            },
            _ => None,
        };
        Ok(Tokens {
            exchange,
            id_token,
            dpop,
        })
    }

    async fn verify_id_token(
        &self,
        compact: &str,
        nonce: &str,
        refreshed: bool,
        options: &ClientOptions,
    ) -> Result<id_token::VerifiedIdToken, FlowError> {
        let issuer = &self.seed.endpoints.issuer;
        let client = transport::http_client(issuer, &self.tls, options)?;
        let jwks_uri = id_token::jwks_uri(&client, issuer).await?;
        // A client costs milliseconds to build (TLS roots): the issuer's serves its own host.
        let same_origin = |a: &str, b: &str| {
            let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
            origin(a).is_some() && origin(a) == origin(b)
        };
        let client = if same_origin(issuer, &jwks_uri) {
            client
        } else {
            transport::http_client(&jwks_uri, &self.tls, options)?
        };
        let jwks = id_token::fetch_jwks(&client, &jwks_uri).await?;
        let expected = Expected {
            issuer,
            client_id: &self.seed.client_id,
            nonce,
            now: Timestamp::now(),
            skew_secs: ID_TOKEN_SKEW_SECS,
        };
        let verify = if refreshed {
            id_token::verify_refreshed
        } else {
            id_token::verify
        };
        Ok(verify(compact, &jwks, &expected)?)
    }

    /// Keeps what a token answer issued as the profile's latest tokens (0600). A refresh
    /// answer without a refresh or ID token keeps the earlier ones: refresh tokens are not
    /// rotated everywhere.
    pub fn keep_tokens(
        &self,
        set: &token::TokenSet,
        earlier: Option<&StoredTokens>,
    ) -> Result<StoredTokens, FlowError> {
        let stored = StoredTokens::from_answer(&self.seed.profile_name, set, earlier);
        TokenStore::in_data_dir()?.save(&stored)?;
        Ok(stored)
    }

    /// The tokens kept for this profile, if any.
    pub fn kept_tokens(&self) -> Result<Option<StoredTokens>, FlowError> {
        Ok(TokenStore::in_data_dir()?.load(&self.seed.profile_name)?)
    }

    /// Opens an authorize URL of the embedded sandbox with `auto=approve` (or `deny`) and
    /// answers the redirect it sends at once: the callback URL, as a browser would reach it.
    pub async fn authorize_headless(
        &self,
        authorize_url: &str,
        approve: bool,
        options: &ClientOptions,
    ) -> Result<String, NetworkError> {
        let decision = if approve { "approve" } else { "deny" };
        let url = format!("{authorize_url}&auto={decision}");
        let response = self
            .clients
            .scope(async {
                let client = transport::http_client(&url, &self.tls, options)?;
                client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| transport::classify(e, &url))
            })
            .await?;
        response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                NetworkError::new(
                    NetworkErrorKind::Other,
                    format!(
                        "the authorize endpoint answered {} without a redirect",
                        response.status().as_u16()
                    ),
                    "is the profile's authorization_endpoint the sandbox's?",
                )
            })
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
