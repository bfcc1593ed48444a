//! What a deployment's resource API looks like, as data in its pack (`[resource]`): the
//! endpoints, how a request is signed, how an answer is wrapped, the extra headers and the
//! consent endpoints. The client (core/resource) and the sandbox both read it, so a new
//! ecosystem stays a file.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceApi {
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoint>,
    /// None: requests carry no signature of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_signature: Option<RequestSignature>,
    #[serde(default)]
    pub response: ResponseScheme,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ExtraHeader>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_show: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_revoke: Option<Endpoint>,
    /// The error a call on a revoked consent gets: (HTTP status, body `error` code).
    #[serde(default = "default_revoked_status")]
    pub revoked_status: u16,
    #[serde(default = "default_revoked_error")]
    pub revoked_error: String,
}

fn default_revoked_status() -> u16 {
    403
}

fn default_revoked_error() -> String {
    "consent_revoked".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The user's access token of the consent.
    #[default]
    AccessToken,
    /// A client_credentials token of the client itself.
    ClientCredentials,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub name: String,
    #[serde(default = "default_method")]
    pub method: String,
    /// `{account_id}` and `{consent_id}` are filled in; every other `{x}` is an argument.
    pub path: String,
    #[serde(default)]
    pub description: String,
    /// Query parameters the deployment names, for help and the TUI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<String>,
    #[serde(default)]
    pub token: TokenKind,
    /// The consent permission the call needs (the sandbox refuses without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// Scope the token must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Set when the sources do not settle this endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

impl Endpoint {
    /// The names of the `{x}` placeholders, in order.
    pub fn placeholders(&self) -> Vec<&str> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }
}

/// The request signature header (MY: `x-signature`), claim by claim. Claim values are
/// templates: `{dc_id}`, `{dp_id}`, `{consent_id}`, `{client_id}` are filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSignature {
    pub header: String,
    #[serde(default = "default_sig_alg")]
    pub alg: String,
    pub iss: String,
    pub sub: String,
    /// What the sources say when they disagree on `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_disputed: Option<String>,
    pub aud: Vec<String>,
    /// exp - iat, seconds.
    #[serde(default = "default_lifetime")]
    pub lifetime: i64,
    /// The jti is the request's x-fapi-interaction-id (as in the samples).
    #[serde(default)]
    pub jti_is_interaction_id: bool,
    /// The claim holding the request URL without its query.
    #[serde(default = "default_url_claim")]
    pub url_claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_disputed: Option<String>,
    /// The claim holding the query parameters as an object of strings.
    #[serde(default = "default_qpm_claim")]
    pub qpm_claim: String,
    #[serde(default = "default_replay_window")]
    pub clock_skew: i64,
}

fn default_sig_alg() -> String {
    "PS256".into()
}

fn default_lifetime() -> i64 {
    300
}

fn default_url_claim() -> String {
    "url".into()
}

fn default_qpm_claim() -> String {
    "qpm".into()
}

fn default_replay_window() -> i64 {
    30
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrapping {
    /// Plain JSON.
    #[default]
    Plain,
    /// A signed JWS whose `data` claim is a compact JWE (MY: "JWE inside JWS").
    JwsEnvelopeJwe,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseScheme {
    #[serde(default)]
    pub wrapping: Wrapping,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The envelope claim holding the JWE.
    #[serde(default = "default_data_claim")]
    pub data_claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_management: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encryption: Option<String>,
    /// `cty` of the JWE: "JWT" means a signed JWT may be inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn default_data_claim() -> String {
    "data".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraHeader {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Where the value comes from: "auth_time" (the ID token's, as an HTTP date) or
    /// "flag" (given on the command line).
    #[serde(default = "default_header_source")]
    pub from: String,
}

fn default_header_source() -> String {
    "flag".into()
}

impl ResourceApi {
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    pub fn endpoint_names(&self) -> String {
        self.endpoints
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use crate::core::consent::PackSet;

    use super::*;

    #[test]
    fn the_shipped_packs_describe_their_resource_apis() {
        let packs = PackSet::builtin();
        let my = packs.find("my-account-access").unwrap();
        let api = my.resource.as_ref().unwrap();
        let balances = api.endpoint("balances").unwrap();
        assert_eq!(balances.placeholders(), ["account_id"]);
        assert_eq!(balances.permission.as_deref(), Some("read_balances"));
        let signature = api.request_signature.as_ref().unwrap();
        assert_eq!(signature.header, "x-signature");
        assert_eq!(signature.aud, ["{dp_id}", "Paynet OFP"]);
        assert!(signature.sub_disputed.is_some() && signature.url_disputed.is_some());
        assert_eq!(api.response.wrapping, Wrapping::JwsEnvelopeJwe);
        assert_eq!(
            api.consent_revoke.as_ref().unwrap().token,
            TokenKind::ClientCredentials
        );

        let uae = packs.find("uae-account-access").unwrap();
        let api = uae.resource.as_ref().unwrap();
        assert_eq!(api.response.wrapping, Wrapping::Plain);
        assert!(api.request_signature.is_none());
        assert_eq!(
            api.consent_show.as_ref().unwrap().path,
            "/account-access-consents/{consent_id}"
        );
    }
}
