//! The resource step through update() with a fixed clock (the shell's answers fed in by
//! hand): pick, send, answer, a stale answer, the consent and its revoke; and its screens as
//! insta snapshots (every layer verified, and a refused layer).

use std::time::Duration;

use crossterm::event::KeyCode;
use serde_json::json;

use super::app::{Answer, Effect, Message, Panel, RequestId, ResourceReport, ResourceWork};
use super::flow_tests::{accepted_fixture, flow_id, tokens};
use super::tests::{Fixture, snapshot, start};
use crate::core::resource::{Layer, Opened, ResourceExchange, Verdict, XSignature};

/// A fixture whose flow issued tokens for consent-42 with account acc-1.
fn with_tokens() -> Fixture {
    let mut f = accepted_fixture();
    let id = flow_id(&f.key(KeyCode::Char('o')));
    f.key(KeyCode::Esc);
    f.app.update(super::app::report(
        id,
        super::app::FlowReport::Tokens(Ok(tokens(start()))),
    ));
    assert!(f.app.tokens().is_some());
    f
}

fn resource_id(effects: &[Effect]) -> (RequestId, ResourceWork) {
    match effects {
        [Effect::Resource { id, work }] => (*id, work.clone()),
        other => panic!("expected one resource effect, got {other:?}"),
    }
}

fn answer(f: &mut Fixture, id: RequestId, report: ResourceReport) {
    f.app.update(Message::Resource {
        id,
        report: Box::new(report),
    });
}

fn balances(envelope: Verdict) -> Box<ResourceExchange> {
    let failed = envelope.is_failed();
    Box::new(ResourceExchange {
        endpoint: Some("balances".into()),
        method: "GET".into(),
        url: "http://127.0.0.1:9126/v1/accounts/acc-1/balances".into(),
        sent_headers: vec![("authorization".into(), "Bearer <redacted>".into())],
        x_signature: Some(XSignature {
            header_name: "x-signature".into(),
            header: json!({"alg": "EdDSA", "kid": "test-kid", "typ": "JOSE"}),
            claims: json!({"iss": "dc-1", "sub": "consent-42", "aud": ["dp-1", "Paynet OFP"],
                "url": "http://127.0.0.1:9126/v1/accounts/acc-1/balances", "qpm": {},
                "jti": "00000000-0000-4000-8000-000000000003"}),
            compact: "eyJ.x-signature.sig".into(),
        }),
        interaction_id: "00000000-0000-4000-8000-000000000003".into(),
        dpop: None,
        status: 200,
        headers: vec![("content-type".into(), "application/jose".into())],
        opened: Opened {
            envelope: Some(Layer {
                header: json!({"alg": "PS256", "kid": "sandbox-1"}),
                claims: Some(json!({"iss": "consent-42", "aud": ["Paynet OFP", "dp-1"],
                    "data": "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.long"})),
                verdict: envelope,
            }),
            jwe: (!failed).then(|| Layer {
                header: json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "demo-enc"}),
                claims: None,
                verdict: Verdict::Verified("demo-enc".into()),
            }),
            inner: None,
            payload: (!failed).then(|| {
                json!({"data": {"account_id": "acc-1", "balances": [{"type": "available",
                    "amount": "1024.50", "currency": "MYR"}]}})
            }),
            notes: Vec::new(),
        },
        notes: Vec::new(),
        elapsed: Duration::from_millis(12),
    })
}

fn refused(status: u16, error: &str) -> Box<ResourceExchange> {
    let mut exchange = balances(Verdict::Verified("sandbox-1".into()));
    exchange.status = status;
    exchange.opened = Opened {
        payload: Some(
            json!({"error": error, "error_description": "consent consent-42 was revoked"}),
        ),
        ..Opened::default()
    };
    exchange
}

fn consent(status: &str) -> Box<ResourceExchange> {
    let mut exchange = refused(200, "");
    exchange.endpoint = Some("consent".into());
    exchange.x_signature = None;
    exchange.opened.payload = Some(
        json!({"data": {"consent_id": "consent-42", "status": status,
        "status_history": [{"at": 1769767200, "status": status, "by": "data consumer"}]}}),
    );
    exchange
}

#[test]
fn u_needs_tokens_then_lists_the_packs_endpoints_and_the_consents_accounts() {
    let mut f = accepted_fixture();
    assert!(f.key(KeyCode::Char('u')).is_empty());
    assert!(f.app.resource.is_none());
    assert!(f.app.notice.as_deref().unwrap().contains("No tokens yet"));

    let mut f = with_tokens();
    assert!(
        f.key(KeyCode::Char('u')).is_empty(),
        "opening sends nothing"
    );
    let view = f.app.resource.as_ref().expect("the resource step");
    let names: Vec<&str> = view.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["accounts", "balances", "transactions"]);
    assert_eq!(view.accounts, ["acc-1"]);
    f.key(KeyCode::Esc);
    assert!(f.app.resource.is_none(), "esc goes back");
}

#[test]
fn pick_send_answer_and_a_stale_answer_is_dropped() {
    let mut f = with_tokens();
    f.key(KeyCode::Char('u'));
    f.key(KeyCode::Right);
    f.key(KeyCode::Right);
    f.key(KeyCode::Right);
    f.key(KeyCode::Left);
    assert_eq!(
        f.app.resource.as_ref().unwrap().chosen().unwrap().name,
        "balances"
    );
    let (first, work) = resource_id(&f.key(KeyCode::Enter));
    assert_eq!(
        work,
        ResourceWork::Call {
            endpoint: "balances".into(),
            args: vec!["acc-1".into()]
        }
    );
    assert!(matches!(
        f.app.resource.as_ref().unwrap().call,
        Some(Answer::Waiting { .. })
    ));
    assert_eq!(
        f.app.tick_period(),
        Some(Duration::from_millis(120)),
        "the spinner turns while waiting"
    );
    assert!(f.key(KeyCode::Enter).is_empty(), "one request at a time");
    assert!(f.app.notice.as_deref().unwrap().contains("in flight"));

    answer(
        &mut f,
        first,
        ResourceReport::Called(Ok(balances(Verdict::Verified("sandbox-1".into())))),
    );
    let Some(Answer::Done(done)) = &f.app.resource.as_ref().unwrap().call else {
        panic!("answered")
    };
    assert_eq!(done.status, 200);

    // A later call; the first one's answer arriving again must not replace it.
    f.key(KeyCode::Left);
    let (second, work) = resource_id(&f.key(KeyCode::Enter));
    assert_eq!(
        work,
        ResourceWork::Call {
            endpoint: "accounts".into(),
            args: vec![]
        },
        "accounts takes no account"
    );
    assert_ne!(first, second);
    answer(&mut f, first, ResourceReport::Called(Err("stale".into())));
    assert!(matches!(
        f.app.resource.as_ref().unwrap().call,
        Some(Answer::Waiting { .. })
    ));
    answer(
        &mut f,
        second,
        ResourceReport::Called(Ok(refused(403, "consent_revoked"))),
    );
    assert!(
        f.app
            .notice
            .as_deref()
            .unwrap()
            .contains("Refused: the server answered 403")
    );
}

#[test]
fn revoke_asks_first_and_v_shows_the_consent() {
    let mut f = with_tokens();
    // v on the main screen after the tokens: the consent, asked for at once.
    let (id, work) = resource_id(&f.key(KeyCode::Char('v')));
    assert_eq!(work, ResourceWork::ConsentShow);
    assert_eq!(f.app.resource.as_ref().unwrap().panel, Panel::Consent);
    answer(
        &mut f,
        id,
        ResourceReport::Consent(Ok(consent("authorized"))),
    );
    assert_eq!(f.app.notice.as_deref(), Some("The consent is authorized"));

    assert!(f.key(KeyCode::Char('x')).is_empty(), "x only asks");
    assert!(f.app.resource.as_ref().unwrap().confirm_revoke);
    assert!(f.key(KeyCode::Char('n')).is_empty(), "n keeps it");
    assert!(!f.app.resource.as_ref().unwrap().confirm_revoke);
    assert!(f.app.notice.as_deref().unwrap().contains("Not revoked"));

    f.key(KeyCode::Char('x'));
    let (id, work) = resource_id(&f.key(KeyCode::Char('y')));
    assert_eq!(work, ResourceWork::ConsentRevoke);
    answer(&mut f, id, ResourceReport::Consent(Ok(consent("revoked"))));
    assert_eq!(f.app.notice.as_deref(), Some("The consent is revoked"));
    let screen = f.screen(160, 45);
    assert!(screen.contains("consent status revoked"), "{screen}");
}

#[test]
fn screen_resource_answered_every_layer_verified() {
    let mut f = with_tokens();
    f.key(KeyCode::Char('u'));
    f.key(KeyCode::Right);
    let (id, _) = resource_id(&f.key(KeyCode::Enter));
    answer(
        &mut f,
        id,
        ResourceReport::Called(Ok(balances(Verdict::Verified("sandbox-1".into())))),
    );
    let screen = f.screen(160, 45);
    for mark in [
        "x-signature (sent)",
        "✓ verified: the server accepted it",
        "Envelope (JWS)",
        "✓ verified (kid sandbox-1)",
        "✓ verified (kid demo-enc)",
        "✓ decrypted",
        "1024.50",
    ] {
        assert!(screen.contains(mark), "{mark} in\n{screen}");
    }
    snapshot("resource_answered_160x45", screen);
    snapshot("resource_answered_100x30", f.screen(100, 30));
    assert_eq!(
        f.app.tick_period(),
        Some(Duration::from_secs(1)),
        "once answered, only the token's countdown ticks"
    );
}

#[test]
fn screen_resource_with_a_refused_layer_and_a_refused_call() {
    let mut f = with_tokens();
    f.key(KeyCode::Char('u'));
    f.key(KeyCode::Right);
    let (id, _) = resource_id(&f.key(KeyCode::Enter));
    let wrong = Verdict::Failed("the signature does not match kid sandbox-1".into());
    answer(&mut f, id, ResourceReport::Called(Ok(balances(wrong))));
    let screen = f.screen(160, 45);
    assert!(
        screen.contains("✗ FAILED: the signature does not"),
        "{screen}"
    );
    assert!(screen.contains("✗ not trusted: the envelope"), "{screen}");
    assert!(!screen.contains("1024.50"), "nothing under a failed layer");
    snapshot("resource_refused_layer_160x45", screen);

    let (id, _) = resource_id(&f.key(KeyCode::Enter));
    answer(
        &mut f,
        id,
        ResourceReport::Called(Ok(refused(403, "consent_revoked"))),
    );
    let screen = f.screen(160, 45);
    assert!(
        screen.contains("refused: the server answered 403 consent_revoked"),
        "{screen}"
    );
    f.key(KeyCode::Char('x'));
    snapshot("resource_confirm_revoke_120x32", f.screen(120, 32));
}

#[test]
fn effects_and_reports_say_nothing_secret_in_debug() {
    let work = ResourceWork::Call {
        endpoint: "balances".into(),
        args: vec!["acc-1".into()],
    };
    let effect = format!(
        "{:?}",
        Effect::Resource {
            id: RequestId::default(),
            work
        }
    );
    assert!(effect.starts_with("Resource("), "{effect}");
    let report = format!(
        "{:?}",
        ResourceReport::Called(Ok(balances(Verdict::Verified("k".into()))))
    );
    assert!(
        !report.contains("eyJ.x-signature.sig"),
        "the compact JWS is left out: {report}"
    );
}

/// A DPoP-bound token's call: its proof (with ath) is drawn under the signature sent.
#[test]
fn a_dpop_call_shows_its_proof_beside_the_signature() {
    let mut f = with_tokens();
    f.key(KeyCode::Char('u'));
    f.key(KeyCode::Right);
    let (id, _) = resource_id(&f.key(KeyCode::Enter));
    let mut exchange = balances(Verdict::Verified("sandbox-1".into()));
    exchange.dpop = Some(crate::core::dpop::ProofTrail {
        proofs: vec![crate::core::jws::DecodedJwt {
            header: json!({"typ": "dpop+jwt", "alg": "ES256"}),
            claims: json!({"htm": "GET", "htu": "http://127.0.0.1:9126/v1/accounts/acc-1/balances",
                "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}),
            compact: "eyJ.compact-proof.sig".into(),
        }],
        ..Default::default()
    });
    answer(&mut f, id, ResourceReport::Called(Ok(exchange)));
    let screen = f.screen(160, 45);
    for part in ["DPoP proof sent with the call", "\"ath\"", "dpop+jwt"] {
        assert!(screen.contains(part), "{part} in\n{screen}");
    }
    assert!(
        !screen.contains("compact-proof"),
        "the compact proof is never drawn"
    );
}
