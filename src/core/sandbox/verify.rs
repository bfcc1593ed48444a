//! The PAR verification as ordered steps, each refusing with the OAuth error a strict server
//! answers: the form, the client (assertion type, a known client), the request object, the
//! rulebook (client authentication first, as on a real server), the jti replay, then the rest
//! of the rulebook and the registered redirect_uri. The token endpoint authenticates its
//! client by the same steps and the same jti store.

use std::collections::HashMap;
use std::sync::PoisonError;

use axum::http::{HeaderMap, header};
use jiff::Timestamp;
use serde_json::Value;

use super::AppState;
use super::grant::Asked;
use super::store::{JTI_CAP, JtiUse};
use crate::core::jws::{self, DecodedJwt};
use crate::core::lint::{self, Finding, Severity};
use crate::core::oauth::OAuthError;
use crate::core::request::CLIENT_ASSERTION_TYPE;

/// Why the sandbox refuses a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub error: OAuthError,
    pub description: String,
}

impl Refusal {
    pub(super) fn new(error: OAuthError, description: impl Into<String>) -> Refusal {
        Refusal {
            error,
            description: description.into(),
        }
    }

    fn of(finding: &Finding, error: OAuthError) -> Refusal {
        Refusal::new(
            error,
            format!(
                "{} [{}; {}]",
                finding.message, finding.id, finding.reference
            ),
        )
    }
}

/// A pushed request that passed every step.
pub(super) struct Verified {
    pub client_id: String,
    pub asked: Asked,
}

pub(super) type Form = HashMap<String, String>;

pub(super) fn verify_par(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<Verified, Refusal> {
    let form = read_form(headers, body, "the PAR", "RFC 9126 2.1")?;
    if form.contains_key("request_uri") {
        return Err(Refusal::new(
            OAuthError::InvalidRequest,
            "request_uri must not be sent to the PAR endpoint (RFC 9126 2.1)",
        ));
    }
    let assertion = client_assertion(&form)?;
    let client_id = known_client(state, &form, &assertion)?;
    let request = request_object(&form)?;
    let findings = lint_push(state, &request, &assertion, &client_id, now);
    authenticate(&findings)?;
    first_use_of_jti(state, &assertion, now)?;
    refuse_by_rulebook(&findings)?;
    registered_redirect_uri(state, &request)?;
    Ok(Verified {
        client_id,
        asked: Asked::of(&request),
    })
}

/// The token endpoint's client authentication: the rules PAR authenticates by, run on the
/// assertion alone, then the same jti store (an assertion used at PAR is refused here too).
pub(super) fn authenticate_client(
    state: &AppState,
    form: &Form,
    now: Timestamp,
) -> Result<String, Refusal> {
    let assertion = client_assertion(form)?;
    let client_id = known_client(state, form, &assertion)?;
    let no_request = DecodedJwt {
        header: Value::Object(Default::default()),
        claims: Value::Object(Default::default()),
        compact: String::new(),
    };
    let subject = lint::Subject {
        request: &no_request,
        assertion: Some(&assertion),
        form_client_id: Some(&client_id),
    };
    let urls = Urls::of(state);
    let ctx = urls.context(state, &client_id, now);
    let findings: Vec<Finding> = lint::rules()
        .filter(|rule| rule.refusal == Some(OAuthError::InvalidClient))
        .filter_map(|rule| {
            (rule.check)(&subject, &ctx).map(|message| Finding {
                id: rule.id,
                severity: rule.severity,
                message,
                reference: rule.reference,
                refusal: rule.refusal,
            })
        })
        .collect();
    authenticate(&findings)?;
    first_use_of_jti(state, &assertion, now)?;
    Ok(client_id)
}

/// The form of a POST, each parameter once. `what` and `reference` name the endpoint.
pub(super) fn read_form(
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
    reference: &str,
) -> Result<Form, Refusal> {
    let bad = |d: String| Refusal::new(OAuthError::InvalidRequest, d);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(bad(format!(
            "{what} must be an application/x-www-form-urlencoded POST ({reference})"
        )));
    }
    let mut form = Form::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if form.insert(k.to_string(), v.to_string()).is_some() {
            return Err(bad(format!("parameter {k} is repeated ({reference})")));
        }
    }
    Ok(form)
}

fn client_assertion(form: &Form) -> Result<DecodedJwt, Refusal> {
    let refuse = |d: String| Refusal::new(OAuthError::InvalidClient, d);
    if form.get("client_assertion_type").map(String::as_str) != Some(CLIENT_ASSERTION_TYPE) {
        return Err(refuse(format!(
            "client_assertion_type must be {CLIENT_ASSERTION_TYPE} (private_key_jwt, RFC 7523 2.2)"
        )));
    }
    match form.get("client_assertion").map(|a| jws::decode(a)) {
        Some(Ok(a)) => Ok(a),
        Some(Err(e)) => Err(refuse(format!("the client assertion is not a JWT: {e}"))),
        None => Err(refuse("no client_assertion".into())),
    }
}

/// The form's client_id, else the assertion's iss, must be the one trusted client.
fn known_client(state: &AppState, form: &Form, assertion: &DecodedJwt) -> Result<String, Refusal> {
    let trusted = &state.config.client.client_id;
    let client_id = form
        .get("client_id")
        .cloned()
        .or_else(|| assertion.claim_str("iss").map(str::to_owned));
    if client_id.as_deref() != Some(trusted.as_str()) {
        return Err(Refusal::new(
            OAuthError::InvalidClient,
            format!(
                "unknown client {:?}: this server trusts {trusted}",
                client_id.unwrap_or_default()
            ),
        ));
    }
    Ok(trusted.clone())
}

fn request_object(form: &Form) -> Result<DecodedJwt, Refusal> {
    match form.get("request").map(|r| jws::decode(r)) {
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(Refusal::new(
            OAuthError::InvalidRequestObject,
            format!("the request object is not a JWT: {e}"),
        )),
        None => Err(Refusal::new(
            OAuthError::InvalidRequest,
            "a signed request object (request) is required (FAPI 2.0 Message Signing 5.3.1)",
        )),
    }
}

fn lint_push(
    state: &AppState,
    request: &DecodedJwt,
    assertion: &DecodedJwt,
    client_id: &str,
    now: Timestamp,
) -> Vec<Finding> {
    let urls = Urls::of(state);
    let ctx = urls.context(state, client_id, now);
    lint::lint(
        &lint::Subject {
            request,
            assertion: Some(assertion),
            form_client_id: Some(client_id),
        },
        &ctx,
    )
}

/// The endpoints lint names, so an assertion aimed at one of them instead of the issuer is
/// told which.
struct Urls {
    par: String,
    token: String,
    authorize: String,
}

impl Urls {
    fn of(state: &AppState) -> Urls {
        Urls {
            par: state.url("/par"),
            token: state.url("/token"),
            authorize: state.url("/authorize"),
        }
    }

    fn context<'a>(
        &'a self,
        state: &'a AppState,
        client_id: &'a str,
        now: Timestamp,
    ) -> lint::Context<'a> {
        lint::Context {
            issuer: Some(&state.issuer),
            client_id: Some(client_id),
            par_endpoint: Some(&self.par),
            token_endpoint: Some(&self.token),
            authorization_endpoint: Some(&self.authorize),
            key: Some(&state.config.client.key),
            ..lint::Context::bare(&state.config.packs, now)
        }
    }
}

/// The first error with a server answer, among those `accept` picks.
fn first_refusal(findings: &[Finding], accept: fn(OAuthError) -> bool) -> Result<(), Refusal> {
    let refused = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .find_map(|f| f.refusal.filter(|e| accept(*e)).map(|e| (f, e)));
    match refused {
        Some((finding, error)) => Err(Refusal::of(finding, error)),
        None => Ok(()),
    }
}

fn authenticate(findings: &[Finding]) -> Result<(), Refusal> {
    first_refusal(findings, |e| e == OAuthError::InvalidClient)
}

fn refuse_by_rulebook(findings: &[Finding]) -> Result<(), Refusal> {
    first_refusal(findings, |_| true)
}

fn first_use_of_jti(
    state: &AppState,
    assertion: &DecodedJwt,
    now: Timestamp,
) -> Result<(), Refusal> {
    let jti = assertion.claim_str("jti").unwrap_or_default();
    let expires_at = assertion
        .claim("exp")
        .and_then(Value::as_i64)
        .unwrap_or(now.as_second());
    let first = state
        .used_jti
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .first_use(jti, expires_at, now.as_second());
    match first {
        JtiUse::First => Ok(()),
        JtiUse::Replay => Err(Refusal::new(
            OAuthError::InvalidClient,
            format!(
                "the client assertion jti {jti} was already used: make a fresh assertion per request (RFC 7523 3)"
            ),
        )),
        JtiUse::StoreFull => Err(Refusal::new(
            OAuthError::TemporarilyUnavailable,
            format!(
                "the sandbox holds {JTI_CAP} live assertion jti and forgets none before it expires (a replay would pass): retry when the oldest expires, or use shorter assertion lifetimes"
            ),
        )),
    }
}

fn registered_redirect_uri(state: &AppState, request: &DecodedJwt) -> Result<(), Refusal> {
    let client = &state.config.client;
    let redirect_uri = request.claim_str("redirect_uri").unwrap_or_default();
    if client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Ok(());
    }
    Err(Refusal::new(
        OAuthError::InvalidRequest,
        format!(
            "redirect_uri {redirect_uri} is not registered for {} (registered: {})",
            client.client_id,
            client.redirect_uris.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &'static str, severity: Severity, refusal: Option<OAuthError>) -> Finding {
        Finding {
            id,
            severity,
            message: format!("{id} fired"),
            reference: "a clause",
            refusal,
        }
    }

    /// A real server authenticates the client before it reads the request object.
    #[test]
    fn client_authentication_is_refused_first_then_the_rulebook_in_order() {
        let findings = [
            finding("w", Severity::Warning, Some(OAuthError::InvalidScope)),
            finding("r", Severity::Error, Some(OAuthError::InvalidRequestObject)),
            finding("a", Severity::Error, Some(OAuthError::InvalidClient)),
        ];
        let refusal = authenticate(&findings).unwrap_err();
        assert_eq!(refusal.error, OAuthError::InvalidClient);
        assert_eq!(refusal.description, "a fired [a; a clause]");
        let refusal = refuse_by_rulebook(&findings).unwrap_err();
        assert_eq!(refusal.error, OAuthError::InvalidRequestObject);
    }

    #[test]
    fn warnings_and_advice_are_not_refused() {
        let findings = [
            finding("w", Severity::Warning, Some(OAuthError::InvalidScope)),
            finding("i", Severity::Info, None),
        ];
        assert_eq!(authenticate(&findings), Ok(()));
        assert_eq!(refuse_by_rulebook(&findings), Ok(()));
    }
}
