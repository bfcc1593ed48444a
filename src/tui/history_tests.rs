//! The history pane without a terminal: H opens it and asks for the flows, stale answers are
//! dropped, enter opens a step, y asks for its curl, x exports its flow, esc steps back; and
//! the screen with a step open.

use crossterm::event::KeyCode;
use serde_json::json;

use super::app::{Effect, HistoryEffect, HistoryMessage, Message};
use super::tests::{Fixture, snapshot, start};
use crate::core::history::{
    DecodedPart, Entry, Exchange, ExchangeFields, FlowSummary, RawExchange, RecordedBody, Step,
    StepSummary,
};

fn summary(id: i64, step: &str, status: Option<u16>, note: &str) -> StepSummary {
    StepSummary {
        id,
        flow_id: 1,
        at: start(),
        profile: "local".into(),
        step: step.into(),
        method: "POST".into(),
        url: "http://127.0.0.1:9126/par".into(),
        status,
        elapsed_ms: 12.0,
        interaction_id: Some("7f0c2a8e-0000-4000-8000-000000000001".into()),
        note: Some(note.into()),
    }
}

fn flows() -> Vec<FlowSummary> {
    vec![FlowSummary {
        id: 1,
        profile: "local".into(),
        started_at: start(),
        steps: vec![
            summary(1, "par", Some(201), "accepted"),
            summary(2, "callback", None, "taken: state and iss checked"),
            summary(3, "token", Some(200), "issued"),
        ],
    }]
}

/// The PAR of the fixture's own (deterministic) ticket, as history keeps it.
fn par_entry(f: &Fixture) -> Entry {
    let ticket = f.app.ticket.as_ref().unwrap();
    let exchange = Exchange::redact(RawExchange {
        fields: ExchangeFields {
            at: start(),
            profile: "local".into(),
            step: Step::Par,
            flow_key: "s".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9126/par".into(),
            status: Some(201),
            elapsed_ms: 12.0,
            interaction_id: Some(ticket.interaction_id.clone()),
            request_headers: vec![("accept".into(), "application/json".into())],
            request_body: Some(RecordedBody::Form(ticket.form.clone())),
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: Some(RecordedBody::Json(
                json!({"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 90}),
            )),
            decoded: vec![DecodedPart {
                name: "request object".into(),
                header: ticket.request.header.clone(),
                claims: ticket.request.claims.clone(),
            }],
            findings: vec![],
            note: Some("accepted".into()),
        },
        secrets: vec![("client_assertion", ticket.client_assertion.compact.clone())],
    });
    Entry {
        summary: summary(1, "par", Some(201), "accepted"),
        exchange,
    }
}

fn history_effect(effects: &[Effect]) -> HistoryEffect {
    match effects {
        [Effect::History(e)] => e.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn h_opens_the_pane_and_its_keys_ask_the_shell() {
    let mut f = Fixture::new("local");
    let HistoryEffect::Load { id } = history_effect(&f.key(KeyCode::Char('H'))) else {
        panic!()
    };
    // An answer to an earlier load is dropped.
    f.app.update(Message::History(HistoryMessage::Flows {
        id: id + 7,
        result: Ok(flows()),
    }));
    assert!(f.app.history.as_ref().unwrap().flows.is_empty());
    f.app.update(Message::History(HistoryMessage::Flows {
        id,
        result: Ok(flows()),
    }));
    assert_eq!(f.app.history.as_ref().unwrap().rows.len(), 4);

    // On the flow's heading: nothing to open, but x exports the flow.
    assert!(f.key(KeyCode::Enter).is_empty());
    assert!(matches!(
        history_effect(&f.key(KeyCode::Char('x'))),
        HistoryEffect::ExportHar { flow: 1 }
    ));
    f.key(KeyCode::Down);
    let HistoryEffect::Open { id, entry: 1 } = history_effect(&f.key(KeyCode::Enter)) else {
        panic!()
    };
    let entry = par_entry(&f);
    f.app.update(Message::History(HistoryMessage::Opened {
        id,
        result: Ok(Box::new(entry)),
    }));
    assert!(f.app.history.as_ref().unwrap().opened.is_some());
    assert!(matches!(
        history_effect(&f.key(KeyCode::Char('y'))),
        HistoryEffect::Curl { entry: 1 }
    ));
    let copy = f.app.update(Message::History(HistoryMessage::Curl(
        Ok("curl 'x'".into()),
    )));
    assert!(matches!(copy.as_slice(), [Effect::Copy { text, .. }] if text == "curl 'x'"));

    // s does not submit from here; esc closes the step, then the pane.
    assert!(f.key(KeyCode::Char('s')).is_empty());
    f.key(KeyCode::Esc);
    assert!(f.app.history.as_ref().unwrap().opened.is_none());
    f.key(KeyCode::Esc);
    assert!(f.app.history.is_none());
}

#[test]
fn screen_history_with_a_step_open() {
    let mut f = Fixture::new("local");
    let HistoryEffect::Load { id } = history_effect(&f.key(KeyCode::Char('H'))) else {
        panic!()
    };
    f.app.update(Message::History(HistoryMessage::Flows {
        id,
        result: Ok(flows()),
    }));
    f.key(KeyCode::Down);
    let HistoryEffect::Open { id, .. } = history_effect(&f.key(KeyCode::Enter)) else {
        panic!()
    };
    let entry = par_entry(&f);
    f.app.update(Message::History(HistoryMessage::Opened {
        id,
        result: Ok(Box::new(entry)),
    }));
    let screen = f.screen(160, 45);
    assert!(screen.contains("{{client_assertion}}"), "{screen}");
    assert!(screen.contains("{{request_object}}"), "{screen}");
    assert!(screen.contains("\"nonce\": \"{{nonce}}\""), "{screen}");
    snapshot("history_160x45", screen);
}
