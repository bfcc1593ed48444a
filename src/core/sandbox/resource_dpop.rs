//! DPoP at the sandbox's resource server (RFC 9449 7.1): a token bound at the token endpoint
//! (its `cnf.jkt`, kept with its grant) is taken only as `Authorization: DPoP` with a proof of
//! that key for this request, carrying the token's `ath`. The proof itself is checked by
//! `dpop.rs`, as at PAR, token and /userinfo.

use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;

use super::AppState;
use super::dpop::{check_bound_use, resource_refusal};
use super::resource_store::TokenGrant;
use super::resource_verify::presented;
use super::verify::Refusal;
use crate::core::oauth::OAuthError;

/// The refusal to answer (401, `WWW-Authenticate: DPoP error=...`, a nonce when the sandbox
/// wants one) when this use of the token is not the bound one; None when it may go on.
pub(super) fn refused_use(
    state: &AppState,
    headers: &HeaderMap,
    grant: &TokenGrant,
    method: &str,
    url: &str,
    now: Timestamp,
) -> Option<Response> {
    let (scheme, token) = presented(headers)?;
    let checked = match &grant.jkt {
        Some(required) => {
            check_bound_use(state, headers, scheme, token, required, method, url, now)
        }
        None if scheme.eq_ignore_ascii_case("dpop") => Err(Refusal::new(
            OAuthError::InvalidToken,
            "this access token is not DPoP-bound: send it as Authorization: Bearer (RFC 9449 7.1)",
        )),
        None => Ok(()),
    };
    checked
        .err()
        .map(|refusal| resource_refusal(state, refusal))
}
