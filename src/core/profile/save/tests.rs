use super::*;
use crate::core::consent::PackSet;
use crate::core::profile::{default_embedded_base, load_file};
use crate::core::request::Overrides;

fn builtin(name: &str) -> LoadedProfile {
    crate::core::profile::builtin(name).unwrap()
}

#[test]
fn saved_edits_load_back_the_same() {
    let loaded = builtin("local-uae");
    let packs = PackSet::builtin();
    let overrides = Overrides {
        permissions: vec!["ReadBalances".into()],
        set: vec![
            ("on_behalf_of.trading_name".into(), "Acme".into()),
            ("webhook.is_active".into(), "true".into()),
        ],
        ..Overrides::default()
    };
    let mut seed = loaded
        .seed(&packs, &overrides, &default_embedded_base())
        .unwrap();
    seed.scope = "openid accounts extra".into();
    seed.max_age = Some(60);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    save(&loaded.with_edits(&seed, "mine"), &path).unwrap();
    let again = load_file(&path).unwrap();
    assert_eq!(again.name, "mine");
    let reseed = again
        .seed(&packs, &Overrides::default(), &default_embedded_base())
        .unwrap();
    assert_eq!(reseed.consent, seed.consent);
    assert_eq!(reseed.scope, "openid accounts extra");
    assert_eq!(reseed.max_age, Some(60));
    assert_eq!(reseed.clock_skew, 10);
    // A failed save (the rename meets a folder) keeps what was there and leaves no temp file.
    let taken = dir.path().join("taken.toml");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep"), "old").unwrap();
    let err = save(&again.profile, &taken).unwrap_err();
    assert!(err.hint.contains("nothing was changed"));
    assert_eq!(std::fs::read_to_string(taken.join("keep")).unwrap(), "old");
    let litter: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".consent-explorer-")
        })
        .collect();
    assert!(litter.is_empty(), "{litter:?}");
    assert!(valid_profile_name("my-profile_2.uae"));
    assert!(!valid_profile_name("../evil") && !valid_profile_name(""));
}

/// A user's profile as a person writes one: comments on their own lines and after values,
/// a multi-line list, a nested consent table, a relative key path, `type` for `pack`.
const COMMENTED: &str = r#"# Client of the UAE sandbox.
name = "mine"
target = "embedded"   # the in-process server
client_id = "consent-explorer-demo"
redirect_uri = "http://127.0.0.1:8080/callback"
scope = "openid accounts" # what we ask

[signing]
key = "keys/client.pem" # prod key, do not change
alg = "PS256"
# Nebras: five minutes.
lifetime = 300
clock_skew = 10

[consent]
type = "uae-account-access"
# One permission per line.
permissions = [
    "ReadAccountsBasic", # always
    "ReadAccountsDetail",
    # balances for the dashboard
    "ReadBalances",
]
expiration = "+90d"
user_type = "Retail"
purpose = "AccountAggregation"

[consent.on_behalf_of]
trading_name = "Old Name" # shown to the user
legal_name = 'Acme Holdings'
"#;

/// `text` saved as `mine.toml`, loaded, and its seed with `overrides` applied.
fn saved_profile(text: &str, overrides: &Overrides) -> (tempfile::TempDir, LoadedProfile, ParSeed) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, text).unwrap();
    let loaded = load_file(&path).unwrap();
    let seed = loaded
        .seed(&PackSet::builtin(), overrides, &default_embedded_base())
        .unwrap();
    (dir, loaded, seed)
}

/// Saves the seed over the profile's own file and returns the file's new text.
fn save_over(dir: &tempfile::TempDir, loaded: &LoadedProfile, seed: &ParSeed) -> String {
    let path = dir.path().join("mine.toml");
    save(&loaded.with_edits(seed, "mine"), &path).unwrap();
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn saving_unchanged_edits_over_a_profile_keeps_every_byte() {
    let (dir, loaded, seed) = saved_profile(COMMENTED, &Overrides::default());
    assert_eq!(save_over(&dir, &loaded, &seed), COMMENTED);
    // Without a name, a default lifetime and a [userinfo] table: nothing is added either.
    let bare = COMMENTED
        .replace("name = \"mine\"\n", "")
        .replace("lifetime = 300\n", "");
    let (dir, loaded, seed) = saved_profile(&bare, &Overrides::default());
    assert_eq!(save_over(&dir, &loaded, &seed), bare);
    // The built-in profiles round-trip too (pack defaults, relative dates, consent ids).
    for (name, text) in crate::core::profile::BUILTIN_PROFILES {
        let (dir, loaded, seed) = saved_profile(&text.replace(name, "mine"), &Overrides::default());
        assert_eq!(
            save_over(&dir, &loaded, &seed),
            text.replace(name, "mine"),
            "{name}"
        );
    }
}

#[test]
fn saving_edits_over_a_profile_changes_only_the_edited_keys() {
    let overrides = Overrides {
        permissions: vec![
            "ReadAccountsBasic".into(),
            "ReadBalances".into(),
            "ReadTransactionsBasic".into(),
        ],
        set: vec![
            ("on_behalf_of.trading_name".into(), "Acme".into()),
            ("webhook.is_active".into(), "true".into()),
        ],
        ..Overrides::default()
    };
    let (dir, loaded, mut seed) = saved_profile(COMMENTED, &overrides);
    seed.scope = "openid accounts extra".into();
    seed.max_age = Some(60);
    seed.lifetime = 240;
    seed.userinfo_claims = vec!["email".into()];
    let expected = r#"# Client of the UAE sandbox.
name = "mine"
target = "embedded"   # the in-process server
client_id = "consent-explorer-demo"
redirect_uri = "http://127.0.0.1:8080/callback"
scope = "openid accounts extra" # what we ask
max_age = 60

[signing]
key = "keys/client.pem" # prod key, do not change
alg = "PS256"
# Nebras: five minutes.
lifetime = 240
clock_skew = 10

[consent]
type = "uae-account-access"
# One permission per line.
permissions = [
    "ReadAccountsBasic", # always
    # balances for the dashboard
    "ReadBalances",
    "ReadTransactionsBasic",
]
expiration = "+90d"
user_type = "Retail"
purpose = "AccountAggregation"
"webhook.is_active" = true

[consent.on_behalf_of]
trading_name = "Acme" # shown to the user
legal_name = 'Acme Holdings'

[userinfo]
claims = ["email"]
"#;
    let saved = save_over(&dir, &loaded, &seed);
    assert_eq!(saved, expected, "{saved}");
    let again = load_file(&dir.path().join("mine.toml")).unwrap();
    let reseed = again
        .seed(
            &PackSet::builtin(),
            &Overrides::default(),
            &default_embedded_base(),
        )
        .unwrap();
    assert_eq!(reseed.consent, seed.consent);
    assert_eq!(
        (
            reseed.scope,
            reseed.max_age,
            reseed.lifetime,
            reseed.userinfo_claims
        ),
        (seed.scope, Some(60), 240, vec!["email".to_owned()])
    );
}

#[test]
fn one_line_lists_inline_tables_and_removed_values_keep_their_layout() {
    let text = r#"client_id = "c"
redirect_uri = "http://127.0.0.1:8080/callback"
target = "embedded"

[signing]
key = "demo"

[consent]
pack = "uae-account-access"
permissions = ["ReadAccountsBasic", "ReadAccountsDetail", "ReadBalances"] # short list
base_consent_id = "7b1c1f52-5c5f-4f57-9a59-2b0c1d1e0a11" # the consent this one renews
on_behalf_of = { trading_name = "Old", legal_name = "Acme" }

[userinfo]
claims = [ "name", "email" ]
"#;
    let overrides = Overrides {
        permissions: vec!["ReadAccountsDetail".into(), "ReadBalances".into()],
        set: vec![("on_behalf_of.legal_name".into(), "Acme Ltd".into())],
        ..Overrides::default()
    };
    let (dir, loaded, mut seed) = saved_profile(text, &overrides);
    seed.consent.remove("base_consent_id");
    seed.userinfo_claims = vec!["email".into(), "name".into(), "phone_number".into()];
    let expected = text
        .replace(
            r#"["ReadAccountsBasic", "ReadAccountsDetail", "ReadBalances"]"#,
            r#"["ReadAccountsDetail", "ReadBalances"]"#,
        )
        .replace(
            "base_consent_id = \"7b1c1f52-5c5f-4f57-9a59-2b0c1d1e0a11\" # the consent this one renews\n",
            "",
        )
        .replace(r#"legal_name = "Acme" }"#, r#"legal_name = "Acme Ltd" }"#)
        .replace(
            r#"[ "name", "email" ]"#,
            r#"[ "email", "name", "phone_number" ]"#,
        );
    assert_eq!(save_over(&dir, &loaded, &seed), expected);
}

#[test]
fn saving_over_another_profile_or_a_broken_file_gives_the_edited_profile() {
    let (dir, loaded, seed) = saved_profile(COMMENTED, &Overrides::default());
    let path = dir.path().join("other.toml");
    let edited = loaded.with_edits(&seed, "other");
    // Another profile's file: everything that differs is rewritten, its comments stay.
    let local = crate::core::profile::BUILTIN_PROFILES[0].1;
    std::fs::write(&path, local).unwrap();
    save(&edited, &path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("# The default profile:"), "{written}");
    assert!(!written.contains("my-account-access"), "{written}");
    assert_eq!(load_file(&path).unwrap().profile, edited);
    // A file that is not a profile has nothing to keep: written whole.
    std::fs::write(&path, "client_id = [").unwrap();
    save(&edited, &path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with("# Saved by consent-explorer.\n"),
        "{written}"
    );
    assert_eq!(load_file(&path).unwrap().profile, edited);
}

#[test]
fn a_save_removes_the_temporary_files_a_killed_save_left() {
    let (dir, loaded, seed) = saved_profile(COMMENTED, &Overrides::default());
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    let plant = |name: &str, modified: std::time::SystemTime| {
        let file = std::fs::File::create(dir.path().join(name)).unwrap();
        file.set_modified(modified).unwrap();
    };
    plant(".consent-explorer-AbC123", old);
    // A save running now in another process, and files that are not ours.
    plant(".consent-explorer-XyZ789", std::time::SystemTime::now());
    plant(".consent-explorer-notes", old);
    plant(".tmpAbC123", old);
    plant("tmpAbC1234", old);
    save_over(&dir, &loaded, &seed);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".consent-explorer-XyZ789",
            ".consent-explorer-notes",
            ".tmpAbC123",
            "mine.toml",
            "tmpAbC1234"
        ]
    );
}
