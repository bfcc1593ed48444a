//! DPoP (RFC 9449): the proof a client signs for each request (PAR, token, resource), the
//! thumbprint its tokens are bound to, and the one retry a server's `use_dpop_nonce` asks for.
//!
//! The proof key is the profile's `[dpop]` key, apart from the client's signing key: a
//! server binds tokens to it, not to the client.

use std::fmt;
use std::future::Future;

use aws_lc_rs::digest;
use jiff::Timestamp;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::CommonParameters;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::jws::{self, DecodedJwt};
use super::keys::{KeyError, SigningKey, alg_name, b64url};

/// The request header carrying the proof.
pub const PROOF_HEADER: &str = "DPoP";
/// The answer header carrying a server nonce (lower case, as headers are kept).
pub const NONCE_HEADER: &str = "dpop-nonce";
/// The proof's `typ` (RFC 9449 4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// The error a server answers when it wants a (fresh) nonce in the proof (RFC 9449 8, 9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// A key proofs are signed with. `Debug` shows its alg and thumbprint only.
pub struct DpopKey {
    key: SigningKey,
    /// The public JWK as the proof header carries it: key parameters only, no kid.
    jwk: Value,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.key.alg())
            .field("jkt", &self.key.thumbprint())
            .finish_non_exhaustive()
    }
}

/// What one proof is for: the request's method and URL, the server's nonce when it gave one,
/// and the access token the request carries (resource calls: the proof's `ath`).
#[derive(Clone, Copy)]
pub struct ProofFor<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
}

impl<'a> ProofFor<'a> {
    pub fn post(url: &'a str) -> ProofFor<'a> {
        ProofFor {
            method: "POST",
            url,
            nonce: None,
            access_token: None,
        }
    }
}

impl DpopKey {
    pub fn new(key: SigningKey) -> DpopKey {
        let mut jwk = key.public_jwk();
        jwk.common = CommonParameters::default();
        let jwk = serde_json::to_value(&jwk).unwrap_or(Value::Null);
        DpopKey { key, jwk }
    }

    /// A fresh key for `alg` (tests, benches, the generated profile key).
    pub fn generate(alg: Algorithm) -> Result<(DpopKey, String), KeyError> {
        let (key, pem) = SigningKey::generate(alg)?;
        Ok((DpopKey::new(key), pem))
    }

    pub fn alg(&self) -> Algorithm {
        self.key.alg()
    }

    /// RFC 7638 SHA-256 thumbprint of the public key: `dpop_jkt` and the tokens' `cnf.jkt`.
    pub fn thumbprint(&self) -> &str {
        self.key.thumbprint()
    }

    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs a proof: typ dpop+jwt and the public jwk in the header; jti, htm, htu (without
    /// query and fragment), iat, and nonce and ath when given.
    pub fn proof(
        &self,
        target: &ProofFor,
        now: Timestamp,
        rng: &mut dyn RngCore,
    ) -> Result<DecodedJwt, KeyError> {
        let header = json!({
            "typ": PROOF_TYP,
            "alg": alg_name(self.key.alg()),
            "jwk": self.jwk,
        });
        let mut jti = [0u8; 16];
        rng.fill_bytes(&mut jti);
        let mut claims = Map::new();
        claims.insert("jti".into(), b64url(&jti).into());
        claims.insert("htm".into(), target.method.to_ascii_uppercase().into());
        claims.insert("htu".into(), htu(target.url).into());
        claims.insert("iat".into(), now.as_second().into());
        if let Some(nonce) = target.nonce {
            claims.insert("nonce".into(), nonce.into());
        }
        if let Some(token) = target.access_token {
            claims.insert("ath".into(), ath(token).into());
        }
        let claims = Value::Object(claims);
        let compact = jws::sign(&header, &claims, &self.key)?;
        Ok(DecodedJwt {
            header,
            claims,
            compact,
        })
    }
}

/// The URL as `htu` carries it: without query and fragment (RFC 9449 4.2).
pub fn htu(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// base64url(SHA-256(access token)): the proof's `ath` (RFC 9449 4.2).
pub fn ath(access_token: &str) -> String {
    b64url(digest::digest(&digest::SHA256, access_token.as_bytes()).as_ref())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The nonce a server gave in its `DPoP-Nonce` header, if any: the next proof carries it.
pub fn offered_nonce(headers: &[(String, String)]) -> Option<String> {
    header(headers, NONCE_HEADER)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// The nonce an answer demands: a 400 `use_dpop_nonce` from an authorization server (RFC
/// 9449 8) or a 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"` from a resource
/// server (RFC 9449 9), with the nonce in `DPoP-Nonce`. None for any other answer.
pub fn nonce_challenge(
    status: u16,
    headers: &[(String, String)],
    body: Option<&Value>,
) -> Option<String> {
    let from_as = status == 400
        && body.and_then(|b| b.get("error")).and_then(Value::as_str) == Some(USE_DPOP_NONCE);
    let from_rs = status == 401
        && header(headers, "www-authenticate").is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.trim_start().starts_with("dpop") && v.contains(USE_DPOP_NONCE)
        });
    if from_as || from_rs {
        offered_nonce(headers)
    } else {
        None
    }
}

/// The proofs one request sent, and whether the server's nonce challenge was answered.
/// `Debug` leaves the compact proofs and the nonce out.
#[derive(Clone, Default, Serialize)]
pub struct ProofTrail {
    #[serde(skip)]
    pub proofs: Vec<DecodedJwt>,
    /// Set when the first try was refused with `use_dpop_nonce` and sent again.
    pub nonce_retry: Option<NonceRetry>,
    /// The nonce the last answer offered, for the next request to the same server.
    #[serde(skip)]
    pub next_nonce: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonceRetry {
    /// The status of the refused first try (400 at an AS, 401 at an RS).
    pub refused_status: u16,
}

impl fmt::Debug for ProofTrail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofTrail")
            .field("proofs", &self.proofs.len())
            .field("nonce_retry", &self.nonce_retry)
            .field("next_nonce", &self.next_nonce.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

impl ProofTrail {
    /// The proof that went with the answer kept (the retry's, when there was one).
    pub fn last(&self) -> Option<&DecodedJwt> {
        self.proofs.last()
    }

    pub fn notes(&self) -> Vec<String> {
        match &self.nonce_retry {
            Some(retry) => vec![format!(
                "DPoP: the server answered {} use_dpop_nonce with a DPoP-Nonce; sent again once with a proof carrying its nonce (RFC 9449 8)",
                retry.refused_status
            )],
            None => Vec::new(),
        }
    }
}

/// What a sent request must tell the retry: its status, headers and JSON body.
pub trait Answered {
    fn status(&self) -> u16;
    fn headers(&self) -> &[(String, String)];
    fn json(&self) -> Option<&Value>;
}

/// Sends once with `nonce` (the one last offered, if any); when the answer is a nonce
/// challenge, signs a new proof with the nonce given and sends once more. `send` signs the
/// proof for the nonce it is given and sends it, answering the proof with the answer.
pub async fn send_with_nonce_retry<T, E, F, Fut>(
    nonce: Option<String>,
    mut send: F,
) -> Result<(T, ProofTrail), E>
where
    T: Answered,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(T, DecodedJwt), E>>,
{
    let mut trail = ProofTrail::default();
    let (answer, proof) = send(nonce).await?;
    trail.proofs.push(proof);
    let answer = match nonce_challenge(answer.status(), answer.headers(), answer.json()) {
        Some(demanded) => {
            trail.nonce_retry = Some(NonceRetry {
                refused_status: answer.status(),
            });
            let (again, proof) = send(Some(demanded)).await?;
            trail.proofs.push(proof);
            again
        }
        None => answer,
    };
    trail.next_nonce = offered_nonce(answer.headers());
    Ok((answer, trail))
}

/// How an issued access token stands to our key: the token type, and its `cnf.jkt` when the
/// token is a JWT (an opaque token can be checked only by introspection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "binding")]
pub enum Binding {
    /// token_type DPoP and, for a JWT access token, cnf.jkt equal to our thumbprint.
    Bound { jwt: bool },
    /// The server answered token_type Bearer to a request with a proof: the token is not
    /// sender-constrained by DPoP.
    NotDpop { token_type: String },
    /// A JWT access token bound to another key, or to none.
    OtherKey { found: Option<String> },
}

impl Binding {
    /// Reads a token answer against our key's thumbprint.
    pub fn of(
        token_type_is_dpop: bool,
        token_type: &str,
        access_token: &str,
        jkt: &str,
    ) -> Binding {
        if !token_type_is_dpop {
            return Binding::NotDpop {
                token_type: token_type.to_owned(),
            };
        }
        let Ok(jwt) = jws::decode(access_token) else {
            return Binding::Bound { jwt: false };
        };
        let found = jwt
            .claim("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(Value::as_str);
        if found == Some(jkt) {
            Binding::Bound { jwt: true }
        } else {
            Binding::OtherKey {
                found: found.map(str::to_owned),
            }
        }
    }

    pub fn is_bound(&self) -> bool {
        matches!(self, Binding::Bound { .. })
    }

    pub fn describe(&self, jkt: &str) -> String {
        match self {
            Binding::Bound { jwt: true } => {
                format!("DPoP: token_type DPoP, the access token's cnf.jkt is our key's ({jkt})")
            }
            Binding::Bound { jwt: false } => format!(
                "DPoP: token_type DPoP; the access token is opaque, so its binding to {jkt} is the server's word"
            ),
            Binding::NotDpop { token_type } => format!(
                "DPoP: the proof was sent but the server answered token_type {token_type}: the token is not bound to our key (does the server support DPoP for this client?)"
            ),
            Binding::OtherKey { found } => format!(
                "DPoP: the access token's cnf.jkt is {}, not our key's {jkt}",
                found.as_deref().unwrap_or("missing")
            ),
        }
    }
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
