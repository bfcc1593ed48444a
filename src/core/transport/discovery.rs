//! Discovery: the endpoints a client reads from the issuer's openid-configuration.

use serde_json::Value;

use super::client::{NetworkError, NetworkErrorKind, classify, read_capped};
use crate::core::printable::redact_url;

/// What discovery gives a client: the endpoints that sit on other hosts than the issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub par_endpoint: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
}

/// Reads ISSUER/.well-known/openid-configuration; with a client certificate, the
/// `mtls_endpoint_aliases` entries win.
pub async fn discover(
    client: &reqwest::Client,
    issuer: &str,
    mtls: bool,
) -> Result<Discovery, NetworkError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| classify(e, &url))?;
    let status = response.status().as_u16();
    let bytes = read_capped(response, &url).await?;
    read_discovery(&url, status, &bytes, mtls)
}

/// A discovery answer (the URL it came from, its status and body) read into the endpoints.
/// Pure, so the fuzz targets and property tests reach it without a server.
pub fn read_discovery(
    url: &str,
    status: u16,
    bytes: &[u8],
    mtls: bool,
) -> Result<Discovery, NetworkError> {
    let doc: Value = serde_json::from_slice(bytes)
        .ok()
        .filter(|_| (200..300).contains(&status))
        .ok_or_else(|| {
            // The reason phrase too ("404 Not Found"), as the status was shown before.
            let status = reqwest::StatusCode::from_u16(status)
                .map_or_else(|_| status.to_string(), |s| s.to_string());
            NetworkError::new(
                NetworkErrorKind::Discovery,
                format!(
                    "no discovery document at {} (status {status})",
                    redact_url(url)
                ),
                "set par_endpoint, authorization_endpoint and token_endpoint in the profile",
            )
        })?;
    let pick = |name: &str| {
        let alias = mtls
            .then(|| doc.get("mtls_endpoint_aliases").and_then(|a| a.get(name)))
            .flatten();
        alias
            .or_else(|| doc.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Discovery {
        par_endpoint: pick("pushed_authorization_request_endpoint"),
        authorization_endpoint: pick("authorization_endpoint"),
        token_endpoint: pick("token_endpoint"),
    })
}
