//! Why a key cannot be used, with what to do about it.

use super::alg::KeyKind;

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
            KeyError::Certificate => "point `signing.key` (or --key) at the private key that belongs to this certificate, not the certificate itself".into(),
            KeyError::PublicOnly => "point `signing.key` (or --key) at the private key (PEM `PRIVATE KEY` or a JWK with `d`); the public JWK is what you register with the server".into(),
            KeyError::Malformed(_) => "give a PEM file (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`), a private JWK or a JWK Set; `consent-explorer keygen` makes one".into(),
            KeyError::AlgMismatch { found, alg } => match fitting_alg(found) {
                Some(fits) => format!("set signing.alg = \"{fits}\" to sign with this {found} key, or use a key made for {alg} (`consent-explorer keygen --alg {alg}`)"),
                None => format!("use a key made for {alg} (`consent-explorer keygen --alg {alg}`)"),
            },
            KeyError::NotAsymmetric { .. } => "use PS256 (the FAPI 2.0 default), ES256 or EdDSA".into(),
            KeyError::RsaTooSmall { .. } => "FAPI 2.0 requires RSA keys of at least 2048 bits and aws-lc refuses to sign with smaller ones: `consent-explorer keygen --alg PS256` makes a new one".into(),
            KeyError::KidNotFound { .. } => "set `signing.kid` to one of the kids in the JWK Set".into(),
            KeyError::KidNeeded { .. } => "set `signing.kid` to pick the key from the JWK Set".into(),
            KeyError::Unsupported(_) => "use an RSA (2048+ bits), EC P-256/P-384 or Ed25519 key; `consent-explorer keygen` makes one".into(),
        }
    }
}

/// The FAPI-friendly alg for a key kind, as `KeyKind::describe` names it.
fn fitting_alg(found: &str) -> Option<&'static str> {
    if found.starts_with("RSA") {
        return Some("PS256");
    }
    [
        (KeyKind::EcP256, "ES256"),
        (KeyKind::EcP384, "ES384"),
        (KeyKind::Ed25519, "EdDSA"),
    ]
    .into_iter()
    .find(|(kind, _)| kind.describe() == found)
    .map(|(_, alg)| alg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alg_mismatch_names_the_alg_that_fits_the_key() {
        let hint = |found: &str| {
            KeyError::AlgMismatch {
                found: found.into(),
                alg: "PS256".into(),
            }
            .hint()
        };
        assert!(hint("EC P-384").contains("signing.alg = \"ES384\""));
        assert!(hint("EC P-256").contains("signing.alg = \"ES256\""));
        assert!(hint("Ed25519").contains("signing.alg = \"EdDSA\""));
        assert!(hint("RSA 2048-bit").contains("signing.alg = \"PS256\""));
    }
}
