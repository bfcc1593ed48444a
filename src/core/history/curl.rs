//! A request as a curl command to paste into a shell: every value quoted for POSIX shells,
//! form fields sent with `--data-urlencode` (curl encodes them exactly as we do), the
//! profile's TLS files as `--cert/--key/--cacert`.

use std::path::PathBuf;

use super::{Exchange, RecordedBody};
use crate::core::paths;
use crate::core::profile::{LoadedProfile, ProfileSource};
use crate::core::request::ParTicket;
use crate::core::transport::INTERACTION_HEADER;

/// The TLS files a profile names, resolved to paths.
#[derive(Debug, Clone, Default)]
pub struct CurlTls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub cacert: Option<PathBuf>,
    /// A PKCS#12 bundle, and the environment variable holding its passphrase.
    pub pkcs12: Option<PathBuf>,
    pub pkcs12_password_env: Option<String>,
}

impl CurlTls {
    /// The profile's `[tls]` files, relative paths taken from the profile's folder.
    pub fn of_profile(profile: &LoadedProfile) -> CurlTls {
        let Some(tls) = &profile.profile.tls else {
            return CurlTls::default();
        };
        let base = match &profile.source {
            ProfileSource::File(path) => path.parent(),
            ProfileSource::Builtin(_) => None,
        };
        let resolve = |p: &Option<String>| p.as_deref().map(|p| paths::resolve_from(base, p));
        CurlTls {
            cert: resolve(&tls.cert),
            key: resolve(&tls.key),
            cacert: resolve(&tls.ca),
            pkcs12: resolve(&tls.pkcs12),
            pkcs12_password_env: tls.pkcs12_password_env.clone(),
        }
    }
}

/// One word quoted for a POSIX shell (single quotes unless plain); a NUL, which no shell
/// word can hold, is dropped.
pub fn quote(word: &str) -> String {
    let word: String = word.chars().filter(|c| *c != '\0').collect();
    shlex::try_quote(&word)
        .map(|q| q.into_owned())
        .unwrap_or_default()
}

/// The exact PAR of a fresh build: what `build --curl` prints.
pub fn par_command(par_url: &str, ticket: &ParTicket, tls: &CurlTls) -> String {
    command(
        "POST",
        par_url,
        &[
            (INTERACTION_HEADER.to_owned(), ticket.interaction_id.clone()),
            ("accept".to_owned(), "application/json".to_owned()),
        ],
        Some(&RecordedBody::Form(ticket.form.clone())),
        tls,
    )
}

/// A recorded exchange as curl, its secrets still the named placeholders: a teammate fills
/// them in (or reads the shape of the request).
pub fn entry_command(exchange: &Exchange, tls: &CurlTls) -> String {
    let f = exchange.fields();
    // curl sets content-type and content-length itself from the body options.
    let headers: Vec<(String, String)> = f
        .request_headers
        .iter()
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("content-type")
                || !matches!(f.request_body, Some(RecordedBody::Form(_)))
        })
        .filter(|(k, _)| !k.eq_ignore_ascii_case("content-length"))
        .cloned()
        .collect();
    command(&f.method, &f.url, &headers, f.request_body.as_ref(), tls)
}

fn command(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&RecordedBody>,
    tls: &CurlTls,
) -> String {
    let mut lines = vec![format!(
        "curl --silent --show-error --include -X {}",
        quote(method)
    )];
    let path = |p: &PathBuf| quote(&p.display().to_string());
    if let Some(p12) = &tls.pkcs12 {
        lines.push(format!("--cert-type P12 --cert {}", path(p12)));
        if let Some(env) = &tls.pkcs12_password_env {
            lines.push(format!("--pass \"${{{env}}}\""));
        }
    }
    if let Some(cert) = &tls.cert {
        lines.push(format!("--cert {}", path(cert)));
    }
    if let Some(key) = &tls.key {
        lines.push(format!("--key {}", path(key)));
    }
    if let Some(ca) = &tls.cacert {
        lines.push(format!("--cacert {}", path(ca)));
    }
    for (name, value) in headers {
        lines.push(format!("-H {}", quote(&format!("{name}: {value}"))));
    }
    match body {
        Some(RecordedBody::Form(fields)) => {
            for (name, value) in fields {
                lines.push(format!(
                    "--data-urlencode {}",
                    quote(&format!("{name}={value}"))
                ));
            }
        }
        Some(RecordedBody::Json(value)) => {
            lines.push(format!("-H {}", quote("content-type: application/json")));
            lines.push(format!("--data-raw {}", quote(&value.to_string())));
        }
        Some(RecordedBody::Text(text)) => lines.push(format!("--data-raw {}", quote(text))),
        None => {}
    }
    lines.push(quote(url));
    lines.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(quote("plain"), "plain");
        for word in ["it's $HOME", "a\"b`c`\\", "x y\nz"] {
            assert_eq!(shlex::split(&quote(word)).unwrap(), [word]);
        }
        let cmd = command(
            "POST",
            "https://as.example/par?x=1&y=2",
            &[("x-fapi-interaction-id".into(), "abc".into())],
            Some(&RecordedBody::Form(vec![(
                "scope".into(),
                "openid accounts".into(),
            )])),
            &CurlTls {
                cert: Some("/k/my cert.pem".into()),
                ..CurlTls::default()
            },
        );
        assert!(cmd.contains("--cert '/k/my cert.pem'"), "{cmd}");
        assert!(
            cmd.contains("--data-urlencode 'scope=openid accounts'"),
            "{cmd}"
        );
        assert!(cmd.ends_with("'https://as.example/par?x=1&y=2'"), "{cmd}");
        assert!(cmd.contains("-H 'x-fapi-interaction-id: abc'"), "{cmd}");
    }
}
