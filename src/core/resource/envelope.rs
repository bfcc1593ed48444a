//! Opening a resource server's answer layer by layer: the signed envelope (a JWS whose `data`
//! claim is a JWE), the JWE, and a signed JWT inside when there is one. Every layer carries
//! its verdict; a layer that fails stops the ones under it.

use jiff::Timestamp;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Serialize;
use serde_json::Value;

use super::jwe::EncryptionKey;
use crate::core::consent::resource_api::{ResponseScheme, Wrapping};
use crate::core::jws::{self, DecodedJwt};

/// What was found of one layer's signature or encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// Checked and good: the signing key's kid, or the decryption key's.
    Verified(String),
    /// Not checked, and why (no key configured, kid unknown).
    NotVerified(String),
    /// Checked and wrong: the layer cannot be trusted.
    Failed(String),
}

impl Verdict {
    pub fn is_failed(&self) -> bool {
        matches!(self, Verdict::Failed(_))
    }

    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified(_))
    }
}

/// One layer: its JOSE header, its claims (for a JWS) and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    pub header: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    pub verdict: Verdict,
}

/// An answer taken apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Opened {
    pub envelope: Option<Layer>,
    pub jwe: Option<Layer>,
    pub inner: Option<Layer>,
    /// The JSON at the bottom (decrypted, or the plain body).
    pub payload: Option<Value>,
    pub notes: Vec<String>,
}

impl Opened {
    /// The first layer that failed, with its reason.
    pub fn failure(&self) -> Option<(&'static str, &str)> {
        [
            ("envelope", &self.envelope),
            ("JWE", &self.jwe),
            ("inner JWT", &self.inner),
        ]
        .into_iter()
        .find_map(|(name, layer)| match layer.as_ref().map(|l| &l.verdict) {
            Some(Verdict::Failed(why)) => Some((name, why.as_str())),
            _ => None,
        })
    }
}

/// The keys an answer is checked with; either may be missing.
pub struct Keys<'a> {
    pub envelope: Option<&'a JwkSet>,
    /// Why there is no envelope key, when there is none.
    pub envelope_missing: &'a str,
    pub decryption: Option<&'a EncryptionKey>,
}

/// Opens a 2xx body per the pack's response scheme.
pub fn open(body: &str, scheme: &ResponseScheme, keys: &Keys<'_>, now: Timestamp) -> Opened {
    let mut opened = Opened::default();
    let trimmed = body.trim();
    let looks_like_jws = trimmed.split('.').count() == 3 && !trimmed.starts_with('{');
    if scheme.wrapping == Wrapping::Plain || !looks_like_jws {
        if scheme.wrapping == Wrapping::JwsEnvelopeJwe {
            opened
                .notes
                .push("the pack expects a signed envelope; the answer is not a compact JWS".into());
        }
        opened.payload = Some(
            serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(trimmed.to_owned())),
        );
        return opened;
    }
    let envelope = match jws::decode(trimmed) {
        Ok(envelope) => envelope,
        Err(e) => {
            opened.envelope = Some(Layer {
                header: Value::Null,
                claims: None,
                verdict: Verdict::Failed(format!("the envelope is not a readable JWS: {e}")),
            });
            return opened;
        }
    };
    let verdict = verify_jws(&envelope, keys.envelope, keys.envelope_missing);
    if let Some(exp) = envelope.claim("exp").and_then(Value::as_f64)
        && (exp as i64) < now.as_second()
    {
        opened
            .notes
            .push(format!("the envelope's exp ({exp}) has passed"));
    }
    let failed = verdict.is_failed();
    let data = envelope
        .claim(&scheme.data_claim)
        .and_then(Value::as_str)
        .map(str::to_owned);
    opened.envelope = Some(Layer {
        header: envelope.header.clone(),
        claims: Some(envelope.claims.clone()),
        verdict,
    });
    if failed {
        return opened;
    }
    let Some(data) = data else {
        opened.notes.push(format!(
            "the envelope has no {} claim holding a JWE",
            scheme.data_claim
        ));
        return opened;
    };
    let Some(decryption) = keys.decryption else {
        opened.jwe = Some(Layer {
            header: jwe_header(&data),
            claims: None,
            verdict: Verdict::NotVerified(
                "no encryption key configured: set [encryption] key in the profile".into(),
            ),
        });
        return opened;
    };
    match decryption.decrypt(&data) {
        Ok(plain) => {
            opened.jwe = Some(Layer {
                header: plain.header.clone(),
                claims: None,
                verdict: Verdict::Verified(decryption.kid().to_owned()),
            });
            if plain.header.get("kid").is_none() {
                opened.notes.push(
                    "the JWE carries no kid: it was opened with the profile's encryption key"
                        .into(),
                );
            }
            read_plaintext(&mut opened, &plain.plaintext, keys);
        }
        Err(e) => {
            opened.jwe = Some(Layer {
                header: jwe_header(&data),
                claims: None,
                verdict: Verdict::Failed(e.to_string()),
            });
        }
    }
    opened
}

/// Plain JSON, or a signed JWT (`cty: JWT`) whose claims are the payload.
fn read_plaintext(opened: &mut Opened, plaintext: &[u8], keys: &Keys<'_>) {
    let text = String::from_utf8_lossy(plaintext);
    let text = text.trim();
    if let Ok(json) = serde_json::from_str::<Value>(text) {
        opened.payload = Some(json);
        return;
    }
    match jws::decode(text) {
        Ok(inner) => {
            let verdict = verify_jws(&inner, keys.envelope, keys.envelope_missing);
            opened.payload = Some(inner.claims.clone());
            opened.inner = Some(Layer {
                header: inner.header,
                claims: None,
                verdict,
            });
        }
        Err(_) => opened.payload = Some(Value::String(text.to_owned())),
    }
}

/// A JWE's protected header, read without the key.
fn jwe_header(compact: &str) -> Value {
    compact
        .split('.')
        .next()
        .and_then(|h| crate::core::keys::b64url_decode(h).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

fn verify_jws(jwt: &DecodedJwt, keys: Option<&JwkSet>, missing: &str) -> Verdict {
    let Some(set) = keys else {
        return Verdict::NotVerified(missing.to_owned());
    };
    let key: Option<&Jwk> = match jwt.kid() {
        Some(kid) => set.find(kid),
        // Without a kid, a set of one key is unambiguous.
        None if set.keys.len() == 1 => set.keys.first(),
        None => None,
    };
    let Some(key) = key else {
        let known: Vec<&str> = set
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.as_deref())
            .collect();
        return Verdict::NotVerified(format!(
            "kid {} is not in the configured JWK Set (it has: {})",
            jwt.kid().unwrap_or("(none)"),
            known.join(", ")
        ));
    };
    let kid = key.common.key_id.clone().unwrap_or_default();
    match jwt.verify(key) {
        Ok(true) => Verdict::Verified(kid),
        Ok(false) => Verdict::Failed(format!(
            "the signature does not verify with kid {kid}: the answer was altered or signed by another key"
        )),
        Err(e) => Verdict::Failed(format!("the signature cannot be checked: {e}")),
    }
}

/// Makes an envelope (the sandbox's answer): `payload` encrypted to `recipient` with
/// `cty`, put in the `data` claim beside `claims`, signed with `key`.
pub fn seal(
    payload: &Value,
    claims: &Value,
    key: &crate::core::keys::SigningKey,
    recipient: &Jwk,
    cty: Option<&str>,
) -> Result<String, String> {
    let extra = match cty {
        Some(cty) => serde_json::json!({"cty": cty}),
        None => serde_json::json!({}),
    };
    let data = super::jwe::encrypt(payload.to_string().as_bytes(), recipient, &extra)
        .map_err(|e| e.to_string())?;
    let mut claims = claims.clone();
    if let Some(object) = claims.as_object_mut() {
        object.insert("data".into(), data.into());
    }
    let header = serde_json::json!({
        "alg": crate::core::keys::alg_name(key.alg()),
        "kid": key.kid(),
        "typ": "JWT",
    });
    jws::sign(&header, &claims, key).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
