use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::core::flow::pending::tests::flow;
use crate::core::flow::pending::{COMPLETION_GRACE, PendingFlow};
use crate::core::request::tests::now;

const ISSUER: &str = "http://127.0.0.1:9126";

fn parsed(text: &str) -> Callback {
    Callback::parse(text).unwrap()
}

#[test]
fn parse_takes_a_whole_url_or_only_its_query() {
    let full = parsed("https://client.example/cb?code=c%2B1&state=s-1&iss=https%3A%2F%2Fas&x=y");
    assert_eq!(full.code.as_deref(), Some("c+1"));
    assert_eq!(full.state.as_deref(), Some("s-1"));
    assert_eq!(full.iss.as_deref(), Some("https://as"));
    assert_eq!(full.error, None);
    assert_eq!(
        parsed("  ?code=c%2B1&state=s-1&iss=https%3A%2F%2Fas \n"),
        Callback { ..full.clone() }
    );
    assert_eq!(parsed("code=c%2B1&state=s-1&iss=https://as"), full);

    let error = parsed(
        "http://127.0.0.1:3000/cb?error=access_denied&error_description=the+user+said+no&error_uri=https%3A%2F%2Fdoc&state=s",
    );
    assert_eq!(error.error.as_deref(), Some("access_denied"));
    assert_eq!(error.error_description.as_deref(), Some("the user said no"));
    assert_eq!(error.error_uri.as_deref(), Some("https://doc"));
    assert_eq!(error.code, None);
}

#[test]
fn parse_names_each_kind_of_garbage_without_repeating_it() {
    use CallbackParseError::*;
    let cases = [
        ("", Empty),
        ("   ", Empty),
        ("the code is secret-code", NotAUrl),
        ("https://", NotAUrl),
        ("https://client.example/cb", NoQuery),
        ("https://client.example/cb?", NoQuery),
        (
            "https://client.example/cb#code=secret-code&state=s",
            InFragment,
        ),
        (
            "https://client.example/cb?code=secret-code&state=a&state=b",
            Duplicate("state".into()),
        ),
        (
            "?code=secret-code&code=secret-code",
            Duplicate("code".into()),
        ),
        ("https://client.example/cb?foo=bar", NoCodeOrError),
        ("state=s", NoCodeOrError),
    ];
    for (text, expected) in cases {
        let err = Callback::parse(text).unwrap_err();
        assert_eq!(err, expected, "{text:?}");
        assert!(!err.to_string().contains("secret-code"), "{err}");
    }
    let long = format!("?code={}", "a".repeat(MAX_CALLBACK_LEN));
    assert_eq!(Callback::parse(&long), Err(TooLong(long.len())));
    let hostile = Callback::parse("?\u{1b}]52;c;x=1&\u{1b}]52;c;x=2").unwrap_err();
    assert!(!hostile.to_string().contains('\u{1b}'));
}

#[test]
fn debug_hides_the_code() {
    let callback = parsed("?code=secret-code&state=s");
    assert!(!format!("{callback:?}").contains("secret-code"));
    let checked = check(&callback, found(flow_with_state("s")), ISSUER, false, now()).unwrap();
    assert_eq!(checked.code, "secret-code");
    assert!(!format!("{checked:?}").contains("secret-code"));
}

fn flow_with_state(state: &str) -> PendingFlow {
    PendingFlow {
        state: state.into(),
        issuer: ISSUER.into(),
        ..flow()
    }
}

fn found(flow: PendingFlow) -> impl FnOnce(&str) -> Result<Option<PendingFlow>, StoreError> {
    move |state| Ok((flow.state == state).then_some(flow))
}

fn refused(text: &str, iss_required: bool, at: Timestamp) -> Refusal {
    match check(
        &parsed(text),
        found(flow_with_state("s")),
        ISSUER,
        iss_required,
        at,
    ) {
        Err(CheckError::Refused(refusal)) => refusal,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn a_good_callback_gives_the_code_and_its_flow() {
    let text = format!("?code=c&state=s&iss={ISSUER}");
    let checked = check(
        &parsed(&text),
        found(flow_with_state("s")),
        ISSUER,
        true,
        now(),
    )
    .unwrap();
    assert_eq!(checked.code, "c");
    assert_eq!(checked.flow, flow_with_state("s"));
    assert!(checked.warnings.is_empty());
}

#[test]
fn each_refusal_has_its_code() {
    let cases = [
        ("?code=c", false, "state_unknown"),
        ("?code=c&state=other", false, "state_unknown"),
        (
            "?code=c&state=s&iss=https://evil.example",
            false,
            "iss_mismatch",
        ),
        // RFC 9207: a trailing slash is another issuer.
        (
            "?code=c&state=s&iss=http://127.0.0.1:9126/",
            false,
            "iss_mismatch",
        ),
        ("?code=c&state=s", true, "iss_missing"),
        (
            "?error=access_denied&state=s&iss=https://evil.example",
            false,
            "iss_mismatch",
        ),
        (
            "?error=access_denied&error_description=no&state=s",
            false,
            "access_denied",
        ),
        ("?error=made_up&state=s", false, "made_up"),
    ];
    for (text, iss_required, code) in cases {
        let refusal = refused(text, iss_required, now());
        assert_eq!(refusal.code(), code, "{text}");
        assert!(refusal.to_string().starts_with(code), "{refusal}");
        assert!(!refusal.explanation().is_empty());
    }
}

#[test]
fn an_error_redirect_is_explained_through_the_oauth_table() {
    let refusal = refused(
        "?error=access_denied&error_description=the+user+said+no&state=s",
        false,
        now(),
    );
    assert_eq!(refusal.to_string(), "access_denied: the user said no");
    assert!(
        refusal
            .explanation()
            .ends_with(oauth::explain("access_denied").as_str())
    );
    let odd = refused("?error=made_up&state=s", false, now());
    assert!(
        odd.explanation().contains("non-standard"),
        "{}",
        odd.explanation()
    );
}

#[test]
fn a_missing_iss_is_a_warning_naming_the_quirk_unless_announced() {
    let checked = check(
        &parsed("?code=c&state=s"),
        found(flow_with_state("s")),
        ISSUER,
        false,
        now(),
    )
    .unwrap();
    assert_eq!(checked.warnings, [CallbackWarning::IssMissing]);
    let warning = checked.warnings[0].to_string();
    assert!(warning.contains("Malaysia"), "{warning}");
    assert!(warning.contains("authorization_response_iss_parameter_supported"));
}

#[test]
fn a_flow_past_its_grace_is_expired() {
    let flow = flow_with_state("s");
    let last = flow.expires_at + COMPLETION_GRACE;
    assert!(
        check(
            &parsed("?code=c&state=s"),
            found(flow.clone()),
            ISSUER,
            false,
            last
        )
        .is_ok()
    );
    let late = last + SignedDuration::from_secs(1);
    assert_eq!(
        refused("?code=c&state=s", false, late),
        Refusal::RequestExpired { usable_until: last }
    );
}

#[test]
fn a_store_failure_is_not_a_refusal() {
    let broken = |_: &str| {
        Err(StoreError::Io {
            path: "/data/flows".into(),
            source: std::io::Error::other("disk gone"),
        })
    };
    let result = check(&parsed("?code=c&state=s"), broken, ISSUER, false, now());
    assert!(matches!(result, Err(CheckError::Store(_))), "{result:?}");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

type Waiting = tokio::task::JoinHandle<Result<String, ListenError>>;

/// A listener bound on a free port, waiting in the background: its port and its result.
async fn listening(redirect_uri: &str) -> (u16, Waiting) {
    let listener = CallbackListener::bind(redirect_uri).await.unwrap();
    let port = listener.port();
    let wait = listener.wait(Duration::from_secs(10), std::future::pending());
    (port, tokio::spawn(wait))
}

#[tokio::test]
async fn the_listener_returns_the_one_callback_and_404s_the_rest() {
    let (port, waiting) = listening("http://127.0.0.1:0/cb").await;
    let base = format!("http://127.0.0.1:{port}");
    let favicon = client()
        .get(format!("{base}/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(favicon.status(), 404);
    let post = client().post(format!("{base}/cb")).send().await.unwrap();
    assert_eq!(post.status(), 405);

    let page = client()
        .get(format!("{base}/cb?code=secret-code&state=s&iss=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("close this window"), "{html}");
    assert!(!html.contains("secret-code"));
    let url = waiting.await.unwrap().unwrap();
    assert_eq!(url, format!("{base}/cb?code=secret-code&state=s&iss=x"));
    assert_eq!(parsed(&url).code.as_deref(), Some("secret-code"));
}

#[tokio::test]
async fn the_listener_escapes_what_it_echoes() {
    let (port, waiting) = listening("http://localhost:0/done").await;
    let html = client()
        .get(format!(
            "http://127.0.0.1:{port}/done?error=%3Cscript%3Ealert(1)%3C/script%3E&state=s"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    let url = waiting.await.unwrap().unwrap();
    assert!(
        url.starts_with(&format!("http://localhost:{port}/done?error=")),
        "{url}"
    );
}

#[tokio::test]
async fn the_listener_times_out_and_can_be_cancelled() {
    let listener = CallbackListener::bind("http://127.0.0.1:0/cb")
        .await
        .unwrap();
    let err = listener
        .wait(Duration::from_millis(50), std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(err, ListenError::TimedOut(_)), "{err}");

    let listener = CallbackListener::bind("http://127.0.0.1:0/cb")
        .await
        .unwrap();
    let port = listener.port();
    let err = listener
        .wait(Duration::from_secs(10), async {})
        .await
        .unwrap_err();
    assert!(matches!(err, ListenError::Cancelled), "{err}");
    // The port is free again once the wait is over.
    CallbackListener::bind(&format!("http://127.0.0.1:{port}/cb"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_listener_takes_only_loopback_http_and_names_a_taken_port() {
    for uri in [
        "https://127.0.0.1:8443/cb",
        "http://client.example:8080/cb",
        "http://[::1]:8080/cb",
        "not a url",
    ] {
        let err = CallbackListener::bind(uri).await.err().unwrap();
        assert!(matches!(err, ListenError::NotLoopback), "{uri}: {err}");
    }
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = CallbackListener::bind(&format!("http://127.0.0.1:{port}/cb"))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ListenError::Bind { .. }), "{err}");
    assert!(err.to_string().contains(&port.to_string()));
}
