//! Property tests over every parser of outside input: arbitrary bytes, and near-valid inputs
//! (a shipped profile or pack with one line changed, a PAR answer with odd field types). The
//! promises checked are the fuzz targets' own (fuzz/common/invariants.rs); these run in every
//! `cargo test`, the fuzzers for longer with `fuzz/run.sh`.

#[path = "../fuzz/common/invariants.rs"]
mod invariants;

use proptest::prelude::*;
use serde_json::{Value, json};

const PROFILES: &[&str] = &[
    include_str!("../profiles/local.toml"),
    include_str!("../profiles/local-uae.toml"),
    include_str!("../profiles/ozone-mya-sandbox.toml"),
];
const PACKS: &[&str] = &[
    include_str!("../assets/consent-packs/openfinance-my-account-access-v1.2.toml"),
    include_str!("../assets/consent-packs/openfinance-uae-account-access-v2.1.toml"),
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // A failure is shown shrunk in the test output; no files written into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A TOML value a user might type where a number, string, date or list is expected.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}").replace("NaN", "nan")),
        "[+-]?[0-9]{1,20}[smhdwy]?".prop_map(|s| toml_string(&s)),
        "[0-9]{4,6}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?".prop_map(|s| toml_string(&s)),
        "\\PC{0,12}".prop_map(|s| toml_string(&s)),
        Just("[]".to_owned()),
        Just("[\"read_accounts\", 1]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("true".to_owned()),
    ]
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// A consent expiration as a user might write it: relative (any unit, any size) or a date.
fn moment() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[+-]", any::<i64>(), "(y|mo|w|d|h|m|s|ms|ns)")
            .prop_map(|(sign, n, unit)| format!("{sign}{n}{unit}")),
        "[+-]P[0-9]{1,19}(Y|M|W|D)(T[0-9]{1,19}(H|M|S))?",
        "-?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})",
        "\\PC{0,16}",
    ]
}

/// `text` with one line replaced by `key = value` (the line's own key when it has one).
fn with_line_changed(text: &str, at: usize, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let i = at % lines.len();
    lines[i] = match lines[i].split_once('=') {
        Some((key, _)) => format!("{key}= {value}"),
        None => format!("{} {value}", lines[i]),
    };
    lines.join("\n")
}

/// A compact JWS part: base64url of some JSON, or of any bytes, or any text at all.
fn jws_part() -> impl Strategy<Value = String> {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    prop_oneof![
        json_value().prop_map(move |v| b64(v.to_string().as_bytes())),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(move |b| b64(&b)),
        "[A-Za-z0-9_=+/ -]{0,20}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,10}".prop_map(Value::String),
        Just(json!("urn:ietf:params:oauth:request_uri:x")),
        Just(json!(" ")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A PAR answer body: the two fields with any JSON type (or absent), and sometimes an error.
fn par_body() -> impl Strategy<Value = Vec<u8>> {
    // Mostly near-valid: a string request_uri (maybe blank) and an expires_in near the edges.
    let field = proptest::option::weighted(
        0.9,
        prop_oneof![
            3 => "[ a-z:]{0,8}".prop_map(Value::String),
            1 => json_value(),
        ],
    );
    let expires = proptest::option::weighted(
        0.9,
        prop_oneof![
            1 => json_value(),
            3 => (-3i64..3).prop_map(|n| json!(n)),
            1 => any::<i64>().prop_map(|n| json!(n)),
            1 => (1i64..100_000_000_000_000).prop_map(|n| json!(n)),
        ],
    );
    let error = proptest::option::of(json_value());
    prop_oneof![
        4 => (field, expires, error).prop_map(|(uri, exp, err)| {
            let mut doc = serde_json::Map::new();
            for (k, v) in [("request_uri", uri), ("expires_in", exp), ("error", err)] {
                if let Some(v) = v {
                    doc.insert(k.into(), v);
                }
            }
            Value::Object(doc).to_string().into_bytes()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Mostly the statuses a PAR answer has, sometimes any.
fn status() -> impl Strategy<Value = u16> {
    prop_oneof![Just(200), Just(201), Just(400), Just(307), 100u16..600]
}

fn endpoint_doc() -> impl Strategy<Value = Vec<u8>> {
    let names = prop_oneof![
        Just("pushed_authorization_request_endpoint"),
        Just("authorization_endpoint"),
        Just("token_endpoint"),
        Just("mtls_endpoint_aliases"),
    ];
    prop_oneof![
        proptest::collection::vec((names, json_value()), 0..5).prop_map(|pairs| {
            let doc: serde_json::Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Value::Object(doc).to_string().into_bytes()
        }),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn profile_from_any_text(text in "\\PC{0,200}") {
        invariants::profile(&text);
    }

    #[test]
    fn profile_with_one_value_changed(which in 0..PROFILES.len(), at in any::<usize>(), value in toml_value()) {
        invariants::profile(&with_line_changed(PROFILES[which], at, &value));
    }

    #[test]
    fn profile_with_any_expiration(which in 0..PROFILES.len(), when in moment()) {
        let text = PROFILES[which].replace("expiration = \"+30d\"", &format!("expiration = {}", toml_string(&when)));
        invariants::profile(&text);
    }

    #[test]
    fn profile_cut_short(which in 0..PROFILES.len(), at in any::<usize>()) {
        let text = PROFILES[which];
        let cut = (0..=at % (text.len() + 1)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        invariants::profile(&text[..cut]);
    }

    #[test]
    fn pack_from_any_text(text in "\\PC{0,200}") {
        invariants::pack(&text);
    }

    #[test]
    fn pack_with_one_value_changed(which in 0..PACKS.len(), at in any::<usize>(), value in toml_value()) {
        invariants::pack(&with_line_changed(PACKS[which], at, &value));
    }

    #[test]
    fn jwt_from_any_text(text in "\\PC{0,120}") {
        invariants::jwt(&text);
    }

    #[test]
    fn jwt_from_parts(header in jws_part(), claims in jws_part(), signature in jws_part(), extra in 0usize..3) {
        let dots = ".".repeat(extra);
        invariants::jwt(&format!(" {header}.{claims}{dots}.{signature}\n"));
    }

    #[test]
    fn par_answer_of_any_shape(status in status(), location in proptest::option::of("\\PC{0,20}"), body in par_body()) {
        let headers: Vec<(String, String)> = location.into_iter().map(|l| ("location".to_owned(), l)).collect();
        invariants::par_answer(status, &headers, &body);
    }

    #[test]
    fn discovery_of_any_shape(status in status(), body in endpoint_doc(), mtls in any::<bool>()) {
        invariants::discovery(status, &body, mtls);
    }

    #[test]
    fn answers_split_from_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Some(answer) = invariants::split_answer(&data) {
            invariants::par_answer(answer.status, &answer.headers, answer.body);
            invariants::discovery(answer.status, answer.body, false);
        }
    }
}
