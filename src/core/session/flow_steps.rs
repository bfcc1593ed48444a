//! The flow's steps after the PAR, for both shells: the pending flow recorded, the callback
//! checked, the code (or refresh token) traded at the token endpoint, the ID token verified
//! and the tokens kept.

use jiff::Timestamp;
use rand::RngCore;

use super::{FlowError, Session, Tokens};
use crate::core::flow::callback::{self, AuthorizationCode, Callback};
use crate::core::flow::id_token::{self, Expected, ID_TOKEN_SKEW_SECS};
use crate::core::flow::pending::{FlowStore, PendingFlow};
use crate::core::flow::store::{StoredTokens, TokenStore};
use crate::core::flow::token::{self, Grant, Secret, TokenOutcome, TokenRequest};
use crate::core::jws;
use crate::core::request::ParTicket;
use crate::core::transport::{
    self, ClientOptions, DiscoveryDocument, DiscoveryError, NetworkError, NetworkErrorKind, Outcome,
};

impl Session {
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

    pub(super) async fn trade(
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
}
