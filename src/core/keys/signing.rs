//! A private key parsed once, ready to sign with one algorithm.
//!
//! jsonwebtoken re-parses the DER key on every encode, which costs about 2.5 times a raw
//! signature; here the aws-lc-rs key pair is kept. The private part never leaves this
//! module except as signatures, and `Debug` never shows it.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType,
};

use super::alg::{KeyKind, alg_name, is_asymmetric};
use super::encoding::b64url;
use super::error::KeyError;
use super::facts::{KeyFacts, thumbprint};
use super::parse::{Pair, ecdsa_alg, parse_jwk_text, parse_pem};

/// A private key ready to sign with one algorithm.
pub struct SigningKey {
    alg: Algorithm,
    kid: String,
    thumbprint: String,
    /// The kid the key's own JWK or JWK Set entry carries, if any.
    declared_kid: Option<String>,
    kind: KeyKind,
    pair: Pair,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads key material (PEM, JWK or JWK Set) for `alg`; `kid` picks the JWK Set entry and
    /// becomes the header `kid` (default: the RFC 7638 thumbprint, or the JWK's own kid).
    pub fn from_material(
        material: &[u8],
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        if !is_asymmetric(alg) {
            return Err(KeyError::NotAsymmetric { alg: alg_name(alg) });
        }
        let text = std::str::from_utf8(material)
            .map_err(|_| KeyError::Malformed("binary data; expected PEM or JSON text".into()))?
            .trim_start_matches('\u{feff}')
            .trim();
        let (pair, kind, declared_kid) = if text.starts_with('{') || text.starts_with('[') {
            let (pair, kind, declared) = parse_jwk_text(text, alg, kid)?;
            (pair, kind, declared)
        } else {
            let (pair, kind) = parse_pem(text, alg)?;
            (pair, kind, None)
        };
        Self::assemble(pair, kind, alg, kid, declared_kid)
    }

    /// Makes a new key for `alg` and returns it with its PKCS#8 PEM.
    pub fn generate(alg: Algorithm) -> Result<(Self, String), KeyError> {
        use Algorithm::*;
        let failed = |_| KeyError::Unsupported("key generation failed".into());
        let (pair, kind, der) = match alg {
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => {
                let k = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?;
                let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&k)
                    .map_err(failed)?
                    .as_ref()
                    .to_vec();
                (Pair::Rsa(k), KeyKind::Rsa { bits: 2048 }, der)
            }
            ES256 | ES384 => {
                let (curve, kind) = ecdsa_alg(alg);
                let k = EcdsaKeyPair::generate(curve).map_err(failed)?;
                let der = k.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
                (Pair::Ecdsa(k), kind, der)
            }
            EdDSA => {
                let k = Ed25519KeyPair::generate().map_err(failed)?;
                let der = k.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
                (Pair::Ed25519(k), KeyKind::Ed25519, der)
            }
            other => {
                return Err(KeyError::NotAsymmetric {
                    alg: alg_name(other),
                });
            }
        };
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
        Ok((Self::assemble(pair, kind, alg, None, None)?, pem))
    }

    fn assemble(
        pair: Pair,
        kind: KeyKind,
        alg: Algorithm,
        kid: Option<&str>,
        declared_kid: Option<String>,
    ) -> Result<Self, KeyError> {
        if !kind.fits(alg) {
            return Err(KeyError::AlgMismatch {
                found: kind.describe(),
                alg: alg_name(alg),
            });
        }
        let mut key = SigningKey {
            alg,
            kid: String::new(),
            thumbprint: String::new(),
            declared_kid,
            kind,
            pair,
            rng: SystemRandom::new(),
        };
        key.thumbprint = thumbprint(&key.bare_public_jwk());
        key.kid = kid
            .map(str::to_owned)
            .or_else(|| key.declared_kid.clone())
            .unwrap_or_else(|| key.thumbprint.clone());
        Ok(key)
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn facts(&self) -> KeyFacts {
        KeyFacts {
            kind: self.kind,
            thumbprint: self.thumbprint.clone(),
            declared_kid: self.declared_kid.clone(),
            public_jwk: self.public_jwk(),
        }
    }

    /// Signs the JWS signing input; the signature is in JWS form (ECDSA as r||s).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.sign_as(self.alg, message)
    }

    /// Signs with another algorithm the same key can make: an RSA key signs RS256 as well as
    /// PS256 (the probe asks whether a server refuses RS256). Other kinds sign only their own.
    pub fn sign_as(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use Algorithm::*;
        let failed = |_| KeyError::Unsupported("the signature could not be made".into());
        let rsa_alg = matches!(alg, PS256 | PS384 | PS512 | RS256 | RS384 | RS512);
        if alg != self.alg && !(matches!(self.pair, Pair::Rsa(_)) && rsa_alg) {
            return Err(KeyError::Unsupported(format!(
                "a {} key signs only {}, not {}",
                self.kind.describe(),
                alg_name(self.alg),
                alg_name(alg)
            )));
        }
        match &self.pair {
            Pair::Rsa(k) => {
                let padding: &'static dyn sig::RsaEncoding = match alg {
                    PS256 => &sig::RSA_PSS_SHA256,
                    PS384 => &sig::RSA_PSS_SHA384,
                    PS512 => &sig::RSA_PSS_SHA512,
                    RS256 => &sig::RSA_PKCS1_SHA256,
                    RS384 => &sig::RSA_PKCS1_SHA384,
                    _ => &sig::RSA_PKCS1_SHA512,
                };
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(padding, &self.rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            Pair::Ecdsa(k) => Ok(k
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Pair::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    fn bare_public_jwk(&self) -> Jwk {
        let algorithm = match &self.pair {
            Pair::Rsa(k) => {
                let public = k.public_key();
                AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: b64url(public.modulus().big_endian_without_leading_zero()),
                    e: b64url(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::Ecdsa(k) => {
                let point = k.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: if self.kind == KeyKind::EcP384 {
                        EllipticCurve::P384
                    } else {
                        EllipticCurve::P256
                    },
                    x: b64url(&point[1..1 + half]),
                    y: b64url(&point[1 + half..]),
                })
            }
            Pair::Ed25519(k) => AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: b64url(k.public_key().as_ref()),
            }),
        };
        Jwk {
            common: CommonParameters::default(),
            algorithm,
        }
    }

    /// The public JWK to register with an authorization server: kid, alg and `use: sig`.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.bare_public_jwk();
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = alg_name(self.alg).parse::<KeyAlgorithm>().ok();
        jwk
    }

    /// The RSA private key as PKCS#8 DER, for the one other use an RSA key has here: JWE
    /// decryption (resource/jwe.rs), which reads keys through the same parser as signing.
    pub(crate) fn rsa_pkcs8_der(&self) -> Option<Vec<u8>> {
        match &self.pair {
            Pair::Rsa(k) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(k)
                .ok()
                .map(|der| der.as_ref().to_vec()),
            _ => None,
        }
    }

    pub fn public_jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.public_jwk()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::DecodingKey;

    fn verify_with_jsonwebtoken(key: &SigningKey, jws_input: &str, signature: &[u8]) -> bool {
        let decoding = DecodingKey::from_jwk(&key.public_jwk()).unwrap();
        jsonwebtoken::crypto::verify(
            &b64url(signature),
            jws_input.as_bytes(),
            &decoding,
            key.alg(),
        )
        .unwrap()
    }

    #[test]
    fn generated_keys_sign_verifiable_signatures_for_each_alg() {
        for alg in [
            Algorithm::PS256,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            let (key, pem) = SigningKey::generate(alg).unwrap();
            let sig = key.sign(b"a.b").unwrap();
            assert!(verify_with_jsonwebtoken(&key, "a.b", &sig), "{alg:?}");
            assert!(!verify_with_jsonwebtoken(&key, "a.c", &sig), "{alg:?}");
            // Reloading the PEM gives the same public key, so the same default kid.
            let again = SigningKey::from_material(pem.as_bytes(), alg, None).unwrap();
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.kid(), again.thumbprint());
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let (key, pem) = SigningKey::generate(Algorithm::ES256).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains("ES256"));
        let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
        assert!(!debug.contains(&body));
        assert!(!debug.contains("PRIVATE"));
    }

    #[test]
    fn key_that_does_not_fit_the_alg_is_refused() {
        let (_, pem) = SigningKey::generate(Algorithm::ES256).unwrap();
        let err = SigningKey::from_material(pem.as_bytes(), Algorithm::PS256, None).unwrap_err();
        assert_eq!(
            err,
            KeyError::AlgMismatch {
                found: "EC P-256".into(),
                alg: "PS256".into()
            }
        );
    }

    #[test]
    fn symmetric_alg_is_refused() {
        let (_, pem) = SigningKey::generate(Algorithm::PS256).unwrap();
        let err = SigningKey::from_material(pem.as_bytes(), Algorithm::HS256, None).unwrap_err();
        assert!(matches!(err, KeyError::NotAsymmetric { .. }));
    }

    #[test]
    fn private_jwk_and_jwks_load_and_keep_their_kid() {
        let (key, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
        // Rebuild a private JWK from the generated PKCS#8 through the public JWK + seed.
        let (_, pem) = SigningKey::generate(Algorithm::ES256).unwrap();
        let ec = SigningKey::from_material(pem.as_bytes(), Algorithm::ES256, None).unwrap();
        let Pair::Ecdsa(pair) = &ec.pair else {
            panic!()
        };
        let d =
            aws_lc_rs::encoding::AsBigEndian::<aws_lc_rs::encoding::EcPrivateKeyBin>::as_be_bytes(
                &pair.private_key(),
            )
            .unwrap();
        let mut jwk = serde_json::to_value(ec.public_jwk()).unwrap();
        jwk["d"] = b64url(d.as_ref()).into();
        jwk["kid"] = "registered-kid".into();
        let jwks = serde_json::json!({"keys": [jwk.clone(), {"kty": "EC", "kid": "other"}]});
        let from_set = SigningKey::from_material(
            jwks.to_string().as_bytes(),
            Algorithm::ES256,
            Some("registered-kid"),
        )
        .unwrap();
        assert_eq!(from_set.kid(), "registered-kid");
        assert_eq!(from_set.thumbprint(), ec.thumbprint());
        let sig = from_set.sign(b"x.y").unwrap();
        assert!(verify_with_jsonwebtoken(&from_set, "x.y", &sig));

        let missing =
            SigningKey::from_material(jwks.to_string().as_bytes(), Algorithm::ES256, Some("nope"))
                .unwrap_err();
        assert!(matches!(missing, KeyError::KidNotFound { .. }));
        let ambiguous =
            SigningKey::from_material(jwks.to_string().as_bytes(), Algorithm::ES256, None)
                .unwrap_err();
        assert_eq!(ambiguous, KeyError::KidNeeded { count: 2 });

        let public_only = serde_json::to_string(&key.public_jwk()).unwrap();
        assert_eq!(
            SigningKey::from_material(public_only.as_bytes(), Algorithm::EdDSA, None).unwrap_err(),
            KeyError::PublicOnly
        );
    }
}
