//! The DPoP proofs on screen: the PAR's in the response pane and the stepper, the token
//! request's under the access token; a proof of an older submit is dropped. Fed by hand with a
//! fixed clock, each screen an insta snapshot.

use crossterm::event::KeyCode;
use serde_json::json;

use super::app::{FlowReport, Message, ProofShown, RequestId};
use super::flow_tests::{flow_id, report, tokens};
use super::tests::{Fixture, accepted, snapshot, start};
use crate::core::dpop::{NonceRetry, ProofTrail};
use crate::core::flow::token::Secret;
use crate::core::jws::DecodedJwt;

const CALLBACK: &str =
    "http://127.0.0.1:8080/callback?code=c0de-secret&state=s-1&iss=http%3A%2F%2F127.0.0.1%3A9126";

fn proof(path: &str, nonce: Option<&str>) -> DecodedJwt {
    let mut claims = json!({"jti": "bWFkZS11cC1qdGktMDE", "htm": "POST",
        "htu": format!("http://127.0.0.1:9126{path}"), "iat": start().as_second()});
    if let Some(nonce) = nonce {
        claims["nonce"] = nonce.into();
    }
    DecodedJwt {
        header: json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}),
        claims,
        compact: "eyJ0eXAiOiJkcG9wK2p3dCJ9.the-compact-proof.sig".into(),
    }
}

/// A PAR refused once with use_dpop_nonce, then sent with the server's nonce.
fn par_trail() -> ProofTrail {
    ProofTrail {
        proofs: vec![
            proof("/par", None),
            proof("/par", Some("n-from-the-server")),
        ],
        nonce_retry: Some(NonceRetry {
            refused_status: 400,
        }),
        next_nonce: Some("n-next".into()),
    }
}

#[test]
fn a_proof_shows_the_last_one_sent_and_hides_the_server_nonce_and_the_compact_form() {
    let shown = ProofShown::of(&par_trail()).unwrap();
    assert_eq!(shown.nonce_retry, Some(400));
    assert_eq!(shown.claims["nonce"], "(server nonce)");
    assert_eq!(shown.claims["htu"], "http://127.0.0.1:9126/par");
    assert!(!format!("{shown:?}").contains("the-compact-proof"));
    assert!(ProofShown::of(&ProofTrail::default()).is_none());
}

#[test]
fn the_par_proof_beside_the_par_and_the_token_proof_under_the_access_token() {
    let mut f = Fixture::new("local");
    f.key(KeyCode::Char('s'));
    let shown = Box::new(ProofShown::of(&par_trail()).unwrap());
    // A proof of an earlier submit is not this PAR's.
    f.app.update(Message::ParProof {
        id: RequestId::default(),
        proof: shown.clone(),
    });
    assert!(f.app.par_proof().is_none());
    let id = f.app.request_id();
    f.app.update(Message::ParProof { id, proof: shown });
    f.answer(Ok(accepted(start())));
    let screen = f.screen(160, 45);
    assert!(screen.contains("DPoP proof sent with the PAR"), "{screen}");
    assert!(screen.contains("refused 400 use_dpop_nonce"), "{screen}");
    assert!(!screen.contains("n-from-the-server"), "{screen}");
    snapshot("dpop_par_response", screen);

    let authorize = flow_id(&f.key(KeyCode::Char('o')));
    f.key(KeyCode::Esc);
    let screen = f.screen(160, 45);
    assert!(screen.contains("DPoP proof sent with the PAR"), "{screen}");
    let exchange = flow_id(&report(
        &mut f,
        authorize,
        FlowReport::Callback(Ok(Secret::new(CALLBACK))),
    ));
    let mut view = tokens(start());
    view.token_type = "DPoP";
    view.access_claims = Some(
        json!({"sub": "user-1", "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}),
    );
    let token_trail = ProofTrail {
        proofs: vec![proof("/token", Some("n-next"))],
        ..ProofTrail::default()
    };
    view.dpop = ProofShown::of(&token_trail);
    report(&mut f, exchange, FlowReport::Tokens(Ok(view)));
    let screen = f.screen(160, 60);
    assert!(
        screen.contains("DPoP proof sent with the token request"),
        "{screen}"
    );
    assert!(
        screen.contains("\"htu\": \"http://127.0.0.1:9126/token\""),
        "{screen}"
    );
    snapshot("dpop_flow_tokens", screen);
}
