//! The HTTP client: rustls with optional mutual TLS, timeouts, a body cap, proxies except for
//! loopback; and network and TLS failures named in plain words.

use std::time::Duration;

use serde::Serialize;

use super::cache::ClientKey;
use crate::core::printable::redact_url;
use crate::core::tls::TlsMaterial;

pub const BODY_CAP: usize = 1024 * 1024;
const SERVER_CERT_HINT: &str = "the SERVER's certificate: add its CA to [tls] ca (PEM), or pass --insecure for a test server you trust (never in production)";

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Accept any server certificate (a warning is the caller's to print).
    pub insecure: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            insecure: false,
        }
    }
}

/// Why nothing usable came back: the network, TLS, or the answer's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct NetworkError {
    pub kind: NetworkErrorKind,
    pub message: String,
    /// What to check.
    pub hint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkErrorKind {
    Timeout,
    ConnectionRefused,
    Dns,
    /// The server's certificate was not trusted.
    ServerCertificate,
    /// The server refused the handshake, usually over the client certificate.
    ClientCertificate,
    Tls,
    PlainHttp,
    BodyTooLarge,
    Discovery,
    Other,
}

impl NetworkError {
    pub fn new(
        kind: NetworkErrorKind,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        NetworkError {
            kind,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

pub fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    }
}

/// A client for one target: TLS verified unless insecure, the profile's identity and CA,
/// proxies from the environment except for loopback. Inside a `ClientCache::scope` the
/// same client comes back for the same kind of target (its connections are kept alive too).
pub fn http_client(
    target: &str,
    tls: &TlsMaterial,
    options: &ClientOptions,
) -> Result<reqwest::Client, NetworkError> {
    let url = url::Url::parse(target).map_err(|e| {
        NetworkError::new(
            NetworkErrorKind::Other,
            format!("\"{}\" is not a URL: {e}", redact_url(target)),
            "check the profile's endpoints",
        )
    })?;
    if url.scheme() == "http" && !is_loopback_url(&url) {
        return Err(NetworkError::new(
            NetworkErrorKind::PlainHttp,
            format!(
                "{} is plain http on a non-loopback host",
                redact_url(target)
            ),
            "FAPI 2.0 requires TLS: use https (plain http is allowed only for 127.0.0.1, ::1 and localhost)",
        ));
    }
    let loopback = is_loopback_url(&url);
    super::cache::cached(ClientKey::new(loopback, tls, options), || {
        build_client(loopback, tls, options)
    })
}

/// A new client: no redirects, the timeouts, the profile's identity and CA.
fn build_client(
    loopback: bool,
    tls: &TlsMaterial,
    options: &ClientOptions,
) -> Result<reqwest::Client, NetworkError> {
    let tls_error = |what: &str, e: reqwest::Error| {
        NetworkError::new(
            NetworkErrorKind::Tls,
            format!("{what}: {e}"),
            "check the profile's [tls] files",
        )
    };
    let mut builder = reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .tls_danger_accept_invalid_certs(options.insecure)
        .user_agent(concat!("consent-explorer/", env!("CARGO_PKG_VERSION")))
        // A redirect would carry the signed request object and client assertion (or a code
        // and verifier) to another address: show it to the user instead of following it.
        .redirect(reqwest::redirect::Policy::none());
    if loopback {
        builder = builder.no_proxy();
    }
    if let Some(pem) = &tls.identity_pem {
        let identity = reqwest::Identity::from_pem(pem)
            .map_err(|e| tls_error("the client certificate and key do not load", e))?;
        builder = builder.identity(identity);
    }
    if let Some(ca) = &tls.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(ca)
            .map_err(|e| tls_error("the CA bundle does not load", e))?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| {
        NetworkError::new(
            NetworkErrorKind::Other,
            format!("cannot make an HTTP client: {e}"),
            "",
        )
    })
}

/// Names what failed: refused connection, DNS, which side's certificate, or a timeout.
pub fn classify(e: reqwest::Error, target: &str) -> NetworkError {
    // reqwest's message ends with the URL, credentials and all: they must not be shown.
    let e = &e.without_url();
    use NetworkErrorKind::*;
    let host = url::Url::parse(target)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| redact_url(target));
    if e.is_timeout() {
        return NetworkError::new(
            Timeout,
            format!("no answer from {host} in time"),
            "the server may be down or slow, or a firewall drops the packets; raise --timeout or --connect-timeout if it is just slow",
        );
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = Vec::new();
    while let Some(err) = source {
        text.push(err.to_string());
        let rustls_error = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(tls) = rustls_error {
            return tls_failure(tls, &host);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return NetworkError::new(
                ConnectionRefused,
                format!("connection refused by {host}: nothing listens there"),
                "check the host and port in the profile, and that the server runs",
            );
        }
        source = err.source();
    }
    let all = text.join(": ");
    if all.contains("dns error") || all.contains("failed to lookup address") {
        return NetworkError::new(
            Dns,
            format!("the name in {host} does not resolve ({all})"),
            "check the host name, your DNS and VPN",
        );
    }
    // On the connect path hyper-util boxes the rustls error out of reach of a downcast;
    // its text is stable ("invalid peer certificate: UnknownIssuer").
    if all.contains("invalid peer certificate") {
        return NetworkError::new(
            ServerCertificate,
            format!("the server certificate of {host} is not trusted ({all})"),
            SERVER_CERT_HINT,
        );
    }
    if all.contains("certificate") || all.contains("handshake") || all.contains("tls") {
        return NetworkError::new(
            Tls,
            format!("TLS failed with {host}: {all}"),
            "check the profile's [tls] and the server's TLS setup",
        );
    }
    if e.is_body() || e.is_decode() {
        return NetworkError::new(
            Other,
            format!("the answer from {host} was cut short ({all})"),
            "the server or a proxy closed the connection before the whole body came: retry; if it repeats, quote the x-fapi-interaction-id to the server's operators",
        );
    }
    let hint = if all.contains("reset") || all.contains("closed") || all.contains("incomplete") {
        "the server or a proxy on the way closed the connection mid-answer: retry; if it repeats, check the endpoint URL and quote the x-fapi-interaction-id to the server's operators"
    } else if all.contains("invalid") || all.contains("parse") || all.contains("header") {
        "the answer is not valid HTTP: check that the URL names an HTTP(S) endpoint (scheme and port), not another service"
    } else {
        "check the endpoint URL and that the server runs; retry with a longer --timeout if it is slow"
    };
    NetworkError::new(Other, format!("request to {host} failed: {all}"), hint)
}

fn tls_failure(e: &rustls::Error, host: &str) -> NetworkError {
    use NetworkErrorKind::*;
    match e {
        rustls::Error::InvalidCertificate(why) => NetworkError::new(
            ServerCertificate,
            format!("the server certificate of {host} is not trusted ({why:?})"),
            SERVER_CERT_HINT,
        ),
        rustls::Error::AlertReceived(alert) => NetworkError::new(
            ClientCertificate,
            format!("{host} refused the TLS handshake (alert {alert:?})"),
            "usually the server wants a CLIENT certificate (mutual TLS) that it did not get or does not trust: check [tls] cert and key (or pkcs12), and that the certificate is the one registered for this client",
        ),
        other => NetworkError::new(
            Tls,
            format!("TLS failed with {host}: {other}"),
            "check the profile's [tls] and the server's TLS setup",
        ),
    }
}

pub async fn read_capped(
    mut response: reqwest::Response,
    target: &str,
) -> Result<Vec<u8>, NetworkError> {
    let too_large = || {
        NetworkError::new(
            NetworkErrorKind::BodyTooLarge,
            format!(
                "the answer is larger than {} KiB; not read",
                BODY_CAP / 1024
            ),
            "an authorization server answers with a small JSON document (PAR, token, discovery, JWKS): is the URL right?",
        )
    };
    if response
        .content_length()
        .is_some_and(|len| len as usize > BODY_CAP)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, target))? {
        if body.len() + chunk.len() > BODY_CAP {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Under TLS 1.3 a server that wants a client certificate refuses after the handshake, so the
/// client sees either its alert or just a closed connection, whichever comes first. A closed
/// https connection is named for what it most likely is, given whether a certificate was sent.
pub fn closed_after_handshake(
    error: NetworkError,
    target: &str,
    sent_certificate: bool,
) -> NetworkError {
    const CLOSED: [&str; 6] = [
        "connection was not ready",
        "connection closed before message completed",
        "connection reset",
        "broken pipe",
        "close_notify",
        "unexpected end of file",
    ];
    let closed =
        error.kind == NetworkErrorKind::Other && CLOSED.iter().any(|c| error.message.contains(c));
    if !closed || !target.starts_with("https://") {
        return error;
    }
    let (message, hint) = if sent_certificate {
        (
            format!(
                "the server closed the connection right after the TLS handshake ({})",
                error.message
            ),
            "it likely does not trust the CLIENT certificate sent: check it is the one registered for this client, not expired, and issued by a CA the server accepts",
        )
    } else {
        (
            format!(
                "the server closed the connection right after the TLS handshake, and no client certificate was sent ({})",
                error.message
            ),
            "it most likely requires a CLIENT certificate (mutual TLS): set [tls] cert and key (or pkcs12) in the profile",
        )
    };
    NetworkError::new(NetworkErrorKind::ClientCertificate, message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_closed_after_the_handshake_is_named() {
        let closed = || {
            NetworkError::new(
                NetworkErrorKind::Other,
                "request failed: connection was not ready",
                "",
            )
        };
        let named = closed_after_handshake(closed(), "https://as.example/par", false);
        assert_eq!(named.kind, NetworkErrorKind::ClientCertificate);
        assert!(named.hint.contains("requires a CLIENT certificate"));
        let named = closed_after_handshake(closed(), "https://as.example/par", true);
        assert!(named.hint.contains("does not trust the CLIENT certificate"));
        assert_eq!(
            closed_after_handshake(closed(), "http://127.0.0.1/par", false).kind,
            NetworkErrorKind::Other
        );
        let refused = NetworkError::new(
            NetworkErrorKind::ConnectionRefused,
            "connection refused",
            "",
        );
        assert_eq!(
            closed_after_handshake(refused, "https://as.example/par", false).kind,
            NetworkErrorKind::ConnectionRefused
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let tls = TlsMaterial::default();
        let options = ClientOptions::default();
        assert!(http_client("http://127.0.0.1:9/par", &tls, &options).is_ok());
        assert!(http_client("http://localhost:9/par", &tls, &options).is_ok());
        let err = http_client("http://as.example/par", &tls, &options).unwrap_err();
        assert_eq!(err.kind, NetworkErrorKind::PlainHttp);
    }
}
