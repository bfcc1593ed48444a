//! `profiles list|show` and `packs list|show`.

use std::process::ExitCode;

use super::output::{self, say};
use super::{Failure, Outcome};
use crate::core::consent::{Field, Kind, Pack, PackSet};
use crate::core::error::{ConfigError, Origin};
use crate::core::paths;
use crate::core::printable::{redact_url, redact_urls_in};
use crate::core::profile::{self, ProfileSource};
use crate::core::request::Overrides;

fn packs() -> Result<PackSet, Failure> {
    Ok(PackSet::load(paths::user_packs_dir().as_deref())?)
}

pub fn profiles_list() -> Outcome {
    let packs = packs()?;
    say!("{:<22} {:<22} SOURCE", "NAME", "PACK");
    for entry in profile::list() {
        let pack = match &entry.source {
            ProfileSource::File(p) => profile::load_file(p).ok(),
            ProfileSource::Builtin(name) => profile::find(name).ok(),
        }
        .and_then(|l| l.pack(&packs).ok().map(|p| p.id.clone()))
        .unwrap_or_else(|| "(unreadable)".into());
        let source = match &entry.source {
            ProfileSource::File(p) => p.display().to_string(),
            ProfileSource::Builtin(_) => "built-in".into(),
        };
        say!("{:<22} {:<22} {}", entry.name, pack, source);
    }
    if let Some(dir) = paths::user_profiles_dir() {
        say!("\nYour own profiles go in {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn profiles_show(name: &str) -> Outcome {
    let loaded = profile::find_given_by(name, "profiles show")?;
    let packs = packs()?;
    say!("# {} ({})\n", loaded.name, loaded.source.describe());
    say!("{}", redact_urls_in(loaded.text.trim_end()));
    let seed = loaded.seed(
        &packs,
        &Overrides::default(),
        &profile::default_embedded_base(),
    )?;
    say!("\n# Resolved");
    say!(
        "issuer                 {}",
        redact_url(&seed.endpoints.issuer)
    );
    for (label, value) in [
        ("par_endpoint", &seed.endpoints.par),
        ("authorization_endpoint", &seed.endpoints.authorization),
        ("token_endpoint", &seed.endpoints.token),
    ] {
        say!(
            "{label:<22} {}",
            value
                .as_deref()
                .map_or_else(|| "(from discovery)".into(), redact_url)
        );
    }
    say!(
        "assertion aud          {}",
        seed.assertion_aud().unwrap_or_else(|e| e.to_string())
    );
    say!(
        "consent pack           {} ({})",
        seed.pack.id,
        seed.pack.type_
    );
    for (id, value) in &seed.consent {
        say!("  {id:<20} {value}");
    }
    match loaded.signing_key(None) {
        Ok(key) => say!(
            "key                    {} {}, kid {}",
            key.kind().describe(),
            crate::core::keys::alg_name(key.alg()),
            key.kid()
        ),
        Err(e) => say!("key                    not usable: {}", e.message),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn packs_list() -> Outcome {
    let packs = packs()?;
    say!("{:<22} {:<50} SOURCE", "ID", "TYPE");
    for pack in &packs.packs {
        let source = match &pack.origin {
            Some(Origin::File { path, .. }) => path.display().to_string(),
            _ => "built-in".into(),
        };
        say!("{:<22} {:<50} {}", pack.id, pack.type_, source);
    }
    if let Some(dir) = paths::user_packs_dir() {
        say!("\nYour own packs go in {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn packs_show(name: &str, json: bool) -> Outcome {
    let packs = packs()?;
    let pack = packs.find(name).ok_or_else(|| {
        Failure::Config(ConfigError::new(
            Origin::Flag("packs show".into()),
            "",
            format!("unknown consent pack \"{name}\""),
            format!("known packs: {}", packs.names()),
        ))
    })?;
    if json {
        output::json(pack);
    } else {
        let text = describe_pack(pack);
        say!("{}", text.strip_suffix('\n').unwrap_or(&text));
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_field(f: &Field) -> String {
    let mut flags = vec![f.kind.name().to_owned()];
    if f.required {
        flags.push("required".into());
    }
    if f.auto.is_some() {
        flags.push("fresh UUID per build".into());
    }
    if let Some(d) = &f.default {
        flags.push(format!("default {d}"));
    }
    if let (Kind::Const, Some(v)) = (f.kind, &f.value) {
        flags.push(format!("always {v}"));
    }
    let mut out = format!(
        "  {:<32} {}  [{}]\n      {}\n",
        f.id,
        f.path,
        flags.join(", "),
        f.description
    );
    for v in &f.values {
        let status = v
            .status
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "      - {:<28} {}{status}\n",
            v.value, v.description
        ));
    }
    out
}

/// What the deployment is known to do, which lint has nothing to check against: the status it
/// answers a PAR with, and the assertion aud it expects (lint holds every client to FAPI's
/// issuer-only aud, and quotes the note when that aud is wrong).
fn deployment_facts(pack: &Pack) -> String {
    let c = &pack.constraints;
    let mut lines = Vec::new();
    if let Some(v) = c.par_success_status {
        lines.push(("PAR success status", format!("{v} (RFC 9126 says 201)")));
    }
    if let Some(v) = &c.assertion_audience {
        lines.push(("client assertion aud", v.clone()));
    }
    if let Some(v) = &c.assertion_audience_note {
        lines.push(("  note", v.clone()));
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = "\nWhat the deployment does (shown, not linted):\n".to_owned();
    for (label, value) in lines {
        out.push_str(&format!("  {label:<28} {value}\n"));
    }
    out
}

fn describe_pack(pack: &Pack) -> String {
    let c = &pack.constraints;
    let mut out = format!(
        "{}\n  id        {}\n  type      {}\n  ecosystem {}\n\n{}\n",
        pack.name, pack.id, pack.type_, pack.ecosystem, pack.description
    );
    out.push_str("\nFields (profile [consent] key, wire path, kind):\n");
    for f in &pack.fields {
        out.push_str(&describe_field(f));
    }
    out.push_str("\nConstraints lint enforces:\n");
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<28} {value}\n"));
    if let Some(v) = c.max_items {
        line("authorization_details items", format!("at most {v}"));
    }
    if let Some(v) = c.max_request_lifetime {
        line("request exp - nbf", format!("at most {v} s"));
    }
    if let Some(v) = &c.max_request_lifetime_disputed {
        line("  disputed", v.clone());
    }
    if let Some(v) = &c.max_consent_expiry {
        line("consent expiry", format!("at most {v} ahead"));
    }
    if let Some(v) = c.max_age {
        line("max_age", format!("at most {v}"));
    }
    if !c.required_request_claims.is_empty() {
        line(
            "required request claims",
            c.required_request_claims.join(", "),
        );
    }
    line(
        "algorithms",
        if c.allowed_algs.is_empty() {
            "PS256, ES256, EdDSA (FAPI 2.0)".into()
        } else {
            c.allowed_algs.join(", ")
        },
    );
    if !c.scopes.is_empty() {
        line("scopes", c.scopes.join(" "));
    }
    if c.strict_keys {
        line(
            "unknown keys",
            "refused (additionalProperties: false)".into(),
        );
    }
    out.push_str(&deployment_facts(pack));
    if !c.userinfo_claims.is_empty() {
        out.push_str("\nUserinfo claims:\n");
        for v in &c.userinfo_claims {
            out.push_str(&format!("  - {:<28} {}\n", v.value, v.description));
        }
    }
    if let Some(api) = &pack.resource {
        out.push_str(&describe_resource(api));
    }
    for (title, list) in [("Notes", &pack.notes), ("Sources", &pack.sources)] {
        if !list.is_empty() {
            out.push_str(&format!("\n{title}:\n"));
            for n in list {
                out.push_str(&format!("  - {n}\n"));
            }
        }
    }
    out
}

/// The pack's resource API: what `call` and `consent` use.
fn describe_resource(api: &crate::core::consent::resource_api::ResourceApi) -> String {
    let mut out = String::from("\nResource API (`consent-explorer call`):\n");
    let endpoint_line = |e: &crate::core::consent::resource_api::Endpoint| {
        let needs = e
            .permission
            .as_deref()
            .map(|p| format!("  needs {p}"))
            .unwrap_or_default();
        let status = e
            .status
            .as_deref()
            .map(|s| format!("  [{s}]"))
            .unwrap_or_default();
        format!(
            "  {:<13} {:<6} {}{needs}{status}\n",
            e.name, e.method, e.path
        )
    };
    for endpoint in api
        .endpoints
        .iter()
        .chain(&api.consent_show)
        .chain(&api.consent_revoke)
    {
        out.push_str(&endpoint_line(endpoint));
    }
    if let Some(signature) = &api.request_signature {
        out.push_str(&format!(
            "  request signature: {} header, {}; iss {}, sub {}, aud [{}], exp = iat + {} s, {} and {} claims\n",
            signature.header,
            signature.alg,
            signature.iss,
            signature.sub,
            signature.aud.join(", "),
            signature.lifetime,
            signature.url_claim,
            signature.qpm_claim
        ));
        for disputed in signature.sub_disputed.iter().chain(&signature.url_disputed) {
            out.push_str(&format!("    disputed: {disputed}\n"));
        }
    }
    let response = &api.response;
    let wrapping = match response.wrapping {
        crate::core::consent::resource_api::Wrapping::Plain => "plain JSON",
        crate::core::consent::resource_api::Wrapping::JwsEnvelopeJwe => {
            "a signed JWS envelope whose data claim is a JWE"
        }
    };
    out.push_str(&format!("  response: {wrapping}"));
    if let (Some(alg), Some(enc)) = (&response.key_management, &response.content_encryption) {
        out.push_str(&format!(" (JWE {alg} + {enc})"));
    }
    out.push('\n');
    for note in api.notes.iter().chain(&response.notes) {
        out.push_str(&format!("  - {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only what lint checks is listed as enforced; the rest is shown under its own heading.
    #[test]
    fn deployment_facts_are_not_listed_as_enforced() {
        let packs = PackSet::builtin();
        let pack = packs
            .find("urn:openfinance-ml:account-access-consent:v1.2")
            .unwrap();
        let text = describe_pack(pack);
        let enforced = text.split("Constraints lint enforces:").nth(1).unwrap();
        let enforced = enforced.split("\n\n").next().unwrap();
        assert!(!enforced.contains("PAR success status"), "{enforced}");
        assert!(!enforced.contains("client assertion aud"), "{enforced}");
        let shown = text.split("shown, not linted").nth(1).unwrap();
        assert!(
            shown.contains("PAR success status           200"),
            "{shown}"
        );
    }

    #[test]
    fn the_resource_api_is_shown_with_its_disputes() {
        let packs = PackSet::builtin();
        let text = describe_pack(packs.find("my-account-access").unwrap());
        let api = text.split("Resource API").nth(1).unwrap();
        assert!(
            api.contains("/v1/accounts/{account_id}/balances  needs read_balances"),
            "{api}"
        );
        assert!(api.contains("disputed: Sources disagree"), "{api}");
        assert!(
            api.contains("whose data claim is a JWE (JWE RSA-OAEP-256 + A256GCM)"),
            "{api}"
        );
        let uae = describe_pack(packs.find("uae-account-access").unwrap());
        assert!(uae.contains("response: plain JSON"), "{uae}");
    }
}
