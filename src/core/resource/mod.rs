//! After the token: resource calls with the deployment's message security, and the consent's
//! status and revocation. The pack says what the API looks like (consent/resource_api.rs);
//! here a call is planned (URL, headers, request signature), sent, and its answer opened
//! layer by layer. `Session::call` and `Session::consent_*` put these together.

pub mod envelope;
pub mod jwe;
pub mod xsig;

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::core::consent::resource_api::{Endpoint, ResourceApi};
use crate::core::dpop::{Answered, PROOF_HEADER, ProofTrail};
use crate::core::keys::{KeyError, SigningKey};
use crate::core::transport::{self, INTERACTION_HEADER, NetworkError};
pub use envelope::{Layer, Opened, Verdict};
pub use xsig::{Vars, XSignature};

/// Why a call was not made, or its answer not read. Nothing here carries a token.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the pack {pack} describes no resource API")]
    NoResourceApi { pack: String },
    #[error(
        "no endpoint named {name:?} in the pack (it has: {known}; or give a method and path: GET /path)"
    )]
    UnknownEndpoint { name: String, known: String },
    #[error("{endpoint} needs {placeholder}: give it as an argument ({usage})")]
    MissingArgument {
        endpoint: String,
        placeholder: String,
        usage: String,
    },
    #[error("{what} is not offered by this deployment's pack")]
    NotOffered { what: String },
    #[error("no resource server URL: set [resource] base_url in the profile")]
    NoBaseUrl,
    #[error("the resource URL {url:?} cannot be made: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "{url:?} is not on the resource server {base_url}: the access token and the request signature go only there (give a path such as /v1/accounts, or set [resource] base_url)"
    )]
    OtherOrigin { url: String, base_url: String },
    #[error(
        "no tokens are kept for profile {profile}: run `consent-explorer flow --profile {profile}` first"
    )]
    NoTokens { profile: String },
    #[error(
        "no consent id is known: give one, or run `consent-explorer flow --profile {profile}` first"
    )]
    NoConsentId { profile: String },
    #[error("the request signature could not be made: {0}")]
    Sign(#[from] KeyError),
    #[error("the token for this call could not be had: {0}")]
    Token(String),
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// A resource call made and its answer opened.
#[derive(Debug, Clone)]
pub struct ResourceExchange {
    pub endpoint: Option<String>,
    pub method: String,
    pub url: String,
    /// The headers sent, the bearer token redacted and the x-signature shown apart.
    pub sent_headers: Vec<(String, String)>,
    pub x_signature: Option<XSignature>,
    pub interaction_id: String,
    pub status: u16,
    /// Lower-case names, as received.
    pub headers: Vec<(String, String)>,
    pub opened: Opened,
    pub notes: Vec<String>,
    pub elapsed: Duration,
    /// The DPoP proofs sent with a DPoP-bound token (the nonce retry's too), for showing
    /// decoded beside the call; None for a Bearer call.
    pub dpop: Option<ProofTrail>,
}

impl ResourceExchange {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to call: a pack endpoint by name with its arguments, or a method and a path.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub endpoint: Endpoint,
    pub path: String,
}

/// Reads `call ENDPOINT [ARGS]` or `call METHOD /path`. `{consent_id}` comes from `vars`;
/// `{account_id}` and any other placeholder from the arguments in order, `{account_id}`
/// defaulting to `default_account` (the consent's first account).
pub fn target(
    api: &ResourceApi,
    first: &str,
    args: &[String],
    vars: &Vars,
    default_account: Option<&str>,
) -> Result<Target, CallError> {
    let method = first.to_ascii_uppercase();
    if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        let path = args.first().ok_or_else(|| CallError::MissingArgument {
            endpoint: method.clone(),
            placeholder: "a path".into(),
            usage: format!("call {method} /v1/accounts"),
        })?;
        let known = api
            .endpoints
            .iter()
            .find(|e| e.method == method && path_matches(&e.path, path));
        let endpoint = known.cloned().unwrap_or_else(|| Endpoint {
            name: format!("{method} {path}"),
            method: method.clone(),
            path: path.clone(),
            description: String::new(),
            query: Vec::new(),
            token: Default::default(),
            permission: None,
            scope: None,
            status: None,
        });
        return Ok(Target {
            endpoint,
            path: path.clone(),
        });
    }
    let endpoint = api
        .endpoint(first)
        .ok_or_else(|| CallError::UnknownEndpoint {
            name: first.to_owned(),
            known: api.endpoint_names(),
        })?
        .clone();
    let path = fill_path(&endpoint, args, vars, default_account)?;
    Ok(Target { endpoint, path })
}

/// The endpoint's path with its placeholders filled in.
pub fn fill_path(
    endpoint: &Endpoint,
    args: &[String],
    vars: &Vars,
    default_account: Option<&str>,
) -> Result<String, CallError> {
    let mut args = args.iter();
    let mut path = endpoint.path.clone();
    for placeholder in endpoint.placeholders() {
        let value = match placeholder {
            "consent_id" => Some(vars.consent_id.clone()).filter(|c| !c.is_empty()),
            other => args
                .next()
                .cloned()
                .or_else(|| (other == "account_id").then(|| default_account.map(str::to_owned))?),
        };
        let value = value.ok_or_else(|| CallError::MissingArgument {
            endpoint: endpoint.name.clone(),
            placeholder: placeholder.to_owned(),
            usage: format!(
                "call {} {}",
                endpoint.name,
                placeholder.to_ascii_uppercase()
            ),
        })?;
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        path = path.replace(&format!("{{{placeholder}}}"), &encoded);
    }
    Ok(path)
}

/// Whether a concrete path fits a template (`/v1/accounts/a1/balances` fits
/// `/v1/accounts/{account_id}/balances`).
pub fn path_matches(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// A call ready to send.
pub struct Planned {
    pub method: String,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub x_signature: Option<XSignature>,
    pub interaction_id: String,
}

/// The URL, the headers and the request signature of a call.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    api: &ResourceApi,
    target: &Target,
    base_url: &str,
    query: &[(String, String)],
    extra_headers: &[(String, String)],
    vars: &Vars,
    key: &SigningKey,
    now: Timestamp,
) -> Result<Planned, CallError> {
    // `call GET PATH` may name a whole URL, leave out the leading slash, or carry a query:
    // the query then counts with --query in the signature's qpm.
    let joined = if target.path.starts_with("https://") || target.path.starts_with("http://") {
        target.path.clone()
    } else {
        format!(
            "{}/{}",
            base_url.trim_end_matches('/'),
            target.path.trim_start_matches('/')
        )
    };
    let mut url = url::Url::parse(&joined).map_err(|e| CallError::BadUrl {
        url: joined.clone(),
        reason: e.to_string(),
    })?;
    // A whole URL pasted from elsewhere must not carry the bearer token to another host.
    let base = url::Url::parse(base_url).map_err(|e| CallError::BadUrl {
        url: base_url.to_owned(),
        reason: e.to_string(),
    })?;
    if url.origin() != base.origin() {
        return Err(CallError::OtherOrigin {
            url: crate::core::printable::redact_url(&joined),
            base_url: base_url.to_owned(),
        });
    }
    let mut query_sent: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    query_sent.extend(query.iter().cloned());
    url.set_query(None);
    if !query_sent.is_empty() {
        url.query_pairs_mut().extend_pairs(&query_sent);
    }
    let query = &query_sent[..];
    let interaction_id = uuid::Uuid::new_v4().to_string();
    let mut headers = vec![(INTERACTION_HEADER.to_owned(), interaction_id.clone())];
    headers.extend(extra_headers.iter().cloned());
    let x_signature = match &api.request_signature {
        Some(scheme) => Some(xsig::sign(
            scheme,
            vars,
            &url,
            query,
            &interaction_id,
            key,
            now,
        )?),
        None => None,
    };
    Ok(Planned {
        method: target.endpoint.method.clone(),
        url,
        headers,
        x_signature,
        interaction_id,
    })
}

/// What came back, read within the body cap.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub elapsed: Duration,
}

impl Answered for Answer {
    fn status(&self) -> u16 {
        self.status
    }

    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// A resource server's nonce challenge is in its headers (RFC 9449 9).
    fn json(&self) -> Option<&Value> {
        None
    }
}

/// How the access token goes out: as Bearer (RFC 6750), or DPoP-bound with its proof (RFC
/// 9449 7.1).
#[derive(Clone, Copy)]
pub enum Authorization<'a> {
    Bearer(&'a str),
    Dpop { token: &'a str, proof: &'a str },
}

/// Sends a planned call with the access token.
pub async fn send(
    client: &reqwest::Client,
    planned: &Planned,
    authorization: Authorization<'_>,
) -> Result<Answer, NetworkError> {
    let started = std::time::Instant::now();
    let method =
        reqwest::Method::from_bytes(planned.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let target = planned.url.as_str();
    let mut request = client.request(method, target).header(
        reqwest::header::ACCEPT,
        "application/jose, application/json",
    );
    request = match authorization {
        Authorization::Bearer(token) => request.bearer_auth(token),
        Authorization::Dpop { token, proof } => request
            .header(reqwest::header::AUTHORIZATION, format!("DPoP {token}"))
            .header(PROOF_HEADER, proof),
    };
    for (name, value) in &planned.headers {
        request = request.header(name, value);
    }
    if let Some(signature) = &planned.x_signature {
        request = request.header(&signature.header_name, &signature.compact);
    }
    let response = request
        .send()
        .await
        .map_err(|e| transport::classify(e, target))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = transport::read_capped(response, target).await?;
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        elapsed: started.elapsed(),
    })
}

/// The account ids a token response's authorization_details grant (G9).
pub fn account_ids(authorization_details: Option<&Value>) -> Vec<String> {
    authorization_details
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("consent").unwrap_or(item).get("accounts"))
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|a| a.get("account_id").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// A field of the first consent in authorization_details (dp_id, dc_id).
pub fn consent_field(authorization_details: Option<&Value>, name: &str) -> Option<String> {
    authorization_details
        .and_then(Value::as_array)?
        .iter()
        .find_map(|item| item.get("consent").unwrap_or(item).get(name)?.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::PackSet;

    fn my_api() -> ResourceApi {
        PackSet::builtin()
            .find("my-account-access")
            .unwrap()
            .resource
            .clone()
            .unwrap()
    }

    #[test]
    fn targets_fill_the_path_from_arguments_and_the_consent() {
        let api = my_api();
        let vars = Vars {
            consent_id: "c-1".into(),
            ..Vars::default()
        };
        let t = target(&api, "balances", &["acc 1".into()], &vars, None).unwrap();
        assert_eq!(t.path, "/v1/accounts/acc+1/balances");
        let t = target(&api, "balances", &[], &vars, Some("a0")).unwrap();
        assert_eq!(t.path, "/v1/accounts/a0/balances");
        let missing = target(&api, "balances", &[], &vars, None).unwrap_err();
        assert!(
            missing.to_string().contains("call balances ACCOUNT_ID"),
            "{missing}"
        );
        let unknown = target(&api, "nope", &[], &vars, None).unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("accounts, balances, transactions")
        );
        let raw = target(
            &api,
            "get",
            &["/v1/accounts/x/balances".into()],
            &vars,
            None,
        )
        .unwrap();
        assert_eq!(
            raw.endpoint.name, "balances",
            "a raw path is matched to its endpoint"
        );
        assert!(path_matches("/a/{x}/b", "/a/1/b?q=1"));
        assert!(!path_matches("/a/{x}/b", "/a//b"));
    }

    #[test]
    fn a_whole_url_must_be_on_the_resource_server() {
        let api = my_api();
        let vars = Vars::default();
        let (key, _) =
            crate::core::keys::SigningKey::generate(jsonwebtoken::Algorithm::ES256).unwrap();
        let plan_for = |path: &str| {
            let t = target(&api, "get", &[path.into()], &vars, None).unwrap();
            plan(
                &api,
                &t,
                "https://rs.example/base",
                &[],
                &[],
                &vars,
                &key,
                Timestamp::UNIX_EPOCH,
            )
        };
        assert!(plan_for("https://rs.example/v1/accounts").is_ok());
        for elsewhere in [
            "https://evil.example/v1/accounts",
            "http://rs.example/v1/accounts",
            "https://rs.example:8443/v1/accounts",
        ] {
            let err = plan_for(elsewhere).err().expect(elsewhere);
            assert!(matches!(err, CallError::OtherOrigin { .. }), "{err}");
        }
    }

    #[test]
    fn account_ids_and_consent_fields_come_from_authorization_details() {
        let details = serde_json::json!([{"type": "t", "consent": {"dp_id": "DP",
            "accounts": [{"account_id": "a1"}, {"account_id": "a2"}]}}]);
        assert_eq!(account_ids(Some(&details)), ["a1", "a2"]);
        assert_eq!(
            consent_field(Some(&details), "dp_id").as_deref(),
            Some("DP")
        );
        assert!(account_ids(None).is_empty());
    }
}
