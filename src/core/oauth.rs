//! The OAuth error codes a FAPI 2.0 authorization server answers with: each with its HTTP
//! status and plain words on what it usually means. One table for lint (what a strict server
//! would answer for a finding), the sandbox (the status of its refusals) and the explanation
//! of a real server's answer.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    InvalidScope,
    InvalidRequestObject,
    InvalidRequestUri,
    InvalidRedirectUri,
    InvalidAuthorizationDetails,
    AccessDenied,
    UnsupportedGrantType,
    InvalidToken,
    ServerError,
    TemporarilyUnavailable,
    InvalidDpopProof,
    UseDpopNonce,
}

use OAuthError::*;

/// One row per code: the code on the wire, the status a token or PAR endpoint answers with
/// (RFC 6749 5.2: 401 when client authentication failed, 400 for the other request errors),
/// and what it usually means.
const TABLE: [(OAuthError, &str, u16, &str); 16] = [
    (
        InvalidRequest,
        "invalid_request",
        400,
        "The server found the request malformed or missing something it requires: a parameter, PKCE S256, a redirect_uri it knows, or openid in scope when claims/nonce/max_age are sent.",
    ),
    (
        InvalidClient,
        "invalid_client",
        401,
        "The server did not accept who you are: the client assertion's signature (is the key registered, with this kid?), its iss/sub (the client_id), its aud (FAPI 2.0: the issuer only, as a string), an expired or replayed assertion (fresh jti each time), or a missing or untrusted client certificate.",
    ),
    (
        InvalidGrant,
        "invalid_grant",
        400,
        "The authorization code, refresh token or PKCE verifier was refused: used already, expired, issued to another client or redirect_uri, or the code_verifier does not match the code_challenge.",
    ),
    (
        UnauthorizedClient,
        "unauthorized_client",
        400,
        "This client may not use this flow: check the grant and response types it was registered with.",
    ),
    (
        InvalidScope,
        "invalid_scope",
        400,
        "A scope value is unknown to the server or not allowed for this client.",
    ),
    (
        InvalidRequestObject,
        "invalid_request_object",
        400,
        "The signed request object was refused: its signature or alg (PS256, ES256, EdDSA), aud (the issuer), iss (the client_id), exp/nbf (at most 60 minutes apart, nbf not in the future, not expired), or client_id different from the form's.",
    ),
    (
        InvalidRequestUri,
        "invalid_request_uri",
        400,
        "The request_uri is unknown, already used (it is one-time) or expired: push the request again.",
    ),
    (
        InvalidRedirectUri,
        "invalid_redirect_uri",
        400,
        "The redirect_uri is not one registered for this client.",
    ),
    (
        InvalidAuthorizationDetails,
        "invalid_authorization_details",
        400,
        "The authorization_details were refused: an unknown type, a field the type does not have, a missing required field, or a value outside the allowed set.",
    ),
    (
        AccessDenied,
        "access_denied",
        403,
        "The server (or the user) refused the request.",
    ),
    (
        UnsupportedGrantType,
        "unsupported_grant_type",
        400,
        "The token endpoint does not know this grant_type: FAPI 2.0 servers take authorization_code and refresh_token (and often client_credentials).",
    ),
    (
        InvalidToken,
        "invalid_token",
        401,
        "The access token was refused (RFC 6750 3.1): unknown, expired, revoked, or sent other than as an Authorization: Bearer header.",
    ),
    (
        ServerError,
        "server_error",
        500,
        "The server failed while handling the request: not your fault; retry, and quote the x-fapi-interaction-id to its operators.",
    ),
    (
        TemporarilyUnavailable,
        "temporarily_unavailable",
        503,
        "The server is overloaded or in maintenance: retry later.",
    ),
    (
        InvalidDpopProof,
        "invalid_dpop_proof",
        400,
        "The DPoP proof was refused (RFC 9449 5): missing, or its signature, typ (dpop+jwt), jwk, htm/htu (this request's method and URL, no query), iat (now), a replayed jti, its ath, or a key other than the one the code or token is bound to (dpop_jkt, cnf.jkt).",
    ),
    (
        UseDpopNonce,
        "use_dpop_nonce",
        400,
        "The server wants its nonce in the DPoP proof (RFC 9449 8): send again with a proof whose nonce claim is the DPoP-Nonce header it answered.",
    ),
];

const NON_STANDARD: &str = "A non-standard error code: read the error_description.";

impl OAuthError {
    fn row(self) -> &'static (OAuthError, &'static str, u16, &'static str) {
        // Every variant has its row: the test below walks the table both ways.
        TABLE.iter().find(|row| row.0 == self).unwrap_or(&TABLE[0])
    }

    pub fn code(self) -> &'static str {
        self.row().1
    }

    pub fn status(self) -> u16 {
        self.row().2
    }

    pub fn explanation(self) -> &'static str {
        self.row().3
    }

    pub fn from_code(code: &str) -> Option<OAuthError> {
        TABLE.iter().find(|row| row.1 == code).map(|row| row.0)
    }
}

/// Plain words for an error code a server answered, standard or not.
pub fn explain(code: &str) -> String {
    OAuthError::from_code(code)
        .map_or(NON_STANDARD, OAuthError::explanation)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_is_explained() {
        for (error, code, ..) in TABLE {
            assert_eq!(error.row().0, error, "{error:?} has no row of its own");
            assert_eq!(serde_json::to_value(error).unwrap(), code);
            assert_eq!(OAuthError::from_code(error.code()), Some(error));
            assert_ne!(explain(error.code()), NON_STANDARD, "{error:?}");
        }
        assert_eq!(explain("made_up"), NON_STANDARD);
    }

    #[test]
    fn only_failed_client_authentication_is_401() {
        assert_eq!(InvalidClient.status(), 401);
        assert_eq!(InvalidRequestObject.status(), 400);
        assert_eq!(InvalidAuthorizationDetails.status(), 400);
    }
}
