//! DPoP against the embedded sandbox: the whole flow through `Session` (proofs at PAR and
//! token, dpop_jkt, token_type DPoP, cnf.jkt, refresh, the nonce challenge answered), then
//! every proof fault the sandbox must refuse, at PAR, token, /userinfo and the resource
//! server (a bound token with our proof accepted; Bearer use, no proof, another key, a wrong
//! ath, a replayed proof refused; the resource server's nonce challenge answered once).

#[path = "sandbox_flow/support.rs"]
mod support;

use consent_explorer::core::dpop::{self, DpopKey, PROOF_HEADER};
use consent_explorer::core::flow::callback::{AuthorizationCode, Callback};
use consent_explorer::core::flow::pending::PendingFlow;
use consent_explorer::core::flow::token::{TokenOutcome, TokenType};
use consent_explorer::core::jws;
use consent_explorer::core::keys::{SigningKey, b64url};
use consent_explorer::core::request;
use consent_explorer::core::resource::jwe::EncryptionKey;
use consent_explorer::core::session::{CallInput, Session};
use consent_explorer::core::transport::{ClientOptions, Outcome};
use jiff::Timestamp;
use jsonwebtoken::Algorithm;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use support::{FORM, Loop, Pushed, param};

/// The whole flow with DPoP through the session both shells use; answers the tokens issued.
async fn session_flow(session: &Session) -> consent_explorer::core::session::Tokens {
    let options = ClientOptions::default();
    let built = session
        .build(&[], Timestamp::now(), &mut rand::rng())
        .unwrap();
    let jkt = session.dpop_jkt().unwrap();
    assert_eq!(built.ticket.request.claims["dpop_jkt"], jkt);
    assert!(
        built.findings.iter().all(|f| !f.id.starts_with("dpop.")),
        "{:?}",
        built.findings
    );
    let (delivery, trail) = session
        .deliver_traced(&built.ticket, &options)
        .await
        .unwrap();
    let trail = trail.unwrap();
    assert!(
        matches!(delivery.exchange.outcome, Outcome::Accepted { .. }),
        "{:?}",
        delivery.exchange.outcome
    );
    assert_eq!(trail.last().unwrap().claims["htu"], delivery.par_endpoint);
    let flow = PendingFlow::from_accepted(
        session.seed(),
        &built.ticket,
        &delivery.exchange.outcome,
        Timestamp::now(),
    )
    .unwrap();
    let Outcome::Accepted { request_uri, .. } = &delivery.exchange.outcome else {
        unreachable!()
    };
    let authorize = consent_explorer::core::transport::authorize_url(
        delivery.authorization_endpoint.as_deref().unwrap(),
        &session.seed().client_id,
        request_uri,
    );
    let callback = session
        .authorize_headless(&authorize, true, &options)
        .await
        .unwrap();
    let callback = Callback::parse(&callback).unwrap();
    let code = AuthorizationCode {
        code: callback.code.clone().unwrap(),
        flow,
        warnings: vec![],
    };
    session
        .exchange_code(&code, &options, &mut rand::rng())
        .await
        .unwrap()
}

/// Points the data dir at a temporary folder for this process, once, before a test reads
/// it: resource calls read the tokens kept there. Every test starts here.
fn isolated_data_dir() {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: set inside the OnceLock's initialiser, which every test runs before it
        // starts anything that reads the environment.
        unsafe { std::env::set_var("CONSENT_EXPLORER_DATA_DIR", dir.path()) };
        dir
    });
}

/// A session with a DPoP key, its sandbox not started yet.
fn dpop_client() -> Session {
    isolated_data_dir();
    let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
    Session::builtin_with_key("local", key)
        .unwrap()
        .with_dpop(DpopKey::generate(Algorithm::ES256).unwrap().0)
}

async fn started(session: Session, nonce_required: bool) -> Session {
    session
        .start_sandbox_with(|c| c.dpop_nonce = nonce_required)
        .await
        .unwrap()
}

async fn dpop_session(nonce_required: bool) -> Session {
    started(dpop_client(), nonce_required).await
}

#[tokio::test]
async fn the_whole_flow_with_dpop_binds_the_tokens_to_our_key_and_refresh_keeps_it() {
    let session = dpop_session(false).await;
    let jkt = session.dpop_jkt().unwrap().to_owned();
    let tokens = session_flow(&session).await;
    let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
        panic!("{:?}", tokens.exchange.outcome)
    };
    assert_eq!(set.token_type, TokenType::DPoP);
    let access = jws::decode(set.access_token.expose()).unwrap();
    assert_eq!(access.claims["cnf"]["jkt"], jkt.as_str());
    let used = tokens.dpop.as_ref().unwrap();
    assert_eq!(used.binding, Some(dpop::Binding::Bound { jwt: true }));
    assert!(used.trail.nonce_retry.is_none());
    assert!(tokens.id_token.is_some(), "the ID token verified as before");

    // The bound token at the resource: as Bearer it is refused, with our proof (ath) it works.
    let userinfo = format!("{}/userinfo", session.sandbox_issuer().unwrap());
    let http = reqwest::Client::new();
    let bearer = http
        .get(&userinfo)
        .header(
            AUTHORIZATION,
            format!("Bearer {}", set.access_token.expose()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 401);
    let proof = session
        .dpop_proof(
            "GET",
            &userinfo,
            Some(set.access_token.expose()),
            Timestamp::now(),
        )
        .unwrap()
        .unwrap();
    let answer = http
        .get(&userinfo)
        .header(AUTHORIZATION, format!("DPoP {}", set.access_token.expose()))
        .header(PROOF_HEADER, &proof.compact)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);

    // Refresh: the refresh token is bound too; the session's proof is of the same key.
    let kept = consent_explorer::core::flow::store::StoredTokens::from_answer("local", set, None);
    let refreshed = session
        .refresh(&kept, &ClientOptions::default(), &mut rand::rng())
        .await
        .unwrap();
    let TokenOutcome::Issued(again) = &refreshed.exchange.outcome else {
        panic!("{:?}", refreshed.exchange.outcome)
    };
    assert_eq!(again.token_type, TokenType::DPoP);
}

/// A client speaking raw HTTP to a sandbox, to send proofs with one thing wrong.
struct Rig {
    sandbox: Loop,
    /// The proof key, and the same key for signing proofs by hand.
    dpop: DpopKey,
    raw: SigningKey,
}

impl Rig {
    async fn start(nonce_required: bool) -> Rig {
        isolated_data_dir();
        let sandbox = Loop::start_with(|c| c.dpop_nonce = nonce_required).await;
        let (raw, pem) = SigningKey::generate(Algorithm::ES256).unwrap();
        let dpop = DpopKey::new(
            SigningKey::from_material(pem.as_bytes(), Algorithm::ES256, None).unwrap(),
        );
        Rig { sandbox, dpop, raw }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.client.issuer)
    }

    /// A proof for `POST path` signed by hand, after `change` had its way with it.
    fn proof(
        &self,
        path: &str,
        nonce: Option<&str>,
        change: impl FnOnce(&mut Value, &mut Value),
    ) -> String {
        let mut header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.dpop.public_jwk()});
        let mut jti = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut jti);
        let mut claims = json!({"jti": b64url(&jti), "htm": "POST", "htu": self.url(path), "iat": Timestamp::now().as_second()});
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        change(&mut header, &mut claims);
        jws::sign(&header, &claims, &self.raw).unwrap()
    }

    async fn post(
        &self,
        path: &str,
        body: String,
        proof: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let mut request = self
            .sandbox
            .client
            .http
            .post(self.url(path))
            .header(CONTENT_TYPE, FORM)
            .body(body);
        if let Some(proof) = proof {
            request = request.header(PROOF_HEADER, proof);
        }
        let answer = request.send().await.unwrap();
        let nonce = answer
            .headers()
            .get("dpop-nonce")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            answer.status().as_u16(),
            answer.json().await.unwrap(),
            nonce,
        )
    }

    /// PAR with dpop_jkt (of `jkt`) and `proof`; the approved callback's code.
    async fn push(
        &self,
        jkt: Option<&str>,
        proof: Option<&str>,
    ) -> Result<(Pushed, String), (u16, Value)> {
        let client = &self.sandbox.client;
        let ticket = request::build_bound(
            &client.seed,
            &client.key,
            Timestamp::now(),
            &mut rand::rng(),
            jkt,
        )
        .unwrap();
        let (status, body, _) = self.post("/par", ticket.form_body(), proof).await;
        if status != 201 {
            return Err((status, body));
        }
        let authorize_url = url::Url::parse_with_params(
            &self.url("/authorize"),
            [
                ("client_id", client.seed.client_id.as_str()),
                ("request_uri", body["request_uri"].as_str().unwrap()),
            ],
        )
        .unwrap();
        let pushed = Pushed {
            ticket,
            authorize_url: authorize_url.into(),
        };
        let code = param(&client.approve(&pushed).await, "code").unwrap();
        Ok((pushed, code))
    }

    fn redeem_body(&self, pushed: &Pushed, code: &str) -> String {
        let client = &self.sandbox.client;
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &client.seed.client_id)
            .append_pair("client_assertion_type", request::CLIENT_ASSERTION_TYPE)
            .append_pair("client_assertion", &client.assertion())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &client.seed.redirect_uri)
            .append_pair("code_verifier", &pushed.ticket.code_verifier)
            .finish()
    }

    /// A bound code's exchange with `proof`: status and body.
    async fn redeem(&self, proof: Option<&str>) -> (u16, Value) {
        let (pushed, code) = self.push(Some(self.dpop.thumbprint()), None).await.unwrap();
        let (status, body, _) = self
            .post("/token", self.redeem_body(&pushed, &code), proof)
            .await;
        (status, body)
    }
}

fn refused(answer: (u16, Value), code: &str, words: &str) {
    let (status, body) = answer;
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(status, 400, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(words), "{description}");
}

#[tokio::test]
async fn a_bound_code_is_refused_without_a_proof_or_with_any_fault_in_it() {
    let rig = Rig::start(false).await;
    refused(
        rig.redeem(None).await,
        "invalid_dpop_proof",
        "bound to a DPoP key",
    );
    let other = DpopKey::generate(Algorithm::ES256).unwrap().0;
    let from_other_key = other
        .proof(
            &dpop::ProofFor::post(&rig.url("/token")),
            Timestamp::now(),
            &mut rand::rng(),
        )
        .unwrap()
        .compact;
    refused(
        rig.redeem(Some(&from_other_key)).await,
        "invalid_dpop_proof",
        "not the one this grant is bound to",
    );
    type Change = fn(&mut Value, &mut Value);
    let faults: [(Change, &str); 9] = [
        (|h, _| h["typ"] = json!("JWT"), "typ must be dpop+jwt"),
        (
            |h, _| {
                h.as_object_mut().unwrap().remove("jwk");
            },
            "no jwk",
        ),
        (|h, _| h["jwk"]["d"] = json!("AAAA"), "private key material"),
        (|h, _| h["alg"] = json!("ES384"), "dpop.proof-alg"),
        (|_, c| c["htm"] = json!("GET"), "htm"),
        (
            |_, c| c["htu"] = json!(c["htu"].as_str().unwrap().replace("/token", "/par")),
            "htu",
        ),
        (
            |_, c| c["htu"] = json!(format!("{}?x=1", c["htu"].as_str().unwrap())),
            "dpop.htu-query",
        ),
        (
            |_, c| c["iat"] = json!(Timestamp::now().as_second() - 300),
            "iat is",
        ),
        (
            |_, c| {
                c.as_object_mut().unwrap().remove("jti");
            },
            "jti is missing",
        ),
    ];
    for (change, words) in faults {
        let proof = rig.proof("/token", None, change);
        refused(rig.redeem(Some(&proof)).await, "invalid_dpop_proof", words);
    }
    // A signature by another key than the jwk's.
    let (forger, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let genuine = rig.proof("/token", None, |_, _| {});
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged = jws::sign(
        &serde_json::from_slice(&consent_explorer::core::keys::b64url_decode(parts[0]).unwrap())
            .unwrap(),
        &serde_json::from_slice(&consent_explorer::core::keys::b64url_decode(parts[1]).unwrap())
            .unwrap(),
        &forger,
    )
    .unwrap();
    refused(
        rig.redeem(Some(&forged)).await,
        "invalid_dpop_proof",
        "signature does not verify",
    );
    // A replayed proof: the first use buys tokens, the second is refused.
    let proof = rig.proof("/token", None, |_, _| {});
    let (status, body) = rig.redeem(Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    refused(
        rig.redeem(Some(&proof)).await,
        "invalid_dpop_proof",
        "used before",
    );
}

#[tokio::test]
async fn at_par_dpop_jkt_must_match_the_proofs_key_and_a_proof_alone_binds() {
    let rig = Rig::start(false).await;
    let proof = rig.proof("/par", None, |_, _| {});
    let refusal = rig
        .push(Some("another-thumbprint"), Some(&proof))
        .await
        .err()
        .unwrap();
    refused(refusal, "invalid_dpop_proof", "dpop.jkt-mismatch");
    // No dpop_jkt, a proof at PAR: the code is bound to the proof's key.
    let proof = rig.proof("/par", None, |_, _| {});
    let (pushed, code) = rig.push(None, Some(&proof)).await.unwrap();
    let (status, body, _) = rig
        .post("/token", rig.redeem_body(&pushed, &code), None)
        .await;
    refused((status, body), "invalid_dpop_proof", "bound to a DPoP key");
}

#[tokio::test]
async fn with_nonces_required_a_proof_without_the_servers_nonce_is_answered_use_dpop_nonce() {
    let rig = Rig::start(true).await;
    let (pushed, code) = rig.push(Some(rig.dpop.thumbprint()), None).await.unwrap();
    // Each try with a fresh client assertion: the refused one spent its jti.
    let body = || rig.redeem_body(&pushed, &code);
    let (status, answer, nonce) = rig
        .post(
            "/token",
            body(),
            Some(&rig.proof("/token", None, |_, _| {})),
        )
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("use_dpop_nonce")),
        "{answer}"
    );
    let nonce = nonce.expect("a DPoP-Nonce header with the challenge");
    let wrong = rig.proof("/token", Some("not-the-nonce"), |_, _| {});
    let (status, answer, _) = rig.post("/token", body(), Some(&wrong)).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("use_dpop_nonce")),
        "{answer}"
    );
    let right = rig.proof("/token", Some(&nonce), |_, _| {});
    let (status, answer, _) = rig.post("/token", body(), Some(&right)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["token_type"], "DPoP");
}

#[tokio::test]
async fn the_session_answers_the_nonce_challenge_once_and_says_so() {
    let session = dpop_session(true).await;
    let tokens = session_flow(&session).await;
    let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
        panic!("{:?}", tokens.exchange.outcome)
    };
    assert_eq!(set.token_type, TokenType::DPoP);
    let used = tokens.dpop.as_ref().unwrap();
    // The PAR's answer offered a nonce, which the token request's first proof carried: no
    // challenge there. The PAR itself was challenged once (see below).
    assert!(used.binding.as_ref().unwrap().is_bound());
    assert!(used.trail.last().unwrap().claims["nonce"].is_string());

    // A fresh session knows no nonce: its PAR is challenged, answered once, and says so.
    let fresh = dpop_session(true).await;
    let built = fresh
        .build(&[], Timestamp::now(), &mut rand::rng())
        .unwrap();
    let (delivery, trail) = fresh
        .deliver_traced(&built.ticket, &ClientOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(delivery.exchange.outcome, Outcome::Accepted { .. }),
        "{:?}",
        delivery.exchange.outcome
    );
    let trail = trail.unwrap();
    assert_eq!(trail.proofs.len(), 2);
    assert_eq!(
        trail.nonce_retry,
        Some(dpop::NonceRetry {
            refused_status: 400
        })
    );
    assert!(trail.notes()[0].contains("use_dpop_nonce"));
}

#[tokio::test]
async fn a_resource_refuses_a_proof_of_another_key_a_missing_ath_and_a_bearer_use() {
    let rig = Rig::start(false).await;
    let proof = rig.proof("/token", None, |_, _| {});
    let (status, tokens) = rig.redeem(Some(&proof)).await;
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let userinfo = rig.url("/userinfo");
    let get = |scheme: &'static str, proof: Option<String>| {
        let mut request = rig
            .sandbox
            .client
            .http
            .get(&userinfo)
            .header(AUTHORIZATION, format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header(PROOF_HEADER, proof);
        }
        async move {
            let answer = request.send().await.unwrap();
            let challenge = answer
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                answer.status().as_u16(),
                challenge,
                answer.json::<Value>().await.unwrap(),
            )
        }
    };
    let for_get = |key: &DpopKey, token: Option<&str>| {
        key.proof(
            &dpop::ProofFor {
                method: "GET",
                url: &userinfo,
                nonce: None,
                access_token: token,
            },
            Timestamp::now(),
            &mut rand::rng(),
        )
        .unwrap()
        .compact
    };
    let (status, challenge, _) = get("Bearer", None).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().starts_with("DPoP"));
    let (status, _, body) = get("DPoP", Some(for_get(&rig.dpop, None))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_dpop_proof")),
        "no ath: {body}"
    );
    let other = DpopKey::generate(Algorithm::ES256).unwrap().0;
    let (status, _, body) = get("DPoP", Some(for_get(&other, Some(token)))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_dpop_proof")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("not the one the access token is bound to")
    );
    let (status, _, body) = get("DPoP", Some(for_get(&rig.dpop, Some(token)))).await;
    assert_eq!(status, 200, "{body}");
}

/// A resource GET with `Authorization: SCHEME token` and `proof`: status, the
/// WWW-Authenticate challenge, the body.
async fn resource_get(
    url: &str,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (u16, String, Value) {
    let mut request = reqwest::Client::new()
        .get(url)
        .header(AUTHORIZATION, format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header(PROOF_HEADER, proof);
    }
    let answer = request.send().await.unwrap();
    let challenge = answer
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        answer.status().as_u16(),
        challenge,
        answer.json::<Value>().await.unwrap(),
    )
}

fn refused_at_resource(answer: (u16, String, Value), code: &str, words: &str) {
    let (status, challenge, body) = answer;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some(code)),
        "{body}"
    );
    assert!(
        challenge.starts_with(&format!("DPoP error=\"{code}\"")),
        "{challenge}"
    );
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(words), "{description}");
}

#[tokio::test]
async fn at_the_resource_server_a_bound_token_needs_our_proof_and_its_nonce_challenge_is_answered()
{
    // One test for both sandboxes: the tokens are kept in the one data dir, per profile.
    for nonce_required in [false, true] {
        // The resource server encrypts its answers to the client's key.
        let client = dpop_client().with_encryption_key(EncryptionKey::generate().unwrap().0);
        let session = started(client, nonce_required).await;
        let tokens = session_flow(&session).await;
        let TokenOutcome::Issued(set) = &tokens.exchange.outcome else {
            panic!("{:?}", tokens.exchange.outcome)
        };
        session.keep_tokens(set, None).unwrap();
        // As `call` starts in a new process: no nonce known yet.
        session.forget_dpop_nonces();
        let options = ClientOptions::default();
        let call = session
            .call(
                "balances",
                &[],
                &CallInput::default(),
                &options,
                &mut rand::rng(),
            )
            .await
            .unwrap();
        assert_eq!(
            call.status, 200,
            "{:?} {:?}",
            call.opened.payload, call.notes
        );
        assert!(call.opened.failure().is_none(), "{:?}", call.opened);
        let trail = call.dpop.as_ref().expect("the call went with DPoP");
        let proof = trail.last().unwrap();
        let token = set.access_token.expose();
        assert_eq!(proof.claims["ath"], dpop::ath(token).as_str());
        assert_eq!(proof.claims["htm"], "GET");
        assert_eq!(proof.claims["htu"], dpop::htu(&call.url).as_str());
        assert!(call.notes.iter().any(|n| n.contains("Authorization: DPoP")));
        if nonce_required {
            assert_eq!(
                trail.nonce_retry,
                Some(dpop::NonceRetry {
                    refused_status: 401
                })
            );
            assert_eq!(trail.proofs.len(), 2, "answered once");
            assert!(
                call.notes.iter().any(|n| n.contains("401 use_dpop_nonce")),
                "{:?}",
                call.notes
            );
        } else {
            assert!(trail.nonce_retry.is_none());
        }
        let consent = session
            .consent_show(None, &options, &mut rand::rng())
            .await
            .unwrap();
        assert_eq!(consent.status, 200, "{:?}", consent.opened.payload);
        assert!(consent.dpop.is_some(), "the consent endpoint too");

        // The faults, each by hand against the same URL.
        let url = &call.url;
        let nonce = proof.claims["nonce"].as_str();
        let signed = |key: &DpopKey, access_token: &str| {
            let target = dpop::ProofFor {
                method: "GET",
                url,
                nonce,
                access_token: Some(access_token),
            };
            key.proof(&target, Timestamp::now(), &mut rand::rng())
                .unwrap()
                .compact
        };
        let ours = session.dpop().unwrap();
        let (status, challenge, _) = resource_get(url, "Bearer", token, None).await;
        assert_eq!(status, 401);
        assert!(challenge.starts_with("DPoP "), "{challenge}");
        refused_at_resource(
            resource_get(url, "DPoP", token, None).await,
            "invalid_dpop_proof",
            "needs a DPoP proof",
        );
        let other = DpopKey::generate(Algorithm::ES256).unwrap().0;
        refused_at_resource(
            resource_get(url, "DPoP", token, Some(&signed(&other, token))).await,
            "invalid_dpop_proof",
            "not the one the access token is bound to",
        );
        refused_at_resource(
            resource_get(url, "DPoP", token, Some(&signed(ours, "another-token"))).await,
            "invalid_dpop_proof",
            "ath",
        );
        refused_at_resource(
            resource_get(url, "DPoP", token, Some(&proof.compact)).await,
            "invalid_dpop_proof",
            "used before",
        );
        if nonce_required {
            let unsigned_nonce = dpop::ProofFor {
                method: "GET",
                url,
                nonce: None,
                access_token: Some(token),
            };
            let without = ours
                .proof(&unsigned_nonce, Timestamp::now(), &mut rand::rng())
                .unwrap()
                .compact;
            refused_at_resource(
                resource_get(url, "DPoP", token, Some(&without)).await,
                "use_dpop_nonce",
                "nonce",
            );
        }
    }
}
