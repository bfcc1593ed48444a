//! Signing keys: PEM (PKCS#8, PKCS#1, SEC1), a private JWK or a JWK Set entry.
//!
//! The key is parsed once into an aws-lc-rs key pair and signs from there: jsonwebtoken
//! re-parses the DER key on every encode, which costs about 2.5 times a raw signature.
//! The private part never leaves this module except as signatures, and `Debug` never
//! shows it.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType, ThumbprintHash,
};
use serde_json::Value;

/// The JWS algorithms FAPI 2.0 allows (Security Profile 5.4).
pub const FAPI_ALGS: &[&str] = &["PS256", "ES256", "EdDSA"];

pub const MIN_RSA_BITS: usize = 2048;

/// Lenient base64url: JWKs in the wild sometimes carry padding.
const B64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

pub fn b64url(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    B64URL.decode(text)
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("the key is encrypted ({0})")]
    Encrypted(&'static str),
    #[error("this is a certificate, not a private key")]
    Certificate,
    #[error("this is a public key; signing needs the private key")]
    PublicOnly,
    #[error("not a readable key: {0}")]
    Malformed(String),
    #[error("the key is {found}, which cannot sign {alg}")]
    AlgMismatch { found: String, alg: String },
    #[error("{alg} is not an asymmetric signature algorithm")]
    NotAsymmetric { alg: String },
    #[error("the RSA key is {bits} bits; at least 2048 are needed")]
    RsaTooSmall { bits: String },
    #[error("no key with kid \"{kid}\" in the JWK Set (it has: {available})")]
    KidNotFound { kid: String, available: String },
    #[error("the JWK Set holds {count} keys and no kid says which to use")]
    KidNeeded { count: usize },
    #[error("unsupported key: {0}")]
    Unsupported(String),
}

impl KeyError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            KeyError::Encrypted(_) => "decrypt it first, e.g. `openssl pkey -in KEY.pem -out plain.pem` (keep plain.pem mode 0600), or make a new one with `consent-explorer keygen`".into(),
            KeyError::Certificate => "point `signing.key` at the private key that belongs to this certificate, not the certificate itself".into(),
            KeyError::PublicOnly => "point `signing.key` at the private key (PEM `PRIVATE KEY` or a JWK with `d`); the public JWK is what you register with the server".into(),
            KeyError::Malformed(_) => "give a PEM file (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`), a private JWK or a JWK Set; `consent-explorer keygen` makes one".into(),
            KeyError::AlgMismatch { .. } => "set `signing.alg` to fit the key (RSA: PS256, EC P-256: ES256, Ed25519: EdDSA) or use another key".into(),
            KeyError::NotAsymmetric { .. } => "use PS256 (the FAPI 2.0 default), ES256 or EdDSA".into(),
            KeyError::RsaTooSmall { .. } => "FAPI 2.0 requires RSA keys of at least 2048 bits and aws-lc refuses to sign with smaller ones: `consent-explorer keygen --alg PS256` makes a new one".into(),
            KeyError::KidNotFound { .. } => "set `signing.kid` to one of the kids in the JWK Set".into(),
            KeyError::KidNeeded { .. } => "set `signing.kid` to pick the key from the JWK Set".into(),
            KeyError::Unsupported(_) => "use an RSA (2048+ bits), EC P-256/P-384 or Ed25519 key".into(),
        }
    }
}

/// What kind of key a key is, independent of how it was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: usize },
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyKind {
    pub fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            KeyKind::Rsa { .. } => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            KeyKind::EcP256 => alg == ES256,
            KeyKind::EcP384 => alg == ES384,
            KeyKind::Ed25519 => alg == EdDSA,
        }
    }

    pub fn describe(self) -> String {
        match self {
            KeyKind::Rsa { bits } => format!("RSA {bits}-bit"),
            KeyKind::EcP256 => "EC P-256".into(),
            KeyKind::EcP384 => "EC P-384".into(),
            KeyKind::Ed25519 => "Ed25519".into(),
        }
    }
}

pub fn is_asymmetric(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

pub fn alg_name(alg: Algorithm) -> String {
    format!("{alg:?}")
}

pub fn parse_alg(text: &str) -> Option<Algorithm> {
    text.parse::<Algorithm>().ok()
}

enum Pair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

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

/// Facts about a key that lint needs, without the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub kind: KeyKind,
    pub thumbprint: String,
    pub declared_kid: Option<String>,
    pub public_jwk: Jwk,
}

impl KeyFacts {
    /// Facts of a public key, e.g. a key a server trusts; RSA keys of any size are taken
    /// (lint reports small ones).
    pub fn from_public_jwk(jwk: &Jwk) -> Result<KeyFacts, KeyError> {
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa {
                bits: rsa_bits_of(jwk).unwrap_or(0),
            },
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                KeyKind::EcP256
            }
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => {
                KeyKind::EcP384
            }
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                KeyKind::Ed25519
            }
            _ => {
                return Err(KeyError::Unsupported(
                    "the JWK is not RSA, EC P-256/P-384 or Ed25519".into(),
                ));
            }
        };
        Ok(KeyFacts {
            kind,
            thumbprint: thumbprint(jwk),
            declared_kid: jwk.common.key_id.clone(),
            public_jwk: jwk.clone(),
        })
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
        use Algorithm::*;
        let failed = |_| KeyError::Unsupported("the signature could not be made".into());
        match &self.pair {
            Pair::Rsa(k) => {
                let padding: &'static dyn sig::RsaEncoding = match self.alg {
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

    pub fn public_jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.public_jwk()],
        }
    }
}

/// RFC 7638 SHA-256 thumbprint, base64url.
pub fn thumbprint(jwk: &Jwk) -> String {
    jwk.thumbprint(ThumbprintHash::SHA256).unwrap_or_default()
}

/// Size in bits of a big-endian unsigned integer (an RSA modulus).
fn bit_length(n: &[u8]) -> usize {
    match n.iter().position(|b| *b != 0) {
        Some(i) => (n.len() - i) * 8 - n[i].leading_zeros() as usize,
        None => 0,
    }
}

/// Size in bits of an RSA public JWK's modulus.
pub fn rsa_bits_of(jwk: &Jwk) -> Option<usize> {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => Some(bit_length(&b64url_decode(&rsa.n).ok()?)),
        _ => None,
    }
}

fn ecdsa_alg(alg: Algorithm) -> (&'static sig::EcdsaSigningAlgorithm, KeyKind) {
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

fn parse_pem(text: &str, alg: Algorithm) -> Result<(Pair, KeyKind), KeyError> {
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

fn parse_jwk_text(
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
        "oct" => Err(KeyError::Unsupported(
            "a symmetric (oct) key cannot make asymmetric signatures".into(),
        )),
        other => Err(KeyError::Unsupported(format!("kty {other}"))),
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

    #[test]
    fn rsa_bits_of_public_jwk() {
        let (key, _) = SigningKey::generate(Algorithm::PS256).unwrap();
        assert_eq!(rsa_bits_of(&key.public_jwk()), Some(2048));
        assert_eq!(key.kind(), KeyKind::Rsa { bits: 2048 });
    }
}
