use super::*;
use crate::core::history::{ExchangeFields, RawExchange, RecordedBody, Step};

fn exchange(n: i64, step: Step, flow_key: &str) -> Exchange {
    let at = Timestamp::from_second(1_769_767_200 + n).unwrap();
    Exchange::redact(RawExchange {
        fields: ExchangeFields {
            at,
            profile: "local".into(),
            step,
            flow_key: flow_key.into(),
            method: "POST".into(),
            url: "https://as.example/par".into(),
            status: Some(201),
            elapsed_ms: 3.5,
            interaction_id: Some(format!("iid-{n}")),
            request_headers: vec![],
            request_body: Some(RecordedBody::Form(vec![
                (
                    "client_assertion".into(),
                    "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln".into(),
                ),
                ("scope".into(), "openid".into()),
            ])),
            response_headers: vec![],
            response_body: Some(RecordedBody::Json(
                serde_json::json!({"request_uri": "urn:x", "expires_in": 60}),
            )),
            decoded: vec![],
            findings: vec![],
            note: Some("accepted".into()),
        },
        secrets: vec![],
    })
}

fn open(dir: &Path, limits: Limits) -> History {
    History::open(&dir.join("history.db"), limits).unwrap().0
}

#[test]
fn steps_are_linked_into_flows_newest_flow_first() {
    let dir = tempfile::tempdir().unwrap();
    let history = open(dir.path(), Limits::default());
    history.record(&exchange(0, Step::Par, "state-a")).unwrap();
    history.record(&exchange(1, Step::Par, "state-b")).unwrap();
    history
        .record(&exchange(2, Step::Callback, "state-a"))
        .unwrap();
    history
        .record(&exchange(3, Step::Token, "state-a"))
        .unwrap();
    let flows = history.flows(None, 10).unwrap();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].steps.len(), 1);
    let steps: Vec<&str> = flows[1].steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(steps, ["par", "callback", "token"]);
    let entries = history.flow_entries(flows[1].id).unwrap();
    let RecordedBody::Form(form) = entries[0].exchange.fields().request_body.clone().unwrap()
    else {
        panic!()
    };
    assert_eq!(form[0].1, "{{client_assertion}}");
    assert!(history.flows(Some("other"), 10).unwrap().is_empty());
}

#[test]
fn the_oldest_go_first_past_either_bound() {
    let dir = tempfile::tempdir().unwrap();
    let history = open(
        dir.path(),
        Limits {
            max_entries: 5,
            max_bytes: i64::MAX,
        },
    );
    for n in 0..12 {
        history
            .record(&exchange(n, Step::Par, &format!("s{n}")))
            .unwrap();
    }
    assert_eq!(history.count().unwrap(), 5);
    let flows = history.flows(None, 100).unwrap();
    assert_eq!(flows.len(), 5, "flows without steps go too");
    assert_eq!(
        flows.last().unwrap().steps[0].interaction_id.as_deref(),
        Some("iid-7")
    );

    let dir = tempfile::tempdir().unwrap();
    let one = serde_json::to_string(&exchange(0, Step::Par, "s"))
        .unwrap()
        .len() as i64;
    let history = open(
        dir.path(),
        Limits {
            max_entries: 1000,
            max_bytes: one * 3 + 10,
        },
    );
    for n in 0..40 {
        history.record(&exchange(n, Step::Par, "s")).unwrap();
    }
    assert!(
        history.count().unwrap() <= 3,
        "{}",
        history.count().unwrap()
    );
}

#[test]
fn clear_before_a_date_keeps_the_newer() {
    let dir = tempfile::tempdir().unwrap();
    let history = open(dir.path(), Limits::default());
    for n in 0..4 {
        history
            .record(&exchange(n * 100, Step::Par, &format!("s{n}")))
            .unwrap();
    }
    let cutoff = Timestamp::from_second(1_769_767_200 + 150).unwrap();
    assert_eq!(history.clear(Some(cutoff)).unwrap(), 2);
    assert_eq!(history.count().unwrap(), 2);
    assert_eq!(history.clear(None).unwrap(), 2);
    assert_eq!(history.flows(None, 10).unwrap().len(), 0);
}

#[test]
fn a_corrupt_or_too_new_file_is_set_aside_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    std::fs::write(
        &path,
        b"this is not a database, it is a grocery list".repeat(200),
    )
    .unwrap();
    let (history, notice) = History::open(&path, Limits::default()).unwrap();
    let notice = notice.expect("a notice");
    assert!(
        notice.contains("damaged") && notice.contains("moved to"),
        "{notice}"
    );
    history.record(&exchange(0, Step::Par, "s")).unwrap();
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(
        std::fs::read(aside[0].path())
            .unwrap()
            .starts_with(b"this is not")
    );

    drop(history);
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let (_, notice) = History::open(&path, Limits::default()).unwrap();
    assert!(
        notice
            .unwrap()
            .contains("newer consent-explorer (schema 99")
    );
    let (_, notice) = History::open(&path, Limits::default()).unwrap();
    assert!(notice.is_none());
}

#[cfg(unix)]
#[test]
fn the_history_files_are_the_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let history = open(dir.path(), Limits::default());
    history.record(&exchange(0, Step::Par, "state-a")).unwrap();
    for name in ["history.db", "history.db-wal", "history.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[test]
fn an_alias_puts_later_exchanges_in_the_flow_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let history = open(dir.path(), Limits::default());
    history.record(&exchange(0, Step::Par, "state-a")).unwrap();
    history.alias("local", "consent-1", "nobody").unwrap();
    history.alias("local", "consent-1", "state-a").unwrap();
    history
        .record(&exchange(1, Step::Resource, "consent-1"))
        .unwrap();
    history
        .record(&exchange(2, Step::Resource, "consent-2"))
        .unwrap();
    let flows = history.flows(None, 10).unwrap();
    assert_eq!(flows.len(), 2, "consent-2 has no alias: a flow of its own");
    let granted = flows.iter().find(|f| f.steps.len() == 2).expect("joined");
    let steps: Vec<&str> = granted.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(steps, ["par", "resource"]);
}
