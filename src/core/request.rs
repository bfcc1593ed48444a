//! Building a Pushed Authorization Request: the signed request object (JAR, RFC 9101) with
//! authorization_details (RFC 9396) and PKCE S256 (RFC 7636), and the private_key_jwt client
//! assertion (RFC 7523), in the shape of the Ozone portal sample.
//!
//! The clock and the randomness are parameters, so a build is reproducible in tests (the
//! PS256/ES256 signatures themselves stay randomized).

use std::fmt;
use std::path::PathBuf;

use aws_lc_rs::digest;
use jiff::Timestamp;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::consent::{ConsentValues, MaterializeError, Pack};
use super::jws::{self, DecodedJwt};
use super::keys::{self, SigningKey, b64url};

/// Endpoints of the authorization server the profile targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    pub issuer: String,
    pub par: Option<String>,
    pub authorization: Option<String>,
    pub token: Option<String>,
}

impl Endpoints {
    pub fn embedded(base: &str) -> Endpoints {
        let base = base.trim_end_matches('/');
        Endpoints {
            issuer: base.to_owned(),
            par: Some(format!("{base}/par")),
            authorization: Some(format!("{base}/authorize")),
            token: Some(format!("{base}/token")),
        }
    }
}

/// What to put in the client assertion's `aud`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertionAudience {
    Issuer,
    TokenEndpoint,
    ParEndpoint,
    Literal(String),
}

/// Changes the command line (or the TUI) makes to a profile for one build.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub key: Option<PathBuf>,
    pub permissions: Vec<String>,
    pub purpose: Option<String>,
    pub expiration: Option<String>,
    /// `FIELD=VALUE` pairs, by field id or wire path (`dp_id` or `consent.dp_id`).
    pub set: Vec<(String, String)>,
}

/// Everything a build needs except the key: the profile resolved against its pack.
#[derive(Debug, Clone)]
pub struct ParSeed {
    pub profile_name: String,
    pub client_id: String,
    pub endpoints: Endpoints,
    pub redirect_uri: String,
    pub scope: String,
    pub response_type: String,
    pub max_age: Option<i64>,
    pub userinfo_claims: Vec<String>,
    pub pack: Pack,
    pub consent: ConsentValues,
    pub lifetime: i64,
    pub clock_skew: i64,
    pub assertion_audience: AssertionAudience,
    pub request_typ: Option<String>,
    pub assertion_typ: Option<String>,
}

/// The client assertion's `aud` names an endpoint the profile does not give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing.assertion_audience is {endpoint} but the profile has no {endpoint}")]
pub struct AudienceError {
    /// The profile key that is missing, `token_endpoint` or `par_endpoint`.
    pub endpoint: &'static str,
}

impl ParSeed {
    pub fn assertion_aud(&self) -> Result<String, AudienceError> {
        let missing = |endpoint| AudienceError { endpoint };
        Ok(match &self.assertion_audience {
            AssertionAudience::Issuer => self.endpoints.issuer.clone(),
            AssertionAudience::TokenEndpoint => self
                .endpoints
                .token
                .clone()
                .ok_or_else(|| missing("token_endpoint"))?,
            AssertionAudience::ParEndpoint => self
                .endpoints
                .par
                .clone()
                .ok_or_else(|| missing("par_endpoint"))?,
            AssertionAudience::Literal(url) => url.clone(),
        })
    }
}

pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A built request: both JWTs (compact and decoded), the PKCE verifier kept for the token
/// exchange, and the form to POST. The assertion and verifier are secrets: `Debug` hides them.
#[derive(Clone)]
pub struct ParTicket {
    pub request: DecodedJwt,
    pub client_assertion: DecodedJwt,
    pub code_verifier: String,
    pub form: Vec<(String, String)>,
    pub interaction_id: String,
    pub built_at: Timestamp,
}

impl fmt::Debug for ParTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claim names only: nonce, state and the PKCE challenge are what the flow checks later.
        let names = |jwt: &DecodedJwt| -> Vec<String> {
            jwt.claims
                .as_object()
                .map(|claims| claims.keys().cloned().collect())
                .unwrap_or_default()
        };
        f.debug_struct("ParTicket")
            .field("request_claims", &names(&self.request))
            .field("client_assertion_claims", &names(&self.client_assertion))
            .field("interaction_id", &self.interaction_id)
            .field("built_at", &self.built_at)
            .finish_non_exhaustive()
    }
}

impl ParTicket {
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The form as application/x-www-form-urlencoded text.
    pub fn form_body(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.form.iter())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("consent field {0}")]
    Consent(#[from] MaterializeError),
    #[error(transparent)]
    Audience(#[from] AudienceError),
    #[error("signing failed: {0}")]
    Sign(#[from] keys::KeyError),
}

pub(crate) fn uuid_from(rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A PKCE verifier: 32 random bytes, base64url (43 characters, RFC 7636 section 4.1).
fn pkce_verifier(rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    b64url(&bytes)
}

pub fn s256_challenge(verifier: &str) -> String {
    b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

fn header(key: &SigningKey, typ: Option<&str>) -> Value {
    let mut h = Map::new();
    h.insert("alg".into(), keys::alg_name(key.alg()).into());
    h.insert("kid".into(), key.kid().into());
    if let Some(typ) = typ {
        h.insert("typ".into(), typ.into());
    }
    Value::Object(h)
}

/// The request object's claims, in the sample's order.
pub fn request_claims(
    seed: &ParSeed,
    now: Timestamp,
    rng: &mut dyn RngCore,
    code_challenge: &str,
) -> Result<Value, BuildError> {
    let nbf = now.as_second() - seed.clock_skew;
    let exp = nbf + seed.lifetime;
    let mut c = Map::new();
    c.insert("aud".into(), seed.endpoints.issuer.clone().into());
    c.insert("exp".into(), exp.into());
    c.insert("iss".into(), seed.client_id.clone().into());
    c.insert("scope".into(), seed.scope.clone().into());
    c.insert("redirect_uri".into(), seed.redirect_uri.clone().into());
    c.insert("client_id".into(), seed.client_id.clone().into());
    c.insert("nonce".into(), uuid_from(rng).into());
    c.insert("state".into(), uuid_from(rng).into());
    c.insert("nbf".into(), nbf.into());
    if seed
        .pack
        .constraints
        .required_request_claims
        .iter()
        .any(|claim| claim == "iat")
    {
        // The UAE guide: nbf = iat - 10, the skew backdating nbf only.
        c.insert("iat".into(), now.as_second().into());
    }
    c.insert("response_type".into(), seed.response_type.clone().into());
    c.insert("code_challenge_method".into(), "S256".into());
    c.insert("code_challenge".into(), code_challenge.into());
    if let Some(max_age) = seed.max_age {
        c.insert("max_age".into(), max_age.into());
    }
    if !seed.userinfo_claims.is_empty() {
        let userinfo: Map<String, Value> = seed
            .userinfo_claims
            .iter()
            .map(|claim| (claim.clone(), Value::Null))
            .collect();
        c.insert("claims".into(), json!({ "userinfo": userinfo }));
    }
    let mut new_uuid = || uuid_from(rng);
    let item = seed
        .pack
        .authorization_detail(&seed.consent, now, &mut new_uuid)?;
    c.insert("authorization_details".into(), json!([item]));
    Ok(Value::Object(c))
}

pub fn assertion_claims(
    seed: &ParSeed,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<Value, BuildError> {
    let iat = now.as_second() - seed.clock_skew;
    Ok(json!({
        "aud": seed.assertion_aud()?,
        "exp": iat + seed.lifetime,
        "iss": seed.client_id,
        "sub": seed.client_id,
        "jti": uuid_from(rng),
        "iat": iat,
    }))
}

/// A fresh private_key_jwt client assertion (new jti, times from `now`) for one request to the
/// PAR or token endpoint: an assertion is single use, so every request signs its own.
pub fn client_assertion(
    seed: &ParSeed,
    key: &SigningKey,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<DecodedJwt, BuildError> {
    let claims = assertion_claims(seed, now, rng)?;
    let header = header(key, seed.assertion_typ.as_deref());
    let compact = jws::sign(&header, &claims, key)?;
    Ok(DecodedJwt {
        header,
        claims,
        compact,
    })
}

/// Changes a JWT's header and claims before it is signed.
pub type JwtFault<'a> = dyn Fn(&mut Value, &mut Value) + Send + Sync + 'a;

/// One deliberate fault put into a build before signing (the probe's cases: alg none, an
/// assertion aud array, a missing exp...). The JWTs are then signed by the alg their header
/// names, so a fault may name an alg the key does not use.
#[derive(Default, Clone, Copy)]
pub struct Tamper<'a> {
    pub request: Option<&'a JwtFault<'a>>,
    pub assertion: Option<&'a JwtFault<'a>>,
}

/// Builds and signs both JWTs. Fresh nonce, state, jti, PKCE verifier and interaction id
/// come from `rng`; all times from `now`.
pub fn build(
    seed: &ParSeed,
    key: &SigningKey,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Result<ParTicket, BuildError> {
    build_with(seed, key, now, rng, None, Tamper::default())
}

/// `build`, the request object also carrying `dpop_jkt` when given (RFC 9449 10): the code
/// the server issues is then bound to that DPoP key.
pub fn build_bound(
    seed: &ParSeed,
    key: &SigningKey,
    now: Timestamp,
    rng: &mut dyn RngCore,
    dpop_jkt: Option<&str>,
) -> Result<ParTicket, BuildError> {
    build_with(seed, key, now, rng, dpop_jkt, Tamper::default())
}

/// `build` with a fault applied to either JWT before it is signed.
pub fn build_tampered(
    seed: &ParSeed,
    key: &SigningKey,
    now: Timestamp,
    rng: &mut dyn RngCore,
    tamper: Tamper,
) -> Result<ParTicket, BuildError> {
    build_with(seed, key, now, rng, None, tamper)
}

fn build_with(
    seed: &ParSeed,
    key: &SigningKey,
    now: Timestamp,
    rng: &mut dyn RngCore,
    dpop_jkt: Option<&str>,
    tamper: Tamper,
) -> Result<ParTicket, BuildError> {
    let code_verifier = pkce_verifier(rng);
    let mut request_claims = request_claims(seed, now, rng, &s256_challenge(&code_verifier))?;
    if let (Some(jkt), Some(claims)) = (dpop_jkt, request_claims.as_object_mut()) {
        claims.insert("dpop_jkt".into(), jkt.into());
    }
    let mut client_assertion = client_assertion(seed, key, now, rng)?;
    if let Some(fault) = tamper.assertion {
        fault(&mut client_assertion.header, &mut client_assertion.claims);
        client_assertion.compact =
            jws::sign_as_header_says(&client_assertion.header, &client_assertion.claims, key)?;
    }
    let mut request_header = header(key, seed.request_typ.as_deref());
    let request = match tamper.request {
        None => jws::sign(&request_header, &request_claims, key)?,
        Some(fault) => {
            fault(&mut request_header, &mut request_claims);
            jws::sign_as_header_says(&request_header, &request_claims, key)?
        }
    };
    let form = vec![
        ("client_id".to_owned(), seed.client_id.clone()),
        ("request".to_owned(), request.clone()),
        (
            "client_assertion_type".to_owned(),
            CLIENT_ASSERTION_TYPE.to_owned(),
        ),
        (
            "client_assertion".to_owned(),
            client_assertion.compact.clone(),
        ),
    ];
    Ok(ParTicket {
        request: DecodedJwt {
            header: request_header,
            claims: request_claims,
            compact: request,
        },
        client_assertion,
        code_verifier,
        form,
        interaction_id: uuid_from(rng),
        built_at: now,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::consent::PackSet;
    use crate::core::profile::{self};
    use crate::core::request::Overrides;
    use jsonwebtoken::Algorithm;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    pub(crate) fn now() -> Timestamp {
        "2026-01-30T10:00:00Z".parse().unwrap()
    }

    pub(crate) fn seed(name: &str) -> ParSeed {
        profile::builtin(name)
            .unwrap()
            .seed(
                &PackSet::builtin(),
                &Overrides::default(),
                "http://127.0.0.1:9126",
            )
            .unwrap()
    }

    fn key() -> SigningKey {
        SigningKey::generate(Algorithm::PS256).unwrap().0
    }

    #[test]
    fn same_clock_and_rng_give_the_same_claims() {
        let key = key();
        let seed = seed("local");
        let a = build(&seed, &key, now(), &mut StdRng::seed_from_u64(7)).unwrap();
        let b = build(&seed, &key, now(), &mut StdRng::seed_from_u64(7)).unwrap();
        let c = build(&seed, &key, now(), &mut StdRng::seed_from_u64(8)).unwrap();
        assert_eq!(a.request.claims, b.request.claims);
        assert_eq!(a.client_assertion.claims, b.client_assertion.claims);
        assert_eq!(a.code_verifier, b.code_verifier);
        assert_ne!(a.request.claims["nonce"], c.request.claims["nonce"]);
        assert_ne!(
            a.client_assertion.claims["jti"],
            c.client_assertion.claims["jti"]
        );
        assert_ne!(a.request.claims["state"], a.request.claims["nonce"]);
    }

    #[test]
    fn request_object_has_the_sample_claims_in_order() {
        let t = build(&seed("local"), &key(), now(), &mut StdRng::seed_from_u64(1)).unwrap();
        let keys: Vec<&str> = t
            .request
            .claims
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "aud",
                "exp",
                "iss",
                "scope",
                "redirect_uri",
                "client_id",
                "nonce",
                "state",
                "nbf",
                "response_type",
                "code_challenge_method",
                "code_challenge",
                "max_age",
                "claims",
                "authorization_details"
            ]
        );
        let c = &t.request.claims;
        assert_eq!(c["exp"].as_i64().unwrap() - c["nbf"].as_i64().unwrap(), 300);
        assert_eq!(c["nbf"], now().as_second());
        assert_eq!(c["aud"], "http://127.0.0.1:9126");
        assert_eq!(c["claims"]["userinfo"]["email"], Value::Null);
        assert_eq!(
            t.request.header,
            json!({"alg": "PS256", "kid": t.request.kid().unwrap()})
        );
        let a = &t.client_assertion.claims;
        let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["aud", "exp", "iss", "sub", "jti", "iat"]);
        assert_eq!(a["iss"], a["sub"]);
        assert_eq!(a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(), 300);
    }

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        // RFC 7636 appendix B.
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let t = build(&seed("local"), &key(), now(), &mut StdRng::seed_from_u64(1)).unwrap();
        assert_eq!(t.code_verifier.len(), 43);
        assert_eq!(
            t.request.claims["code_challenge"],
            s256_challenge(&t.code_verifier)
        );
    }

    #[test]
    fn uae_build_backdates_adds_iat_and_a_fresh_consent_id() {
        let seed = seed("local-uae");
        let t = build(&seed, &key(), now(), &mut StdRng::seed_from_u64(1)).unwrap();
        let c = &t.request.claims;
        assert_eq!(c["nbf"], now().as_second() - 10);
        assert_eq!(c["iat"], now().as_second());
        assert_eq!(c["exp"], now().as_second() - 10 + 300);
        assert_eq!(t.client_assertion.claims["iat"], now().as_second() - 10);
        let item = &c["authorization_details"][0];
        assert_eq!(
            item["type"],
            "urn:openfinanceuae:account-access-consent:v2.1"
        );
        assert!(uuid::Uuid::parse_str(item["consent"]["ConsentId"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn form_carries_both_jwts_and_debug_hides_secrets() {
        let t = build(&seed("local"), &key(), now(), &mut StdRng::seed_from_u64(1)).unwrap();
        assert_eq!(
            t.form_value("client_assertion_type"),
            Some(CLIENT_ASSERTION_TYPE)
        );
        assert_eq!(t.form_value("request"), Some(t.request.compact.as_str()));
        assert!(
            t.form_body()
                .contains("client_assertion_type=urn%3Aietf%3Aparams")
        );
        let debug = format!("{t:?}");
        assert!(!debug.contains(&t.client_assertion.compact));
        assert!(!debug.contains(&t.code_verifier));
    }

    #[test]
    fn both_jwts_verify_with_the_public_key() {
        let key = key();
        let t = build(&seed("local"), &key, now(), &mut StdRng::seed_from_u64(1)).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(
            jws::decode(&t.request.compact).unwrap().verify(&jwk),
            Ok(true)
        );
        assert_eq!(
            jws::decode(&t.client_assertion.compact)
                .unwrap()
                .verify(&jwk),
            Ok(true)
        );
    }
}
