use super::*;
use crate::core::consent::FieldValue;
use crate::core::error::Origin;
use crate::core::profile::{BUILTIN_PROFILES, ProfileSource, builtin as find_builtin, parse};
use serde_json::json;

fn builtin(name: &str) -> LoadedProfile {
    find_builtin(name).unwrap()
}

#[test]
fn builtin_profiles_resolve_against_their_packs() {
    let packs = PackSet::builtin();
    for (name, _) in BUILTIN_PROFILES {
        let seed = builtin(name)
            .seed(&packs, &Overrides::default(), &default_embedded_base())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!seed.consent.is_empty());
    }
}

#[test]
fn embedded_target_takes_endpoints_from_the_bound_port() {
    let seed = builtin("local")
        .seed(
            &PackSet::builtin(),
            &Overrides::default(),
            "http://127.0.0.1:4444",
        )
        .unwrap();
    assert_eq!(seed.endpoints.issuer, "http://127.0.0.1:4444");
    assert_eq!(
        seed.endpoints.par.as_deref(),
        Some("http://127.0.0.1:4444/par")
    );
    assert_eq!(seed.assertion_aud().unwrap(), "http://127.0.0.1:4444");
}

#[test]
fn unknown_permission_names_file_line_and_allowed_values() {
    let text = "client_id = \"c\"\nissuer = \"https://as.example\"\nredirect_uri = \"https://c.example/cb\"\n\n[consent]\npack = \"my-account-access\"\ndc_id = \"d\"\npermissions = [\"read_everything\"]\n";
    let loaded = parse(text, ProfileSource::File("p.toml".into()), "p").unwrap();
    let err = loaded
        .seed(&PackSet::builtin(), &Overrides::default(), "")
        .unwrap_err();
    assert_eq!(
        err.origin,
        Origin::File {
            path: "p.toml".into(),
            line: Some(8)
        }
    );
    assert_eq!(err.field, "consent.permissions");
    assert!(err.message.contains("read_everything"));
    assert!(err.message.contains("read_balances"), "{}", err.message);
    assert!(
        err.hint.contains("packs show my-account-access"),
        "{}",
        err.hint
    );
}

#[test]
fn overrides_replace_consent_values_and_refuse_bad_ones() {
    let loaded = builtin("local");
    let packs = PackSet::builtin();
    let overrides = Overrides {
        permissions: vec!["read_balances".into()],
        purpose: Some("credit_underwriting".into()),
        set: vec![("consent.dp_id".into(), "BANK2".into())],
        ..Overrides::default()
    };
    let seed = loaded.seed(&packs, &overrides, "").unwrap();
    assert_eq!(
        seed.consent["permissions"],
        FieldValue::Json(json!(["read_balances"]))
    );
    assert_eq!(
        seed.consent["purpose"],
        FieldValue::Json(json!("credit_underwriting"))
    );
    assert_eq!(seed.consent["dp_id"], FieldValue::Json(json!("BANK2")));

    let bad = Overrides {
        expiration: Some("next tuesday".into()),
        ..Overrides::default()
    };
    let err = loaded.seed(&packs, &bad, "").unwrap_err();
    assert_eq!(err.origin, Origin::Flag("--expiration".into()));
    let unknown = Overrides {
        set: vec![("colour".into(), "blue".into())],
        ..Overrides::default()
    };
    assert!(
        loaded
            .seed(&packs, &unknown, "")
            .unwrap_err()
            .hint
            .contains("dc_id")
    );
}

fn local_with(from: &str, to: &str) -> LoadedProfile {
    let text = BUILTIN_PROFILES[0].1.replace(from, to);
    assert_ne!(text, BUILTIN_PROFILES[0].1, "{from} not in local.toml");
    parse(&text, ProfileSource::File("p.toml".into()), "p").unwrap()
}

fn seed_error(loaded: &LoadedProfile) -> ConfigError {
    loaded
        .seed(
            &PackSet::builtin(),
            &Overrides::default(),
            &default_embedded_base(),
        )
        .unwrap_err()
}

#[test]
fn out_of_range_and_misspelt_signing_values_name_their_line() {
    let huge = local_with("lifetime = 300", "lifetime = 9223372036854775807");
    let err = seed_error(&huge);
    assert_eq!(err.field, "signing.lifetime");
    assert!(matches!(err.origin, Origin::File { line: Some(_), .. }));
    let typo = local_with(
        "lifetime = 300",
        "lifetime = 300\nassertion_audience = \"Issuer\"",
    );
    let err = seed_error(&typo);
    assert_eq!(err.field, "signing.assertion_audience");
    assert!(err.message.contains("Issuer"));
    let literal = local_with(
        "lifetime = 300",
        "lifetime = 300\nassertion_audience = \"https://as.example/token\"",
    );
    let seed = literal
        .seed(
            &PackSet::builtin(),
            &Overrides::default(),
            &default_embedded_base(),
        )
        .unwrap();
    assert_eq!(seed.assertion_aud().unwrap(), "https://as.example/token");
    let pack = local_with("pack = \"my-account-access\"", "pack = 5");
    assert!(seed_error(&pack).message.contains("must be a string"));
}

#[test]
fn token_endpoint_audience_needs_a_token_endpoint() {
    let text = BUILTIN_PROFILES[2]
        .1
        .replace(
            "assertion_audience = \"issuer\"",
            "assertion_audience = \"token_endpoint\"",
        )
        .replace(
            "token_endpoint = \"https://as1.sandbox.mya.ozoneapi.io/token\"\n",
            "",
        );
    let loaded = parse(&text, ProfileSource::File("o.toml".into()), "o").unwrap();
    let err = seed_error(&loaded);
    assert_eq!(err.field, "signing.assertion_audience");
    assert!(err.message.contains("no token_endpoint"), "{}", err.message);
}

#[test]
fn empty_kid_and_two_key_sources_are_refused() {
    let err = local_with("alg = \"PS256\"", "alg = \"PS256\"\nkid = \"\"")
        .signing_key(None)
        .unwrap_err();
    assert_eq!(err.field, "signing.kid");
    let err = local_with("key = \"demo\"", "key = \"demo\"\nkey_env = \"X\"")
        .signing_key(None)
        .unwrap_err();
    assert_eq!(err.field, "signing.key_env");
}

#[test]
fn missing_key_path_is_a_clear_error() {
    let err = builtin("ozone-mya-sandbox").signing_key(None).unwrap_err();
    assert_eq!(err.field, "signing.key");
    assert!(err.hint.contains("--key"));
}
