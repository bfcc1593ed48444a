//! The sandbox's loop driven over HTTP the way a client would: PAR, authorize, token. Shared by
//! tests/sandbox_flow.rs, tests/submit.rs (the real binary) and tests/independent.rs (PyJWT).
#![allow(dead_code)]

use consent_explorer::core::consent::PackSet;
use consent_explorer::core::jws;
use consent_explorer::core::keys::{SigningKey, alg_name};
use consent_explorer::core::profile;
use consent_explorer::core::request::{self, Endpoints, Overrides, ParSeed, ParTicket};
use consent_explorer::core::sandbox::{Config, Sandbox, TrustedClient};
use consent_explorer::core::transport::INTERACTION_HEADER;
use jsonwebtoken::Algorithm;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use url::Url;

pub const FORM: &str = "application/x-www-form-urlencoded";
const INTERACTION_ID: &str = "0b7c4a55-6a2f-4d4e-9d55-2d5f2f1e8a11";

/// A client of an issuer: its key and the profile it builds from.
pub struct Client {
    pub issuer: String,
    pub key: SigningKey,
    pub seed: ParSeed,
    /// Redirects are the answers under test, never followed.
    pub http: reqwest::Client,
}

/// The embedded sandbox (library) with the built-in `local` client of a fresh key.
pub struct Loop {
    pub server: Sandbox,
    pub client: Client,
}

impl Loop {
    pub async fn start() -> Loop {
        Loop::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Loop {
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let seed = local_seed();
        let mut config = Config::new(TrustedClient::of(&seed, &key), PackSet::builtin());
        adjust(&mut config);
        let server = Sandbox::start(config, 0).await.unwrap();
        let client = Client::new(server.issuer(), key, seed);
        Loop { server, client }
    }
}

pub fn local_seed() -> ParSeed {
    profile::builtin("local")
        .unwrap()
        .seed(&PackSet::builtin(), &Overrides::default(), "http://unused")
        .unwrap()
}

/// A pushed request: the ticket (state, nonce, verifier) and the URL a browser is sent to.
pub struct Pushed {
    pub ticket: ParTicket,
    pub authorize_url: String,
}

impl Pushed {
    pub fn state(&self) -> &str {
        self.ticket.request.claim_str("state").unwrap()
    }

    pub fn nonce(&self) -> &str {
        self.ticket.request.claim_str("nonce").unwrap()
    }
}

impl Client {
    pub fn new(issuer: &str, key: SigningKey, mut seed: ParSeed) -> Client {
        seed.endpoints = Endpoints::embedded(issuer);
        Client {
            issuer: issuer.to_owned(),
            key,
            seed,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub async fn push(&self) -> Pushed {
        let ticket = request::build(
            &self.seed,
            &self.key,
            jiff::Timestamp::now(),
            &mut rand::rng(),
        )
        .unwrap();
        let answer = self
            .http
            .post(format!("{}/par", self.issuer))
            .header(CONTENT_TYPE, FORM)
            .body(ticket.form_body())
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "{}",
            answer.text().await.unwrap()
        );
        let body: Value = answer.json().await.unwrap();
        let authorize_url = Url::parse_with_params(
            &format!("{}/authorize", self.issuer),
            [
                ("client_id", self.seed.client_id.as_str()),
                ("request_uri", body["request_uri"].as_str().unwrap()),
            ],
        )
        .unwrap();
        Pushed {
            ticket,
            authorize_url: authorize_url.into(),
        }
    }

    /// The headless approval: the callback URL the sandbox redirects to.
    pub async fn approve(&self, pushed: &Pushed) -> Url {
        let answer = self
            .http
            .get(format!("{}&auto=approve", pushed.authorize_url))
            .send()
            .await
            .unwrap();
        callback(answer)
    }

    /// A fresh client assertion, as the request builder makes it.
    pub fn assertion(&self) -> String {
        let claims =
            request::assertion_claims(&self.seed, jiff::Timestamp::now(), &mut rand::rng())
                .unwrap();
        let header = json!({"alg": alg_name(self.key.alg()), "kid": self.key.kid()});
        jws::sign(&header, &claims, &self.key).unwrap()
    }

    /// POST /token with `params`, authenticated by `assertion`.
    pub async fn token_with(&self, assertion: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.seed.client_id)
            .append_pair("client_assertion_type", request::CLIENT_ASSERTION_TYPE)
            .append_pair("client_assertion", assertion)
            .extend_pairs(params)
            .finish();
        let answer = self
            .http
            .post(format!("{}/token", self.issuer))
            .header(CONTENT_TYPE, FORM)
            .header(INTERACTION_HEADER, INTERACTION_ID)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.headers()["cache-control"],
            "no-store",
            "token answers are never cached"
        );
        assert_eq!(
            answer.headers()[INTERACTION_HEADER],
            INTERACTION_ID,
            "echoed"
        );
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    pub async fn token(&self, params: &[(&str, &str)]) -> (u16, Value) {
        self.token_with(&self.assertion(), params).await
    }

    /// The code exchange for a callback, with the ticket's verifier and redirect_uri.
    pub async fn redeem(&self, pushed: &Pushed, code: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.seed.redirect_uri),
            ("code_verifier", &pushed.ticket.code_verifier),
        ])
        .await
    }

    /// PAR, headless approval, code exchange: the pushed request and the token answer.
    pub async fn tokens(&self) -> (Pushed, Value) {
        let pushed = self.push().await;
        let callback = self.approve(&pushed).await;
        let code = param(&callback, "code").unwrap();
        let (status, answer) = self.redeem(&pushed, &code).await;
        assert_eq!(status, 200, "{answer}");
        (pushed, answer)
    }

    pub async fn jwks(&self) -> Value {
        self.http
            .get(format!("{}/jwks", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The Location of a 303, as a URL.
pub fn callback(answer: reqwest::Response) -> Url {
    assert_eq!(answer.status(), 303, "{answer:?}");
    Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap()
}

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
