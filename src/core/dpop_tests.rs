use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn now() -> Timestamp {
    "2026-01-30T10:00:00Z".parse().unwrap()
}

fn key() -> DpopKey {
    DpopKey::generate(Algorithm::ES256).unwrap().0
}

#[test]
fn a_proof_carries_typ_jwk_htm_htu_iat_jti_and_verifies_with_its_own_jwk() {
    let key = key();
    let target = ProofFor {
        method: "post",
        url: "https://as.example/token?x=1#frag",
        nonce: Some("n-1"),
        access_token: None,
    };
    let proof = key
        .proof(&target, now(), &mut StdRng::seed_from_u64(1))
        .unwrap();
    assert_eq!(proof.header["typ"], "dpop+jwt");
    assert_eq!(proof.header["alg"], "ES256");
    let jwk = proof.header["jwk"].as_object().unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert!(
        !jwk.contains_key("d") && !jwk.contains_key("kid"),
        "{jwk:?}"
    );
    assert_eq!(proof.claims["htm"], "POST");
    assert_eq!(proof.claims["htu"], "https://as.example/token");
    assert_eq!(proof.claims["iat"], now().as_second());
    assert_eq!(proof.claims["nonce"], "n-1");
    assert!(proof.claims.get("ath").is_none());
    assert_eq!(proof.claims["jti"].as_str().unwrap().len(), 22);
    let public: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(proof.header["jwk"].clone()).unwrap();
    assert!(proof.verify(&public).unwrap());
    assert_eq!(crate::core::keys::thumbprint(&public), key.thumbprint());
    let again = key
        .proof(&target, now(), &mut StdRng::seed_from_u64(2))
        .unwrap();
    assert_ne!(
        again.claims["jti"], proof.claims["jti"],
        "a fresh jti each proof"
    );
}

#[test]
fn ath_is_the_sha256_of_the_token_as_rfc_9449_shows() {
    // RFC 9449 7.1's example access token and its ath.
    assert_eq!(
        ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    let proof = key()
        .proof(
            &ProofFor {
                method: "GET",
                url: "https://rs.example/accounts",
                nonce: None,
                access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            },
            now(),
            &mut StdRng::seed_from_u64(1),
        )
        .unwrap();
    assert_eq!(
        proof.claims["ath"],
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
    assert_eq!(proof.claims["htm"], "GET");
}

#[test]
fn htu_drops_query_and_fragment_only() {
    assert_eq!(
        htu("https://a.example:8443/p/q?x=1&y#f"),
        "https://a.example:8443/p/q"
    );
    assert_eq!(
        htu("http://127.0.0.1:9126/token"),
        "http://127.0.0.1:9126/token"
    );
    assert_eq!(htu("not a url?x"), "not a url");
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn nonce_challenges_from_an_as_and_an_rs_are_read_and_nothing_else() {
    let with_nonce = headers(&[("dpop-nonce", "abc")]);
    let body = json!({"error": "use_dpop_nonce"});
    assert_eq!(
        nonce_challenge(400, &with_nonce, Some(&body)).as_deref(),
        Some("abc")
    );
    assert_eq!(
        nonce_challenge(400, &[], Some(&body)),
        None,
        "no nonce given"
    );
    assert_eq!(
        nonce_challenge(
            400,
            &with_nonce,
            Some(&json!({"error": "invalid_dpop_proof"}))
        ),
        None
    );
    let rs = headers(&[
        (
            "www-authenticate",
            "DPoP error=\"use_dpop_nonce\", error_description=\"x\"",
        ),
        ("DPoP-Nonce", "rs-1"),
    ]);
    assert_eq!(nonce_challenge(401, &rs, None).as_deref(), Some("rs-1"));
    let bearer = headers(&[
        ("www-authenticate", "Bearer error=\"invalid_token\""),
        ("dpop-nonce", "x"),
    ]);
    assert_eq!(nonce_challenge(401, &bearer, None), None);
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answered for Answer {
    fn status(&self) -> u16 {
        self.status
    }
    fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    fn json(&self) -> Option<&Value> {
        Some(&self.body)
    }
}

#[tokio::test]
async fn a_nonce_challenge_is_answered_once_with_the_nonce_given() {
    let key = key();
    let mut seen = Vec::new();
    let (answer, trail) = send_with_nonce_retry(None, |nonce: Option<String>| {
        seen.push(nonce.clone());
        let proof = key
            .proof(
                &ProofFor {
                    nonce: nonce.as_deref(),
                    ..ProofFor::post("https://as.example/token")
                },
                now(),
                &mut rand::rng(),
            )
            .unwrap();
        let answer = match nonce.as_deref() {
            Some("n-2") => Answer {
                status: 200,
                headers: headers(&[("dpop-nonce", "n-3")]),
                body: json!({}),
            },
            // A server that keeps asking is not asked a third time.
            _ => Answer {
                status: 400,
                headers: headers(&[("dpop-nonce", "n-2")]),
                body: json!({"error": "use_dpop_nonce"}),
            },
        };
        async move { Ok::<_, ()>((answer, proof)) }
    })
    .await
    .unwrap();
    assert_eq!(seen, vec![None, Some("n-2".to_owned())]);
    assert_eq!(answer.status, 200);
    assert_eq!(trail.proofs.len(), 2);
    assert_eq!(trail.last().unwrap().claims["nonce"], "n-2");
    assert_eq!(
        trail.nonce_retry,
        Some(NonceRetry {
            refused_status: 400
        })
    );
    assert_eq!(trail.next_nonce.as_deref(), Some("n-3"));
    assert!(trail.notes()[0].contains("use_dpop_nonce"));

    let mut tries = 0;
    let (answer, trail) = send_with_nonce_retry(Some("n-9".into()), |_nonce| {
        tries += 1;
        let proof = key
            .proof(
                &ProofFor::post("https://as.example/token"),
                now(),
                &mut rand::rng(),
            )
            .unwrap();
        let answer = Answer {
            status: 400,
            headers: headers(&[("dpop-nonce", "again")]),
            body: json!({"error": "use_dpop_nonce"}),
        };
        async move { Ok::<_, ()>((answer, proof)) }
    })
    .await
    .unwrap();
    assert_eq!(tries, 2, "retried once, not more");
    assert_eq!(answer.status, 400);
    assert_eq!(trail.proofs.len(), 2);
}

#[test]
fn binding_reads_token_type_and_cnf_jkt() {
    let jkt = "abc";
    let jwt_with = |cnf: Value| {
        format!(
            "{}.{}.c2ln",
            b64url(br#"{"alg":"PS256"}"#),
            b64url(json!({"cnf": cnf}).to_string().as_bytes())
        )
    };
    assert_eq!(
        Binding::of(true, "DPoP", &jwt_with(json!({"jkt": "abc"})), jkt),
        Binding::Bound { jwt: true }
    );
    assert_eq!(
        Binding::of(true, "DPoP", "opaque-token", jkt),
        Binding::Bound { jwt: false }
    );
    assert_eq!(
        Binding::of(true, "DPoP", &jwt_with(json!({"jkt": "xyz"})), jkt),
        Binding::OtherKey {
            found: Some("xyz".into())
        }
    );
    assert_eq!(
        Binding::of(false, "Bearer", "opaque", jkt),
        Binding::NotDpop {
            token_type: "Bearer".into()
        }
    );
    assert!(!Binding::of(false, "Bearer", "opaque", jkt).is_bound());
}

#[test]
fn debug_shows_no_key_and_no_compact_proof() {
    let key = key();
    let proof = key
        .proof(
            &ProofFor::post("https://as.example/par"),
            now(),
            &mut rand::rng(),
        )
        .unwrap();
    let trail = ProofTrail {
        proofs: vec![proof.clone()],
        ..Default::default()
    };
    let shown = format!("{key:?} {trail:?}");
    assert!(!shown.contains(&proof.compact), "{shown}");
    assert!(shown.contains(key.thumbprint()));
}
