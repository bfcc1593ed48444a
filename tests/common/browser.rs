//! A browser's part in the interop tests: following oidc-provider's authorize redirects with
//! its cookies, up to the redirect_uri.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// Enough for login, its resume, consent and its resume, with room to spare.
const MAX_REDIRECTS: usize = 10;

/// A browser's way through the authorize redirects (login, consent, each resumed at the
/// authorization endpoint), keeping oidc-provider's cookies, which tie each step to the last.
/// Stops at the first redirect to `redirect_uri` and answers its URL.
pub async fn follow_to_redirect_uri(authorize_url: &str, redirect_uri: &str) -> String {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies = BTreeMap::<String, String>::new();
    let mut url = url::Url::parse(authorize_url).unwrap();
    for _ in 0..MAX_REDIRECTS {
        let jar = cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let answer = http
            .get(url.clone())
            .header(COOKIE, jar)
            .send()
            .await
            .unwrap();
        for set in answer.headers().get_all(SET_COOKIE) {
            keep_cookie(&mut cookies, set.to_str().unwrap());
        }
        let status = answer.status();
        let Some(location) = answer.headers().get(LOCATION) else {
            let body = answer.text().await.unwrap_or_default();
            panic!("{url} answered {status} without a redirect: {body}");
        };
        let next = url.join(location.to_str().unwrap()).unwrap();
        assert!(status.is_redirection(), "{url} answered {status}");
        if next.as_str().starts_with(redirect_uri) {
            return next.to_string();
        }
        url = next;
    }
    panic!("no redirect to {redirect_uri} after {MAX_REDIRECTS} hops");
}

/// `name=value` of a Set-Cookie line; a cookie set to expire is dropped, as a browser does.
fn keep_cookie(cookies: &mut BTreeMap<String, String>, set_cookie: &str) {
    let mut parts = set_cookie.split(';');
    let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
        return;
    };
    let expired = parts.any(|attr| {
        let attr = attr.trim().to_ascii_lowercase();
        attr == "max-age=0" || attr.contains("1970")
    });
    if expired {
        cookies.remove(name.trim());
    } else {
        cookies.insert(name.trim().to_owned(), value.trim().to_owned());
    }
}
