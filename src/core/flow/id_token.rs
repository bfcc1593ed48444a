//! ID token verification (OpenID Connect Core 3.1.3.7 under FAPI 2.0): the server's JWKS
//! fetched through the transport, the signature checked with the header's key, then iss, aud,
//! azp, exp, iat and nonce, each refusal naming the check that failed.

use std::fmt;

use jiff::Timestamp;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, PublicKeyUse};
use serde::Serialize;
use serde_json::Value;

use crate::core::jws::{self, DecodedJwt};
use crate::core::keys::FAPI_ALGS;
use crate::core::printable::redact_url;
use crate::core::transport::{NetworkError, classify, read_capped};

/// Clocks drift: exp and iat are judged this many seconds leniently.
pub const ID_TOKEN_SKEW_SECS: i64 = 60;

/// The error code of issue 9 for every refusal here.
pub const ID_TOKEN_INVALID: &str = "id_token_invalid";

/// What the ID token must match: the flow's issuer, client and nonce, and the time.
#[derive(Clone)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The request object's nonce.
    pub nonce: &'a str,
    pub now: Timestamp,
    pub skew_secs: i64,
}

impl fmt::Debug for Expected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expected")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("now", &self.now)
            .field("skew_secs", &self.skew_secs)
            .finish_non_exhaustive()
    }
}

/// Which check an ID token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Format,
    Alg,
    Key,
    Signature,
    Iss,
    Sub,
    Aud,
    Azp,
    Exp,
    Iat,
    Nonce,
}

/// `id_token_invalid`: the check that failed and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("id_token_invalid ({check:?}): {reason}")]
pub struct IdTokenError {
    pub check: Check,
    pub reason: String,
}

impl IdTokenError {
    fn new(check: Check, reason: impl Into<String>) -> IdTokenError {
        IdTokenError {
            check,
            reason: reason.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        ID_TOKEN_INVALID
    }
}

/// An ID token whose signature and claims passed every check.
#[derive(Clone)]
pub struct VerifiedIdToken {
    pub jwt: DecodedJwt,
    pub kid: Option<String>,
}

/// The nonce binds the token to one authorization request: `Debug` hides it with the token.
impl fmt::Debug for VerifiedIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut claims = self.jwt.claims.clone();
        if let Some(nonce) = claims.get_mut("nonce") {
            *nonce = Value::from("(hidden)");
        }
        f.debug_struct("VerifiedIdToken")
            .field("header", &self.jwt.header)
            .field("claims", &claims)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The JWK key type an alg signs with.
fn key_type_fits(jwk: &Jwk, alg: &str) -> bool {
    matches!(
        (&jwk.algorithm, alg),
        (AlgorithmParameters::RSA(_), "PS256")
            | (AlgorithmParameters::EllipticCurve(_), "ES256")
            | (AlgorithmParameters::OctetKeyPair(_), "EdDSA")
    )
}

/// The header's kid picks the key; without a kid, the only signing key of the alg's type.
fn pick_key<'k>(jwks: &'k JwkSet, kid: Option<&str>, alg: &str) -> Result<&'k Jwk, IdTokenError> {
    let for_signing = |k: &&Jwk| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption));
    if let Some(kid) = kid {
        return jwks
            .keys
            .iter()
            .filter(for_signing)
            .find(|k| k.common.key_id.as_deref() == Some(kid))
            .ok_or_else(|| {
                IdTokenError::new(
                    Check::Key,
                    format!("the server's JWKS has no signing key with kid \"{kid}\" (keys rotated? fetch the JWKS again)"),
                )
            });
    }
    let fitting: Vec<&Jwk> = jwks
        .keys
        .iter()
        .filter(for_signing)
        .filter(|k| key_type_fits(k, alg))
        .collect();
    match fitting.as_slice() {
        [only] => Ok(only),
        [] => Err(IdTokenError::new(
            Check::Key,
            format!("the header has no kid and the server's JWKS has no {alg} signing key"),
        )),
        many => Err(IdTokenError::new(
            Check::Key,
            format!(
                "the header has no kid and the server's JWKS has {} keys that could sign {alg}: which one is meant is unknown",
                many.len()
            ),
        )),
    }
}

fn check_alg(alg: Option<&str>) -> Result<&str, IdTokenError> {
    let refuse = |reason: String| Err(IdTokenError::new(Check::Alg, reason));
    match alg {
        Some(alg) if FAPI_ALGS.contains(&alg) => Ok(alg),
        None => refuse("the header has no alg".into()),
        Some(alg) if alg.eq_ignore_ascii_case("none") => {
            refuse("alg is none: an unsigned ID token proves nothing".into())
        }
        Some(alg) if alg.starts_with("HS") => refuse(format!(
            "alg is {alg}, a shared-secret MAC: FAPI 2.0 allows only PS256, ES256 and EdDSA (Security Profile 5.4)"
        )),
        Some("RS256") => refuse(
            "alg is RS256 (PKCS#1 v1.5): FAPI 2.0 allows only PS256, ES256 and EdDSA (Security Profile 5.4)".into(),
        ),
        Some(alg) => refuse(format!(
            "alg is {alg}: FAPI 2.0 allows only PS256, ES256 and EdDSA (Security Profile 5.4)"
        )),
    }
}

/// A NumericDate claim: a number of seconds (fractions, as some deployments send, cut off).
fn numeric_date(jwt: &DecodedJwt, name: &str, check: Check) -> Result<i64, IdTokenError> {
    match jwt.claim(name) {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .ok_or_else(|| IdTokenError::new(check, format!("{name} {n} is not a NumericDate"))),
        Some(other) => Err(IdTokenError::new(
            check,
            format!(
                "{name} is {}, not a NumericDate",
                crate::core::transport::kind_of(other)
            ),
        )),
        None => Err(IdTokenError::new(check, format!("{name} is missing"))),
    }
}

fn check_audience(jwt: &DecodedJwt, client_id: &str) -> Result<(), IdTokenError> {
    let audiences: Vec<&str> = match jwt.claim("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => {
            return Err(IdTokenError::new(
                Check::Aud,
                "aud is missing or not a string or array",
            ));
        }
    };
    if !audiences.contains(&client_id) {
        return Err(IdTokenError::new(
            Check::Aud,
            format!(
                "aud {audiences:?} does not contain the client_id \"{client_id}\": the token was issued to another client"
            ),
        ));
    }
    match jwt.claim("azp") {
        None if audiences.len() > 1 => Err(IdTokenError::new(
            Check::Azp,
            "aud names several audiences but azp is missing: it must name the client_id (OpenID Connect Core 3.1.3.7)",
        )),
        None => Ok(()),
        Some(azp) if azp.as_str() == Some(client_id) => Ok(()),
        Some(azp) => Err(IdTokenError::new(
            Check::Azp,
            format!("azp is {azp}, not the client_id \"{client_id}\""),
        )),
    }
}

fn check_times(jwt: &DecodedJwt, now: i64, skew: i64) -> Result<(), IdTokenError> {
    let exp = numeric_date(jwt, "exp", Check::Exp)?;
    if exp + skew <= now {
        return Err(IdTokenError::new(
            Check::Exp,
            format!(
                "expired {} s ago (exp {exp}, {skew} s skew allowed)",
                now - exp
            ),
        ));
    }
    let iat = numeric_date(jwt, "iat", Check::Iat)?;
    if iat - skew > now {
        return Err(IdTokenError::new(
            Check::Iat,
            format!(
                "iat {iat} is {} s in the future ({skew} s skew allowed): is a clock wrong?",
                iat - now
            ),
        ));
    }
    Ok(())
}

/// Verifies a compact ID token with the server's keys: signature and alg first, so no claim
/// of a forged token is ever read as true, then the claims.
pub fn verify(
    compact: &str,
    jwks: &JwkSet,
    expected: &Expected<'_>,
) -> Result<VerifiedIdToken, IdTokenError> {
    verify_nonce_if(compact, jwks, expected, true)
}

/// An ID token from a refresh: OpenID Connect Core 12.2 lets it leave nonce out, but one that
/// carries a nonce must carry the original authentication's.
pub fn verify_refreshed(
    compact: &str,
    jwks: &JwkSet,
    expected: &Expected<'_>,
) -> Result<VerifiedIdToken, IdTokenError> {
    verify_nonce_if(compact, jwks, expected, false)
}

fn verify_nonce_if(
    compact: &str,
    jwks: &JwkSet,
    expected: &Expected<'_>,
    nonce_required: bool,
) -> Result<VerifiedIdToken, IdTokenError> {
    let jwt = jws::decode(compact)
        .map_err(|e| IdTokenError::new(Check::Format, format!("not a signed JWT: {e}")))?;
    let alg = check_alg(jwt.alg())?;
    let key = pick_key(jwks, jwt.kid(), alg)?;
    match jwt.verify(key) {
        Ok(true) => {}
        Ok(false) => {
            return Err(IdTokenError::new(
                Check::Signature,
                "the signature does not verify with the server's key: the token was altered or signed by another key",
            ));
        }
        Err(e) => return Err(IdTokenError::new(Check::Signature, e.to_string())),
    }
    match jwt.claim_str("iss") {
        Some(iss) if iss == expected.issuer => {}
        Some(iss) => {
            return Err(IdTokenError::new(
                Check::Iss,
                format!("iss is \"{iss}\", not the issuer \"{}\"", expected.issuer),
            ));
        }
        None => return Err(IdTokenError::new(Check::Iss, "iss is missing")),
    }
    if jwt.claim_str("sub").is_none_or(str::is_empty) {
        return Err(IdTokenError::new(Check::Sub, "sub is missing"));
    }
    check_audience(&jwt, expected.client_id)?;
    check_times(&jwt, expected.now.as_second(), expected.skew_secs)?;
    match jwt.claim_str("nonce") {
        Some(nonce) if nonce == expected.nonce => {}
        Some(_) => {
            return Err(IdTokenError::new(
                Check::Nonce,
                "nonce differs from the request object's: the token belongs to another authorization request (replay?)",
            ));
        }
        None if !nonce_required => {}
        None => {
            return Err(IdTokenError::new(
                Check::Nonce,
                "nonce is missing, but the request object sent one",
            ));
        }
    }
    Ok(VerifiedIdToken {
        kid: jwt.kid().map(str::to_owned),
        jwt,
    })
}

/// Why the server's keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("{url} answered {status}, not the JSON document asked for")]
    Status { url: String, status: u16 },
    #[error("{url} is not a {what}: {reason}")]
    NotJson {
        url: String,
        what: &'static str,
        reason: String,
    },
    #[error("the discovery document of {issuer} names no jwks_uri")]
    NoJwksUri { issuer: String },
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    what: &'static str,
) -> Result<T, JwksError> {
    let response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| classify(e, url))?;
    let status = response.status().as_u16();
    let bytes = read_capped(response, url).await?;
    if !(200..300).contains(&status) {
        return Err(JwksError::Status {
            url: redact_url(url),
            status,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| JwksError::NotJson {
        url: redact_url(url),
        what,
        reason: e.to_string(),
    })
}

/// The issuer's `jwks_uri`, read from its discovery document.
pub async fn jwks_uri(client: &reqwest::Client, issuer: &str) -> Result<String, JwksError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc: Value = get_json(client, &url, "discovery document").await?;
    doc.get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| JwksError::NoJwksUri {
            issuer: redact_url(issuer),
        })
}

/// The server's public keys (a JWK Set, RFC 7517 5).
pub async fn fetch_jwks(client: &reqwest::Client, jwks_uri: &str) -> Result<JwkSet, JwksError> {
    get_json(client, jwks_uri, "JWK Set").await
}
