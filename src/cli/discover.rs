//! `discover`: the issuer's openid-configuration as this flow needs it (PAR, endpoints and
//! their mTLS aliases, algs, consent types, scopes, callback and token features), and with a
//! profile, where the profile and the server disagree.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::output::{complain, say};
use super::render;
use super::submit::{build_now, runtime};
use super::{DiscoverArgs, Failure, Outcome};
use crate::core::discovery_check::{self, ProfileView};
use crate::core::lint::{self, Finding};
use crate::core::printable::{printable_line, redact_url};
use crate::core::request::Overrides;
use crate::core::session::Session;
use crate::core::tls::TlsMaterial;
use crate::core::transport::{self, DiscoveryDocument, DiscoveryError, NetworkError};

pub fn discover(args: &DiscoverArgs) -> Outcome {
    runtime()?.block_on(discover_async(args))
}

async fn discover_async(args: &DiscoverArgs) -> Outcome {
    let session = match &args.profile {
        Some(name) => Some(Session::open(name, &Overrides::default()).await?),
        None => None,
    };
    let issuer = match (&session, &args.issuer) {
        (Some(session), _) => session.seed().endpoints.issuer.clone(),
        (None, Some(issuer)) => issuer.clone(),
        (None, None) => return Err(Failure::Other("give an ISSUER or --profile P".into())),
    };
    if url::Url::parse(&issuer).is_err() {
        return Err(Failure::Other(format!(
            "\"{issuer}\" is not a URL\n  hint: give the issuer identifier, e.g. https://auth1.sandbox.mya.ozoneapi.io"
        )));
    }
    let options = args.network.options();
    let no_tls = TlsMaterial::default();
    let tls = session.as_ref().map_or(&no_tls, Session::tls);
    let url = transport::discovery_url(&issuer);
    let client = match transport::http_client(&url, tls, &options) {
        Ok(client) => client,
        Err(network) => return Ok(network_failure(args.json, &network)),
    };
    let report = match transport::fetch_document(&client, &issuer).await {
        Ok(doc) => {
            let built = match &session {
                Some(session) => Some(build_now(session)?),
                None => None,
            };
            let view = session
                .as_ref()
                .zip(built.as_ref())
                .map(|(s, built)| ProfileView {
                    seed: s.seed(),
                    ticket: &built.ticket,
                    packs: s.packs(),
                    mtls: s.tls().identity_pem.is_some(),
                });
            let mut findings = discovery_check::check(&issuer, &doc, view.as_ref());
            if let Some(session) = &session {
                findings.extend(session.dpop_against_discovery(&doc, jiff::Timestamp::now()));
            }
            Report {
                doc: Some(doc),
                findings,
            }
        }
        Err(DiscoveryError::Network(network)) => return Ok(network_failure(args.json, &network)),
        Err(error) => Report {
            doc: None,
            findings: vec![discovery_check::unavailable(&error)],
        },
    };
    let profile = session.as_ref().map(|s| s.seed().profile_name.as_str());
    if args.json {
        say!("{}", report.json(&url, profile));
    } else {
        say!("{}", report.human(&url, profile));
    }
    Ok(if lint::has_errors(&report.findings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn network_failure(json_out: bool, network: &NetworkError) -> ExitCode {
    if json_out {
        let doc = json!({"error": "network", "kind": network.kind, "message": network.message, "hint": network.hint});
        say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        complain!("error: {}\n  hint: {}", network.message, network.hint);
    }
    ExitCode::from(3)
}

struct Report {
    /// None when the server answered without a document (its finding says why).
    doc: Option<DiscoveryDocument>,
    findings: Vec<Finding>,
}

/// Groups of (label, field) as the human output shows them.
const GROUPS: &[(&str, &[(&str, &str)])] = &[
    (
        "Pushed authorization requests",
        &[
            ("required", "require_pushed_authorization_requests"),
            ("endpoint", "pushed_authorization_request_endpoint"),
            ("signed request", "require_signed_request_object"),
        ],
    ),
    (
        "Endpoints",
        &[
            ("authorization", "authorization_endpoint"),
            ("token", "token_endpoint"),
            ("userinfo", "userinfo_endpoint"),
            ("jwks_uri", "jwks_uri"),
        ],
    ),
    (
        "Signing algs",
        &[
            (
                "request objects",
                "request_object_signing_alg_values_supported",
            ),
            ("client auth", "token_endpoint_auth_methods_supported"),
            (
                "client auth algs",
                "token_endpoint_auth_signing_alg_values_supported",
            ),
            ("ID tokens", "id_token_signing_alg_values_supported"),
        ],
    ),
    (
        "Consent, scopes, claims",
        &[
            ("consent types", "authorization_details_types_supported"),
            ("scopes", "scopes_supported"),
            ("claims", "claims_supported"),
        ],
    ),
    (
        "Authorization response",
        &[
            ("response types", "response_types_supported"),
            ("response modes", "response_modes_supported"),
            (
                "iss (RFC 9207)",
                "authorization_response_iss_parameter_supported",
            ),
        ],
    ),
    (
        "Tokens",
        &[
            ("grant types", "grant_types_supported"),
            ("PKCE methods", "code_challenge_methods_supported"),
            ("DPoP algs", "dpop_signing_alg_values_supported"),
            ("cert-bound", "tls_client_certificate_bound_access_tokens"),
        ],
    ),
];

/// A field's value on one line: lists joined, booleans as yes/no.
fn shown(value: Option<&Value>) -> String {
    let text = match value {
        None => "(not stated)".to_owned(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => "(none)".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    };
    printable_line(&text).into_owned()
}

impl Report {
    fn json(&self, url: &str, profile: Option<&str>) -> String {
        let mut out = self
            .doc
            .as_ref()
            .map(DiscoveryDocument::flow_fields)
            .unwrap_or_default();
        let mut extra = Map::new();
        extra.insert("discovery_url".into(), json!(redact_url(url)));
        extra.insert("profile".into(), json!(profile));
        extra.insert("findings".into(), json!(self.findings));
        out.extend(extra);
        serde_json::to_string_pretty(&out).unwrap_or_default()
    }

    fn human(&self, url: &str, profile: Option<&str>) -> String {
        let mut out = vec![format!("Discovery  {}", redact_url(url))];
        if let Some(doc) = &self.doc {
            out.push(format!(
                "  issuer            {}",
                shown(doc.fields.get("issuer"))
            ));
            for (title, rows) in GROUPS {
                out.push(render::title(title));
                for (label, field) in *rows {
                    out.push(format!("  {label:<17} {}", shown(doc.fields.get(*field))));
                }
                if *title == "Endpoints" {
                    out.extend(mtls_rows(doc));
                }
            }
        }
        let against = match profile {
            Some(name) => format!("profile {name} against the server"),
            None => "the server (give --profile P to check a profile against it)".into(),
        };
        out.push(render::title(&format!(
            "Findings, {against}: {}",
            render::summary(&self.findings)
        )));
        if self.findings.is_empty() {
            out.push("  nothing that stands in the way of this flow".into());
        }
        out.extend(self.findings.iter().map(render::finding));
        out.join("\n")
    }
}

fn mtls_rows(doc: &DiscoveryDocument) -> Vec<String> {
    let Some(aliases) = doc.fields.get("mtls_endpoint_aliases") else {
        return vec![
            "  mTLS aliases      (none: the same endpoints with a client certificate)".into(),
        ];
    };
    let Some(aliases) = aliases.as_object() else {
        return vec![format!(
            "  mTLS aliases      {} (not an object)",
            shown(Some(aliases))
        )];
    };
    aliases
        .iter()
        .map(|(name, url)| {
            let short = match name.as_str() {
                "pushed_authorization_request_endpoint" => "PAR",
                other => other.trim_end_matches("_endpoint"),
            };
            format!("  mTLS {:<12} {}", printable_line(short), shown(Some(url)))
        })
        .collect()
}
