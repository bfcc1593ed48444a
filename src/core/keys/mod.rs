//! Signing keys: parsing (PEM, JWK, JWK Set), the key that signs, and the facts lint reads.

mod alg;
mod encoding;
mod error;
mod facts;
mod parse;
mod signing;

pub use alg::{FAPI_ALGS, KeyKind, alg_name, is_asymmetric, parse_alg};
pub use encoding::{b64url, b64url_decode};
pub use error::KeyError;
pub use facts::{KeyFacts, rsa_bits_of, thumbprint};
pub use parse::MIN_RSA_BITS;
pub use signing::SigningKey;
