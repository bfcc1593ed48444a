//! The request signature of a resource call (MY: the `x-signature` header): a compact JWS
//! over who calls (iss), for which consent (sub), whom (aud), which URL and which query
//! parameters, made from the pack's templates.

use std::fmt;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::core::consent::resource_api::RequestSignature;
use crate::core::jws;
use crate::core::keys::{KeyError, SigningKey, alg_name};

/// The values the pack's claim templates name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    pub dc_id: String,
    pub dp_id: String,
    pub consent_id: String,
    pub client_id: String,
}

impl Vars {
    /// `{dc_id}`, `{dp_id}`, `{consent_id}`, `{client_id}` filled in; other text as written.
    pub fn fill(&self, template: &str) -> String {
        template
            .replace("{dc_id}", &self.dc_id)
            .replace("{dp_id}", &self.dp_id)
            .replace("{consent_id}", &self.consent_id)
            .replace("{client_id}", &self.client_id)
    }
}

/// A signature as sent. The compact form authorizes a call for minutes: `Debug` leaves it out.
#[derive(Clone, PartialEq)]
pub struct XSignature {
    pub header_name: String,
    pub header: Value,
    pub claims: Value,
    pub compact: String,
}

impl fmt::Debug for XSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XSignature")
            .field("header_name", &self.header_name)
            .field("header", &self.header)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// The URL as the `url` claim carries it: scheme, host, port and path, no query or fragment.
pub fn url_without_query(url: &url::Url) -> String {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    bare.to_string()
}

/// The query as the `qpm` claim carries it: an object of strings, in the order sent.
pub fn query_object(query: &[(String, String)]) -> Value {
    Value::Object(
        query
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

/// Signs a request: header `{alg, kid}`, claims in the samples' order; `jti` is the
/// interaction id when the pack says so (as in the samples), else a fresh UUID.
pub fn sign(
    scheme: &RequestSignature,
    vars: &Vars,
    url: &url::Url,
    query: &[(String, String)],
    interaction_id: &str,
    key: &SigningKey,
    now: Timestamp,
) -> Result<XSignature, KeyError> {
    let header = json!({"alg": alg_name(key.alg()), "kid": key.kid()});
    let iat = now.as_second();
    let jti = if scheme.jti_is_interaction_id {
        interaction_id.to_owned()
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    let mut claims = Map::new();
    claims.insert("iss".into(), vars.fill(&scheme.iss).into());
    claims.insert("sub".into(), vars.fill(&scheme.sub).into());
    claims.insert(
        "aud".into(),
        scheme
            .aud
            .iter()
            .map(|a| Value::String(vars.fill(a)))
            .collect(),
    );
    claims.insert("iat".into(), iat.into());
    claims.insert("nbf".into(), iat.into());
    claims.insert("exp".into(), (iat + scheme.lifetime).into());
    claims.insert("jti".into(), jti.into());
    claims.insert(scheme.url_claim.clone(), url_without_query(url).into());
    claims.insert(scheme.qpm_claim.clone(), query_object(query));
    let claims = Value::Object(claims);
    let compact = jws::sign(&header, &claims, key)?;
    Ok(XSignature {
        header_name: scheme.header.clone(),
        header,
        claims,
        compact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consent::PackSet;
    use jsonwebtoken::Algorithm;

    #[test]
    fn the_claims_follow_the_pack_and_the_signature_verifies() {
        let packs = PackSet::builtin();
        let api = packs
            .find("my-account-access")
            .unwrap()
            .resource
            .clone()
            .unwrap();
        let scheme = api.request_signature.unwrap();
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let vars = Vars {
            dc_id: "dc-1".into(),
            dp_id: "DP-9".into(),
            consent_id: "c-42".into(),
            client_id: "client".into(),
        };
        let url =
            url::Url::parse("https://rs.example/v1/accounts/a1/transactions?page_size=5").unwrap();
        let query = vec![("page_size".to_owned(), "5".to_owned())];
        let now: Timestamp = "2026-01-30T10:00:00Z".parse().unwrap();
        let signed = sign(&scheme, &vars, &url, &query, "iid-1", &key, now).unwrap();
        let c = &signed.claims;
        assert_eq!(c["iss"], "dc-1");
        assert_eq!(c["sub"], "c-42");
        assert_eq!(c["aud"], json!(["DP-9", "Paynet OFP"]));
        assert_eq!(c["iat"], c["nbf"]);
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);
        assert_eq!(c["jti"], "iid-1");
        assert_eq!(c["url"], "https://rs.example/v1/accounts/a1/transactions");
        assert_eq!(c["qpm"], json!({"page_size": "5"}));
        let decoded = jws::decode(&signed.compact).unwrap();
        assert_eq!(decoded.verify(&key.public_jwk()), Ok(true));
        assert_eq!(decoded.kid(), Some(key.kid()));
        assert!(!format!("{signed:?}").contains(&signed.compact));
    }
}
