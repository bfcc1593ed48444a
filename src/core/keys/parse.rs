//! Reading private key material into an aws-lc-rs key pair: PEM (PKCS#8, PKCS#1, SEC1),
//! a private JWK or a JWK Set entry. The errors name what was found instead (a certificate,
//! a public key, an encrypted key) without echoing any private member.

use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::alg::{KeyKind, alg_name};
use super::encoding::b64url_decode;
use super::error::KeyError;
use super::facts::bit_length;

/// An aws-lc-rs key pair of whichever kind the material holds.
pub(super) enum Pair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

pub const MIN_RSA_BITS: usize = 2048;

pub(super) fn ecdsa_alg(alg: Algorithm) -> (&'static sig::EcdsaSigningAlgorithm, KeyKind) {
    if alg == Algorithm::ES384 {
        (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, KeyKind::EcP384)
    } else {
        (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, KeyKind::EcP256)
    }
}

fn rsa_kind(k: &RsaKeyPair) -> KeyKind {
    KeyKind::Rsa {
        bits: k.public_modulus_len() * 8,
    }
}

fn rsa_rejected(e: aws_lc_rs::error::KeyRejected, bits: Option<usize>) -> KeyError {
    if e.description_() == "TooSmall" || bits.is_some_and(|b| b < MIN_RSA_BITS) {
        KeyError::RsaTooSmall {
            bits: bits.map_or("under 2048".into(), |b| b.to_string()),
        }
    } else {
        KeyError::Unsupported(format!(
            "the RSA key was refused by aws-lc ({})",
            e.description_()
        ))
    }
}

/// Tries the curve the alg asks for first, then the others.
fn try_ec(
    alg: Algorithm,
    parse: impl Fn(&'static sig::EcdsaSigningAlgorithm) -> Option<EcdsaKeyPair>,
) -> Option<(Pair, KeyKind)> {
    let preferred = ecdsa_alg(alg);
    [
        preferred,
        (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, KeyKind::EcP256),
        (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, KeyKind::EcP384),
    ]
    .into_iter()
    .find_map(|(curve, kind)| parse(curve).map(|k| (Pair::Ecdsa(k), kind)))
}

/// Finds what a PKCS#8 document holds.
fn parse_pkcs8(der: &[u8], alg: Algorithm) -> Result<(Pair, KeyKind), KeyError> {
    let rsa = RsaKeyPair::from_pkcs8(der);
    if let Ok(k) = rsa {
        let kind = rsa_kind(&k);
        return Ok((Pair::Rsa(k), kind));
    }
    if let Some(found) = try_ec(alg, |curve| EcdsaKeyPair::from_pkcs8(curve, der).ok()) {
        return Ok(found);
    }
    if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        return Ok((Pair::Ed25519(k), KeyKind::Ed25519));
    }
    // aws-lc says why an RSA key was refused (too small, too large, inconsistent); other
    // reasons mean the document is not RSA at all.
    match rsa {
        Err(e) if e.description_() != "WrongAlgorithm" && e.description_() != "InvalidEncoding" => {
            Err(rsa_rejected(e, None))
        }
        _ => Err(KeyError::Unsupported(
            "the PKCS#8 key is not RSA, EC P-256/P-384 or Ed25519 (or it is damaged)".into(),
        )),
    }
}

fn parse_sec1(der: &[u8], alg: Algorithm) -> Result<(Pair, KeyKind), KeyError> {
    try_ec(alg, |curve| {
        EcdsaKeyPair::from_private_key_der(curve, der).ok()
    })
    .ok_or_else(|| KeyError::Unsupported("the EC key is not on P-256 or P-384".into()))
}

pub(super) fn parse_pem(text: &str, alg: Algorithm) -> Result<(Pair, KeyKind), KeyError> {
    let blocks = pem::parse_many(text).map_err(|e| KeyError::Malformed(format!("bad PEM: {e}")))?;
    if blocks.is_empty() {
        return Err(KeyError::Malformed(
            "no PEM block (-----BEGIN ...-----) and not JSON".into(),
        ));
    }
    let mut saw_certificate = false;
    let mut saw_public = false;
    for block in &blocks {
        let encrypted_header = block
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"));
        match block.tag() {
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted("PKCS#8 with a passphrase")),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" if encrypted_header => {
                return Err(KeyError::Encrypted(
                    "legacy PEM encryption with a passphrase",
                ));
            }
            "PRIVATE KEY" => return parse_pkcs8(block.contents(), alg),
            "RSA PRIVATE KEY" => {
                return RsaKeyPair::from_der(block.contents())
                    .map(|k| {
                        let kind = rsa_kind(&k);
                        (Pair::Rsa(k), kind)
                    })
                    .map_err(|e| rsa_rejected(e, None));
            }
            "EC PRIVATE KEY" => return parse_sec1(block.contents(), alg),
            "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" => saw_certificate = true,
            "PUBLIC KEY" | "RSA PUBLIC KEY" => saw_public = true,
            _ => {}
        }
    }
    Err(if saw_certificate {
        KeyError::Certificate
    } else if saw_public {
        KeyError::PublicOnly
    } else {
        let tags: Vec<&str> = blocks.iter().map(|b| b.tag()).collect();
        KeyError::Malformed(format!("no private key among PEM blocks {tags:?}"))
    })
}

fn jwk_field<'a>(jwk: &'a Value, name: &str) -> Result<&'a str, KeyError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Malformed(format!("the JWK has no string member \"{name}\"")))
}

fn jwk_bytes(jwk: &Value, name: &str) -> Result<Vec<u8>, KeyError> {
    b64url_decode(jwk_field(jwk, name)?)
        .map_err(|_| KeyError::Malformed(format!("JWK member \"{name}\" is not base64url")))
}

pub(super) fn parse_jwk_text(
    text: &str,
    alg: Algorithm,
    kid: Option<&str>,
) -> Result<(Pair, KeyKind, Option<String>), KeyError> {
    // Parsed as a bare Value so no serde message can echo a private member back.
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        KeyError::Malformed(format!(
            "invalid JSON at line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    let jwk = match (doc.get("keys").and_then(Value::as_array), &doc) {
        (Some(keys), _) => pick_from_set(keys, kid)?,
        (None, Value::Object(_)) => &doc,
        (None, _) => {
            return Err(KeyError::Malformed(
                "JSON, but neither a JWK object nor a JWK Set {\"keys\": [...]}".into(),
            ));
        }
    };
    let declared = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
    let (pair, kind) = private_jwk_to_pair(jwk, alg)?;
    Ok((pair, kind, declared))
}

fn pick_from_set<'a>(keys: &'a [Value], kid: Option<&str>) -> Result<&'a Value, KeyError> {
    let kid_of = |k: &Value| k.get("kid").and_then(Value::as_str).map(str::to_owned);
    if let Some(wanted) = kid {
        if let Some(found) = keys.iter().find(|k| kid_of(k).as_deref() == Some(wanted)) {
            return Ok(found);
        }
        // With a single key the kid is the user's to choose; lint flags the mismatch.
        if keys.len() != 1 {
            return Err(KeyError::KidNotFound {
                kid: wanted.into(),
                available: keys
                    .iter()
                    .map(|k| kid_of(k).unwrap_or_else(|| "(no kid)".into()))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    match keys {
        [one] => Ok(one),
        [] => Err(KeyError::Malformed("the JWK Set is empty".into())),
        many => Err(KeyError::KidNeeded { count: many.len() }),
    }
}

fn private_jwk_to_pair(jwk: &Value, alg: Algorithm) -> Result<(Pair, KeyKind), KeyError> {
    let kty = jwk_field(jwk, "kty")?;
    // An oct key has no `d` either, but it is not a public key: say what it is.
    if kty == "oct" {
        return Err(KeyError::Unsupported(
            "a symmetric (oct) key cannot make asymmetric signatures".into(),
        ));
    }
    if jwk.get("d").is_none() {
        return Err(KeyError::PublicOnly);
    }
    match kty {
        "RSA" => {
            let n = jwk_bytes(jwk, "n")?;
            let bits = bit_length(&n);
            if bits < MIN_RSA_BITS {
                return Err(KeyError::RsaTooSmall {
                    bits: bits.to_string(),
                });
            }
            let components = KeyPairComponents {
                public_key: PublicKeyComponents {
                    n,
                    e: jwk_bytes(jwk, "e")?,
                },
                d: jwk_bytes(jwk, "d")?,
                p: jwk_bytes(jwk, "p")?,
                q: jwk_bytes(jwk, "q")?,
                dP: jwk_bytes(jwk, "dp")?,
                dQ: jwk_bytes(jwk, "dq")?,
                qInv: jwk_bytes(jwk, "qi")?,
            };
            let k = RsaKeyPair::from_components(&components)
                .map_err(|e| rsa_rejected(e, Some(bits)))?;
            let kind = rsa_kind(&k);
            Ok((Pair::Rsa(k), kind))
        }
        "EC" => {
            let (curve, kind) = match jwk_field(jwk, "crv")? {
                "P-256" => (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, KeyKind::EcP256),
                "P-384" => (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, KeyKind::EcP384),
                other => return Err(KeyError::Unsupported(format!("EC curve {other}"))),
            };
            if !kind.fits(alg) {
                return Err(KeyError::AlgMismatch {
                    found: kind.describe(),
                    alg: alg_name(alg),
                });
            }
            let mut point = vec![4u8];
            point.extend(jwk_bytes(jwk, "x")?);
            point.extend(jwk_bytes(jwk, "y")?);
            let d = jwk_bytes(jwk, "d")?;
            let k = EcdsaKeyPair::from_private_key_and_public_key(curve, &d, &point)
                .map_err(|e| KeyError::Malformed(format!("the EC JWK was rejected ({e})")))?;
            Ok((Pair::Ecdsa(k), kind))
        }
        "OKP" => match jwk_field(jwk, "crv")? {
            "Ed25519" => {
                let k = Ed25519KeyPair::from_seed_and_public_key(
                    &jwk_bytes(jwk, "d")?,
                    &jwk_bytes(jwk, "x")?,
                )
                .map_err(|e| KeyError::Malformed(format!("the Ed25519 JWK was rejected ({e})")))?;
                Ok((Pair::Ed25519(k), KeyKind::Ed25519))
            }
            other => Err(KeyError::Unsupported(format!("OKP curve {other}"))),
        },
        other => Err(KeyError::Unsupported(format!("kty {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::{SigningKey, b64url};

    #[test]
    fn certificates_public_keys_and_encrypted_pem_are_named() {
        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let public = "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n";
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMAA=\n-----END RSA PRIVATE KEY-----\n";
        let load = |t: &str| SigningKey::from_material(t.as_bytes(), Algorithm::PS256, None);
        assert_eq!(load(cert).unwrap_err(), KeyError::Certificate);
        assert_eq!(load(public).unwrap_err(), KeyError::PublicOnly);
        assert!(matches!(load(enc).unwrap_err(), KeyError::Encrypted(_)));
        assert!(matches!(load(legacy).unwrap_err(), KeyError::Encrypted(_)));
        assert!(matches!(
            load("garbage").unwrap_err(),
            KeyError::Malformed(_)
        ));
        assert!(matches!(
            load("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----")
                .unwrap_err(),
            KeyError::Malformed(_)
        ));
    }

    #[test]
    fn a_symmetric_jwk_is_not_called_a_public_key() {
        let oct = r#"{"kty":"oct","k":"c2VjcmV0"}"#;
        let err = SigningKey::from_material(oct.as_bytes(), Algorithm::PS256, None).unwrap_err();
        assert!(
            matches!(&err, KeyError::Unsupported(m) if m.contains("symmetric")),
            "{err:?}"
        );
    }

    #[test]
    fn small_rsa_jwk_is_refused_with_its_size() {
        let jwk = serde_json::json!({"kty":"RSA","n": b64url(&[0xC0; 128]),"e":"AQAB","d":"AQAB","p":"AQ","q":"AQ","dp":"AQ","dq":"AQ","qi":"AQ"});
        let err = SigningKey::from_material(jwk.to_string().as_bytes(), Algorithm::PS256, None)
            .unwrap_err();
        assert_eq!(
            err,
            KeyError::RsaTooSmall {
                bits: "1024".into()
            }
        );
    }
}
