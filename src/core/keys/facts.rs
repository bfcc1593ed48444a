//! What lint may know about a key without the key: its kind, its RFC 7638 thumbprint, its
//! public JWK.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, ThumbprintHash};

use super::alg::KeyKind;
use super::encoding::b64url_decode;

/// Facts about a key that lint needs, without the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub kind: KeyKind,
    pub thumbprint: String,
    pub declared_kid: Option<String>,
    pub public_jwk: Jwk,
}

/// RFC 7638 SHA-256 thumbprint, base64url.
pub fn thumbprint(jwk: &Jwk) -> String {
    jwk.thumbprint(ThumbprintHash::SHA256).unwrap_or_default()
}

/// Size in bits of a big-endian unsigned integer (an RSA modulus).
pub(super) fn bit_length(n: &[u8]) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::SigningKey;
    use jsonwebtoken::Algorithm;

    #[test]
    fn rsa_bits_of_public_jwk() {
        let (key, _) = SigningKey::generate(Algorithm::PS256).unwrap();
        assert_eq!(rsa_bits_of(&key.public_jwk()), Some(2048));
        assert_eq!(key.kind(), KeyKind::Rsa { bits: 2048 });
    }
}
