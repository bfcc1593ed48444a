//! DPoP against an independently written server: panva's oidc-provider with `features.dPoP`
//! (tests/interop/server.mjs `--dpop`: the client's access tokens DPoP-bound, JWT access
//! tokens; `--dpop-nonce`: the server's nonce required in every proof). The flow runs through
//! `Session`, as the CLI and the TUI run it.

#[path = "common/browser.rs"]
mod browser;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use consent_explorer::core::consent::PackSet;
use consent_explorer::core::dpop::{Binding, DpopKey, NonceRetry};
use consent_explorer::core::flow::callback::{AuthorizationCode, Callback};
use consent_explorer::core::flow::pending::PendingFlow;
use consent_explorer::core::flow::token::{TokenOutcome, TokenType};
use consent_explorer::core::jws;
use consent_explorer::core::keys::SigningKey;
use consent_explorer::core::profile::{self, ProfileSource};
use consent_explorer::core::request::Overrides;
use consent_explorer::core::session::{Session, Tokens};
use consent_explorer::core::tls::TlsMaterial;
use consent_explorer::core::transport::{self, ClientOptions, Outcome};
use jiff::Timestamp;
use jsonwebtoken::Algorithm;
use oidc_provider::{CLIENT_ID, OidcProvider, REDIRECT_URI};

/// oidc-provider with DPoP, and a session of a remote profile pointing at it.
fn start(flags: &[&str], dpop_alg: Algorithm) -> (OidcProvider, Session, tempfile::TempDir) {
    let (key, _) = SigningKey::generate(Algorithm::PS256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&jwks_path, serde_json::to_vec(&key.public_jwks()).unwrap()).unwrap();
    let mut args = vec!["--auto-approve"];
    args.extend(flags);
    let server = oidc_provider::start(&jwks_path, &args);
    let e = &server.endpoints;
    let text = format!(
        r#"
target = "remote"
client_id = "{CLIENT_ID}"
redirect_uri = "{REDIRECT_URI}"
scope = "openid accounts profile"
issuer = "{}"
par_endpoint = "{}"
authorization_endpoint = "{}"
token_endpoint = "{}"
[signing]
alg = "PS256"
[consent]
pack = "my-account-access"
dc_id = "demo-data-consumer"
dp_id = "DEMO-BANK"
purpose = "pfm"
permissions = ["read_accounts"]
expiration = "+30d"
"#,
        e.issuer,
        e.par.as_deref().unwrap(),
        e.authorization.as_deref().unwrap(),
        e.token.as_deref().unwrap()
    );
    let loaded =
        profile::parse(&text, ProfileSource::Builtin("interop".into()), "interop").unwrap();
    let session = Session::assemble(
        loaded,
        PackSet::builtin(),
        key,
        TlsMaterial::default(),
        &Overrides::default(),
    )
    .unwrap()
    .with_dpop(DpopKey::generate(dpop_alg).unwrap().0);
    (server, session, dir)
}

/// PAR with a proof, the browser's redirects, the code exchanged with a proof.
async fn flow(session: &Session) -> (Option<consent_explorer::core::dpop::ProofTrail>, Tokens) {
    let options = ClientOptions::default();
    let built = session
        .build(&[], Timestamp::now(), &mut rand::rng())
        .unwrap();
    let (delivery, par_trail) = session
        .deliver_traced(&built.ticket, &options)
        .await
        .unwrap();
    let Outcome::Accepted { request_uri, .. } = &delivery.exchange.outcome else {
        panic!(
            "the PAR was refused: {:?} {:?}",
            delivery.exchange.outcome, delivery.exchange.body
        );
    };
    let flow = PendingFlow::from_accepted(
        session.seed(),
        &built.ticket,
        &delivery.exchange.outcome,
        Timestamp::now(),
    )
    .unwrap();
    let authorize = transport::authorize_url(
        delivery.authorization_endpoint.as_deref().unwrap(),
        CLIENT_ID,
        request_uri,
    );
    let callback = browser::follow_to_redirect_uri(&authorize, REDIRECT_URI).await;
    let callback = Callback::parse(&callback).unwrap();
    assert!(callback.error.is_none(), "{callback:?}");
    let code = AuthorizationCode {
        code: callback.code.clone().unwrap(),
        flow,
        warnings: vec![],
    };
    let tokens = session
        .exchange_code(&code, &options, &mut rand::rng())
        .await
        .unwrap();
    (par_trail, tokens)
}

fn bound_to_our_key(session: &Session, tokens: &Tokens) {
    let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
        panic!(
            "the token request was refused: {:?} {:?}",
            tokens.exchange.outcome, tokens.exchange.refusal_body
        );
    };
    assert_eq!(set.token_type, TokenType::DPoP);
    let access =
        jws::decode(set.access_token.expose()).expect("a JWT access token (server.mjs --dpop)");
    assert_eq!(access.claims["cnf"]["jkt"], session.dpop_jkt().unwrap());
    let used = tokens.dpop.as_ref().unwrap();
    assert_eq!(used.binding, Some(Binding::Bound { jwt: true }));
    assert!(tokens.id_token.is_some(), "the ID token verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_issues_dpop_bound_tokens_to_our_proofs() {
    let (_server, session, _dir) = start(&["--dpop"], Algorithm::ES256);
    let (par_trail, tokens) = flow(&session).await;
    assert!(par_trail.unwrap().nonce_retry.is_none());
    bound_to_our_key(&session, &tokens);
    assert!(tokens.dpop.as_ref().unwrap().trail.nonce_retry.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_requiring_nonces_gets_its_challenge_answered() {
    let (_server, session, _dir) = start(&["--dpop-nonce"], Algorithm::PS256);
    let (par_trail, tokens) = flow(&session).await;
    let par_trail = par_trail.unwrap();
    assert_eq!(
        par_trail.nonce_retry,
        Some(NonceRetry {
            refused_status: 400
        }),
        "the PAR was challenged and answered"
    );
    assert!(par_trail.last().unwrap().claims["nonce"].is_string());
    bound_to_our_key(&session, &tokens);
    let trail = &tokens.dpop.as_ref().unwrap().trail;
    // The token request carried the nonce the last answer offered (or was challenged once).
    assert!(trail.last().unwrap().claims["nonce"].is_string());
    assert!(trail.proofs.len() <= 2);
}
