//! JWS algorithms and the kinds of key that can sign with them.

use jsonwebtoken::Algorithm;

/// The JWS algorithms FAPI 2.0 allows (Security Profile 5.4).
pub const FAPI_ALGS: &[&str] = &["PS256", "ES256", "EdDSA"];

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
