//! Discovery: the issuer's openid-configuration (RFC 8414, OpenID Connect Discovery 1.0), read
//! through the same client as the PAR (TLS, CA, no redirects, body cap), and the endpoints a
//! client takes from it.

use serde_json::{Map, Value};

use super::client::{NetworkError, NetworkErrorKind, classify, read_capped};
use crate::core::printable::redact_url;

/// What discovery gives a client: the endpoints that sit on other hosts than the issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub par_endpoint: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
}

/// The metadata this consent flow depends on, in the order `discover` shows them.
pub const FLOW_FIELDS: &[&str] = &[
    "issuer",
    "require_pushed_authorization_requests",
    "pushed_authorization_request_endpoint",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "mtls_endpoint_aliases",
    "require_signed_request_object",
    "request_object_signing_alg_values_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "id_token_signing_alg_values_supported",
    "authorization_details_types_supported",
    "scopes_supported",
    "claims_supported",
    "response_types_supported",
    "response_modes_supported",
    "authorization_response_iss_parameter_supported",
    "dpop_signing_alg_values_supported",
    "tls_client_certificate_bound_access_tokens",
    "grant_types_supported",
    "code_challenge_methods_supported",
];

/// A discovery document as the server sent it (a JSON object), with typed reads.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryDocument {
    /// Where it was read.
    pub url: String,
    pub fields: Map<String, Value>,
}

/// Why no discovery document came: the network, or an answer that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// An answer other than 2xx (a redirect is not followed: it is shown).
    #[error("no discovery document at {url}: the server answered {status}")]
    Status { url: String, status: u16 },
    #[error("the answer at {url} is not a JSON object: {reason}")]
    NotJson { url: String, reason: String },
}

impl DiscoveryError {
    pub fn hint(&self) -> &str {
        match self {
            DiscoveryError::Network(e) => &e.hint,
            DiscoveryError::Status { .. } => {
                "check the issuer URL: the document lives at ISSUER/.well-known/openid-configuration; without one, set par_endpoint, authorization_endpoint and token_endpoint in the profile"
            }
            DiscoveryError::NotJson { .. } => {
                "the URL answers, but not with a discovery document: check the issuer URL (a login page or a proxy may answer instead)"
            }
        }
    }
}

impl DiscoveryDocument {
    pub fn parse(url: &str, body: &[u8]) -> Result<DiscoveryDocument, DiscoveryError> {
        let not_json = |reason: String| DiscoveryError::NotJson {
            url: redact_url(url),
            reason,
        };
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => Ok(DiscoveryDocument {
                url: url.to_owned(),
                fields,
            }),
            Ok(other) => Err(not_json(format!("a JSON {}", json_kind(&other)))),
            Err(e) => Err(not_json(e.to_string())),
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// The string members of an array field; `None` when the field is absent or not an array.
    pub fn list(&self, name: &str) -> Option<Vec<&str>> {
        self.fields
            .get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        self.fields.get(name).and_then(Value::as_bool)
    }

    /// `mtls_endpoint_aliases.<name>` (RFC 8705 5).
    pub fn mtls_alias(&self, name: &str) -> Option<&str> {
        self.fields
            .get("mtls_endpoint_aliases")
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
    }

    /// An endpoint as a client with (or without) a client certificate must use it: with one,
    /// the mTLS alias wins.
    pub fn endpoint(&self, name: &str, mtls: bool) -> Option<&str> {
        mtls.then(|| self.mtls_alias(name))
            .flatten()
            .or_else(|| self.str(name))
    }

    pub fn endpoints(&self, mtls: bool) -> Discovery {
        let pick = |name: &str| self.endpoint(name, mtls).map(str::to_owned);
        Discovery {
            par_endpoint: pick("pushed_authorization_request_endpoint"),
            authorization_endpoint: pick("authorization_endpoint"),
            token_endpoint: pick("token_endpoint"),
        }
    }

    /// The fields of `FLOW_FIELDS` the server sent, in that order.
    pub fn flow_fields(&self) -> Map<String, Value> {
        FLOW_FIELDS
            .iter()
            .filter_map(|&name| Some((name.to_owned(), self.fields.get(name)?.clone())))
            .collect()
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Reads ISSUER/.well-known/openid-configuration.
pub async fn fetch_document(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<DiscoveryDocument, DiscoveryError> {
    let url = discovery_url(issuer);
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| classify(e, &url))?;
    let status = response.status().as_u16();
    let bytes = read_capped(response, &url).await?;
    read_document(&url, status, &bytes)
}

/// A discovery answer (the URL it came from, its status and body) read into a document. Pure,
/// so the fuzz targets and property tests reach it without a server.
pub fn read_document(
    url: &str,
    status: u16,
    bytes: &[u8],
) -> Result<DiscoveryDocument, DiscoveryError> {
    if !(200..300).contains(&status) {
        return Err(DiscoveryError::Status {
            url: redact_url(url),
            status,
        });
    }
    DiscoveryDocument::parse(url, bytes)
}

/// The endpoints of a discovery answer, as `discover` reads them (for the fuzz targets).
pub fn read_discovery(
    url: &str,
    status: u16,
    bytes: &[u8],
    mtls: bool,
) -> Result<Discovery, NetworkError> {
    read_document(url, status, bytes)
        .map(|doc| doc.endpoints(mtls))
        .map_err(no_document)
}

fn no_document(error: DiscoveryError) -> NetworkError {
    match error {
        DiscoveryError::Network(e) => e,
        other => NetworkError::new(
            NetworkErrorKind::Discovery,
            other.to_string(),
            "set par_endpoint, authorization_endpoint and token_endpoint in the profile",
        ),
    }
}

/// The endpoints from ISSUER/.well-known/openid-configuration; with a client certificate, the
/// `mtls_endpoint_aliases` entries win.
pub async fn discover(
    client: &reqwest::Client,
    issuer: &str,
    mtls: bool,
) -> Result<Discovery, NetworkError> {
    fetch_document(client, issuer)
        .await
        .map(|doc| doc.endpoints(mtls))
        .map_err(no_document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> DiscoveryDocument {
        DiscoveryDocument::parse(
            "https://as.example/.well-known/openid-configuration",
            value.to_string().as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn the_mtls_alias_wins_only_with_a_client_certificate() {
        let d = doc(json!({
            "token_endpoint": "https://as.example/token",
            "pushed_authorization_request_endpoint": "https://as.example/par",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token"},
        }));
        assert_eq!(
            d.endpoint("token_endpoint", false),
            Some("https://as.example/token")
        );
        assert_eq!(
            d.endpoint("token_endpoint", true),
            Some("https://mtls.as.example/token")
        );
        let with_cert = d.endpoints(true);
        assert_eq!(
            with_cert.par_endpoint.as_deref(),
            Some("https://as.example/par")
        );
        assert_eq!(with_cert.authorization_endpoint, None);
    }

    #[test]
    fn only_a_json_object_is_a_document() {
        for body in ["<html>login</html>", "[1, 2]", "\"issuer\""] {
            let err =
                DiscoveryDocument::parse("https://as.example/x", body.as_bytes()).unwrap_err();
            assert!(
                matches!(err, DiscoveryError::NotJson { .. }),
                "{body}: {err:?}"
            );
        }
        let err = DiscoveryDocument::parse("https://as.example/x", b"[1]").unwrap_err();
        assert!(err.to_string().contains("a JSON array"), "{err}");
    }

    #[test]
    fn flow_fields_keep_their_order_and_skip_the_rest() {
        let d = doc(json!({
            "scopes_supported": ["openid"],
            "service_documentation": "https://as.example/docs",
            "issuer": "https://as.example",
        }));
        let fields = d.flow_fields();
        let keys: Vec<&String> = fields.keys().collect();
        assert_eq!(keys, ["issuer", "scopes_supported"]);
        assert_eq!(d.list("scopes_supported"), Some(vec!["openid"]));
        assert_eq!(d.list("grant_types_supported"), None);
    }
}
