//! Sending the PAR: an HTTP client over rustls (optional mutual TLS, timeouts, body cap), the
//! answer as a model, plain-words explanations of OAuth errors and of network/TLS failures,
//! discovery, and the authorize URL.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::request::ParTicket;
use super::tls::TlsMaterial;

pub const BODY_CAP: usize = 1024 * 1024;
pub const INTERACTION_HEADER: &str = "x-fapi-interaction-id";
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
    fn new(kind: NetworkErrorKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
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
/// proxies from the environment except for loopback.
pub fn http_client(
    target: &str,
    tls: &TlsMaterial,
    options: &ClientOptions,
) -> Result<reqwest::Client, NetworkError> {
    let url = url::Url::parse(target).map_err(|e| {
        NetworkError::new(
            NetworkErrorKind::Other,
            format!("\"{target}\" is not a URL: {e}"),
            "check the profile's endpoints",
        )
    })?;
    if url.scheme() == "http" && !is_loopback_url(&url) {
        return Err(NetworkError::new(
            NetworkErrorKind::PlainHttp,
            format!("{target} is plain http on a non-loopback host"),
            "FAPI 2.0 requires TLS: use https (plain http is allowed only for 127.0.0.1, ::1 and localhost)",
        ));
    }
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
        .user_agent(concat!("consent-explorer/", env!("CARGO_PKG_VERSION")));
    if is_loopback_url(&url) {
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
pub fn classify(e: &reqwest::Error, target: &str) -> NetworkError {
    use NetworkErrorKind::*;
    let host = url::Url::parse(target)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| target.to_owned());
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
    NetworkError::new(Other, format!("request to {host} failed: {all}"), "")
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

/// The answer's body: JSON when it parses, text otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Body {
    Json(Value),
    Text(String),
}

impl Body {
    fn parse(bytes: &[u8]) -> Body {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Body::Json(v),
            Err(_) => Body::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    pub fn json(&self) -> Option<&Value> {
        match self {
            Body::Json(v) => Some(v),
            Body::Text(_) => None,
        }
    }

    pub fn pretty(&self) -> String {
        match self {
            Body::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            Body::Text(t) => t.clone(),
        }
    }
}

/// What the PAR endpoint answered.
#[derive(Debug, Clone, Serialize)]
pub struct ParExchange {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub elapsed: Duration,
    pub received_at: Timestamp,
    /// The interaction id sent, and the one echoed (if any).
    pub interaction_id: String,
    pub echoed_interaction_id: Option<String>,
    pub server_date: Option<Timestamp>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Accepted {
        request_uri: String,
        expires_in: i64,
        expires_at: Timestamp,
    },
    Refused {
        error: String,
        error_description: Option<String>,
        explanation: String,
    },
    /// Not an OAuth answer: an HTML error page, a 2xx without request_uri, ...
    Unexpected { explanation: String },
}

impl ParExchange {
    /// Notes worth showing: a non-201 success, an interaction id not echoed, a clock apart.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if matches!(self.outcome, Outcome::Accepted { .. }) && self.status == 200 {
            notes.push("the server answered 200; RFC 9126 says 201 (the Malaysia and UAE deployments answer 200)".into());
        }
        match &self.echoed_interaction_id {
            Some(echoed) if *echoed != self.interaction_id => notes.push(format!(
                "the server echoed x-fapi-interaction-id {echoed}, not the {} sent",
                self.interaction_id
            )),
            None => notes.push("the server did not echo x-fapi-interaction-id".into()),
            _ => {}
        }
        if self.is_time_related()
            && let Some(server) = self.server_date
        {
            let apart = self.received_at.as_second() - server.as_second();
            if apart.abs() > 5 {
                notes.push(format!(
                    "your clock is {} {} the server's (its Date header says {}): fix the local clock, or set signing.clock_skew",
                    super::time::short_duration(apart.abs()),
                    if apart > 0 { "ahead of" } else { "behind" },
                    super::time::rfc3339_seconds(server)
                ));
            } else {
                notes.push("your clock agrees with the server's Date header (within 5 s)".into());
            }
        }
        notes
    }

    fn is_time_related(&self) -> bool {
        let Outcome::Refused {
            error_description, ..
        } = &self.outcome
        else {
            return false;
        };
        let text = error_description
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        [
            "exp",
            "nbf",
            "iat",
            "expired",
            "future",
            "clock",
            "timestamp",
            "too far",
        ]
        .iter()
        .any(|w| text.contains(w))
    }
}

/// Plain words for each standard OAuth error code.
pub fn explain(error: &str) -> String {
    match error {
        "invalid_request" => "The server found the request malformed or missing something it requires: a parameter, PKCE S256, a redirect_uri it knows, or openid in scope when claims/nonce/max_age are sent.",
        "invalid_client" => "The server did not accept who you are: the client assertion's signature (is the key registered, with this kid?), its iss/sub (the client_id), its aud (FAPI 2.0: the issuer only, as a string), an expired or replayed assertion (fresh jti each time), or a missing or untrusted client certificate.",
        "invalid_request_object" => "The signed request object was refused: its signature or alg (PS256, ES256, EdDSA), aud (the issuer), iss (the client_id), exp/nbf (at most 60 minutes apart, nbf not in the future, not expired), or client_id different from the form's.",
        "invalid_authorization_details" => "The authorization_details were refused: an unknown type, a field the type does not have, a missing required field, or a value outside the allowed set.",
        "unauthorized_client" => "This client may not use this flow: check the grant and response types it was registered with.",
        "invalid_scope" => "A scope value is unknown to the server or not allowed for this client.",
        "access_denied" => "The server (or the user) refused the request.",
        "server_error" => "The server failed while handling the request: not your fault; retry, and quote the x-fapi-interaction-id to its operators.",
        "temporarily_unavailable" => "The server is overloaded or in maintenance: retry later.",
        "invalid_redirect_uri" => "The redirect_uri is not one registered for this client.",
        _ => "A non-standard error code: read the error_description.",
    }
    .to_owned()
}

fn outcome_of(status: u16, body: &Body, received_at: Timestamp) -> Outcome {
    let json = body.json();
    let str_field = |name: &str| {
        json.and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if (200..300).contains(&status) {
        let expires_in = json
            .and_then(|v| v.get("expires_in"))
            .and_then(Value::as_i64);
        return match (str_field("request_uri"), expires_in) {
            (Some(request_uri), Some(expires_in)) => Outcome::Accepted {
                request_uri,
                expires_in,
                expires_at: received_at + jiff::SignedDuration::from_secs(expires_in),
            },
            _ => Outcome::Unexpected {
                explanation: format!(
                    "the server answered {status} without request_uri and expires_in (RFC 9126 2.2)"
                ),
            },
        };
    }
    match str_field("error") {
        Some(error) => Outcome::Refused {
            explanation: explain(&error),
            error,
            error_description: str_field("error_description"),
        },
        None => Outcome::Unexpected {
            explanation: match (status, body) {
                (_, Body::Text(t)) if t.trim_start().starts_with('<') => format!(
                    "the server answered {status} with an HTML page, not OAuth JSON: often a proxy, gateway or WAF in front of the authorization server (a wrong URL, a missing client certificate, a blocked path)"
                ),
                (404, _) => "404: the PAR endpoint URL is wrong (read it from the issuer's discovery document)".into(),
                (405, _) => "405: this URL does not take POST: is it really the PAR endpoint?".into(),
                (s, _) if s >= 500 => format!("{s}: the server failed; retry, and quote the x-fapi-interaction-id"),
                (s, _) => format!("{s} without an OAuth error body"),
            },
        },
    }
}

async fn read_capped(
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
            "a PAR answer is a small JSON object: is the URL right?",
        )
    };
    if response
        .content_length()
        .is_some_and(|len| len as usize > BODY_CAP)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, target))? {
        if body.len() + chunk.len() > BODY_CAP {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// POSTs the ticket's form to the PAR endpoint.
pub async fn send(
    client: &reqwest::Client,
    par_endpoint: &str,
    ticket: &ParTicket,
) -> Result<ParExchange, NetworkError> {
    let started = Instant::now();
    let response = client
        .post(par_endpoint)
        .header(INTERACTION_HEADER, &ticket.interaction_id)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&ticket.form)
        .send()
        .await
        .map_err(|e| classify(&e, par_endpoint))?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = read_capped(response, par_endpoint).await?;
    let received_at = Timestamp::now();
    let body = Body::parse(&bytes);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let server_date = header("date")
        .and_then(|d| jiff::fmt::rfc2822::parse(&d).ok())
        .map(|z| z.timestamp());
    Ok(ParExchange {
        status,
        outcome: outcome_of(status, &body, received_at),
        echoed_interaction_id: header(INTERACTION_HEADER),
        headers,
        body,
        elapsed: started.elapsed(),
        received_at,
        interaction_id: ticket.interaction_id.clone(),
        server_date,
    })
}

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
                format!("no discovery document at {url} (status {status})"),
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

/// Under TLS 1.3 a server that wants a client certificate refuses after the handshake, so the
/// client sees either its alert or just a closed connection, whichever comes first. A closed
/// https connection is named for what it most likely is, given whether a certificate was sent.
fn closed_after_handshake(
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

/// Where a PAR went and what came back.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub par_endpoint: String,
    pub authorization_endpoint: Option<String>,
    pub exchange: ParExchange,
}

/// Sends a ticket to the profile's endpoints, reading them from discovery when the profile
/// has no PAR endpoint. The CLI and the TUI both call this.
pub async fn deliver(
    endpoints: &super::request::Endpoints,
    tls: &TlsMaterial,
    options: &ClientOptions,
    ticket: &ParTicket,
) -> Result<Delivery, NetworkError> {
    let mut par_endpoint = endpoints.par.clone();
    let mut authorization_endpoint = endpoints.authorization.clone();
    if par_endpoint.is_none() {
        let client = http_client(&endpoints.issuer, tls, options)?;
        let found = discover(&client, &endpoints.issuer, tls.identity_pem.is_some())
            .await
            .map_err(|e| {
                closed_after_handshake(e, &endpoints.issuer, tls.identity_pem.is_some())
            })?;
        par_endpoint = found.par_endpoint;
        authorization_endpoint = authorization_endpoint.or(found.authorization_endpoint);
    }
    let par_endpoint = par_endpoint.ok_or_else(|| {
        NetworkError::new(
            NetworkErrorKind::Discovery,
            "discovery names no pushed_authorization_request_endpoint",
            "set par_endpoint in the profile",
        )
    })?;
    let client = http_client(&par_endpoint, tls, options)?;
    let exchange = send(&client, &par_endpoint, ticket)
        .await
        .map_err(|e| closed_after_handshake(e, &par_endpoint, tls.identity_pem.is_some()))?;
    Ok(Delivery {
        par_endpoint,
        authorization_endpoint,
        exchange,
    })
}

/// authorization_endpoint?client_id=...&request_uri=... (RFC 9126 4).
pub fn authorize_url(authorization_endpoint: &str, client_id: &str, request_uri: &str) -> String {
    match url::Url::parse(authorization_endpoint) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("client_id", client_id)
                .append_pair("request_uri", request_uri);
            url.to_string()
        }
        Err(_) => authorization_endpoint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-01-30T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn success_needs_request_uri_and_expires_in() {
        let body = Body::Json(
            json!({"request_uri": "urn:ietf:params:oauth:request_uri:x", "expires_in": 90}),
        );
        let Outcome::Accepted { expires_at, .. } = outcome_of(201, &body, now()) else {
            panic!()
        };
        assert_eq!(expires_at, now() + jiff::SignedDuration::from_secs(90));
        assert!(matches!(
            outcome_of(200, &Body::Json(json!({})), now()),
            Outcome::Unexpected { .. }
        ));
    }

    #[test]
    fn oauth_errors_are_explained_and_html_pages_named() {
        let body = Body::parse(
            br#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
        );
        let Outcome::Refused {
            error, explanation, ..
        } = outcome_of(401, &body, now())
        else {
            panic!()
        };
        assert_eq!(error, "invalid_client");
        assert!(explanation.contains("client assertion"));
        for code in [
            "invalid_request",
            "invalid_client",
            "invalid_request_object",
            "invalid_authorization_details",
            "unauthorized_client",
            "invalid_scope",
            "access_denied",
            "server_error",
            "temporarily_unavailable",
        ] {
            assert!(!explain(code).contains("non-standard"), "{code}");
        }
        let html = Body::parse(b"<html><body>Bad Gateway</body></html>");
        let Outcome::Unexpected { explanation } = outcome_of(502, &html, now()) else {
            panic!()
        };
        assert!(explanation.contains("HTML page"));
    }

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
    fn authorize_url_encodes_its_parameters() {
        assert_eq!(
            authorize_url(
                "https://as.example/auth",
                "a b",
                "urn:ietf:params:oauth:request_uri:1"
            ),
            "https://as.example/auth?client_id=a+b&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A1"
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

    fn exchange(
        status: u16,
        description: &str,
        date: Option<Timestamp>,
        echoed: Option<&str>,
    ) -> ParExchange {
        let body = Body::Json(
            json!({"error": "invalid_request_object", "error_description": description}),
        );
        ParExchange {
            status,
            headers: vec![],
            outcome: outcome_of(status, &body, now()),
            body,
            elapsed: Duration::from_millis(3),
            received_at: now(),
            interaction_id: "a".into(),
            echoed_interaction_id: echoed.map(str::to_owned),
            server_date: date,
        }
    }

    #[test]
    fn notes_compare_clocks_on_time_refusals_and_interaction_ids() {
        let behind = now() - jiff::SignedDuration::from_secs(120);
        let notes = exchange(400, "request object expired (exp)", Some(behind), Some("a")).notes();
        assert!(
            notes.iter().any(|n| n.contains("2m ahead of the server's")),
            "{notes:?}"
        );
        let notes = exchange(400, "signature invalid", Some(behind), Some("b")).notes();
        assert!(!notes.iter().any(|n| n.contains("clock")), "{notes:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("echoed x-fapi-interaction-id b"))
        );
    }
}
