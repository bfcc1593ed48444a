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
        .map_err(|e| classify(&e, &url))?;
    let status = response.status();
    let bytes = read_capped(response, &url).await?;
    let doc: Value = serde_json::from_slice(&bytes)
        .ok()
        .filter(|_| status.is_success())
        .ok_or_else(|| {
            NetworkError::new(
                NetworkErrorKind::Discovery,
                format!(
                    "no discovery document at {} (status {status})",
                    redact_url(&url)
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
