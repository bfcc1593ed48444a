//! A build set beside a portal's published sample, key by key: what is the same, what differs
//! and why when the reason is known (scope with `openid`, whole-second times, your own key and
//! client), what only one side has. The samples ship as data (assets/portal-samples/).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::core::diff::FRESH_CLAIMS;
use crate::core::request::ParTicket;

/// The decoded JWTs of a portal's sample PAR, as published.
#[derive(Debug, Clone)]
pub struct PortalSample {
    pub name: String,
    pub request_header: Value,
    pub request_claims: Value,
    pub assertion_header: Value,
    pub assertion_claims: Value,
}

const SAMPLES: [&str; 1] = [include_str!("../../assets/portal-samples/ozone-mya.json")];

impl PortalSample {
    fn parse(text: &str) -> Option<PortalSample> {
        let v: Value = serde_json::from_str(text).ok()?;
        Some(PortalSample {
            name: v["name"].as_str()?.to_owned(),
            request_header: v["request_header"].clone(),
            request_claims: v["request_claims"].clone(),
            assertion_header: v["assertion_header"].clone(),
            assertion_claims: v["assertion_claims"].clone(),
        })
    }

    /// The shipped sample of the consent type `request_claims` asks for, if there is one.
    pub fn for_request(request_claims: &Value) -> Option<PortalSample> {
        let consent_type = consent_type(request_claims)?;
        SAMPLES
            .iter()
            .filter_map(|text| PortalSample::parse(text))
            .find(|s| consent_type_of(s) == Some(consent_type))
    }

    /// The consent types a sample ships for, to say what exists when none fits.
    pub fn known_types() -> Vec<String> {
        SAMPLES
            .iter()
            .filter_map(|text| PortalSample::parse(text))
            .filter_map(|s| consent_type_of(&s).map(str::to_owned))
            .collect()
    }
}

fn consent_type(claims: &Value) -> Option<&str> {
    claims["authorization_details"][0]["type"].as_str()
}

fn consent_type_of(sample: &PortalSample) -> Option<&str> {
    consent_type(&sample.request_claims)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Same,
    /// Differs as it does on every build (jti, nonce, state, times, PKCE).
    Fresh,
    Differs,
    OnlyOurs,
    OnlySample,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Fresh => "fresh",
            Verdict::Differs => "differs",
            Verdict::OnlyOurs => "only ours",
            Verdict::OnlySample => "only sample",
        }
    }
}

/// One key of one JWT part, compared.
#[derive(Debug, Clone, Serialize)]
pub struct KeyComparison {
    /// `request` or `assertion`.
    pub jwt: &'static str,
    /// `header` or `claims`.
    pub part: &'static str,
    /// Keys from the part's root, joined by `.` (`authorization_details[0].consent.permissions`).
    pub path: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<Value>,
    /// Why it differs, when that is known; a difference without one is worth a look.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub sample: String,
    pub keys: Vec<KeyComparison>,
}

impl Comparison {
    /// Differences with no known reason, and keys only one side has.
    pub fn unexplained(&self) -> impl Iterator<Item = &KeyComparison> {
        self.keys.iter().filter(|k| match k.verdict {
            Verdict::Differs => k.reason.is_none(),
            Verdict::OnlyOurs | Verdict::OnlySample => true,
            Verdict::Same | Verdict::Fresh => false,
        })
    }
}

/// Both JWTs of `ticket` beside the sample's.
pub fn compare(ticket: &ParTicket, sample: &PortalSample) -> Comparison {
    let mut keys = Vec::new();
    for (jwt, part, ours, theirs) in [
        (
            "request",
            "header",
            &ticket.request.header,
            &sample.request_header,
        ),
        (
            "request",
            "claims",
            &ticket.request.claims,
            &sample.request_claims,
        ),
        (
            "assertion",
            "header",
            &ticket.client_assertion.header,
            &sample.assertion_header,
        ),
        (
            "assertion",
            "claims",
            &ticket.client_assertion.claims,
            &sample.assertion_claims,
        ),
    ] {
        let mut walk = Walk {
            jwt,
            part,
            out: &mut keys,
        };
        walk.objects("", ours, theirs);
    }
    Comparison {
        sample: sample.name.clone(),
        keys,
    }
}

struct Walk<'a> {
    jwt: &'static str,
    part: &'static str,
    out: &'a mut Vec<KeyComparison>,
}

impl Walk<'_> {
    fn objects(&mut self, prefix: &str, ours: &Value, theirs: &Value) {
        let empty = Map::new();
        let ours_map = ours.as_object().unwrap_or(&empty);
        let theirs_map = theirs.as_object().unwrap_or(&empty);
        // Our order first, then what only the sample has, in its order.
        let names = ours_map
            .keys()
            .chain(theirs_map.keys().filter(|k| !ours_map.contains_key(*k)));
        for name in names {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            self.entry(path, ours_map.get(name), theirs_map.get(name));
        }
    }

    fn entry(&mut self, path: String, ours: Option<&Value>, theirs: Option<&Value>) {
        match (ours, theirs) {
            (Some(Value::Object(_)), Some(Value::Object(_))) => self.objects(
                &path,
                ours.unwrap_or(&Value::Null),
                theirs.unwrap_or(&Value::Null),
            ),
            // authorization_details: its one entry, key by key.
            (Some(Value::Array(a)), Some(Value::Array(b)))
                if a.len() == 1 && b.len() == 1 && a[0].is_object() && b[0].is_object() =>
            {
                self.objects(&format!("{path}[0]"), &a[0], &b[0])
            }
            _ => {
                let verdict = match (ours, theirs) {
                    (Some(a), Some(b)) if a == b => Verdict::Same,
                    (Some(_), Some(_)) if self.is_fresh(&path, theirs) => Verdict::Fresh,
                    (Some(_), Some(_)) => Verdict::Differs,
                    (Some(_), None) => Verdict::OnlyOurs,
                    _ => Verdict::OnlySample,
                };
                let reason = (verdict == Verdict::Differs)
                    .then(|| self.reason(&path, ours, theirs))
                    .flatten();
                self.out.push(KeyComparison {
                    jwt: self.jwt,
                    part: self.part,
                    path,
                    verdict,
                    ours: ours.cloned(),
                    sample: theirs.cloned(),
                    reason,
                });
            }
        }
    }

    /// New on every build: a difference says nothing, unless the sample's form differs
    /// (fractional times), which `reason` explains.
    fn is_fresh(&self, path: &str, theirs: Option<&Value>) -> bool {
        self.part == "claims" && FRESH_CLAIMS.contains(&path) && !theirs.is_some_and(is_fractional)
    }

    fn reason(
        &self,
        path: &str,
        ours: Option<&Value>,
        theirs: Option<&Value>,
    ) -> Option<&'static str> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        Some(match (self.part, path) {
            ("header", "kid") => "your signing key's kid",
            ("claims", "exp" | "nbf" | "iat") if theirs.is_some_and(is_fractional) => {
                "times are whole seconds; the sample's are fractional, which RFC 7519 allows and strict servers may refuse"
            }
            ("claims", "scope") if has_openid(&text(ours)) && !has_openid(&text(theirs)) => {
                "scope has openid: the sample leaves it out while it sends claims, nonce and max_age, which need it"
            }
            ("claims", "aud") => {
                "aud is this profile's (its issuer, or token endpoint for the assertion)"
            }
            ("claims", "iss" | "sub" | "client_id") => "your client_id",
            ("claims", "redirect_uri") => "your redirect_uri",
            ("claims", p) if p.ends_with("expiration_datetime") => {
                "the profile's expiry: a fixed date goes stale, a relative one is computed on each build"
            }
            ("claims", p) if p.ends_with(".permissions") && same_items(ours, theirs) => {
                "the same permissions in another order: their order carries no meaning"
            }
            ("claims", p) if p.ends_with(".dc_id") || p.ends_with(".dp_id") => {
                "your data consumer / data provider id"
            }
            _ => return None,
        })
    }
}

/// Two arrays holding the same items, in any order.
fn same_items(a: Option<&Value>, b: Option<&Value>) -> bool {
    let sorted = |v: Option<&Value>| {
        v.and_then(Value::as_array).map(|items| {
            let mut texts: Vec<String> = items.iter().map(Value::to_string).collect();
            texts.sort();
            texts
        })
    };
    sorted(a).is_some() && sorted(a) == sorted(b)
}

fn has_openid(scope: &str) -> bool {
    scope.split(' ').any(|s| s == "openid")
}

fn is_fractional(value: &Value) -> bool {
    value.as_f64().is_some_and(|f| f.fract() != 0.0)
}

/// The comparison as text: one line per key, grouped by JWT part, the reason after a
/// difference. `show_same`: also the keys that match.
pub fn human(comparison: &Comparison, show_same: bool) -> Vec<String> {
    let mut out = vec![format!("Compared with the {}", comparison.sample)];
    let mut group = ("", "");
    for k in &comparison.keys {
        if k.verdict == Verdict::Same && !show_same {
            continue;
        }
        if (k.jwt, k.part) != group {
            group = (k.jwt, k.part);
            let name = if k.jwt == "request" {
                "request object"
            } else {
                "client assertion"
            };
            out.push(format!("{name} {}", k.part));
        }
        let show = |v: &Option<Value>| v.as_ref().map_or("—".into(), Value::to_string);
        let mut line = format!("  {:<11} {}", k.verdict.label(), k.path);
        if k.verdict == Verdict::Differs {
            line.push_str(&format!(
                ": ours {}, sample {}",
                show(&k.ours),
                show(&k.sample)
            ));
        }
        if let Some(reason) = k.reason {
            line.push_str(&format!("\n              ({reason})"));
        }
        out.push(line);
    }
    let unexplained = comparison.unexplained().count();
    out.push(if unexplained == 0 {
        "Every difference has a known reason.".into()
    } else {
        format!("{unexplained} difference(s) without a known reason: worth a look.")
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shipped_sample_parses_and_is_found_by_consent_type() {
        let sample = PortalSample::for_request(&json!({"authorization_details": [
            {"type": "urn:openfinance-ml:account-access-consent:v1.2"}]}))
        .unwrap();
        assert!(sample.request_claims["exp"].is_f64());
        assert!(
            PortalSample::for_request(&json!({"authorization_details": [{"type": "x"}]})).is_none()
        );
        assert_eq!(
            PortalSample::known_types(),
            ["urn:openfinance-ml:account-access-consent:v1.2"]
        );
    }

    #[test]
    fn verdicts_and_reasons() {
        let mut keys = Vec::new();
        let mut walk = Walk {
            jwt: "request",
            part: "claims",
            out: &mut keys,
        };
        walk.objects(
            "",
            &json!({"scope": "openid a", "nonce": "1", "exp": 10, "x": 1, "mine": true,
                    "authorization_details": [{"consent": {"purpose": "pfm", "permissions": ["r", "b"]}}]}),
            &json!({"scope": "a", "nonce": "2", "exp": 9.5, "x": 2, "theirs": true,
                    "authorization_details": [{"consent": {"purpose": "pfm", "permissions": ["b", "r"]}}]}),
        );
        let got: Vec<_> = keys
            .iter()
            .map(|k| (k.path.as_str(), k.verdict, k.reason.is_some()))
            .collect();
        use Verdict::*;
        assert_eq!(
            got,
            [
                ("scope", Differs, true),
                ("nonce", Fresh, false),
                ("exp", Differs, true),
                ("x", Differs, false),
                ("mine", OnlyOurs, false),
                ("authorization_details[0].consent.purpose", Same, false),
                (
                    "authorization_details[0].consent.permissions",
                    Differs,
                    true
                ),
                ("theirs", OnlySample, false),
            ]
        );
    }
}
