//! base64url as JWS and JWK use it.

use base64::Engine;

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
