//! A loaded profile resolved against its pack, with command-line overrides on top: the
//! seed a build needs, the signing key, the TLS material.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::load::LoadedProfile;
use super::schema::Target;
use crate::core::consent::{Pack, PackSet, toml_to_json};
use crate::core::edit::{apply_overrides, describe_field_values, set_value};
use crate::core::error::{ConfigError, Origin};
use crate::core::keys::{self, SigningKey};
use crate::core::paths;
use crate::core::printable::redact_url;
use crate::core::request::{AssertionAudience, Endpoints, Overrides, ParSeed};
use crate::core::tls::{self, TlsMaterial};

/// The embedded sandbox server's port when nothing is bound yet (build and lint only).
pub const DEFAULT_EMBEDDED_PORT: u16 = 9126;
pub(super) const DEFAULT_LIFETIME: i64 = 300;
pub use crate::core::edit::MAX_LIFETIME;

pub fn default_embedded_base() -> String {
    format!("http://127.0.0.1:{DEFAULT_EMBEDDED_PORT}")
}

impl LoadedProfile {
    /// The mutual TLS material of `[tls]` (empty when there is none).
    pub fn tls(&self) -> Result<TlsMaterial, ConfigError> {
        match &self.profile.tls {
            Some(tls) => tls::load(tls, self.base_dir(), &|field| self.origin_of(field)),
            None => Ok(TlsMaterial::default()),
        }
    }

    pub fn alg(&self) -> Result<Algorithm, ConfigError> {
        let text = self.profile.signing.alg.as_deref().unwrap_or("PS256");
        match keys::parse_alg(text) {
            Some(alg) if keys::is_asymmetric(alg) => Ok(alg),
            _ => Err(self.error(
                "signing.alg",
                format!("\"{text}\" is not an asymmetric JWS algorithm"),
                "use PS256 (default), ES256 or EdDSA; RS256, PS384, ES384 and the like are accepted too, and lint flags them",
            )),
        }
    }

    fn endpoints(&self, embedded_base: &str) -> Result<Endpoints, ConfigError> {
        let p = &self.profile;
        if p.target == Target::Embedded {
            let mut e = Endpoints::embedded(embedded_base);
            // A profile may still override single endpoints, e.g. to test a wrong one.
            e.par = p.par_endpoint.clone().or(e.par);
            e.token = p.token_endpoint.clone().or(e.token);
            e.authorization = p.authorization_endpoint.clone().or(e.authorization);
            return Ok(e);
        }
        let issuer = p.issuer.clone().ok_or_else(|| {
            self.error(
                "issuer",
                "missing: the request object's aud is the issuer",
                "set issuer = \"https://...\" (the `issuer` of the server's .well-known/openid-configuration), or target = \"embedded\"",
            )
        })?;
        for (field, value) in [
            ("issuer", Some(&issuer)),
            ("par_endpoint", p.par_endpoint.as_ref()),
            ("authorization_endpoint", p.authorization_endpoint.as_ref()),
            ("token_endpoint", p.token_endpoint.as_ref()),
            ("redirect_uri", Some(&p.redirect_uri)),
        ] {
            let Some(v) = value else { continue };
            let scheme = match url::Url::parse(v) {
                Ok(url) => url.scheme().to_owned(),
                Err(_) => {
                    return Err(self.error(
                        field,
                        format!("\"{}\" is not a URL", redact_url(v)),
                        "give an absolute URL like https://as.example.com/par",
                    ));
                }
            };
            if field == "issuer" && redact_url(v) != *v {
                return Err(self.error(
                    field,
                    format!("\"{}\" carries a user or password", redact_url(v)),
                    "the issuer is an identifier (RFC 8414 2): give it exactly as the server's discovery document says; credentials for a gateway belong in an endpoint URL",
                ));
            }
            // The redirect_uri may be an app's own scheme; the server's endpoints are HTTP.
            if field != "redirect_uri" && scheme != "https" && scheme != "http" {
                return Err(self.error(
                    field,
                    format!("\"{}\" is a {scheme}: URL, not HTTP", redact_url(v)),
                    "give the https:// URL from the server's discovery document (plain http only on loopback)",
                ));
            }
        }
        Ok(Endpoints {
            issuer,
            par: p.par_endpoint.clone(),
            authorization: p.authorization_endpoint.clone(),
            token: p.token_endpoint.clone(),
        })
    }

    fn assertion_audience(&self) -> Result<AssertionAudience, ConfigError> {
        let field = "signing.assertion_audience";
        let audience = match self.profile.signing.assertion_audience.as_deref() {
            None | Some("issuer") => AssertionAudience::Issuer,
            Some("token_endpoint") => AssertionAudience::TokenEndpoint,
            Some("par_endpoint") => AssertionAudience::ParEndpoint,
            Some(url) if url::Url::parse(url).is_ok_and(|u| u.has_host()) => {
                AssertionAudience::Literal(url.into())
            }
            Some(other) => {
                return Err(self.error(
                    field,
                    format!("\"{other}\" is neither issuer, token_endpoint, par_endpoint nor an absolute URL"),
                    "use \"issuer\" (FAPI 2.0, the default), \"token_endpoint\", \"par_endpoint\" or a URL",
                ));
            }
        };
        Ok(audience)
    }

    pub fn pack<'a>(&self, packs: &'a PackSet) -> Result<&'a Pack, ConfigError> {
        let consent = &self.profile.consent;
        let (field, name) = match (consent.get("pack"), consent.get("type")) {
            (Some(v), _) => ("consent.pack", v),
            (None, Some(v)) => ("consent.type", v),
            (None, None) => {
                return Err(self.error(
                    "consent",
                    "no consent pack: set `pack` or `type` in [consent]",
                    format!("known packs: {}", packs.names()),
                ));
            }
        };
        let Some(name) = name.as_str() else {
            return Err(self.error(
                field,
                format!("must be a string, not {name}"),
                format!("known packs: {}", packs.names()),
            ));
        };
        packs.find(name).ok_or_else(|| {
            self.error(
                field,
                format!("unknown consent pack \"{name}\""),
                format!(
                    "known packs: {}; add your own as a .toml file in {}",
                    packs.names(),
                    paths::user_packs_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_else(|| "the config dir's consent-packs/".into())
                ),
            )
        })
    }

    /// Resolves the profile against its pack, with command-line overrides on top.
    pub fn seed(
        &self,
        packs: &PackSet,
        overrides: &Overrides,
        embedded_base: &str,
    ) -> Result<ParSeed, ConfigError> {
        let p = &self.profile;
        let pack = self.pack(packs)?;
        let mut consent = pack
            .default_values()
            .map_err(|e| self.error("consent", e.to_string(), "fix the pack's defaults"))?;
        for (id, raw) in flatten_consent(&p.consent, pack) {
            if id == "pack" || id == "type" {
                continue;
            }
            let field_name = format!("consent.{id}");
            let field = pack.field_by_name(&id).ok_or_else(|| {
                self.error(
                    &field_name,
                    format!("the pack {} has no field \"{id}\"", pack.id),
                    format!("fields of this pack: {}", pack.field_names()),
                )
            })?;
            let accepted = field.accept(&raw).map_err(|e| {
                self.error(
                    &field_name,
                    e.to_string(),
                    describe_field_values(pack, field),
                )
            })?;
            set_value(&mut consent, &field.id, accepted);
        }
        apply_overrides(pack, &mut consent, overrides)?;

        let lifetime = p.signing.lifetime.unwrap_or(DEFAULT_LIFETIME);
        if !(1..=MAX_LIFETIME).contains(&lifetime) {
            return Err(self.error(
                "signing.lifetime",
                format!("{lifetime} is out of range: 1 to {MAX_LIFETIME} seconds"),
                "e.g. lifetime = 300 (FAPI 2.0 allows at most 3600 for the request object; lint says so)",
            ));
        }
        let clock_skew = p.signing.clock_skew.unwrap_or(0);
        if !(0..=600).contains(&clock_skew) {
            return Err(self.error(
                "signing.clock_skew",
                "must be between 0 and 600 seconds",
                "e.g. clock_skew = 10",
            ));
        }
        if let Some(max_age) = p.max_age
            && max_age < 0
        {
            return Err(self.error("max_age", "must not be negative", "e.g. max_age = 3600"));
        }
        let seed = ParSeed {
            profile_name: self.name.clone(),
            client_id: p.client_id.clone(),
            endpoints: self.endpoints(embedded_base)?,
            redirect_uri: p.redirect_uri.clone(),
            scope: p.scope.clone(),
            response_type: p.response_type.clone(),
            max_age: p.max_age,
            userinfo_claims: p.userinfo.claims.clone(),
            pack: pack.clone(),
            consent,
            lifetime,
            clock_skew,
            assertion_audience: self.assertion_audience()?,
            request_typ: p.signing.typ.clone(),
            assertion_typ: p.signing.assertion_typ.clone(),
        };
        seed.assertion_aud().map_err(|e| {
            self.error(
                "signing.assertion_audience",
                e.to_string(),
                "set the endpoint in the profile, or use \"issuer\"",
            )
        })?;
        Ok(seed)
    }

    /// Loads the signing key: `--key`, then `signing.key_env`, then `signing.key`.
    pub fn signing_key(&self, key_override: Option<&Path>) -> Result<SigningKey, ConfigError> {
        let alg = self.alg()?;
        let signing = &self.profile.signing;
        let kid = signing.kid.as_deref();
        if kid.is_some_and(|k| k.trim().is_empty()) {
            return Err(self.error("signing.kid", "is empty", "remove it (the default is the key's RFC 7638 thumbprint) or give the kid you registered"));
        }
        if signing.key_env.is_some()
            && signing.key.as_deref().is_some_and(|k| !k.trim().is_empty())
            && key_override.is_none()
        {
            return Err(self.error("signing.key_env", "both signing.key and signing.key_env are set", "keep one: a path in key, or the name of an environment variable holding the key in key_env"));
        }
        let mut demo_key = None;
        let (material, origin) = if let Some(path) = key_override {
            let tried = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let hint = if path.is_relative() {
                format!(
                    "a relative --key path is taken from the current directory, so {} was tried; give an absolute path, or make a key with `consent-explorer keygen --out PATH`",
                    tried.display()
                )
            } else {
                "check the path; `consent-explorer keygen --out PATH` makes a key".to_owned()
            };
            (
                read_key_file(&tried, Origin::Flag("--key".into()), "", &hint)?,
                Origin::Flag(format!("--key {}", tried.display())),
            )
        } else if let Some(var) = &signing.key_env {
            let value = std::env::var(var).map_err(|_| {
                self.error(
                    "signing.key_env",
                    format!("the environment variable {var} is not set"),
                    format!(
                        "export {var} with the key's PEM or JWK text, or use signing.key = \"path\""
                    ),
                )
            })?;
            (value.into_bytes(), Origin::Env(var.clone()))
        } else {
            match signing.key.as_deref().map(str::trim) {
                None | Some("") => {
                    return Err(self.error(
                        "signing.key",
                        "no private key is set for this profile",
                        "set signing.key = \"path/to/private-key.pem\" in the profile (PEM, JWK or JWK Set), or pass --key PATH; `consent-explorer keygen` makes one",
                    ));
                }
                Some("demo") => {
                    let path = demo_key_path(alg).ok_or_else(|| {
                        self.error(
                            "signing.key",
                            "no data directory to keep the demo key in",
                            format!("set {} to a writable folder", paths::DATA_DIR_ENV),
                        )
                    })?;
                    let origin = Origin::file(&path);
                    let material = ensure_demo_key(&path, alg)?;
                    demo_key = Some(path);
                    (material, origin)
                }
                Some(path) => {
                    let path = paths::resolve_from(self.base_dir(), path);
                    // Shown in errors: the path as tried, whatever the current directory.
                    let path = std::path::absolute(&path).unwrap_or(path);
                    let origin = self.origin_of("signing.key");
                    (
                        read_key_file(&path, origin, "signing.key", PROFILE_KEY_HINT)?,
                        Origin::file(&path),
                    )
                }
            }
        };
        SigningKey::from_material(&material, alg, kid).map_err(|e| {
            // The demo key is ours: the user did not make it and need not repair it.
            let hint = match &demo_key {
                Some(path) => demo_key_hint(path),
                None => e.hint(),
            };
            ConfigError::new(
                origin,
                "",
                format!("{e} (signing.alg is {})", keys::alg_name(alg)),
                hint,
            )
        })
    }
}
/// `[consent]` keys as field ids; nested tables that are not themselves a field become
/// dotted ids (`[consent.on_behalf_of] legal_name = ...` is `on_behalf_of.legal_name`).
fn flatten_consent(table: &toml::Table, pack: &Pack) -> Vec<(String, Value)> {
    fn walk(prefix: &str, table: &toml::Table, pack: &Pack, out: &mut Vec<(String, Value)>) {
        for (key, value) in table {
            let id = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) if pack.field_by_name(&id).is_none() => {
                    walk(&id, inner, pack, out)
                }
                other => out.push((id, toml_to_json(other))),
            }
        }
    }
    let mut out = Vec::new();
    walk("", table, pack, &mut out);
    out
}

pub(super) const PROFILE_KEY_HINT: &str = "relative paths are taken from the profile's folder and ~ is expanded; `consent-explorer keygen --out PATH` makes a key";

pub(super) fn demo_key_hint(path: &Path) -> String {
    format!(
        "the demo key is generated by consent-explorer: delete {}: a new one is made on the next run",
        path.display()
    )
}

pub(super) fn read_key_file(
    path: &Path,
    origin: Origin,
    field: &str,
    hint: &str,
) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            format!("the key file {} does not exist", path.display())
        } else {
            format!("cannot read the key file {}: {e}", path.display())
        };
        ConfigError::new(origin, field, what, hint)
    })
}

fn demo_key_path(alg: Algorithm) -> Option<PathBuf> {
    paths::data_dir().map(|d| {
        d.join("demo-keys")
            .join(format!("{}.pem", keys::alg_name(alg)))
    })
}

/// The demo key for `alg`, generated on first use (mode 0600) and reused after.
pub(super) fn ensure_demo_key(path: &Path, alg: Algorithm) -> Result<Vec<u8>, ConfigError> {
    if !path.exists() {
        let (_, pem) = SigningKey::generate(alg)
            .map_err(|e| ConfigError::new(Origin::file(path), "", e.to_string(), e.hint()))?;
        match paths::write_private_new(path, pem.as_bytes()) {
            Ok(()) => {}
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(ConfigError::new(
                    Origin::file(path),
                    "",
                    format!("cannot write the demo key: {e}"),
                    format!(
                        "make the folder writable or set {} to another folder",
                        paths::DATA_DIR_ENV
                    ),
                ));
            }
        }
    }
    read_key_file(path, Origin::file(path), "", &demo_key_hint(path))
}

#[cfg(test)]
mod tests;
