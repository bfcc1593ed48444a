//! The profile file as TOML types: what a user may write, with serde's defaults.

use serde::{Deserialize, Serialize};

use crate::core::tls::Tls;

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

/// `[dpop]`: DPoP proofs (RFC 9449) at PAR and token, tokens bound to this key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dpop {
    #[serde(default)]
    pub enabled: bool,
    /// ES256 (default), PS256 or EdDSA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Path to the proof key (PEM or JWK), or "generated" (default): a key of this profile's
    /// own, made on first use in the data dir (0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop: Option<Dpop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceServer>,
}

/// The client's second key pair (`use: enc`): the resource server encrypts its answers to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// Path to the RSA private key (PEM, JWK or JWK Set), or "demo" for the generated one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// Where the resource API is and what verifies its signed answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServer {
    /// The resource server's base URL (default for an embedded target: the sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The JWK Set that verifies the response envelope, by URL...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// ...or in a file (relative to the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
}

fn default_scope() -> String {
    "openid".into()
}

fn default_response_type() -> String {
    "code".into()
}
