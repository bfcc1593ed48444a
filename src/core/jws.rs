//! Compact JWS: signing with a parsed key, decoding for display and lint, verifying.

use std::fmt;

use jsonwebtoken::jwk::Jwk;
use serde_json::Value;

use super::keys::{self, KeyError, SigningKey, b64url, b64url_decode};

/// A compact JWS taken apart. The compact form is a credential (a client assertion can
/// be replayed), so `Debug` leaves it out.
#[derive(Clone, PartialEq)]
pub struct DecodedJwt {
    pub header: Value,
    pub claims: Value,
    pub compact: String,
}

impl fmt::Debug for DecodedJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedJwt")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("a compact JWS has three dot-separated parts; this has {0}")]
    Parts(usize),
    #[error("the {0} is not base64url")]
    Base64(&'static str),
    #[error("the {0} is not a JSON object")]
    Json(&'static str),
}

/// Why a signature could not be checked at all (as opposed to checked and found wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the header has no known alg")]
    UnknownAlg,
    #[error("the public JWK is unusable: {0}")]
    BadKey(String),
    #[error("{0}")]
    Crypto(String),
}

impl DecodedJwt {
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claim(name).and_then(Value::as_str)
    }

    fn parts(&self) -> (&str, &str) {
        let cut = self.compact.rfind('.').unwrap_or(0);
        (&self.compact[..cut], &self.compact[cut + 1..])
    }

    /// Checks the signature with a public JWK through jsonwebtoken, independent of our signer.
    pub fn verify(&self, jwk: &Jwk) -> Result<bool, VerifyError> {
        let alg = self
            .alg()
            .and_then(keys::parse_alg)
            .ok_or(VerifyError::UnknownAlg)?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk)
            .map_err(|e| VerifyError::BadKey(e.to_string()))?;
        let (input, signature) = self.parts();
        jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, alg)
            .map_err(|e| VerifyError::Crypto(e.to_string()))
    }
}

fn json_part(text: &str, what: &'static str) -> Result<Value, JwsError> {
    let bytes = b64url_decode(text).map_err(|_| JwsError::Base64(what))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(JwsError::Json(what)),
    }
}

pub fn decode(compact: &str) -> Result<DecodedJwt, JwsError> {
    let compact = compact.trim();
    let parts: Vec<&str> = compact.split('.').collect();
    if parts.len() != 3 {
        return Err(JwsError::Parts(parts.len()));
    }
    b64url_decode(parts[2]).map_err(|_| JwsError::Base64("signature"))?;
    Ok(DecodedJwt {
        header: json_part(parts[0], "header")?,
        claims: json_part(parts[1], "payload")?,
        compact: compact.to_owned(),
    })
}

fn signing_input(header: &Value, claims: &Value) -> String {
    let mut input = b64url(header.to_string().as_bytes());
    input.push('.');
    input.push_str(&b64url(claims.to_string().as_bytes()));
    input
}

/// Serialises header and claims as given (key order kept) and signs them.
pub fn sign(header: &Value, claims: &Value, key: &SigningKey) -> Result<String, KeyError> {
    let mut input = signing_input(header, claims);
    let signature = key.sign(input.as_bytes())?;
    input.push('.');
    input.push_str(&b64url(&signature));
    Ok(input)
}

/// Signs by the alg the header names, which may not be the key's: `none` (no signature),
/// `HS256` (an HMAC whose secret is the key's thumbprint: no server knows it, and a server that
/// accepts it is not checking), or another algorithm the key can make (`RS256` with an RSA key).
/// Only the probe's faulty requests use this; every real build signs with `sign`.
pub fn sign_as_header_says(
    header: &Value,
    claims: &Value,
    key: &SigningKey,
) -> Result<String, KeyError> {
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    let mut input = signing_input(header, claims);
    let signature = match alg {
        "none" => Vec::new(),
        "HS256" => {
            let secret = aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                key.thumbprint().as_bytes(),
            );
            aws_lc_rs::hmac::sign(&secret, input.as_bytes())
                .as_ref()
                .to_vec()
        }
        other => {
            let alg = keys::parse_alg(other)
                .ok_or_else(|| KeyError::Unsupported(format!("no signer for alg {other}")))?;
            key.sign_as(alg, input.as_bytes())?
        }
    };
    input.push('.');
    input.push_str(&b64url(&signature));
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_may_name_another_alg_the_key_can_make() {
        let key = SigningKey::generate(jsonwebtoken::Algorithm::PS256)
            .unwrap()
            .0;
        let claims = serde_json::json!({"a": 1});
        let rs256 = serde_json::json!({"alg": "RS256", "kid": key.kid()});
        let jwt = decode(&sign_as_header_says(&rs256, &claims, &key).unwrap()).unwrap();
        assert_eq!(jwt.verify(&key.public_jwk()), Ok(true));
        let none = serde_json::json!({"alg": "none"});
        assert!(
            sign_as_header_says(&none, &claims, &key)
                .unwrap()
                .ends_with('.')
        );
        let es = SigningKey::generate(jsonwebtoken::Algorithm::ES256)
            .unwrap()
            .0;
        assert!(sign_as_header_says(&rs256, &claims, &es).is_err());
    }
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    #[test]
    fn sign_decode_verify_round_trip() {
        let (key, _) = SigningKey::generate(Algorithm::PS256).unwrap();
        let other = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let header = json!({"alg": "PS256", "kid": key.kid()});
        let claims = json!({"b": 1, "a": 2});
        let compact = sign(&header, &claims, &key).unwrap();
        let decoded = decode(&compact).unwrap();
        assert_eq!(decoded.header, header);
        // Key order is the builder's, as in the portal sample.
        assert_eq!(decoded.claims.to_string(), r#"{"b":1,"a":2}"#);
        assert_eq!(decoded.verify(&key.public_jwk()), Ok(true));
        assert_eq!(decoded.verify(&other.public_jwk()), Ok(false));
        assert!(!format!("{decoded:?}").contains(&compact));
    }

    #[test]
    fn malformed_compact_forms_are_named() {
        assert_eq!(decode("a.b").unwrap_err(), JwsError::Parts(2));
        assert_eq!(decode("!!.e30.AA").unwrap_err(), JwsError::Base64("header"));
        assert_eq!(decode("WzFd.e30.AA").unwrap_err(), JwsError::Json("header"));
    }
}
