//! Profiles: a client, its key, its endpoints and its consent defaults, in TOML.
//!
//! Lookup by name: the user's config dir, then ./profiles/, then the profiles built into the
//! binary; or by path. Secrets are referenced (a path or an environment variable), never
//! stored as values.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::consent::{ConsentValues, FieldValue, Pack, PackSet, toml_to_json};
use super::error::{ConfigError, Origin, line_of_offset, toml_line_of};
use super::keys::{self, SigningKey};
use super::paths;
use super::request::{AssertionAudience, Endpoints, Overrides, ParSeed};
use super::tls::Tls;

/// The embedded sandbox server's port when nothing is bound yet (build and lint only).
pub const DEFAULT_EMBEDDED_PORT: u16 = 9126;
pub const DEFAULT_LIFETIME: i64 = 300;
/// A day: longer lifetimes are no use, and the bound keeps exp arithmetic far from overflow.
pub const MAX_LIFETIME: i64 = 86_400;

pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("local", include_str!("../../profiles/local.toml")),
    ("local-uae", include_str!("../../profiles/local-uae.toml")),
    (
        "ozone-mya-sandbox",
        include_str!("../../profiles/ozone-mya-sandbox.toml"),
    ),
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A real server at the profile's URLs.
    #[default]
    Remote,
    /// The in-process sandbox server: issuer and endpoints come from the port it binds.
    Embedded,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// Path to the private key (PEM, JWK or JWK Set), or "demo" for the generated demo key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Name of an environment variable holding the key itself (PEM or JWK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// "issuer" (default), "token_endpoint", "par_endpoint" or a literal URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_audience: Option<String>,
    /// exp - nbf of the request object and exp - iat of the assertion, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<i64>,
    /// Backdates the request object's nbf and the assertion's iat by this many seconds, for
    /// server clocks behind ours (the UAE guide uses nbf = iat - 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew: Option<i64>,
    /// `typ` header of the request object (none by default, as in the portal sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// `typ` header of the client assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_typ: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Userinfo {
    /// Claims asked for in claims.userinfo (each as null: voluntary).
    #[serde(default)]
    pub claims: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub target: Target,
    pub client_id: String,
    /// The authorization server's issuer identifier: the request object's `aud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub par_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    pub redirect_uri: String,
    #[serde(default = "default_scope")]
    pub scope: String,
    #[serde(default = "default_response_type")]
    pub response_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(default)]
    pub signing: Signing,
    /// `pack` or `type`, then the pack's fields by id.
    #[serde(default)]
    pub consent: toml::Table,
    #[serde(default)]
    pub userinfo: Userinfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

fn default_scope() -> String {
    "openid".into()
}

fn default_response_type() -> String {
    "code".into()
}

/// Where a profile was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    File(PathBuf),
    Builtin(String),
}

impl ProfileSource {
    pub fn describe(&self) -> String {
        match self {
            ProfileSource::File(p) => p.display().to_string(),
            ProfileSource::Builtin(name) => format!("built-in profile {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub name: String,
    pub profile: Profile,
    pub source: ProfileSource,
    pub text: String,
}

pub fn default_embedded_base() -> String {
    format!("http://127.0.0.1:{DEFAULT_EMBEDDED_PORT}")
}

fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.contains('\\') || name.ends_with(".toml")
}

/// Where a profile name is looked for, in order.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = paths::user_profiles_dir() {
        dirs.push(d);
    }
    dirs.push(PathBuf::from("profiles"));
    dirs
}

/// A profile built into the binary, by name.
pub fn builtin(name: &str) -> Option<LoadedProfile> {
    let (name, text) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == name)?;
    parse(text, ProfileSource::Builtin((*name).into()), name).ok()
}

pub fn find(name: &str) -> Result<LoadedProfile, ConfigError> {
    if looks_like_path(name) {
        return load_file(Path::new(name));
    }
    for dir in search_dirs() {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            return load_file(&path);
        }
    }
    if let Some(loaded) = builtin(name) {
        return Ok(loaded);
    }
    let searched = search_dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let known = list()
        .into_iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ");
    Err(ConfigError::new(
        Origin::Flag("--profile".into()),
        "",
        format!("no profile named \"{name}\" (looked in {searched} and the built-in ones)"),
        format!("use one of: {known}; or give a path to a .toml file"),
    ))
}

pub fn load_file(path: &Path) -> Result<LoadedProfile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            Origin::file(path),
            "",
            format!("cannot read the profile: {e}"),
            "check the path; `consent-explorer profiles list` shows the profiles found",
        )
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse(&text, ProfileSource::File(path.to_path_buf()), &name)
}

pub fn parse(text: &str, source: ProfileSource, name: &str) -> Result<LoadedProfile, ConfigError> {
    let origin = source_origin(&source);
    let profile: Profile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start));
        ConfigError::new(
            origin.at_line(line),
            "",
            format!("malformed profile: {}", e.message().trim()),
            "fix the TOML; the README's profile reference lists every key",
        )
    })?;
    Ok(LoadedProfile {
        name: profile.name.clone().unwrap_or_else(|| name.to_owned()),
        profile,
        source,
        text: text.to_owned(),
    })
}

fn source_origin(source: &ProfileSource) -> Origin {
    match source {
        ProfileSource::File(p) => Origin::file(p),
        ProfileSource::Builtin(name) => Origin::Builtin {
            name: format!("profile {name}"),
            line: None,
        },
    }
}

/// A profile found by listing, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileEntry {
    pub name: String,
    pub source: ProfileSource,
}

/// Every profile by name, first found wins (config dir, ./profiles/, built-in).
pub fn list() -> Vec<ProfileEntry> {
    let mut entries: Vec<ProfileEntry> = Vec::new();
    let mut add = |name: String, source: ProfileSource| {
        if !entries.iter().any(|e| e.name == name) {
            entries.push(ProfileEntry { name, source });
        }
    };
    for dir in search_dirs() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            if let Some(stem) = path.file_stem() {
                add(
                    stem.to_string_lossy().into_owned(),
                    ProfileSource::File(path),
                );
            }
        }
    }
    for (name, _) in BUILTIN_PROFILES {
        add((*name).into(), ProfileSource::Builtin((*name).into()));
    }
    entries
}

impl LoadedProfile {
    /// Where a field of this profile sits, with its line when it is in the file.
    pub fn origin_of(&self, field: &str) -> Origin {
        source_origin(&self.source).at_line(toml_line_of(&self.text, field))
    }

    fn error(
        &self,
        field: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ConfigError {
        ConfigError::new(self.origin_of(field), field, message, hint)
    }

    fn base_dir(&self) -> Option<&Path> {
        match &self.source {
            ProfileSource::File(p) => p.parent(),
            ProfileSource::Builtin(_) => None,
        }
    }

    /// The mutual TLS material of `[tls]` (empty when there is none).
    pub fn tls(&self) -> Result<super::tls::TlsMaterial, ConfigError> {
        match &self.profile.tls {
            Some(tls) => super::tls::load(tls, self.base_dir(), &|field| self.origin_of(field)),
            None => Ok(super::tls::TlsMaterial::default()),
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

    pub fn endpoints(&self, embedded_base: &str) -> Result<Endpoints, ConfigError> {
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
            if let Some(v) = value
                && url::Url::parse(v).is_err()
            {
                return Err(self.error(
                    field,
                    format!("\"{v}\" is not a URL"),
                    "give an absolute URL like https://as.example.com/par",
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
        let (material, origin) = if let Some(path) = key_override {
            (
                read_key_file(path, Origin::Flag("--key".into()), "")?,
                Origin::Flag(format!("--key {}", path.display())),
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
                    (ensure_demo_key(&path, alg)?, origin)
                }
                Some(path) => {
                    let path = paths::resolve_from(self.base_dir(), path);
                    let origin = self.origin_of("signing.key");
                    (
                        read_key_file(&path, origin, "signing.key")?,
                        Origin::file(&path),
                    )
                }
            }
        };
        SigningKey::from_material(&material, alg, kid).map_err(|e| {
            ConfigError::new(
                origin,
                "",
                format!("{e} (signing.alg is {})", keys::alg_name(alg)),
                e.hint(),
            )
        })
    }
}

/// What to do about a bad consent value: the field's meaning, and where the values are described.
fn json_to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    })
}

/// A name a profile file can have: letters, digits, `.`, `_` and `-`.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl LoadedProfile {
    /// The profile with a seed's edits written back: consent values, scope, max_age,
    /// lifetime and userinfo claims. Relative paths become absolute, so the copy works
    /// wherever it is saved.
    pub fn with_edits(&self, seed: &ParSeed, name: &str) -> Profile {
        let mut profile = self.profile.clone();
        profile.name = Some(name.to_owned());
        profile.scope = seed.scope.clone();
        profile.max_age = seed.max_age;
        profile.signing.lifetime = Some(seed.lifetime);
        profile.userinfo.claims = seed.userinfo_claims.clone();
        let mut consent = toml::Table::new();
        consent.insert("pack".into(), toml::Value::String(seed.pack.id.clone()));
        for field in seed
            .pack
            .fields
            .iter()
            .filter(|f| f.kind != super::consent::Kind::Const)
        {
            let value = match seed.consent.get(&field.id) {
                Some(FieldValue::Json(v)) => json_to_toml(v),
                Some(FieldValue::Moment(super::time::Moment::Relative { text, .. })) => {
                    Some(toml::Value::String(text.clone()))
                }
                Some(FieldValue::Moment(super::time::Moment::At(ts))) => {
                    Some(toml::Value::String(super::time::rfc3339_seconds(*ts)))
                }
                Some(FieldValue::NewUuid) | None => None,
            };
            if let Some(value) = value {
                consent.insert(field.id.clone(), value);
            }
        }
        profile.consent = consent;
        let absolute = |path: &mut Option<String>| {
            if let Some(p) = path.as_mut()
                && !p.is_empty()
                && p != "demo"
            {
                *p = paths::resolve_from(self.base_dir(), p)
                    .display()
                    .to_string();
            }
        };
        absolute(&mut profile.signing.key);
        if let Some(tls) = profile.tls.as_mut() {
            absolute(&mut tls.cert);
            absolute(&mut tls.key);
            absolute(&mut tls.ca);
            absolute(&mut tls.pkcs12);
        }
        profile
    }
}

/// Writes a profile atomically over the old one: a failed write leaves the old file as it was.
pub fn save(profile: &Profile, path: &Path) -> Result<(), ConfigError> {
    let fail = |e: String| {
        ConfigError::new(
            Origin::file(path),
            "",
            format!("cannot save the profile: {e}"),
            "check the folder exists and is writable; nothing was changed",
        )
    };
    let text = toml::to_string_pretty(profile).map_err(|e| fail(e.to_string()))?;
    let text = format!("# Saved by consent-explorer.\n{text}");
    paths::write_atomic(
        path,
        text.as_bytes(),
        paths::Existing::Replace,
        paths::Readers::Default,
    )
    .map_err(|e| fail(e.to_string()))
}

fn describe_field_values(pack: &Pack, field: &super::consent::Field) -> String {
    let values = if field.values.is_empty() {
        String::new()
    } else {
        format!(
            "; `consent-explorer packs show {}` describes each value",
            pack.id
        )
    };
    format!(
        "{}: {} ({}){values}",
        field.id,
        field.description,
        field.kind.name()
    )
}

fn set_value(consent: &mut ConsentValues, id: &str, value: Option<super::consent::FieldValue>) {
    match value {
        Some(v) => {
            consent.insert(id.to_owned(), v);
        }
        None => {
            consent.remove(id);
        }
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

fn apply_overrides(
    pack: &Pack,
    consent: &mut ConsentValues,
    overrides: &Overrides,
) -> Result<(), ConfigError> {
    let mut pairs: Vec<(String, String, String)> = Vec::new();
    if !overrides.permissions.is_empty() {
        pairs.push((
            "--permission".into(),
            "permissions".into(),
            overrides.permissions.join(","),
        ));
    }
    if let Some(p) = &overrides.purpose {
        pairs.push(("--purpose".into(), "purpose".into(), p.clone()));
    }
    if let Some(e) = &overrides.expiration {
        pairs.push(("--expiration".into(), "expiration".into(), e.clone()));
    }
    for (k, v) in &overrides.set {
        pairs.push(("--set".into(), k.clone(), v.clone()));
    }
    for (flag, name, text) in pairs {
        let bad = |message: String, hint: String| {
            ConfigError::new(Origin::Flag(flag.clone()), name.clone(), message, hint)
        };
        let field = pack.field_by_name(&name).ok_or_else(|| {
            bad(
                format!("the pack {} has no field \"{name}\"", pack.id),
                format!("fields of this pack: {}", pack.field_names()),
            )
        })?;
        let raw = field
            .parse_text(&text)
            .map_err(|e| bad(e.to_string(), describe_field_values(pack, field)))?;
        let accepted = field
            .accept(&raw)
            .map_err(|e| bad(e.to_string(), describe_field_values(pack, field)))?;
        set_value(consent, &field.id, accepted);
    }
    Ok(())
}

fn read_key_file(path: &Path, origin: Origin, field: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            format!("the key file {} does not exist", path.display())
        } else {
            format!("cannot read the key file {}: {e}", path.display())
        };
        ConfigError::new(
            origin,
            field,
            what,
            "relative paths are taken from the profile's folder and ~ is expanded; `consent-explorer keygen --out PATH` makes a key",
        )
    })
}

pub fn demo_key_path(alg: Algorithm) -> Option<PathBuf> {
    paths::data_dir().map(|d| {
        d.join("demo-keys")
            .join(format!("{}.pem", keys::alg_name(alg)))
    })
}

/// The demo key for `alg`, generated on first use (mode 0600) and reused after.
fn ensure_demo_key(path: &Path, alg: Algorithm) -> Result<Vec<u8>, ConfigError> {
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
    read_key_file(path, Origin::file(path), "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::FieldValue;
    use serde_json::json;

    fn builtin(name: &str) -> LoadedProfile {
        super::builtin(name).unwrap()
    }

    #[test]
    fn builtin_profiles_resolve_against_their_packs() {
        let packs = PackSet::builtin();
        for (name, _) in BUILTIN_PROFILES {
            let seed = builtin(name)
                .seed(&packs, &Overrides::default(), &default_embedded_base())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!seed.consent.is_empty());
        }
    }

    #[test]
    fn embedded_target_takes_endpoints_from_the_bound_port() {
        let seed = builtin("local")
            .seed(
                &PackSet::builtin(),
                &Overrides::default(),
                "http://127.0.0.1:4444",
            )
            .unwrap();
        assert_eq!(seed.endpoints.issuer, "http://127.0.0.1:4444");
        assert_eq!(
            seed.endpoints.par.as_deref(),
            Some("http://127.0.0.1:4444/par")
        );
        assert_eq!(seed.assertion_aud().unwrap(), "http://127.0.0.1:4444");
    }

    #[test]
    fn unknown_permission_names_file_line_and_allowed_values() {
        let text = "client_id = \"c\"\nissuer = \"https://as.example\"\nredirect_uri = \"https://c.example/cb\"\n\n[consent]\npack = \"my-account-access\"\ndc_id = \"d\"\npermissions = [\"read_everything\"]\n";
        let loaded = parse(text, ProfileSource::File("p.toml".into()), "p").unwrap();
        let err = loaded
            .seed(&PackSet::builtin(), &Overrides::default(), "")
            .unwrap_err();
        assert_eq!(
            err.origin,
            Origin::File {
                path: "p.toml".into(),
                line: Some(8)
            }
        );
        assert_eq!(err.field, "consent.permissions");
        assert!(err.message.contains("read_everything"));
        assert!(err.message.contains("read_balances"), "{}", err.message);
        assert!(
            err.hint.contains("packs show my-account-access"),
            "{}",
            err.hint
        );
    }

    #[test]
    fn malformed_toml_names_its_line() {
        let err = parse(
            "client_id = \"c\"\nredirect_uri = \n",
            ProfileSource::File("x.toml".into()),
            "x",
        )
        .unwrap_err();
        assert_eq!(
            err.origin,
            Origin::File {
                path: "x.toml".into(),
                line: Some(2)
            }
        );
        let typo = parse(
            "client_id = \"c\"\nredirect_uri = \"https://a\"\ncliend = 1\n",
            ProfileSource::File("x.toml".into()),
            "x",
        )
        .unwrap_err();
        assert!(typo.message.contains("cliend"), "{}", typo.message);
    }

    #[test]
    fn overrides_replace_consent_values_and_refuse_bad_ones() {
        let loaded = builtin("local");
        let packs = PackSet::builtin();
        let overrides = Overrides {
            permissions: vec!["read_balances".into()],
            purpose: Some("credit_underwriting".into()),
            set: vec![("consent.dp_id".into(), "BANK2".into())],
            ..Overrides::default()
        };
        let seed = loaded.seed(&packs, &overrides, "").unwrap();
        assert_eq!(
            seed.consent["permissions"],
            FieldValue::Json(json!(["read_balances"]))
        );
        assert_eq!(
            seed.consent["purpose"],
            FieldValue::Json(json!("credit_underwriting"))
        );
        assert_eq!(seed.consent["dp_id"], FieldValue::Json(json!("BANK2")));

        let bad = Overrides {
            expiration: Some("next tuesday".into()),
            ..Overrides::default()
        };
        let err = loaded.seed(&packs, &bad, "").unwrap_err();
        assert_eq!(err.origin, Origin::Flag("--expiration".into()));
        let unknown = Overrides {
            set: vec![("colour".into(), "blue".into())],
            ..Overrides::default()
        };
        assert!(
            loaded
                .seed(&packs, &unknown, "")
                .unwrap_err()
                .hint
                .contains("dc_id")
        );
    }

    fn local_with(from: &str, to: &str) -> LoadedProfile {
        let text = BUILTIN_PROFILES[0].1.replace(from, to);
        assert_ne!(text, BUILTIN_PROFILES[0].1, "{from} not in local.toml");
        parse(&text, ProfileSource::File("p.toml".into()), "p").unwrap()
    }

    fn seed_error(loaded: &LoadedProfile) -> ConfigError {
        loaded
            .seed(
                &PackSet::builtin(),
                &Overrides::default(),
                &default_embedded_base(),
            )
            .unwrap_err()
    }

    #[test]
    fn out_of_range_and_misspelt_signing_values_name_their_line() {
        let huge = local_with("lifetime = 300", "lifetime = 9223372036854775807");
        let err = seed_error(&huge);
        assert_eq!(err.field, "signing.lifetime");
        assert!(matches!(err.origin, Origin::File { line: Some(_), .. }));
        let typo = local_with(
            "lifetime = 300",
            "lifetime = 300\nassertion_audience = \"Issuer\"",
        );
        let err = seed_error(&typo);
        assert_eq!(err.field, "signing.assertion_audience");
        assert!(err.message.contains("Issuer"));
        let literal = local_with(
            "lifetime = 300",
            "lifetime = 300\nassertion_audience = \"https://as.example/token\"",
        );
        let seed = literal
            .seed(
                &PackSet::builtin(),
                &Overrides::default(),
                &default_embedded_base(),
            )
            .unwrap();
        assert_eq!(seed.assertion_aud().unwrap(), "https://as.example/token");
        let pack = local_with("pack = \"my-account-access\"", "pack = 5");
        assert!(seed_error(&pack).message.contains("must be a string"));
    }

    #[test]
    fn token_endpoint_audience_needs_a_token_endpoint() {
        let text = BUILTIN_PROFILES[2]
            .1
            .replace(
                "assertion_audience = \"issuer\"",
                "assertion_audience = \"token_endpoint\"",
            )
            .replace(
                "token_endpoint = \"https://as1.sandbox.mya.ozoneapi.io/token\"\n",
                "",
            );
        let loaded = parse(&text, ProfileSource::File("o.toml".into()), "o").unwrap();
        let err = seed_error(&loaded);
        assert_eq!(err.field, "signing.assertion_audience");
        assert!(err.message.contains("no token_endpoint"), "{}", err.message);
    }

    #[test]
    fn empty_kid_and_two_key_sources_are_refused() {
        let err = local_with("alg = \"PS256\"", "alg = \"PS256\"\nkid = \"\"")
            .signing_key(None)
            .unwrap_err();
        assert_eq!(err.field, "signing.kid");
        let err = local_with("key = \"demo\"", "key = \"demo\"\nkey_env = \"X\"")
            .signing_key(None)
            .unwrap_err();
        assert_eq!(err.field, "signing.key_env");
    }

    #[test]
    fn saved_edits_load_back_the_same() {
        let loaded = builtin("local-uae");
        let packs = PackSet::builtin();
        let overrides = Overrides {
            permissions: vec!["ReadBalances".into()],
            set: vec![
                ("on_behalf_of.trading_name".into(), "Acme".into()),
                ("webhook.is_active".into(), "true".into()),
            ],
            ..Overrides::default()
        };
        let mut seed = loaded
            .seed(&packs, &overrides, &default_embedded_base())
            .unwrap();
        seed.scope = "openid accounts extra".into();
        seed.max_age = Some(60);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        save(&loaded.with_edits(&seed, "mine"), &path).unwrap();
        let again = load_file(&path).unwrap();
        assert_eq!(again.name, "mine");
        let reseed = again
            .seed(&packs, &Overrides::default(), &default_embedded_base())
            .unwrap();
        assert_eq!(reseed.consent, seed.consent);
        assert_eq!(reseed.scope, "openid accounts extra");
        assert_eq!(reseed.max_age, Some(60));
        assert_eq!(reseed.clock_skew, 10);
        // A failed save (the rename meets a folder) keeps what was there and leaves no temp file.
        let taken = dir.path().join("taken.toml");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("keep"), "old").unwrap();
        let err = save(&again.profile, &taken).unwrap_err();
        assert!(err.hint.contains("nothing was changed"));
        assert_eq!(std::fs::read_to_string(taken.join("keep")).unwrap(), "old");
        let litter: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(litter.is_empty(), "{litter:?}");
        assert!(valid_profile_name("my-profile_2.uae"));
        assert!(!valid_profile_name("../evil") && !valid_profile_name(""));
    }

    #[test]
    fn missing_key_path_is_a_clear_error() {
        let err = builtin("ozone-mya-sandbox").signing_key(None).unwrap_err();
        assert_eq!(err.field, "signing.key");
        assert!(err.hint.contains("--key"));
    }
}
