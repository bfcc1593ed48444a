//! Exchanges made from resource calls and the consent's show and revoke: the bearer token and
//! the request signature's signature replaced (its header and claims kept, decoded), the
//! answer's envelope without its signature, each layer decoded and the payload kept (a
//! decrypted payload is account data the user asked for, not a credential).

use jiff::Timestamp;
use serde_json::Value;

use super::{DecodedPart, Exchange, ExchangeFields, RawExchange, RecordedBody, Step};
use crate::core::resource::{Answer, Layer, Opened, Planned};
use crate::core::transport::NetworkError;

/// Who made the call and where it belongs in the history.
pub struct ResourceCall<'a> {
    pub profile: &'a str,
    pub step: Step,
    pub flow_key: &'a str,
    pub planned: &'a Planned,
    pub bearer: &'a str,
}

fn layer(name: &str, layer: Option<&Layer>) -> Option<DecodedPart> {
    layer.map(|l| DecodedPart {
        name: name.to_owned(),
        header: l.header.clone(),
        claims: l.claims.clone().unwrap_or(Value::Null),
    })
}

impl Exchange {
    /// A resource or consent call: what was sent, and the answer with its layers opened, or
    /// the network failure.
    pub fn of_resource(
        call: ResourceCall<'_>,
        answer: Result<(&Answer, &Opened), &NetworkError>,
        at: Timestamp,
    ) -> Exchange {
        let planned = call.planned;
        let mut secrets = vec![("access_token", call.bearer.to_owned())];
        let mut request_headers = vec![
            (
                "authorization".to_owned(),
                format!("Bearer {}", call.bearer),
            ),
            (
                "accept".to_owned(),
                "application/jose, application/json".to_owned(),
            ),
        ];
        request_headers.extend(planned.headers.iter().cloned());
        let mut decoded = Vec::new();
        if let Some(signature) = &planned.x_signature {
            request_headers.push((signature.header_name.clone(), signature.compact.clone()));
            // The signature part alone is the secret: header and claims say what was signed.
            if let Some((_, sig)) = signature.compact.rsplit_once('.') {
                secrets.push(("signature", sig.to_owned()));
            }
            decoded.push(DecodedPart {
                name: signature.header_name.clone(),
                header: signature.header.clone(),
                claims: signature.claims.clone(),
            });
        }
        let mut fields = ExchangeFields {
            at,
            profile: call.profile.to_owned(),
            step: call.step,
            flow_key: call.flow_key.to_owned(),
            method: planned.method.clone(),
            url: planned.url.to_string(),
            status: None,
            elapsed_ms: 0.0,
            interaction_id: Some(planned.interaction_id.clone()),
            request_headers,
            request_body: None,
            response_headers: Vec::new(),
            response_body: None,
            decoded,
            findings: Vec::new(),
            note: None,
        };
        match answer {
            Ok((answer, opened)) => {
                fields.status = Some(answer.status);
                fields.elapsed_ms = answer.elapsed.as_secs_f64() * 1000.0;
                fields.response_headers = answer.headers.clone();
                fields.response_body = Some(match serde_json::from_str(&answer.body) {
                    Ok(json) => RecordedBody::Json(json),
                    Err(_) => RecordedBody::Text(answer.body.clone()),
                });
                fields.decoded.extend(
                    [
                        layer("envelope", opened.envelope.as_ref()),
                        layer("JWE", opened.jwe.as_ref()),
                        layer("inner JWT", opened.inner.as_ref()),
                    ]
                    .into_iter()
                    .flatten(),
                );
                if let Some(payload) = &opened.payload
                    && (opened.envelope.is_some() || opened.jwe.is_some())
                {
                    fields.decoded.push(DecodedPart {
                        name: "payload".to_owned(),
                        header: Value::Null,
                        claims: payload.clone(),
                    });
                }
                fields.note = Some(match opened.failure() {
                    Some((name, why)) => format!("{name} failed: {why}"),
                    None => format!("answered {}", answer.status),
                });
            }
            Err(network) => fields.note = Some(format!("no answer: {}", network.message)),
        }
        Exchange::redact(RawExchange { fields, secrets })
    }
}
