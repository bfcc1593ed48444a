//! Every secret of a live flow (assertion, request object, verifier, nonce, code, the three
//! tokens, the refresh grant's) looked for, byte for byte, in the data dir once the history
//! has it. Its own test binary: it points the data dir at a temporary folder for the process.

mod common;

use consent_explorer::core::flow::callback::Callback;
use consent_explorer::core::request::Overrides;
use consent_explorer::core::session::Session;
use consent_explorer::core::transport::{self, ClientOptions, Outcome};

#[tokio::test]
async fn no_secret_of_a_live_flow_reaches_the_history() {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    // SAFETY: the only test of this binary, before any thread reads the environment.
    unsafe {
        std::env::set_var("CONSENT_EXPLORER_DATA_DIR", data.path());
        std::env::set_var("CONSENT_EXPLORER_CONFIG_DIR", config.path());
    }
    let session = Session::open("local", &Overrides::default()).await.unwrap();
    let options = ClientOptions::default();
    let mut rng = rand::rng();
    let now = jiff::Timestamp::now();
    let built = session.build(&[], now, &mut rng).unwrap();
    let ticket = &built.ticket;
    let delivery = session.deliver(ticket, &options).await.unwrap();
    let Outcome::Accepted { request_uri, .. } = &delivery.exchange.outcome else {
        panic!("{:?}", delivery.exchange.outcome)
    };
    session
        .record_flow(ticket, &delivery.exchange.outcome, now)
        .unwrap();
    let authorize = transport::authorize_url(
        delivery.authorization_endpoint.as_deref().unwrap(),
        &session.seed().client_id,
        request_uri,
    );
    let callback_url = session
        .authorize_headless(&authorize, true, &options)
        .await
        .unwrap();
    let callback = Callback::parse(&callback_url).unwrap();
    let code = session
        .check_callback(&callback, None, jiff::Timestamp::now())
        .unwrap();
    let tokens = session
        .exchange_code(&code, &options, &mut rng)
        .await
        .unwrap();
    let consent_explorer::core::flow::token::TokenOutcome::Issued(set) = &tokens.exchange.outcome
    else {
        panic!()
    };
    let kept = session.keep_tokens(set, None).unwrap();
    let refreshed = session.refresh(&kept, &options, &mut rng).await.unwrap();
    let consent_explorer::core::flow::token::TokenOutcome::Issued(second) =
        &refreshed.exchange.outcome
    else {
        panic!()
    };
    assert!(session.history_warnings().is_empty());

    let mut secrets = vec![
        ("client assertion", ticket.client_assertion.compact.clone()),
        ("request object", ticket.request.compact.clone()),
        ("code_verifier", ticket.code_verifier.clone()),
        ("nonce", code.flow.nonce.clone()),
        ("code", code.code.clone()),
        ("access token", set.access_token.expose().to_owned()),
        (
            "id token",
            set.id_token.as_ref().unwrap().expose().to_owned(),
        ),
        (
            "second access token",
            second.access_token.expose().to_owned(),
        ),
    ];
    if let Some(refresh) = &set.refresh_token {
        secrets.push(("refresh token", refresh.expose().to_owned()));
    }
    for (what, compact) in [
        ("assertion signature", &ticket.client_assertion.compact),
        ("request object signature", &ticket.request.compact),
    ] {
        secrets.push((what, compact.rsplit('.').next().unwrap().to_owned()));
    }
    drop(session);
    let mut seen_history = false;
    for (path, bytes) in common::files(data.path()) {
        let kept_elsewhere = ["tokens", "demo-keys", "flows"];
        if path
            .parent()
            .is_some_and(|p| kept_elsewhere.iter().any(|k| p.ends_with(k)))
        {
            continue;
        }
        seen_history |= path.file_name().is_some_and(|n| n == "history.db");
        for (what, secret) in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the {what} is in {path:?}"
            );
        }
    }
    assert!(seen_history);
    let (history, _) = consent_explorer::core::history::History::open(
        &data.path().join("history.db"),
        Default::default(),
    )
    .unwrap();
    let steps: Vec<String> = history
        .all_entries()
        .unwrap()
        .iter()
        .map(|e| e.summary.step.clone())
        .collect();
    assert_eq!(steps, ["par", "callback", "token", "refresh"]);
}
