//! The keys of resource calls: the client's encryption key (`[encryption]`) and what
//! verifies the resource server's signed answers (`[resource] jwks_uri` or `jwks`).

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;

use super::load::LoadedProfile;
use super::resolve::{PROFILE_KEY_HINT, demo_key_hint, ensure_demo_key, read_key_file};
use crate::core::error::{ConfigError, Origin};
use crate::core::paths;
use crate::core::resource::jwe::EncryptionKey;

/// Where the envelope's verification keys come from.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvelopeKeys {
    /// Nothing configured: envelopes are shown, marked not verified.
    None,
    Uri(String),
    Set(JwkSet),
}

impl LoadedProfile {
    /// The encryption key of `[encryption]`, if the profile names one.
    pub fn encryption_key(&self) -> Result<Option<EncryptionKey>, ConfigError> {
        let Some(encryption) = &self.profile.encryption else {
            return Ok(None);
        };
        let kid = encryption.kid.as_deref();
        let (material, origin, hint) = match encryption.key.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(self.error(
                    "encryption.key",
                    "[encryption] names no key",
                    "set encryption.key = \"path/to/enc-key.pem\" (an RSA key; `consent-explorer keygen --use enc` makes one), or remove [encryption]",
                ));
            }
            Some("demo") => {
                let path = paths::data_dir()
                    .map(|d| d.join("demo-keys").join("enc-RSA-OAEP-256.pem"))
                    .ok_or_else(|| {
                        self.error(
                            "encryption.key",
                            "no data directory to keep the demo key in",
                            format!("set {} to a writable folder", paths::DATA_DIR_ENV),
                        )
                    })?;
                // PS256 asks for an RSA-2048 key: the same kind OAEP decrypts with.
                let material = ensure_demo_key(&path, Algorithm::PS256)?;
                let hint = demo_key_hint(&path);
                (material, Origin::file(&path), hint)
            }
            Some(path) => {
                let path = paths::resolve_from(self.base_dir(), path);
                let path = std::path::absolute(&path).unwrap_or(path);
                let origin = self.origin_of("encryption.key");
                let material = read_key_file(&path, origin, "encryption.key", PROFILE_KEY_HINT)?;
                (material, Origin::file(&path), PROFILE_KEY_HINT.to_owned())
            }
        };
        EncryptionKey::from_material(&material, kid)
            .map(Some)
            .map_err(|e| {
                ConfigError::new(
                    origin,
                    "",
                    format!("{e} (the encryption key must be an RSA private key for RSA-OAEP-256)"),
                    hint,
                )
            })
    }

    /// The resource server's base URL from `[resource] base_url`.
    pub fn resource_base_url(&self) -> Option<&str> {
        self.profile
            .resource
            .as_ref()
            .and_then(|r| r.base_url.as_deref())
            .filter(|u| !u.trim().is_empty())
    }

    /// What verifies the envelope: `[resource] jwks` (a file) or `jwks_uri`.
    pub fn envelope_keys(&self) -> Result<EnvelopeKeys, ConfigError> {
        let Some(resource) = &self.profile.resource else {
            return Ok(EnvelopeKeys::None);
        };
        if let Some(file) = resource.jwks.as_deref().filter(|f| !f.trim().is_empty()) {
            let path = paths::resolve_from(self.base_dir(), file);
            let origin = self.origin_of("resource.jwks");
            let text = read_key_file(
                &path,
                origin.clone(),
                "resource.jwks",
                "give the path of a JWK Set file (relative to the profile), or use resource.jwks_uri",
            )?;
            let set: JwkSet = serde_json::from_slice(&text).map_err(|e| {
                ConfigError::new(
                    origin,
                    "resource.jwks",
                    format!("{} is not a JWK Set: {e}", path.display()),
                    "the file must hold {\"keys\": [...]}, as a jwks_uri serves",
                )
            })?;
            return Ok(EnvelopeKeys::Set(set));
        }
        Ok(
            match resource
                .jwks_uri
                .as_deref()
                .filter(|u| !u.trim().is_empty())
            {
                Some(uri) => EnvelopeKeys::Uri(uri.to_owned()),
                None => EnvelopeKeys::None,
            },
        )
    }
}
