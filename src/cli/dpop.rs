//! DPoP in the CLI's answers: the key's thumbprint, the proofs sent decoded, the nonce retry
//! and the token's binding, as text or inside `--json`.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::render;
use crate::core::dpop::ProofTrail;
use crate::core::jws::DecodedJwt;
use crate::core::keys::alg_name;
use crate::core::printable::printable_line;
use crate::core::session::{DpopUse, Session};

/// "DPoP    ES256 key, jkt ..." for a session that sends proofs.
pub fn key_line(session: &Session) -> Option<String> {
    let key = session.dpop()?;
    Some(format!(
        "DPoP    {} proof key, jkt {} (tokens are bound to it)",
        alg_name(key.alg()),
        key.thumbprint()
    ))
}

/// A proof decoded under a title, dates spelled out.
pub fn proof_text(title: &str, proof: &DecodedJwt, now: Timestamp) -> Vec<String> {
    vec![
        render::title(title),
        "header".into(),
        render::json_with_dates(&proof.header, now),
        "payload".into(),
        render::json_with_dates(&proof.claims, now),
    ]
}

fn proof_json(proof: &DecodedJwt) -> Value {
    json!({"header": proof.header, "claims": proof.claims})
}

/// The proofs of one request for `--json`: the last one sent, and the nonce retry if any.
pub fn trail_json(jkt: Option<&str>, trail: &ProofTrail) -> Value {
    json!({
        "jkt": jkt,
        "proof": trail.last().map(proof_json),
        "proofs_sent": trail.proofs.len(),
        "nonce_retry": trail.nonce_retry,
    })
}

pub fn use_json(used: &DpopUse) -> Value {
    let mut doc = trail_json(Some(&used.jkt), &used.trail);
    doc["binding"] = json!(used.binding);
    doc
}

/// The notes of a token request's DPoP, made printable (they quote the server's answer).
pub fn notes(used: &DpopUse) -> Vec<String> {
    used.notes()
        .iter()
        .map(|n| printable_line(n).into_owned())
        .collect()
}
