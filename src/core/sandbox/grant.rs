//! What the user is asked at /authorize and what an approval grants: the parts of the pushed
//! request object the later steps check (redirect_uri, PKCE challenge, nonce, state) and the
//! consent as the token endpoint echoes it (S-TOK: `consent_id`, `status`, and for the
//! Malaysia pack the accounts the user picked).
//!
//! None of these types derive `Debug`: state, nonce and the challenge are secrets of the flow.

use jiff::Timestamp;
use rand::RngCore;
use serde_json::{Map, Value, json};

use crate::core::consent::PackSet;
use crate::core::jws::DecodedJwt;
use crate::core::keys::b64url;

/// The one user the sandbox signs in: the ID token's `sub` and /userinfo's subject.
pub const TEST_USER: &str = "sandbox-user-1";

/// The pack whose token response carries the accounts the user picked (S-TOK, G9).
const ACCOUNTS_PACK: &str = "my-account-access";

/// What a pushed request asks for, kept from its request object.
pub struct Asked {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub scope: String,
    /// Claims named under `claims.userinfo` (OpenID Connect Core 5.5).
    pub userinfo_claims: Vec<String>,
    pub authorization_details: Value,
    /// The DPoP key the flow is bound to: the request object's dpop_jkt, else the PAR proof's.
    pub dpop_jkt: Option<String>,
}

impl Asked {
    pub fn of(request: &DecodedJwt) -> Asked {
        let text = |name: &str| request.claim_str(name).map(str::to_owned);
        let userinfo_claims = request
            .claim("claims")
            .and_then(|c| c.get("userinfo"))
            .and_then(Value::as_object)
            .map(|claims| claims.keys().cloned().collect())
            .unwrap_or_default();
        Asked {
            redirect_uri: text("redirect_uri").unwrap_or_default(),
            state: text("state"),
            nonce: text("nonce"),
            code_challenge: text("code_challenge").unwrap_or_default(),
            scope: text("scope").unwrap_or_default(),
            userinfo_claims,
            authorization_details: request
                .claim("authorization_details")
                .cloned()
                .unwrap_or(Value::Null),
            dpop_jkt: text("dpop_jkt"),
        }
    }
}

/// What an approval grants; every token issued for it stands for this.
/// Serializable so the resource server can keep refresh grants between commands.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub client_id: String,
    pub scope: String,
    pub userinfo_claims: Vec<String>,
    /// The consent as approved: the asked items with `consent_id`, `status` and accounts.
    pub authorization_details: Value,
    pub auth_time: i64,
}

/// An authorization code waiting for its one exchange.
pub struct IssuedCode {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    /// Kept after use so a second exchange is told "already used", not "unknown".
    pub used: bool,
}

/// A fresh unguessable value (codes, tokens, interaction ids): 32 random bytes, base64url.
pub fn random_secret(rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    b64url(&bytes)
}

pub fn random_uuid(rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Two accounts of the test user, as the Malaysia sandbox returns them.
pub fn fake_accounts() -> Value {
    json!([
        {"account_id": "sbx-acc-0001", "account_number": "1234567890", "account_name": "Sandbox Savings"},
        {"account_id": "sbx-acc-0002", "account_number": "9876543210", "account_name": "Sandbox Current"},
    ])
}

/// The asked authorization_details as approved: each item's consent gains a fresh
/// `consent_id`, `status: "authorized"`, its dates and, for the Malaysia pack, the accounts.
pub fn authorized_details(
    asked: &Value,
    packs: &PackSet,
    now: Timestamp,
    rng: &mut dyn RngCore,
) -> Value {
    let Some(items) = asked.as_array() else {
        return asked.clone();
    };
    let approved = items
        .iter()
        .map(|item| {
            let mut item = item.clone();
            let with_accounts = item
                .get("type")
                .and_then(Value::as_str)
                .and_then(|t| packs.find(t))
                .is_some_and(|pack| pack.id == ACCOUNTS_PACK);
            let mut added = Map::new();
            added.insert("consent_id".into(), random_uuid(rng).into());
            added.insert("status".into(), "authorized".into());
            added.insert("created_at".into(), now.to_string().into());
            added.insert("updated_at".into(), now.to_string().into());
            if with_accounts {
                added.insert("accounts".into(), fake_accounts());
            }
            // The sample puts them inside `consent`; an item without one gets them on itself.
            match item.get_mut("consent").and_then(Value::as_object_mut) {
                Some(consent) => consent.extend(added),
                None => {
                    if let Some(object) = item.as_object_mut() {
                        object.extend(added);
                    }
                }
            }
            item
        })
        .collect();
    Value::Array(approved)
}

/// The claims /userinfo can return, `sub` first.
pub const USERINFO_CLAIMS: [&str; 8] = [
    "sub",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_verified",
    "id_type",
    "hashed_id_number",
];

/// The test user's claims, of which /userinfo returns those asked for.
pub fn test_user_claim(name: &str) -> Option<Value> {
    Some(match name {
        "name" => json!("Sandbox Test User"),
        "given_name" => json!("Sandbox"),
        "family_name" => json!("User"),
        "email" => json!("sandbox.user@example.test"),
        "email_verified" => json!(true),
        "id_type" => json!("passport"),
        "hashed_id_number" => json!("c2FuZGJveC10ZXN0LXVzZXItaWQ"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const NOW: i64 = 1_769_767_200;

    fn approve(details: Value) -> Value {
        let now = Timestamp::from_second(NOW).unwrap();
        authorized_details(
            &details,
            &PackSet::builtin(),
            now,
            &mut StdRng::seed_from_u64(7),
        )
    }

    #[test]
    fn the_malaysia_consent_gains_an_id_its_status_and_two_accounts() {
        let details = json!([{"type": "urn:openfinance-ml:account-access-consent:v1.2",
            "consent": {"dp_id": "DEMO-BANK", "permissions": ["read_balances"]}}]);
        let approved = approve(details);
        let consent = &approved[0]["consent"];
        assert_eq!(consent["dp_id"], "DEMO-BANK", "the asked consent is echoed");
        assert_eq!(consent["status"], "authorized");
        let id = consent["consent_id"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        let accounts = consent["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 2);
        for account in accounts {
            for field in ["account_id", "account_number", "account_name"] {
                assert!(account[field].is_string(), "{field} in {account}");
            }
        }
        assert_eq!(consent["created_at"], "2026-01-30T10:00:00Z");
    }

    #[test]
    fn other_packs_get_no_accounts_and_an_item_without_consent_is_marked_itself() {
        let approved = approve(json!([
            {"type": "urn:openfinanceuae:account-access-consent:v2.1", "consent": {"Permissions": []}},
            {"type": "unknown"},
        ]));
        assert_eq!(approved[0]["consent"]["status"], "authorized");
        assert!(approved[0]["consent"].get("accounts").is_none());
        assert_eq!(approved[1]["status"], "authorized");
        assert_ne!(
            approved[0]["consent"]["consent_id"],
            approved[1]["consent_id"]
        );
    }

    #[test]
    fn asked_reads_the_userinfo_claims_and_the_flow_values() {
        let request = DecodedJwt {
            header: json!({}),
            claims: json!({"redirect_uri": "https://cb", "state": "s", "nonce": "n",
                "code_challenge": "c", "scope": "openid",
                "claims": {"userinfo": {"name": null, "email": null}}}),
            compact: String::new(),
        };
        let asked = Asked::of(&request);
        assert_eq!(asked.userinfo_claims, ["name", "email"]);
        assert_eq!(asked.nonce.as_deref(), Some("n"));
        assert_eq!(asked.code_challenge, "c");
        assert_eq!(asked.authorization_details, Value::Null);
    }
}
