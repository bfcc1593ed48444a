//! Compact JWE with RSA-OAEP-256 and A256GCM (RFC 7516, RFC 7518 4.3 and 5.3), the one
//! combination the Malaysia resource servers use, on aws-lc-rs primitives: no kept Rust JOSE
//! crate does JWE without OpenSSL or the `rsa` crate. The encryption key is read by the same
//! parser as the signing key (PEM, JWK, JWK Set); its private part never leaves this module.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use serde_json::Value;

use crate::core::keys::{KeyError, SigningKey, b64url, b64url_decode};

pub const KEY_MANAGEMENT: &str = "RSA-OAEP-256";
pub const CONTENT_ENCRYPTION: &str = "A256GCM";
const CEK_LEN: usize = 32;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("a compact JWE has five dot-separated parts; this has {0}")]
    Parts(usize),
    #[error("the JWE {0} is not base64url")]
    Base64(&'static str),
    #[error("the JWE protected header is not a JSON object")]
    Header,
    #[error("the JWE alg is {0:?}; only RSA-OAEP-256 is supported")]
    Alg(String),
    #[error("the JWE enc is {0:?}; only A256GCM is supported")]
    Enc(String),
    #[error(
        "the content key could not be unwrapped with the encryption key (kid {kid}): the JWE was encrypted to another key"
    )]
    WrongKey { kid: String },
    #[error(
        "the authentication tag does not match: the ciphertext, the header or the tag was altered"
    )]
    Tag,
    #[error("the recipient's public key is unusable: {0}")]
    Recipient(String),
}

/// What a JWE held: its protected header and the plaintext.
#[derive(Clone, PartialEq)]
pub struct Opened {
    pub header: Value,
    pub plaintext: Vec<u8>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("header", &self.header)
            .field("plaintext_len", &self.plaintext.len())
            .finish()
    }
}

/// The client's RSA decryption key (the second key, `use: enc`).
pub struct EncryptionKey {
    decrypting: OaepPrivateDecryptingKey,
    kid: String,
    public_jwk: Jwk,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// Reads an RSA private key (PEM, private JWK or JWK Set; `kid` picks the set's entry
    /// and becomes the key's kid, else the RFC 7638 thumbprint).
    pub fn from_material(material: &[u8], kid: Option<&str>) -> Result<EncryptionKey, KeyError> {
        // PS256 only asks the parser for an RSA key of at least 2048 bits.
        let parsed = SigningKey::from_material(material, Algorithm::PS256, kid)?;
        EncryptionKey::of(&parsed)
    }

    /// A new RSA-2048 key and its PKCS#8 PEM.
    pub fn generate() -> Result<(EncryptionKey, String), KeyError> {
        let (key, pem) = SigningKey::generate(Algorithm::PS256)?;
        Ok((EncryptionKey::of(&key)?, pem))
    }

    fn of(parsed: &SigningKey) -> Result<EncryptionKey, KeyError> {
        let unusable = || KeyError::Unsupported("the RSA key cannot decrypt".into());
        let der = parsed.rsa_pkcs8_der().ok_or_else(unusable)?;
        let private = PrivateDecryptingKey::from_pkcs8(&der).map_err(|_| unusable())?;
        let decrypting = OaepPrivateDecryptingKey::new(private).map_err(|_| unusable())?;
        let mut public_jwk = parsed.public_jwk();
        public_jwk.common.public_key_use = Some(PublicKeyUse::Encryption);
        public_jwk.common.key_algorithm = Some(KeyAlgorithm::RSA_OAEP_256);
        Ok(EncryptionKey {
            decrypting,
            kid: parsed.kid().to_owned(),
            public_jwk,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK to register: kid, `use: enc`, `alg: RSA-OAEP-256`.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public_jwk
    }

    /// Opens a compact JWE encrypted to this key.
    pub fn decrypt(&self, compact: &str) -> Result<Opened, JweError> {
        let parts: Vec<&str> = compact.trim().split('.').collect();
        let [protected, wrapped, iv, ciphertext, tag] = parts[..] else {
            return Err(JweError::Parts(parts.len()));
        };
        let header = read_header(protected)?;
        let decode = |text: &str, what| b64url_decode(text).map_err(|_| JweError::Base64(what));
        let wrapped = decode(wrapped, "encrypted key")?;
        let iv = decode(iv, "initialization vector")?;
        let mut sealed = decode(ciphertext, "ciphertext")?;
        let tag = decode(tag, "authentication tag")?;
        let wrong_key = || JweError::WrongKey {
            kid: self.kid.clone(),
        };
        let mut cek = vec![0u8; self.decrypting.min_output_size()];
        let cek = self
            .decrypting
            .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut cek, None)
            .map_err(|_| wrong_key())?;
        if cek.len() != CEK_LEN {
            return Err(wrong_key());
        }
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| JweError::Tag)?;
        if tag.len() != TAG_LEN {
            return Err(JweError::Tag);
        }
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek).map_err(|_| wrong_key())?);
        sealed.extend_from_slice(&tag);
        let plaintext = key
            .open_in_place(
                Nonce::assume_unique_for_key(iv),
                Aad::from(protected.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| JweError::Tag)?;
        let plaintext = plaintext.to_vec();
        Ok(Opened { header, plaintext })
    }
}

fn read_header(protected: &str) -> Result<Value, JweError> {
    let bytes = b64url_decode(protected).map_err(|_| JweError::Base64("protected header"))?;
    let header: Value = serde_json::from_slice(&bytes)
        .ok()
        .filter(Value::is_object)
        .ok_or(JweError::Header)?;
    let field = |name: &str| header.get(name).and_then(Value::as_str).unwrap_or("");
    if field("alg") != KEY_MANAGEMENT {
        return Err(JweError::Alg(field("alg").to_owned()));
    }
    if field("enc") != CONTENT_ENCRYPTION {
        return Err(JweError::Enc(field("enc").to_owned()));
    }
    Ok(header)
}

/// Encrypts `plaintext` to an RSA public JWK; `extra` header members (cty, kid) are added
/// after alg and enc. The sandbox answers with this; the client only decrypts.
pub fn encrypt(plaintext: &[u8], recipient: &Jwk, extra: &Value) -> Result<String, JweError> {
    let public = public_encrypting_key(recipient)?;
    let mut header = serde_json::json!({"alg": KEY_MANAGEMENT, "enc": CONTENT_ENCRYPTION});
    if let (Some(header), Some(extra)) = (header.as_object_mut(), extra.as_object()) {
        header.extend(extra.clone());
    }
    let protected = b64url(header.to_string().as_bytes());
    let failed = |what: &str| JweError::Recipient(format!("{what} failed"));
    let mut cek = [0u8; CEK_LEN];
    let mut iv = [0u8; IV_LEN];
    aws_lc_rs::rand::fill(&mut cek).map_err(|_| failed("random"))?;
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| failed("random"))?;
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(&OAEP_SHA256_MGF1SHA256, &cek, &mut wrapped, None)
        .map_err(|_| failed("key wrapping"))?
        .to_vec();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).map_err(|_| failed("AES"))?);
    let mut sealed = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| failed("encryption"))?;
    Ok([
        protected,
        b64url(&wrapped),
        b64url(&iv),
        b64url(&sealed),
        b64url(tag.as_ref()),
    ]
    .join("."))
}

fn public_encrypting_key(jwk: &Jwk) -> Result<OaepPublicEncryptingKey, JweError> {
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        return Err(JweError::Recipient("not an RSA key".into()));
    };
    let number = |text: &str, what: &str| {
        b64url_decode(text).map_err(|_| JweError::Recipient(format!("{what} is not base64url")))
    };
    let spki = rsa_spki_der(&number(&rsa.n, "n")?, &number(&rsa.e, "e")?);
    let public =
        PublicEncryptingKey::from_der(&spki).map_err(|e| JweError::Recipient(e.to_string()))?;
    OaepPublicEncryptingKey::new(public).map_err(|_| JweError::Recipient("not usable".into()))
}

/// SubjectPublicKeyInfo for an RSA public key (RFC 8017 A.1.1 inside RFC 5280 4.1): aws-lc-rs
/// takes an encryption key only in this form, a JWK gives n and e.
fn rsa_spki_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(body);
        out
    }
    fn unsigned(n: &[u8]) -> Vec<u8> {
        let n: Vec<u8> = n.iter().copied().skip_while(|b| *b == 0).collect();
        let mut body = if n.first().is_some_and(|b| b & 0x80 != 0) {
            vec![0]
        } else {
            Vec::new()
        };
        body.extend(n);
        tlv(0x02, &body)
    }
    // rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters.
    const ALGORITHM: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let public_key = tlv(0x30, &[unsigned(n), unsigned(e)].concat());
    let bit_string = tlv(0x03, &[&[0u8][..], &public_key].concat());
    tlv(0x30, &[&ALGORITHM[..], &bit_string].concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> EncryptionKey {
        EncryptionKey::generate().unwrap().0
    }

    #[test]
    fn round_trip_with_cty_and_the_header_as_sent() {
        let key = key();
        let compact = encrypt(b"{\"data\":1}", key.public_jwk(), &json!({"cty": "JWT"})).unwrap();
        let opened = key.decrypt(&compact).unwrap();
        assert_eq!(opened.plaintext, b"{\"data\":1}");
        assert_eq!(
            opened.header,
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"})
        );
        let jwk = serde_json::to_value(key.public_jwk()).unwrap();
        assert_eq!(jwk["use"], "enc");
        assert_eq!(jwk["alg"], "RSA-OAEP-256");
    }

    #[test]
    fn a_changed_part_or_another_key_is_refused_with_its_reason() {
        let key = key();
        let compact = encrypt(b"secret", key.public_jwk(), &json!({})).unwrap();
        let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
        let mut tag = b64url_decode(&parts[4]).unwrap();
        tag[0] ^= 1;
        parts[4] = b64url(&tag);
        assert_eq!(key.decrypt(&parts.join(".")), Err(JweError::Tag));

        // The header is the AAD: a header changed after sealing fails the tag.
        let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
        parts[0] = b64url(br#"{"enc":"A256GCM","alg":"RSA-OAEP-256"}"#);
        assert_eq!(key.decrypt(&parts.join(".")), Err(JweError::Tag));

        let other = self::key();
        assert!(matches!(
            other.decrypt(&compact),
            Err(JweError::WrongKey { .. })
        ));
        assert_eq!(key.decrypt("a.b"), Err(JweError::Parts(2)));
        let rsa1_5 = format!("{}.a.b.c.d", b64url(br#"{"alg":"RSA1_5","enc":"A256GCM"}"#));
        assert_eq!(key.decrypt(&rsa1_5), Err(JweError::Alg("RSA1_5".into())));
    }

    #[test]
    fn the_key_loads_from_a_pem_with_a_kid_and_debug_hides_it() {
        let (_, pem) = EncryptionKey::generate().unwrap();
        let key = EncryptionKey::from_material(pem.as_bytes(), Some("enc-1")).unwrap();
        assert_eq!(key.kid(), "enc-1");
        let debug = format!("{key:?}");
        assert!(debug.contains("enc-1") && !debug.contains("PRIVATE"));
        let (ec_key, ec_pem) = SigningKey::generate(Algorithm::ES256)
            .map(|(k, p)| (k.kid().to_owned(), p))
            .unwrap();
        assert!(!ec_key.is_empty());
        assert!(EncryptionKey::from_material(ec_pem.as_bytes(), None).is_err());
    }
}
