//! HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): what browser devtools and
//! request tools import. Entries in time order; our own facts (step, flow, lint, decoded
//! JWTs) ride in `_`-prefixed fields, which the format leaves to the writer.

use jiff::SignedDuration;
use serde_json::{Value, json};

use super::{Entry, RecordedBody};

fn pairs(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect()
}

fn body_text(body: &RecordedBody) -> (String, String) {
    match body {
        RecordedBody::Form(fields) => (
            "application/x-www-form-urlencoded".to_owned(),
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish(),
        ),
        RecordedBody::Json(v) => ("application/json".to_owned(), v.to_string()),
        RecordedBody::Text(t) => ("text/plain".to_owned(), t.clone()),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn har_entry(entry: &Entry) -> Value {
    let f = entry.exchange.fields();
    let started =
        f.at.checked_sub(SignedDuration::from_secs_f64(f.elapsed_ms / 1000.0))
            .unwrap_or(f.at);
    let query: Vec<(String, String)> = url::Url::parse(&f.url)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let mut request = json!({
        "method": f.method,
        "url": f.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": pairs(&f.request_headers),
        "queryString": pairs(&query),
        "headersSize": -1,
        "bodySize": 0,
    });
    if let Some(body) = &f.request_body {
        let (mime, text) = body_text(body);
        request["bodySize"] = json!(text.len());
        let mut post = json!({"mimeType": mime, "text": text});
        if let RecordedBody::Form(fields) = body {
            post["params"] = Value::Array(pairs(fields));
        }
        request["postData"] = post;
    }
    let (mime, text) = f
        .response_body
        .as_ref()
        .map_or_else(|| ("x-unknown".to_owned(), String::new()), body_text);
    let mime = header(&f.response_headers, "content-type").map_or(mime, str::to_owned);
    let status = f.status.unwrap_or(0);
    let reason = f
        .status
        .and_then(|s| reqwest::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    json!({
        "startedDateTime": started.to_string(),
        "time": f.elapsed_ms,
        "request": request,
        "response": {
            "status": status,
            "statusText": reason,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": pairs(&f.response_headers),
            "content": {"size": text.len(), "mimeType": mime, "text": text},
            "redirectURL": header(&f.response_headers, "location").unwrap_or(""),
            "headersSize": -1,
            "bodySize": if f.status.is_some() { json!(text.len()) } else { json!(-1) },
        },
        "cache": {},
        "timings": {"send": 0, "wait": f.elapsed_ms, "receive": 0},
        "comment": f.note.clone().unwrap_or_default(),
        "_id": entry.summary.id,
        "_flow": entry.summary.flow_id,
        "_step": f.step.as_str(),
        "_profile": f.profile,
        "_interactionId": f.interaction_id,
        "_decoded": f.decoded,
        "_lint": f.findings,
    })
}

/// A HAR document of `entries`, sorted by start time.
pub fn document(entries: &[Entry]) -> Value {
    let mut items: Vec<Value> = entries.iter().map(har_entry).collect();
    items.sort_by(|a, b| {
        let at = |v: &Value| {
            v["startedDateTime"]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        };
        at(a).cmp(&at(b))
    });
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "consent-explorer", "version": env!("CARGO_PKG_VERSION")},
            "pages": [],
            "entries": items,
        }
    })
}
