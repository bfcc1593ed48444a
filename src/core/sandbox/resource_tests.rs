//! Every refusal of the resource server, and the envelope of a good call, without HTTP:
//! `serve` is called with the headers a client would send.

use axum::http::{HeaderMap, HeaderValue};
use jsonwebtoken::Algorithm;
use serde_json::json;

use super::super::resource_store::TokenGrant;
use super::super::{AppState, Config, TrustedClient};
use super::*;
use crate::core::consent::PackSet;
use crate::core::keys::SigningKey;
use crate::core::resource::jwe::EncryptionKey;
use crate::core::resource::xsig::{self, Vars};

const TOKEN: &str = "access-token-0123456789";
const ISSUER: &str = "http://127.0.0.1:1";

struct Fixture {
    state: AppState,
    key: SigningKey,
    enc: EncryptionKey,
    now: i64,
}

fn fixture() -> Fixture {
    let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let enc = EncryptionKey::generate().unwrap().0;
    let seed = crate::core::profile::builtin("local")
        .unwrap()
        .seed(&PackSet::builtin(), &Default::default(), ISSUER)
        .unwrap();
    let mut config = Config::new(TrustedClient::of(&seed, &key), PackSet::builtin());
    config.client_encryption_key = Some(enc.public_jwk().clone());
    let state = AppState::new(config, ISSUER.into());
    let now = Timestamp::now().as_second();
    let f = Fixture {
        state,
        key,
        enc,
        now,
    };
    f.grant(TOKEN, "c-1", &["read_accounts", "read_balances"], now + 600);
    f
}

impl Fixture {
    fn grant(&self, token: &str, consent: &str, permissions: &[&str], expires_at: i64) {
        let mut store = self.state.resource.lock().unwrap();
        store.issue_token(
            token,
            TokenGrant {
                client_id: "consent-explorer-demo".into(),
                scope: "openid accounts".into(),
                consent_id: Some(consent.into()),
                issued_at: self.now,
                expires_at: self.now + 600,
                jkt: None,
            },
            Some(json!({"consent_id": consent, "dc_id": "dc", "dp_id": "DP",
                "permissions": permissions, "accounts": [{"account_id": "a1"}]})),
        );
        // An expiry in the past is set after: issue_token drops nothing that recent.
        store.insert_token_for_test(
            token,
            TokenGrant {
                client_id: "consent-explorer-demo".into(),
                scope: "openid accounts".into(),
                consent_id: Some(consent.into()),
                issued_at: self.now,
                expires_at,
                jkt: None,
            },
        );
    }

    fn headers(&self, token: &str, signature: Option<String>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        if let Some(signature) = signature {
            headers.insert("x-signature", HeaderValue::from_str(&signature).unwrap());
        }
        headers
    }

    fn sign_with(
        &self,
        key: &SigningKey,
        url: &str,
        query: &[(String, String)],
        sub: &str,
    ) -> String {
        let api = PackSet::builtin()
            .find(MY_PACK)
            .unwrap()
            .resource
            .clone()
            .unwrap();
        let vars = Vars {
            dc_id: "dc".into(),
            dp_id: "DP".into(),
            consent_id: sub.into(),
            client_id: String::new(),
        };
        let url = url::Url::parse(url).unwrap();
        let now = Timestamp::from_second(self.now).unwrap();
        xsig::sign(
            api.request_signature.as_ref().unwrap(),
            &vars,
            &url,
            query,
            &uuid::Uuid::new_v4().to_string(),
            key,
            now,
        )
        .unwrap()
        .compact
    }

    fn balances(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Response, ResourceRefusal> {
        serve(
            &self.state,
            headers,
            Call {
                pack: MY_PACK,
                endpoint: "balances",
                path: "/v1/accounts/a1/balances".into(),
                account_id: Some("a1".into()),
                query: query.map(str::to_owned),
            },
        )
    }

    fn good_signature(&self) -> String {
        self.sign_with(
            &self.key,
            &format!("{ISSUER}/v1/accounts/a1/balances"),
            &[],
            "c-1",
        )
    }
}

fn refused(result: Result<Response, ResourceRefusal>, status: u16, code: &str, words: &str) {
    let refusal = result.expect_err("refused");
    assert_eq!(
        (refusal.status, refusal.code.as_str()),
        (status, code),
        "{refusal:?}"
    );
    assert!(
        refusal.description.contains(words),
        "{words:?} not in {refusal:?}"
    );
}

#[tokio::test]
async fn a_good_call_is_answered_with_an_envelope_holding_a_jwe_to_the_client() {
    let f = fixture();
    let response = f
        .balances(&f.headers(TOKEN, Some(f.good_signature())), None)
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jose");
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let envelope = crate::core::jws::decode(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(envelope.claim_str("iss"), Some("c-1"));
    assert_eq!(envelope.claim("aud"), Some(&json!(["Paynet OFP", "DP"])));
    let opened = f.enc.decrypt(envelope.claim_str("data").unwrap()).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&opened.plaintext).unwrap();
    assert_eq!(payload["data"]["account_id"], "a1");
    assert_eq!(
        payload["data"]["current_balance"]["amount"]["currency"],
        "MYR"
    );
}

#[test]
fn the_resource_server_refuses_each_wrong_thing_with_its_reason() {
    let f = fixture();
    let url = format!("{ISSUER}/v1/accounts/a1/balances");
    refused(
        f.balances(&f.headers(TOKEN, None), None),
        401,
        "invalid_signature",
        "x-signature header is missing",
    );

    let stranger = SigningKey::generate(Algorithm::PS256).unwrap().0;
    let wrong_signer = f.sign_with(&stranger, &url, &[], "c-1");
    refused(
        f.balances(&f.headers(TOKEN, Some(wrong_signer)), None),
        401,
        "invalid_signature",
        "does not verify",
    );

    let wrong_url = f.sign_with(
        &f.key,
        "http://https://127.0.0.1:1/v1/accounts/a1/balances",
        &[],
        "c-1",
    );
    refused(
        f.balances(&f.headers(TOKEN, Some(wrong_url)), None),
        401,
        "invalid_signature",
        "url must be",
    );

    let no_qpm = f.good_signature();
    refused(
        f.balances(&f.headers(TOKEN, Some(no_qpm)), Some("page_size=5")),
        401,
        "invalid_signature",
        "qpm must be",
    );

    let good = f.good_signature();
    assert!(
        f.balances(&f.headers(TOKEN, Some(good.clone())), None)
            .is_ok()
    );
    refused(
        f.balances(&f.headers(TOKEN, Some(good)), None),
        401,
        "invalid_signature",
        "already used",
    );

    let other_sub = f.sign_with(&f.key, &url, &[], "c-other");
    refused(
        f.balances(&f.headers(TOKEN, Some(other_sub)), None),
        401,
        "invalid_signature",
        "sub must be \"c-1\"",
    );

    f.grant(
        "expired-token-0123456789",
        "c-1",
        &["read_balances"],
        f.now - 30,
    );
    refused(
        f.balances(
            &f.headers("expired-token-0123456789", Some(f.good_signature())),
            None,
        ),
        401,
        "invalid_token",
        "the access token expired",
    );
    refused(
        f.balances(
            &f.headers("never-issued-0123456789", Some(f.good_signature())),
            None,
        ),
        401,
        "invalid_token",
        "unknown",
    );

    // A token of another consent, under a signature made for this one.
    f.grant(
        "other-consent-token-0123",
        "c-2",
        &["read_balances"],
        f.now + 600,
    );
    let for_c1 = f.good_signature();
    refused(
        f.balances(&f.headers("other-consent-token-0123", Some(for_c1)), None),
        401,
        "invalid_signature",
        "sub must be \"c-2\"",
    );

    f.grant(
        "no-balances-token-012345",
        "c-3",
        &["read_accounts"],
        f.now + 600,
    );
    refused(
        f.balances(
            &f.headers("no-balances-token-012345", Some(f.good_signature())),
            None,
        ),
        403,
        "insufficient_permissions",
        "read_balances",
    );

    f.state
        .resource
        .lock()
        .unwrap()
        .revoke("c-1", "test", f.now);
    refused(
        f.balances(&f.headers(TOKEN, Some(f.good_signature())), None),
        403,
        "consent_revoked",
        "revoked",
    );
}

#[test]
fn an_account_outside_the_consent_is_refused() {
    let f = fixture();
    let url = format!("{ISSUER}/v1/accounts/zz/balances");
    let signature = f.sign_with(&f.key, &url, &[], "c-1");
    let result = serve(
        &f.state,
        &f.headers(TOKEN, Some(signature)),
        Call {
            pack: MY_PACK,
            endpoint: "balances",
            path: "/v1/accounts/zz/balances".into(),
            account_id: Some("zz".into()),
            query: None,
        },
    );
    refused(
        result,
        403,
        "forbidden",
        "not among the accounts of consent c-1",
    );
}
