//! The token endpoint: the `authorization_code` and `refresh_token` grants (each with a fresh
//! private_key_jwt assertion), and the token response read into a typed `TokenSet` with every
//! field checked, or the OAuth refusal explained.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::core::jws::DecodedJwt;
use crate::core::keys::SigningKey;
use crate::core::oauth;
use crate::core::request::{self, BuildError, CLIENT_ASSERTION_TYPE, Endpoints, ParSeed};
use crate::core::tls::TlsMaterial;
use crate::core::transport::{
    Body, ClientOptions, FormAnswer, INTERACTION_HEADER, NetworkError, NetworkErrorKind,
    closed_after_handshake, discover, http_client, kind_of, post_form,
};

/// A credential (code, verifier, token). `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} chars)", self.0.len())
    }
}

/// What the client trades at the token endpoint.
#[derive(Debug, Clone)]
pub enum Grant {
    AuthorizationCode {
        code: Secret,
        /// Must be the redirect_uri of the request object (RFC 6749 4.1.3).
        redirect_uri: String,
        code_verifier: Secret,
    },
    RefreshToken {
        refresh_token: Secret,
    },
    /// The client's own token (RFC 6749 4.4), e.g. to revoke a consent.
    ClientCredentials {
        scope: String,
    },
}

impl Grant {
    pub fn grant_type(&self) -> &'static str {
        match self {
            Grant::AuthorizationCode { .. } => "authorization_code",
            Grant::RefreshToken { .. } => "refresh_token",
            Grant::ClientCredentials { .. } => "client_credentials",
        }
    }
}

/// A token request ready to POST. The form holds the grant's secrets and the assertion, so
/// `Debug` leaves it out.
#[derive(Clone)]
pub struct TokenRequest {
    pub grant_type: &'static str,
    pub form: Vec<(String, String)>,
    pub client_assertion: DecodedJwt,
    pub interaction_id: String,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_assertion", &self.client_assertion)
            .field("interaction_id", &self.interaction_id)
            .finish_non_exhaustive()
    }
}

impl TokenRequest {
    /// The grant's form with a fresh client assertion (aud per the profile's
    /// `assertion_audience`: the issuer unless the profile says otherwise) and interaction id.
    pub fn new(
        seed: &ParSeed,
        key: &SigningKey,
        grant: &Grant,
        now: Timestamp,
        rng: &mut dyn RngCore,
    ) -> Result<TokenRequest, BuildError> {
        let client_assertion = request::client_assertion(seed, key, now, rng)?;
        let mut form = vec![("grant_type".to_owned(), grant.grant_type().to_owned())];
        match grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => form.extend([
                ("code".to_owned(), code.expose().to_owned()),
                ("redirect_uri".to_owned(), redirect_uri.clone()),
                (
                    "code_verifier".to_owned(),
                    code_verifier.expose().to_owned(),
                ),
            ]),
            Grant::RefreshToken { refresh_token } => form.push((
                "refresh_token".to_owned(),
                refresh_token.expose().to_owned(),
            )),
            Grant::ClientCredentials { scope } => {
                form.push(("scope".to_owned(), scope.clone()));
            }
        }
        form.extend([
            ("client_id".to_owned(), seed.client_id.clone()),
            (
                "client_assertion_type".to_owned(),
                CLIENT_ASSERTION_TYPE.to_owned(),
            ),
            (
                "client_assertion".to_owned(),
                client_assertion.compact.clone(),
            ),
        ]);
        Ok(TokenRequest {
            grant_type: grant.grant_type(),
            form,
            client_assertion,
            interaction_id: request::uuid_from(rng),
        })
    }

    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `Bearer` (RFC 6750) or `DPoP` (RFC 9449); servers may spell them in any case (RFC 6749 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokenType {
    Bearer,
    DPoP,
}

/// Where an authorization_details item carries its consent facts: Malaysia's sample puts them
/// in the item's `consent` object, other servers at the item level (reference doc, S-TOK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundIn {
    Consent,
    Item,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub account_id: String,
    pub account_number: Option<String>,
    pub account_name: Option<String>,
}

/// The consent facts one authorization_details item of the token response carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantedConsent {
    pub detail_type: Option<String>,
    pub consent_id: Option<String>,
    pub status: Option<String>,
    pub accounts: Vec<Account>,
    /// `None` when the item carries no consent facts at all (a plain RFC 9396 echo).
    pub found_in: Option<FoundIn>,
}

/// A successful token response, every field checked. `Debug` hides the tokens.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub token_type: TokenType,
    pub access_token: Secret,
    /// RFC 6749 5.1 only recommends expires_in; `None` when the server left it out.
    pub expires_in: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub scope: Option<String>,
    pub id_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub authorization_details: Option<Vec<Value>>,
    pub consents: Vec<GrantedConsent>,
    /// Fields outside RFC 6749, RFC 9396 and OpenID Connect (Malaysia adds `state`).
    pub extra: Map<String, Value>,
}

/// Which field of a 2xx token response is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenResponseError {
    #[error("the answer is not a JSON object")]
    NotObject,
    #[error("{0} is missing")]
    Missing(String),
    #[error("{field} is {found}, not {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("token_type is \"{0}\": neither Bearer nor DPoP")]
    UnknownTokenType(String),
    #[error("expires_in is {0}: a token lifetime must be a positive whole number of seconds")]
    ExpiresIn(String),
    #[error("expires_in {0} is out of range (not a date)")]
    ExpiresInOutOfRange(i64),
}

const STANDARD_FIELDS: [&str; 8] = [
    "access_token",
    "token_type",
    "expires_in",
    "scope",
    "refresh_token",
    "id_token",
    "authorization_details",
    "issued_token_type",
];

fn wrong_type(
    field: impl Into<String>,
    expected: &'static str,
    found: &Value,
) -> TokenResponseError {
    TokenResponseError::WrongType {
        field: field.into(),
        expected,
        found: kind_of(found),
    }
}

/// A string field that is absent or null reads as `None`; anything but a string is an error.
fn optional_str(
    object: &Map<String, Value>,
    field: &str,
    path: impl FnOnce() -> String,
) -> Result<Option<String>, TokenResponseError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(path(), "a string", other)),
    }
}

fn token(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<Secret>, TokenResponseError> {
    match optional_str(object, field, || field.to_owned())? {
        Some(s) if s.trim().is_empty() => Err(TokenResponseError::Empty(field)),
        other => Ok(other.map(Secret)),
    }
}

fn expires_in(value: Option<&Value>) -> Result<Option<i64>, TokenResponseError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(seconds) if seconds > 0 => Ok(Some(seconds)),
            _ => Err(TokenResponseError::ExpiresIn(n.to_string())),
        },
        Some(other) => Err(wrong_type("expires_in", "a number", other)),
    }
}

fn accounts(holder: &Map<String, Value>, path: &str) -> Result<Vec<Account>, TokenResponseError> {
    let list = match holder.get("accounts") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(wrong_type(format!("{path}.accounts"), "an array", other)),
    };
    list.iter()
        .enumerate()
        .map(|(i, account)| {
            let at = format!("{path}.accounts[{i}]");
            let account = account
                .as_object()
                .ok_or_else(|| wrong_type(at.clone(), "an object", account))?;
            let field = |name: &str| optional_str(account, name, || format!("{at}.{name}"));
            Ok(Account {
                account_id: field("account_id")?
                    .ok_or_else(|| TokenResponseError::Missing(format!("{at}.account_id")))?,
                account_number: field("account_number")?,
                account_name: field("account_name")?,
            })
        })
        .collect()
}

/// consent_id, status and accounts as one holder (a consent object or an item) carries them.
struct ConsentFacts {
    consent_id: Option<String>,
    status: Option<String>,
    accounts: Vec<Account>,
}

impl ConsentFacts {
    /// Reads snake_case keys as in Malaysia, PascalCase as in the UAE.
    fn read(holder: &Map<String, Value>, path: &str) -> Result<ConsentFacts, TokenResponseError> {
        let field = |names: [&str; 2]| -> Result<Option<String>, TokenResponseError> {
            for name in names {
                if let Some(value) = optional_str(holder, name, || format!("{path}.{name}"))? {
                    return Ok(Some(value));
                }
            }
            Ok(None)
        };
        Ok(ConsentFacts {
            consent_id: field(["consent_id", "ConsentId"])?,
            status: field(["status", "Status"])?,
            accounts: accounts(holder, path)?,
        })
    }

    fn any(&self) -> bool {
        self.consent_id.is_some() || self.status.is_some() || !self.accounts.is_empty()
    }
}

/// The consent facts of one item: in its `consent` object when that has any, else at the
/// item level.
fn granted_consent(item: &Value, index: usize) -> Result<GrantedConsent, TokenResponseError> {
    let path = format!("authorization_details[{index}]");
    let item = item
        .as_object()
        .ok_or_else(|| wrong_type(path.clone(), "an object", item))?;
    let detail_type = optional_str(item, "type", || format!("{path}.type"))?;
    let in_consent = match item.get("consent") {
        Some(Value::Object(consent)) => {
            Some(ConsentFacts::read(consent, &format!("{path}.consent"))?)
        }
        _ => None,
    };
    let (found_in, facts) = match in_consent {
        Some(facts) if facts.any() => (Some(FoundIn::Consent), facts),
        _ => {
            let facts = ConsentFacts::read(item, &path)?;
            (facts.any().then_some(FoundIn::Item), facts)
        }
    };
    Ok(GrantedConsent {
        detail_type,
        consent_id: facts.consent_id,
        status: facts.status,
        accounts: facts.accounts,
        found_in,
    })
}

impl TokenSet {
    /// Reads a 2xx token response (RFC 6749 5.1, RFC 9396 7, OpenID Connect 3.1.3.3).
    pub fn parse(body: &Value, received_at: Timestamp) -> Result<TokenSet, TokenResponseError> {
        let object = body.as_object().ok_or(TokenResponseError::NotObject)?;
        let access_token = token(object, "access_token")?
            .ok_or_else(|| TokenResponseError::Missing("access_token".into()))?;
        let token_type = match optional_str(object, "token_type", || "token_type".into())? {
            None => return Err(TokenResponseError::Missing("token_type".into())),
            Some(t) if t.eq_ignore_ascii_case("bearer") => TokenType::Bearer,
            Some(t) if t.eq_ignore_ascii_case("dpop") => TokenType::DPoP,
            Some(t) => return Err(TokenResponseError::UnknownTokenType(t)),
        };
        let expires_in = expires_in(object.get("expires_in"))?;
        let expires_at = expires_in
            .map(|seconds| {
                received_at
                    .checked_add(jiff::SignedDuration::from_secs(seconds))
                    .map_err(|_| TokenResponseError::ExpiresInOutOfRange(seconds))
            })
            .transpose()?;
        let authorization_details = match object.get("authorization_details") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(wrong_type("authorization_details", "an array", other)),
        };
        let consents = authorization_details
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, item)| granted_consent(item, i))
            .collect::<Result<_, _>>()?;
        Ok(TokenSet {
            token_type,
            access_token,
            expires_in,
            expires_at,
            scope: optional_str(object, "scope", || "scope".into())?,
            id_token: token(object, "id_token")?,
            refresh_token: token(object, "refresh_token")?,
            authorization_details,
            consents,
            extra: object
                .iter()
                .filter(|(k, _)| !STANDARD_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// The first consent id the authorization_details carry.
    pub fn consent_id(&self) -> Option<&str> {
        self.consents.iter().find_map(|c| c.consent_id.as_deref())
    }

    /// Departures from the standards worth telling the user; none of them refuses the answer.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.expires_in.is_none() {
            notes.push("no expires_in: the access token's lifetime is unknown (RFC 6749 5.1 recommends sending it)".into());
        }
        if self.extra.contains_key("state") {
            notes.push("the token response carries state, which no standard defines there (the Malaysia sample does this); it is ignored".into());
        }
        if self
            .consents
            .iter()
            .any(|c| c.found_in == Some(FoundIn::Item))
        {
            notes.push("consent facts found at the authorization_details item level, not in its consent object as in the Malaysia sample".into());
        }
        notes
    }
}

/// What the token endpoint answered.
#[derive(Debug, Clone)]
pub enum TokenOutcome {
    Issued(Box<TokenSet>),
    Refused {
        error: String,
        error_description: Option<String>,
        explanation: String,
    },
    /// A 2xx whose body is not a usable token response.
    Malformed(TokenResponseError),
    /// Not an OAuth answer: a redirect, an HTML page, a bare status.
    Unexpected {
        explanation: String,
    },
}

/// One exchange with the token endpoint. The body is kept only when no tokens came, so the
/// exchange can be logged or shown as it is.
#[derive(Debug, Clone)]
pub struct TokenExchange {
    /// The URL the request went to (discovery's, when the profile names none).
    pub endpoint: String,
    pub status: u16,
    pub outcome: TokenOutcome,
    pub refusal_body: Option<Body>,
    pub elapsed: Duration,
    pub received_at: Timestamp,
    pub interaction_id: String,
    pub echoed_interaction_id: Option<String>,
}

/// Reads the token endpoint's answer into an outcome.
pub fn token_outcome(
    status: u16,
    location: Option<&str>,
    body: &Body,
    received_at: Timestamp,
) -> TokenOutcome {
    let json = body.json();
    if (200..300).contains(&status) {
        return match json.map(|v| TokenSet::parse(v, received_at)) {
            Some(Ok(set)) => TokenOutcome::Issued(Box::new(set)),
            Some(Err(problem)) => TokenOutcome::Malformed(problem),
            None => TokenOutcome::Malformed(TokenResponseError::NotObject),
        };
    }
    if (300..400).contains(&status) {
        return TokenOutcome::Unexpected {
            explanation: format!(
                "the server answered {status}, a redirect to {}: not followed, so the code, verifier and client assertion went nowhere else",
                location.unwrap_or("nowhere (no Location header)")
            ),
        };
    }
    let text = |name: &str| json.and_then(|v| v.get(name)).and_then(Value::as_str);
    match text("error") {
        Some(error) => TokenOutcome::Refused {
            explanation: oauth::explain(error),
            error: error.to_owned(),
            error_description: text("error_description").map(str::to_owned),
        },
        None => TokenOutcome::Unexpected {
            explanation: match (status, body) {
                (_, Body::Text(t)) if t.trim_start().starts_with('<') => format!(
                    "the server answered {status} with an HTML page, not OAuth JSON: often a gateway in front of the authorization server (a wrong URL, a missing client certificate)"
                ),
                (404, _) => "404: the token endpoint URL is wrong (read it from the issuer's discovery document)".into(),
                (s, _) if s >= 500 => format!("{s}: the server failed; retry, and quote the x-fapi-interaction-id"),
                (s, _) => format!("{s} without an OAuth error body (RFC 6749 5.2)"),
            },
        },
    }
}

/// POSTs a token request with `client` (built for the endpoint: the profile's TLS, no redirects).
pub async fn send(
    client: &reqwest::Client,
    token_endpoint: &str,
    request: &TokenRequest,
) -> Result<TokenExchange, NetworkError> {
    let answer = post_form(
        client,
        token_endpoint,
        &request.interaction_id,
        &request.form,
    )
    .await?;
    Ok(read_token_answer(answer, request, token_endpoint))
}

/// A token endpoint's answer to `request` read into an exchange.
pub fn read_token_answer(
    answer: FormAnswer,
    request: &TokenRequest,
    endpoint: &str,
) -> TokenExchange {
    let outcome = token_outcome(
        answer.status,
        answer.header("location"),
        &answer.body,
        answer.received_at,
    );
    TokenExchange {
        endpoint: endpoint.to_owned(),
        status: answer.status,
        outcome,
        echoed_interaction_id: answer.header(INTERACTION_HEADER).map(str::to_owned),
        refusal_body: (!(200..300).contains(&answer.status)).then_some(answer.body),
        elapsed: answer.elapsed,
        received_at: answer.received_at,
        interaction_id: request.interaction_id.clone(),
    }
}

/// Sends a token request to the profile's token endpoint, or discovery's (its mTLS alias when
/// the profile has a client certificate).
pub async fn exchange(
    endpoints: &Endpoints,
    tls: &TlsMaterial,
    options: &ClientOptions,
    request: &TokenRequest,
) -> Result<TokenExchange, NetworkError> {
    let mtls = tls.identity_pem.is_some();
    let token_endpoint = token_endpoint(endpoints, tls, options).await?;
    let client = http_client(&token_endpoint, tls, options)?;
    send(&client, &token_endpoint, request)
        .await
        .map_err(|e| closed_after_handshake(e, &token_endpoint, mtls))
}

/// The profile's token endpoint, or discovery's (its mTLS alias with a client certificate).
pub async fn token_endpoint(
    endpoints: &Endpoints,
    tls: &TlsMaterial,
    options: &ClientOptions,
) -> Result<String, NetworkError> {
    let mtls = tls.identity_pem.is_some();
    Ok(match &endpoints.token {
        Some(endpoint) => endpoint.clone(),
        None => {
            let client = http_client(&endpoints.issuer, tls, options)?;
            discover(&client, &endpoints.issuer, mtls)
                .await
                .map_err(|e| closed_after_handshake(e, &endpoints.issuer, mtls))?
                .token_endpoint
                .ok_or_else(|| {
                    NetworkError::new(
                        NetworkErrorKind::Discovery,
                        "discovery names no token_endpoint",
                        "set token_endpoint in the profile",
                    )
                })?
        }
    })
}
