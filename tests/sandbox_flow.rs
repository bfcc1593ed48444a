//! The sandbox completes the loop, over HTTP: PAR, the consent page (approve, deny, or the
//! headless `auto=approve`), the callback with code, state and iss, the token exchange, the ID
//! token verified with the key at /jwks, /userinfo; and every refusal of the token endpoint.

#[path = "sandbox_flow/support.rs"]
mod support;

use jsonwebtoken::jwk::JwkSet;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use support::{Client, FORM, Loop, Pushed, callback, param};

use consent_explorer::core::jws;
use consent_explorer::core::sandbox::TEST_USER;

/// The hidden `name` of the consent form, read from the page a browser gets.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect(name) + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// What a browser user does: opens the authorize URL, reads the page, presses a button.
async fn press(client: &Client, pushed: &Pushed, decision: &str) -> (String, reqwest::Response) {
    let page = client.http.get(&pushed.authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let form = [
        ("request_uri", hidden(&page, "request_uri")),
        ("interaction", hidden(&page, "interaction")),
        ("decision", decision.to_owned()),
    ];
    let answer = client
        .http
        .post(format!("{}/authorize", client.issuer))
        .header(CONTENT_TYPE, FORM)
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&form)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    (page, answer)
}

#[tokio::test]
async fn a_browser_consents_and_the_code_buys_an_id_token_that_verifies_with_jwks() {
    let sandbox = Loop::start().await;
    let client = &sandbox.client;
    let pushed = client.push().await;
    let (page, answer) = press(client, &pushed, "approve").await;
    for words in [
        "Approve",
        "Deny",
        "Account balances",
        "read_balances",
        "DEMO-BANK",
    ] {
        assert!(
            page.contains(words),
            "the consent page lacks {words}: {page}"
        );
    }
    let back = callback(answer);
    assert!(
        back.as_str().starts_with(&client.seed.redirect_uri),
        "{back}"
    );
    assert_eq!(param(&back, "state").as_deref(), Some(pushed.state()));
    assert_eq!(param(&back, "iss").as_deref(), Some(client.issuer.as_str()));
    let code = param(&back, "code").unwrap();

    let (status, tokens) = client.redeem(&pushed, &code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["scope"], client.seed.scope);
    assert!(tokens["refresh_token"].is_string());
    let consent = &tokens["authorization_details"][0]["consent"];
    assert_eq!(consent["status"], "authorized");
    assert!(uuid::Uuid::parse_str(consent["consent_id"].as_str().unwrap()).is_ok());
    assert_eq!(consent["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(
        consent["permissions"],
        pushed.ticket.request.claims["authorization_details"][0]["consent"]["permissions"],
        "the asked consent is echoed"
    );

    let jwks: JwkSet = serde_json::from_value(client.jwks().await).unwrap();
    let id_token = jws::decode(tokens["id_token"].as_str().unwrap()).unwrap();
    let jwk = jwks
        .find(id_token.kid().unwrap())
        .expect("the ID token's kid is at /jwks");
    assert_eq!(id_token.verify(jwk), Ok(true));
    assert_eq!(id_token.alg(), Some("PS256"));
    let claims = &id_token.claims;
    assert_eq!(claims["iss"], client.issuer);
    assert_eq!(claims["sub"], TEST_USER);
    assert_eq!(claims["aud"], client.seed.client_id);
    assert_eq!(claims["azp"], client.seed.client_id);
    assert_eq!(claims["nonce"], pushed.nonce());
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 600);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);

    // The request_uri and the page were one-time.
    let again = client.http.get(&pushed.authorize_url).send().await.unwrap();
    assert_eq!(again.status(), 400);

    // /userinfo: the claims the request object asked for, to the bearer of the access token.
    let userinfo = format!("{}/userinfo", client.issuer);
    let access_token = tokens["access_token"].as_str().unwrap();
    let me: Value = client
        .http
        .get(&userinfo)
        .header(AUTHORIZATION, format!("Bearer {access_token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["sub"], TEST_USER);
    assert_eq!(me["email_verified"], true);
    assert!(
        me["name"].is_string() && me["hashed_id_number"].is_string(),
        "{me}"
    );
    for token in [None, Some("Bearer not-a-token")] {
        let mut ask = client.http.get(&userinfo);
        if let Some(token) = token {
            ask = ask.header(AUTHORIZATION, token);
        }
        let refused = ask.send().await.unwrap();
        assert_eq!(refused.status(), 401);
        assert_eq!(
            refused.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\""
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
    }
}

#[tokio::test]
async fn a_denial_redirects_with_access_denied_state_and_iss() {
    let sandbox = Loop::start().await;
    let client = &sandbox.client;
    let pushed = client.push().await;
    let (_, answer) = press(client, &pushed, "deny").await;
    let back = callback(answer);
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some(pushed.state()));
    assert_eq!(param(&back, "iss").as_deref(), Some(client.issuer.as_str()));
    assert_eq!(param(&back, "code"), None);

    let headless = client.push().await;
    let answer = client
        .http
        .get(format!("{}&auto=deny", headless.authorize_url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&callback(answer), "error").as_deref(),
        Some("access_denied")
    );
}

#[tokio::test]
async fn the_consent_form_answers_once_and_only_for_the_page_shown() {
    let sandbox = Loop::start().await;
    let client = &sandbox.client;
    let pushed = client.push().await;
    let page = client.http.get(&pushed.authorize_url).send().await.unwrap();
    let page = page.text().await.unwrap();
    let post = |interaction: String| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("request_uri", &hidden(&page, "request_uri"))
            .append_pair("interaction", &interaction)
            .append_pair("decision", "approve")
            .finish();
        client
            .http
            .post(format!("{}/authorize", client.issuer))
            .header(CONTENT_TYPE, FORM)
            .body(body)
            .send()
    };
    let forged = post("guessed".into()).await.unwrap();
    assert_eq!(forged.status(), 400);
    let first = post(hidden(&page, "interaction")).await.unwrap();
    assert_eq!(first.status(), 303);
    let second = post(hidden(&page, "interaction")).await.unwrap();
    assert_eq!(second.status(), 400);
    let body: Value = second.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("already answered")
    );
}

#[tokio::test]
async fn an_expired_request_uri_is_refused_at_authorize() {
    let sandbox = Loop::start_with(|config| config.request_uri_lifetime = 1).await;
    let client = &sandbox.client;
    let pushed = client.push().await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let late = client
        .http
        .get(format!("{}&auto=approve", pushed.authorize_url))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 400);
    let body: Value = late.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request_uri");
}

async fn refused(answer: (u16, Value), status: u16, error: &str, words: &str) {
    let (got_status, body) = answer;
    assert_eq!(
        (got_status, body["error"].as_str()),
        (status, Some(error)),
        "{body}"
    );
    assert!(
        body["error_description"].as_str().unwrap().contains(words),
        "{body}"
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_each_broken_exchange_with_the_right_error() {
    let sandbox = Loop::start().await;
    let client = &sandbox.client;
    let redirect_uri = client.seed.redirect_uri.clone();

    // A wrong verifier; the code it spent cannot then be redeemed with the right one.
    let pushed = client.push().await;
    let code = param(&client.approve(&pushed).await, "code").unwrap();
    let wrong = client
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", "x".repeat(43).as_str()),
        ])
        .await;
    refused(wrong, 400, "invalid_grant", "code_verifier does not match").await;
    refused(
        client.redeem(&pushed, &code).await,
        400,
        "invalid_grant",
        "already used",
    )
    .await;

    // A code redeemed twice.
    let pushed = client.push().await;
    let code = param(&client.approve(&pushed).await, "code").unwrap();
    assert_eq!(client.redeem(&pushed, &code).await.0, 200);
    refused(
        client.redeem(&pushed, &code).await,
        400,
        "invalid_grant",
        "already used",
    )
    .await;

    // Another redirect_uri than the code was issued for.
    let pushed = client.push().await;
    let code = param(&client.approve(&pushed).await, "code").unwrap();
    let elsewhere = client
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:8080/elsewhere"),
            ("code_verifier", &pushed.ticket.code_verifier),
        ])
        .await;
    refused(
        elsewhere,
        400,
        "invalid_grant",
        "not the one the code was issued for",
    )
    .await;

    // A replayed assertion: here after its use at the token endpoint, and one used at PAR.
    let pushed = client.push().await;
    let code = param(&client.approve(&pushed).await, "code").unwrap();
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", pushed.ticket.code_verifier.as_str()),
    ];
    let par_assertion = pushed.ticket.client_assertion.compact.clone();
    refused(
        client.token_with(&par_assertion, &params).await,
        401,
        "invalid_client",
        "already used",
    )
    .await;
    let assertion = client.assertion();
    assert_eq!(client.token_with(&assertion, &params).await.0, 200);
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "whatever"),
    ];
    refused(
        client.token_with(&assertion, &refresh).await,
        401,
        "invalid_client",
        "already used",
    )
    .await;

    // Unknown grant types and refresh tokens.
    let password = client.token(&[("grant_type", "password")]).await;
    refused(password, 400, "unsupported_grant_type", "password").await;
    refused(
        client.token(&refresh).await,
        400,
        "invalid_grant",
        "unknown",
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_buys_a_fresh_access_token() {
    let sandbox = Loop::start().await;
    let client = &sandbox.client;
    let (_, tokens) = client.tokens().await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, again) = client
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await;
    assert_eq!(status, 200, "{again}");
    assert_ne!(again["access_token"], tokens["access_token"]);
    assert_eq!(again["refresh_token"], refresh_token, "not rotated");
    assert_eq!(
        again["authorization_details"],
        tokens["authorization_details"]
    );
}

#[tokio::test]
async fn discovery_lists_what_is_served() {
    let sandbox = Loop::start().await;
    let client = &sandbox.client;
    let issuer = &client.issuer;
    let discovery: Value = client
        .http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (name, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
    ] {
        assert_eq!(discovery[name], format!("{issuer}{path}"), "{name}");
        let served = client
            .http
            .get(format!("{issuer}{path}"))
            .send()
            .await
            .unwrap();
        assert_ne!(served.status(), 404, "{path} is advertised but not served");
    }
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"][0],
        "PS256"
    );
    let jwks = client.jwks().await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0]["kty"].as_str(), keys[0]["alg"].as_str()),
        (Some("RSA"), Some("PS256"))
    );
    assert!(keys[0].get("d").is_none(), "no private part is published");
}
