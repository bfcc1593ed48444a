//! The one place secrets leave a recorded exchange. Four nets, each enough for what it knows:
//! names (form fields, JSON keys, query parameters, headers), the secret values the caller
//! knows of (replaced wherever they appear), the shape of a signed JWT (its signature goes),
//! and PEM private keys.

use serde_json::Value;

use super::{DecodedPart, ExchangeFields, RecordedBody};

/// Form fields, JSON keys and query parameters whose value is a credential, and the
/// placeholder each becomes.
const SECRET_NAMES: [(&str, &str); 12] = [
    ("client_assertion", "client_assertion"),
    ("assertion", "assertion"),
    ("request", "request_object"),
    ("code", "code"),
    ("code_verifier", "code_verifier"),
    ("access_token", "access_token"),
    ("refresh_token", "refresh_token"),
    ("id_token", "id_token"),
    ("client_secret", "client_secret"),
    ("nonce", "nonce"),
    ("password", "password"),
    ("private_key", "private_key"),
];

/// A JWK's private members (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037 2).
const JWK_PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// `{{name}}`: what a secret becomes; named so a reader (or a curl user) knows what to put back.
pub fn placeholder(name: &str) -> String {
    format!("{{{{{name}}}}}")
}

fn secret_name(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    SECRET_NAMES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, name)| *name)
}

pub(super) fn redact(mut f: ExchangeFields, secrets: &[(&'static str, String)]) -> ExchangeFields {
    let scrub = |s: &str| scrub_text(s, secrets);
    f.url = scrub(&redact_query(&f.url));
    f.request_headers = redact_headers(f.request_headers, secrets);
    f.response_headers = redact_headers(f.response_headers, secrets);
    f.request_body = f.request_body.map(|b| redact_body(b, secrets));
    f.response_body = f.response_body.map(|b| redact_body(b, secrets));
    f.decoded = f
        .decoded
        .into_iter()
        .map(|part| DecodedPart {
            name: scrub(&part.name),
            header: redact_json(part.header, secrets),
            claims: redact_json(part.claims, secrets),
        })
        .collect();
    f.note = f.note.map(|n| scrub(&n));
    f.interaction_id = f.interaction_id.map(|i| scrub(&i));
    for finding in &mut f.findings {
        finding.message = scrub(&finding.message);
    }
    f
}

fn redact_headers(
    headers: Vec<(String, String)>,
    secrets: &[(&'static str, String)],
) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(name, value)| {
            let value = match name.to_ascii_lowercase().as_str() {
                "authorization" | "proxy-authorization" => match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {}", placeholder("access_token")),
                    None => placeholder("authorization"),
                },
                "dpop" => placeholder("dpop_proof"),
                "cookie" | "set-cookie" => placeholder("cookie"),
                // A detached JWS (header..signature): the header says how it was signed.
                // Compact (header.payload.signature) or detached (header..signature): what
                // was signed stays readable, the signature goes.
                "x-jws-signature" | "x-signature" => match value.rsplit_once('.') {
                    Some((signed, _)) => format!("{signed}.{}", placeholder("signature")),
                    None => placeholder("signature"),
                },
                _ => scrub_text(&value, secrets),
            };
            (name, value)
        })
        .collect()
}

fn redact_body(body: RecordedBody, secrets: &[(&'static str, String)]) -> RecordedBody {
    match body {
        RecordedBody::Form(fields) => RecordedBody::Form(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let v = match secret_name(&k) {
                        Some(name) => placeholder(name),
                        None => scrub_text(&v, secrets),
                    };
                    (k, v)
                })
                .collect(),
        ),
        RecordedBody::Json(v) => RecordedBody::Json(redact_json(v, secrets)),
        RecordedBody::Text(t) => RecordedBody::Text(scrub_text(&t, secrets)),
    }
}

pub(super) fn redact_json(value: Value, secrets: &[(&'static str, String)]) -> Value {
    match value {
        Value::Object(map) => {
            let is_jwk = map.contains_key("kty");
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = match secret_name(&k) {
                            Some(name) if v.is_string() => Value::String(placeholder(name)),
                            _ if is_jwk && JWK_PRIVATE.contains(&k.as_str()) => {
                                Value::String(placeholder("private_key"))
                            }
                            _ => redact_json(v, secrets),
                        };
                        (k, v)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| redact_json(v, secrets)).collect())
        }
        Value::String(s) => Value::String(scrub_text(&s, secrets)),
        other => other,
    }
}

/// A URL with its credential query parameters (a callback's `code`) replaced.
fn redact_query(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let redact_pairs = |query: &str| {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if secret_name(k).is_some() => {
                    format!("{k}={}", placeholder(secret_name(k).unwrap_or(k)))
                }
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let mut out = match before_fragment.split_once('?') {
        Some((base, query)) => format!("{base}?{}", redact_pairs(query)),
        None => before_fragment.to_owned(),
    };
    // Implicit and hybrid responses carry credentials in the fragment.
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(&redact_pairs(fragment));
    }
    out
}

/// Known secret values, JWT signatures and PEM private keys replaced in free text.
pub(super) fn scrub_text(text: &str, secrets: &[(&'static str, String)]) -> String {
    let mut out = text.to_owned();
    // Longest first: a token that contains another secret is replaced whole.
    let mut known: Vec<&(&str, String)> = secrets.iter().filter(|(_, v)| v.len() >= 6).collect();
    known.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (name, value) in known {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), &placeholder(name));
        }
    }
    let out = strip_private_keys(&out);
    strip_jwt_signatures(&out)
}

fn strip_private_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN") {
        let header_end = rest[start..].find("-----\n").map(|i| start + i);
        let is_private = rest[start..]
            .lines()
            .next()
            .is_some_and(|l| l.contains("PRIVATE KEY"));
        let end_marker = rest[start..].find("-----END").map(|i| start + i);
        match (is_private, header_end, end_marker) {
            (true, _, Some(end)) => {
                out.push_str(&rest[..start]);
                out.push_str(&placeholder("private_key"));
                let after_end = rest[end + 8..]
                    .find("-----")
                    .map_or(rest.len(), |i| end + 8 + i + 5);
                rest = &rest[after_end..];
            }
            (true, _, None) => {
                // A key cut off (a capped body): everything from its start goes.
                out.push_str(&rest[..start]);
                out.push_str(&placeholder("private_key"));
                rest = "";
            }
            _ => {
                let skip = start + "-----BEGIN".len();
                out.push_str(&rest[..skip]);
                rest = &rest[skip..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_jwt_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// Every compact JWS (`eyJ...` in three parts) keeps its header and payload and loses its
/// signature; a compact JWE (five parts) goes whole.
fn strip_jwt_signatures(text: &str) -> String {
    if !text.contains("eyJ") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        let parts: Vec<&str> = run.split('.').collect();
        let all_filled = parts.iter().all(|p| !p.is_empty());
        match parts.len() {
            3 if run.starts_with("eyJ") && all_filled => {
                out.push_str(parts[0]);
                out.push('.');
                out.push_str(parts[1]);
                out.push('.');
                out.push_str(&placeholder("signature"));
            }
            5 if run.starts_with("eyJ") => out.push_str(&placeholder("jwe")),
            _ => out.push_str(run),
        }
    };
    for (i, c) in text.char_indices() {
        match (is_jwt_char(c), run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                flush(&mut out, &text[start..i]);
                run_start = None;
                out.push(c);
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(start) = run_start {
        flush(&mut out, &text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_values_signatures_and_keys_go() {
        let secrets = vec![("access_token", "opaque-token-123456".to_owned())];
        assert_eq!(
            scrub_text("Bearer opaque-token-123456 here", &secrets),
            "Bearer {{access_token}} here"
        );
        assert_eq!(
            scrub_text(
                "jwt eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl!",
                &[]
            ),
            "jwt eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0.{{signature}}!"
        );
        // Idempotent: a second pass leaves placeholders be.
        let once = scrub_text("eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", &[]);
        assert_eq!(scrub_text(&once, &[]), once);
        assert_eq!(
            scrub_text(
                "a\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\nb",
                &[]
            ),
            "a\n{{private_key}}\nb"
        );
        let cert = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----";
        assert_eq!(scrub_text(cert, &[]), cert);
        assert_eq!(
            redact_query("https://app/cb?code=abc&state=s1&iss=x#code=def"),
            "https://app/cb?code={{code}}&state=s1&iss=x#code={{code}}"
        );
        let jwk = redact_json(
            json!({"keys": [{"kty": "EC", "d": "secret", "x": "pub"}], "nonce": "n", "code_challenge": "c"}),
            &[],
        );
        assert_eq!(
            jwk,
            json!({"keys": [{"kty": "EC", "d": "{{private_key}}", "x": "pub"}], "nonce": "{{nonce}}", "code_challenge": "c"})
        );
        let headers = redact_headers(
            vec![
                ("Authorization".into(), "DPoP abc".into()),
                ("DPoP".into(), "eyJ.x.y".into()),
                (
                    "x-jws-signature".into(),
                    "eyJhbGciOiJQUzI1NiJ9..c2ln".into(),
                ),
            ],
            &[],
        );
        assert_eq!(headers[0].1, "DPoP {{access_token}}");
        assert_eq!(headers[1].1, "{{dpop_proof}}");
        assert_eq!(headers[2].1, "eyJhbGciOiJQUzI1NiJ9..{{signature}}");
    }
}
