//! The stepper after an accepted PAR, step by step through update() with a fixed clock (the
//! shell's reports fed in by hand), and each step's screen as an insta snapshot.

use std::sync::Arc;

use crossterm::event::KeyCode;
use jiff::SignedDuration;
use rand::SeedableRng;
use serde_json::json;

use super::app::{
    App, CallbackWait, Effect, FlowReport, FlowWork, Message, Overlay, RequestId, Stage, Step,
    StepFailure, TokenView,
};
use super::tests::{Fixture, accepted, snapshot, start, test_key};
use crate::core::flow::token::{Account, GrantedConsent, Secret};
use crate::core::session::Session;

const ACCESS: &str = "at-0123456789-the-whole-access-token";
const CODE_URL: &str =
    "http://127.0.0.1:8080/callback?code=c0de-secret&state=s-1&iss=http%3A%2F%2F127.0.0.1%3A9126";

pub(super) fn tokens(at: jiff::Timestamp) -> Box<TokenView> {
    Box::new(TokenView {
        status: 200,
        interaction_id: "00000000-0000-4000-8000-000000000002".into(),
        elapsed_ms: 3.2,
        token_type: "Bearer",
        expires_at: Some(at + SignedDuration::from_secs(600)),
        scope: Some("openid accounts".into()),
        consents: vec![GrantedConsent {
            detail_type: Some("my-account-access".into()),
            consent_id: Some("consent-42".into()),
            status: Some("authorized".into()),
            accounts: vec![Account {
                account_id: "acc-1".into(),
                account_number: None,
                account_name: Some("Savings".into()),
            }],
            found_in: None,
        }],
        id_token: Some((
            json!({"alg": "PS256", "kid": "sandbox-1"}),
            json!({"iss": "http://127.0.0.1:9126", "sub": "user-1", "nonce": "(hidden)"}),
        )),
        access_claims: Some(json!({"sub": "user-1", "consent_id": "consent-42"})),
        access_token: Secret::new(ACCESS),
        refresh_token: Some(Secret::new("rt-0123456789-the-whole-refresh")),
        warnings: Vec::new(),
        refreshes: 0,
        dpop: None,
    })
}

pub(super) fn flow_id(effects: &[Effect]) -> RequestId {
    match effects {
        [Effect::Flow { id, .. }] => *id,
        other => panic!("expected one flow effect, got {other:?}"),
    }
}

pub(super) fn report(f: &mut Fixture, id: RequestId, report: FlowReport) -> Vec<Effect> {
    f.app.update(super::app::report(id, report))
}

fn stage(f: &Fixture) -> &Stage {
    &f.app.flow.as_ref().expect("a flow").stage
}

/// A fixture whose PAR was accepted.
pub(super) fn accepted_fixture() -> Fixture {
    let mut f = Fixture::new("local");
    f.key(KeyCode::Char('s'));
    f.answer(Ok(accepted(start())));
    f
}

#[test]
fn o_needs_a_request_uri_that_has_not_expired() {
    let mut f = Fixture::new("local");
    assert!(f.key(KeyCode::Char('o')).is_empty());
    assert!(f.app.notice.as_deref().unwrap().contains("submit with s"));

    let mut f = accepted_fixture();
    assert!(matches!(stage(&f), Stage::Ready));
    f.advance(91);
    f.app.update(Message::Tick);
    assert!(f.key(KeyCode::Char('o')).is_empty());
    assert!(
        f.app.notice.as_deref().unwrap().contains("expired"),
        "warned before o"
    );
    assert!(matches!(stage(&f), Stage::Ready));
}

#[test]
fn the_flow_from_authorize_to_refreshed_tokens() {
    let mut f = accepted_fixture();
    let effects = f.key(KeyCode::Char('o'));
    let id = flow_id(&effects);
    let [
        Effect::Flow {
            work: FlowWork::Authorize { url, redirect_uri },
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert!(
        url.starts_with("http://127.0.0.1:9126/authorize?client_id="),
        "{url}"
    );
    assert_eq!(redirect_uri, "http://127.0.0.1:8080/callback");
    assert!(matches!(f.app.overlay, Overlay::Authorize));
    report(&mut f, id, FlowReport::Listening(8080));
    report(&mut f, id, FlowReport::Browser(Err("no DISPLAY".into())));
    let Stage::Authorizing { wait, browser, .. } = stage(&f) else {
        panic!()
    };
    assert_eq!(*wait, CallbackWait::Listener(Some(8080)));
    assert!(browser.as_deref().unwrap().contains("no DISPLAY"));
    snapshot("flow_authorize_qr", f.screen(160, 45));
    f.key(KeyCode::Esc);
    snapshot("flow_waiting_for_callback", f.screen(160, 45));

    // The callback: the code goes to the exchange, never to Debug output.
    let effects = report(&mut f, id, FlowReport::Callback(Ok(Secret::new(CODE_URL))));
    let exchange_id = flow_id(&effects);
    assert!(matches!(
        effects[0],
        Effect::Flow {
            work: FlowWork::Exchange { .. },
            ..
        }
    ));
    assert!(!format!("{effects:?}").contains("c0de"), "{effects:?}");
    assert!(matches!(stage(&f), Stage::Exchanging { .. }));
    assert_eq!(
        f.app.tick_period(),
        Some(std::time::Duration::from_millis(120))
    );
    snapshot("flow_exchanging", f.screen(160, 45));

    // A late answer to the authorize step is dropped.
    report(&mut f, id, FlowReport::Tokens(Ok(tokens(start()))));
    assert!(matches!(stage(&f), Stage::Exchanging { .. }));
    report(&mut f, exchange_id, FlowReport::Tokens(Ok(tokens(start()))));
    assert!(matches!(stage(&f), Stage::Issued(_)));
    assert_eq!(f.app.tick_period(), Some(std::time::Duration::from_secs(1)));
    f.advance(15);
    f.app.update(Message::Tick);
    let screen = f.screen(160, 45);
    assert!(screen.contains("access token: 09:45 left"), "{screen}");
    assert!(!screen.contains(ACCESS), "tokens are redacted by default");
    snapshot("flow_tokens", screen);

    // T shows the tokens in full; again hides them.
    f.key(KeyCode::Char('T'));
    assert!(f.screen(160, 45).contains(ACCESS));
    f.key(KeyCode::Char('T'));
    assert!(!f.screen(160, 45).contains(ACCESS));

    // R refreshes; a second R while one is in flight is refused.
    let effects = f.key(KeyCode::Char('R'));
    let refresh_id = flow_id(&effects);
    assert!(matches!(
        effects[0],
        Effect::Flow {
            work: FlowWork::Refresh { refreshes: 1 },
            ..
        }
    ));
    assert!(f.key(KeyCode::Char('R')).is_empty());
    let mut refreshed = tokens(start() + SignedDuration::from_secs(15));
    refreshed.refreshes = 1;
    refreshed.id_token = None;
    report(&mut f, refresh_id, FlowReport::Tokens(Ok(refreshed)));
    let screen = f.screen(160, 45);
    assert!(screen.contains("access token: 10:00 left"), "{screen}");
    assert!(screen.contains("refreshed 1 time(s)"), "{screen}");
    assert!(
        screen.contains("ID token ✓ verified"),
        "the first ID token stays: {screen}"
    );

    // A refused refresh leaves the tokens and says why.
    let refresh_id = flow_id(&f.key(KeyCode::Char('R')));
    let refused = StepFailure {
        retry_paste: false,
        step: Step::Token,
        message: "refused (400): invalid_grant".into(),
        explanation: None,
    };
    report(&mut f, refresh_id, FlowReport::Tokens(Err(refused)));
    assert!(matches!(stage(&f), Stage::Issued(_)));
    assert!(
        f.screen(160, 45)
            .contains("✗ refresh: refused (400): invalid_grant")
    );

    // A new push starts a new flow: the stepper is back at its first step.
    f.key(KeyCode::Char('r'));
    assert!(f.app.flow.is_none());
}

#[test]
fn a_pasted_redirect_url_is_checked_before_the_exchange() {
    let mut f = accepted_fixture();
    f.key(KeyCode::Char('v'));
    assert!(
        f.app.overlay_is_none(),
        "no paste before the authorize step"
    );
    f.key(KeyCode::Char('o'));
    f.key(KeyCode::Char('v'));
    assert!(matches!(f.app.overlay, Overlay::PasteCallback { .. }));
    f.app.update(Message::Paste("not a url".into()));
    assert!(f.key(KeyCode::Enter).is_empty());
    let Overlay::PasteCallback { error, .. } = &f.app.overlay else {
        panic!()
    };
    assert!(error.as_deref().unwrap().contains("not a URL"), "{error:?}");
    // Esc, then paste again from scratch.
    f.key(KeyCode::Esc);
    f.key(KeyCode::Char('v'));
    f.app.update(Message::Paste(format!("{CODE_URL}\n")));
    let effects = f.key(KeyCode::Enter);
    let [
        Effect::Flow {
            work: FlowWork::Exchange { callback },
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert_eq!(callback.expose(), CODE_URL);
    assert!(f.app.overlay_is_none());

    // While the authorize overlay waits, a paste opens the field with the URL in it.
    let mut f = accepted_fixture();
    f.key(KeyCode::Char('o'));
    f.app.update(Message::Paste(CODE_URL.into()));
    assert!(matches!(f.app.overlay, Overlay::PasteCallback { .. }));
    assert!(matches!(
        f.key(KeyCode::Enter).as_slice(),
        [Effect::Flow {
            work: FlowWork::Exchange { .. },
            ..
        }]
    ));
}

#[test]
fn a_failed_step_is_named_with_what_it_means() {
    let mut f = accepted_fixture();
    let id = flow_id(&f.key(KeyCode::Char('o')));
    f.key(KeyCode::Esc);
    let failure = StepFailure {
        retry_paste: false,
        step: Step::Callback,
        message: "access_denied: the user said no".into(),
        explanation: Some(
            "The authorization server redirected with an error instead of a code.".into(),
        ),
    };
    report(&mut f, id, FlowReport::Callback(Err(failure)));
    assert!(matches!(
        stage(&f),
        Stage::Failed {
            step: Step::Callback,
            ..
        }
    ));
    assert!(
        f.key(KeyCode::Char('o')).is_empty(),
        "a used request_uri is not reopened"
    );
    snapshot("flow_failed", f.screen(160, 45));
}

#[tokio::test]
async fn against_the_sandbox_o_offers_approve_and_deny_here() {
    let session = Session::builtin_with_key("local", test_key())
        .unwrap()
        .start_sandbox()
        .await
        .unwrap();
    let mut app = App::new(
        Arc::new(session),
        Box::new(start),
        Box::new(rand::rngs::StdRng::seed_from_u64(7)),
    );
    let key = |app: &mut App, c| {
        app.update(Message::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        )))
    };
    key(&mut app, 's');
    let id = app.request_id();
    app.update(Message::Delivered {
        id,
        result: Box::new(Ok(accepted(start()))),
    });
    assert!(key(&mut app, 'o').is_empty(), "no browser, no listener");
    assert!(matches!(app.overlay, Overlay::Authorize));
    let effects = key(&mut app, 'n');
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Flow {
                work: FlowWork::Headless { approve: false, .. },
                ..
            }]
        ),
        "{effects:?}"
    );
    key(&mut app, 'o');
    let effects = key(&mut app, 'y');
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Flow {
                work: FlowWork::Headless { approve: true, .. },
                ..
            }]
        ),
        "{effects:?}"
    );
}

/// A pasted URL of no pending flow (another tab's, a typo in the state) leaves the flow as it
/// was: the paste field comes back with the reason, and a right URL still completes it.
#[test]
fn a_wrong_paste_can_be_followed_by_the_right_one() {
    let mut f = accepted_fixture();
    f.key(KeyCode::Char('o'));
    f.key(KeyCode::Char('v'));
    f.app.update(Message::Paste(CODE_URL.into()));
    let id = flow_id(&f.key(KeyCode::Enter));
    assert!(matches!(stage(&f), Stage::Exchanging { .. }));
    let not_ours = StepFailure {
        retry_paste: true,
        step: Step::Callback,
        message: "state_unknown: no pending flow has state s-9".into(),
        explanation: None,
    };
    report(&mut f, id, FlowReport::Tokens(Err(not_ours)));
    assert!(
        matches!(stage(&f), Stage::Authorizing { .. }),
        "back to authorize"
    );
    let Overlay::PasteCallback { error, .. } = &f.app.overlay else {
        panic!("the paste field again")
    };
    assert!(
        error.as_deref().unwrap().contains("state_unknown"),
        "{error:?}"
    );
    f.app.update(Message::Paste(CODE_URL.into()));
    assert!(matches!(
        f.key(KeyCode::Enter).as_slice(),
        [Effect::Flow {
            work: FlowWork::Exchange { .. },
            ..
        }]
    ));
}

/// The request_uri's time stays in view while the person is at the bank, and its expiry is
/// said there, with what to do.
#[test]
fn the_authorize_step_shows_the_request_uris_time_and_its_expiry() {
    let mut f = accepted_fixture();
    f.key(KeyCode::Char('o'));
    f.key(KeyCode::Esc);
    assert!(f.screen(160, 45).contains("request_uri 01:30 left"));
    f.advance(120);
    f.app.update(Message::Tick);
    let screen = f.screen(160, 45);
    assert!(
        screen.contains("The request_uri has expired: r pushes a fresh request"),
        "{screen}"
    );
}
