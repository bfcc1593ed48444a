//! The whole consent flow against a real, independently written server: panva's oidc-provider
//! (tests/interop/server.mjs with `--auto-approve`, which logs in a test account and grants
//! everything asked). Our library pushes the request, follows the authorize redirects like a
//! browser keeping cookies, checks the callback (state, RFC 9207 iss), exchanges the code and
//! verifies the ID token with the server's JWKS; then each refusal, with its exact code.

#[path = "common/browser.rs"]
mod browser;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use browser::follow_to_redirect_uri;
use consent_explorer::core::consent::PackSet;
use consent_explorer::core::flow::callback::{self, Callback, CheckError, Refusal};
use consent_explorer::core::flow::id_token::{self, Expected, ID_TOKEN_SKEW_SECS};
use consent_explorer::core::flow::pending::{FlowStore, PendingFlow};
use consent_explorer::core::flow::token::{
    self, Grant, Secret, TokenExchange, TokenOutcome, TokenRequest, TokenSet,
};
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::profile;
use consent_explorer::core::request::{self, Overrides, ParSeed};
use consent_explorer::core::tls::TlsMaterial;
use consent_explorer::core::transport::{self, ClientOptions, Outcome};
use jiff::Timestamp;
use jsonwebtoken::Algorithm;
use oidc_provider::{OidcProvider, REDIRECT_URI};
use serde_json::Value;

/// One oidc-provider, our client's key and seed, and a pending-flow store of our own.
struct Rig {
    server: OidcProvider,
    key: SigningKey,
    seed: ParSeed,
    flows: FlowStore,
    _dir: tempfile::TempDir,
}

/// A flow pushed and authorized: what the redirect_uri received.
struct Authorized {
    flow: PendingFlow,
    callback_url: String,
    authorization_details: Value,
}

impl Rig {
    fn start() -> Rig {
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let dir = tempfile::tempdir().unwrap();
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, serde_json::to_vec(&key.public_jwks()).unwrap()).unwrap();
        let server = oidc_provider::start(&jwks_path, &["--auto-approve"]);
        let mut seed = profile::builtin("local")
            .unwrap()
            .seed(&PackSet::builtin(), &Overrides::default(), "http://unused")
            .unwrap();
        seed.endpoints = server.endpoints.clone();
        Rig {
            flows: FlowStore::new(dir.path().join("flows")),
            server,
            key,
            seed,
            _dir: dir,
        }
    }

    fn issuer(&self) -> &str {
        &self.server.endpoints.issuer
    }

    /// PAR, the pending flow recorded, then the authorize URL followed to the redirect_uri.
    async fn authorize(&self) -> Authorized {
        let now = Timestamp::now();
        let ticket = request::build(&self.seed, &self.key, now, &mut rand::rng()).unwrap();
        let delivery = transport::deliver(
            &self.seed.endpoints,
            &TlsMaterial::default(),
            &ClientOptions::default(),
            &ticket,
        )
        .await
        .unwrap();
        let Outcome::Accepted { request_uri, .. } = &delivery.exchange.outcome else {
            panic!("the PAR was refused: {:?}", delivery.exchange.outcome);
        };
        let flow = PendingFlow::from_accepted(&self.seed, &ticket, &delivery.exchange.outcome, now)
            .unwrap();
        self.flows.record(&flow).unwrap();
        let authorize = transport::authorize_url(
            delivery.authorization_endpoint.as_deref().unwrap(),
            &flow.client_id,
            request_uri,
        );
        Authorized {
            callback_url: follow_to_redirect_uri(&authorize, &flow.redirect_uri).await,
            authorization_details: ticket.request.claims["authorization_details"].clone(),
            flow,
        }
    }

    /// Our check of a callback; `find_by_state` leaves the flow for the next check.
    fn check(&self, callback: &Callback) -> Result<callback::AuthorizationCode, CheckError> {
        callback::check(
            callback,
            |state| self.flows.find_by_state(state),
            self.issuer(),
            true,
            Timestamp::now(),
        )
    }

    async fn redeem(&self, code: &str, code_verifier: &str) -> TokenExchange {
        let grant = Grant::AuthorizationCode {
            code: Secret::new(code),
            redirect_uri: REDIRECT_URI.to_owned(),
            code_verifier: Secret::new(code_verifier),
        };
        let request = TokenRequest::new(
            &self.seed,
            &self.key,
            &grant,
            Timestamp::now(),
            &mut rand::rng(),
        )
        .unwrap();
        token::exchange(
            &self.seed.endpoints,
            &TlsMaterial::default(),
            &ClientOptions::default(),
            &request,
        )
        .await
        .unwrap()
    }
}

fn issued(exchange: TokenExchange) -> TokenSet {
    match exchange.outcome {
        TokenOutcome::Issued(set) => *set,
        other => panic!("{} answered {other:?}", exchange.status),
    }
}

/// The OAuth error code of a refused token request.
fn refused(exchange: &TokenExchange) -> (u16, &str) {
    match &exchange.outcome {
        TokenOutcome::Refused { error, .. } => (exchange.status, error.as_str()),
        other => panic!("expected a refusal, got {} {other:?}", exchange.status),
    }
}

fn refusal(result: Result<callback::AuthorizationCode, CheckError>) -> Refusal {
    match result {
        Err(CheckError::Refused(refusal)) => refusal,
        Err(other) => panic!("the check failed without a refusal: {other}"),
        Ok(code) => panic!("the check passed: {code:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn par_authorize_callback_token_and_a_verified_id_token() {
    let rig = Rig::start();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let discovery = transport::fetch_document(&http, rig.issuer())
        .await
        .unwrap();
    let iss_required = discovery.flag("authorization_response_iss_parameter_supported");
    assert_eq!(iss_required, Some(true));
    assert!(
        discovery
            .list("id_token_signing_alg_values_supported")
            .unwrap()
            .contains(&"PS256")
    );

    let authorized = rig.authorize().await;
    let flow = &authorized.flow;
    let callback = Callback::parse(&authorized.callback_url).unwrap();
    assert_eq!(callback.iss.as_deref(), Some(rig.issuer()), "RFC 9207 iss");
    assert_eq!(callback.state.as_deref(), Some(flow.state.as_str()));
    let code = callback::check(
        &callback,
        |state| rig.flows.take(state),
        rig.issuer(),
        iss_required == Some(true),
        Timestamp::now(),
    )
    .unwrap();
    assert!(code.warnings.is_empty(), "{:?}", code.warnings);
    assert_eq!(
        rig.flows.find_by_state(&flow.state).unwrap(),
        None,
        "a flow is used once"
    );

    let set = issued(rig.redeem(&code.code, &code.flow.code_verifier).await);
    // oidc-provider scopes an access token to its resource (server.mjs: `accounts profile`),
    // so openid, asked and granted for the ID token, is not in the token response's scope.
    assert_eq!(set.scope.as_deref(), Some("accounts profile"));
    assert!(
        set.expires_in.is_some_and(|s| s > 0),
        "{:?}",
        set.expires_in
    );
    let details = set.authorization_details.as_ref().expect("RAR echoed");
    let asked = authorized.authorization_details.as_array().unwrap();
    assert_eq!(details.len(), asked.len());
    assert_eq!(details[0]["type"], asked[0]["type"]);
    assert_eq!(details[0]["consent"], asked[0]["consent"]);

    let jwks_uri = id_token::jwks_uri(&http, rig.issuer()).await.unwrap();
    assert_eq!(Some(jwks_uri.as_str()), discovery.str("jwks_uri"));
    let jwks = id_token::fetch_jwks(&http, &jwks_uri).await.unwrap();
    let expected = Expected {
        issuer: rig.issuer(),
        client_id: &flow.client_id,
        nonce: &flow.nonce,
        now: Timestamp::now(),
        skew_secs: ID_TOKEN_SKEW_SECS,
    };
    let compact = set.id_token.as_ref().expect("an ID token").expose();
    let verified = id_token::verify(compact, &jwks, &expected).unwrap();
    assert_eq!(verified.jwt.header["alg"], "PS256");
    let kid = verified.kid.as_deref().expect("a kid");
    assert!(
        jwks.keys
            .iter()
            .any(|k| k.common.key_id.as_deref() == Some(kid))
    );
    assert_eq!(verified.jwt.claims["sub"], "interop-user");

    let other_nonce = Expected {
        nonce: "another-flow's-nonce",
        ..expected
    };
    let wrong = id_token::verify(compact, &jwks, &other_nonce).unwrap_err();
    assert_eq!(wrong.code(), id_token::ID_TOKEN_INVALID);
    assert_eq!(wrong.check, id_token::Check::Nonce);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_code_a_tampered_state_another_iss_and_a_wrong_verifier_are_refused() {
    let rig = Rig::start();
    let authorized = rig.authorize().await;
    let callback = Callback::parse(&authorized.callback_url).unwrap();

    let mut tampered = callback.clone();
    tampered.state = Some(format!("{}x", authorized.flow.state));
    assert_eq!(refusal(rig.check(&tampered)).code(), "state_unknown");

    let mut elsewhere = callback.clone();
    elsewhere.iss = Some(format!("{}/other", rig.issuer()));
    assert_eq!(refusal(rig.check(&elsewhere)).code(), "iss_mismatch");

    let code = rig.check(&callback).unwrap();
    let first = rig.redeem(&code.code, &code.flow.code_verifier).await;
    issued(first);
    let again = rig.redeem(&code.code, &code.flow.code_verifier).await;
    assert_eq!(refused(&again), (400, "invalid_grant"), "a reused code");

    let second = rig.authorize().await;
    let code = rig
        .check(&Callback::parse(&second.callback_url).unwrap())
        .unwrap();
    let mut wrong_verifier = code.flow.code_verifier.clone();
    let last = wrong_verifier.pop().unwrap();
    wrong_verifier.push(if last == 'A' { 'B' } else { 'A' });
    let answer = rig.redeem(&code.code, &wrong_verifier).await;
    assert_eq!(refused(&answer), (400, "invalid_grant"), "a wrong verifier");
    // oidc-provider checks PKCE before it uses the code up: the right verifier still works,
    // so the refusal above was the verifier's and nothing else's.
    issued(rig.redeem(&code.code, &code.flow.code_verifier).await);
}
