//! What every subject's tests share: a clean build of a profile to break one thing in, and the
//! check that each rule of a subject fires on its case and stays silent on a clean build.

use jsonwebtoken::Algorithm;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

use super::{Context, Finding, Rule, Subject, lint};
use crate::core::consent::PackSet;
use crate::core::jws::DecodedJwt;
use crate::core::keys::{KeyFacts, SigningKey};
pub(crate) use crate::core::request::tests::now;
use crate::core::request::tests::seed;
use crate::core::transport::DiscoveryDocument;

pub struct Case {
    pub request: DecodedJwt,
    pub assertion: Option<DecodedJwt>,
    pub form_client_id: String,
    pub facts: KeyFacts,
    pub issuer: String,
    pub par: String,
    pub token: String,
    pub deployment: String,
    pub packs: PackSet,
    pub discovery: Option<DiscoveryDocument>,
    pub dpop: Option<super::DpopFacts>,
}

impl Case {
    /// A clean build of `profile`; `NAME+dpop` builds NAME with a DPoP key: the request
    /// object's dpop_jkt and a PAR proof.
    pub fn new(profile: &str) -> Case {
        let (profile, dpop_key) = match profile.strip_suffix("+dpop") {
            Some(name) => (
                name,
                Some(
                    crate::core::dpop::DpopKey::generate(Algorithm::ES256)
                        .unwrap()
                        .0,
                ),
            ),
            None => (profile, None),
        };
        let key = SigningKey::generate(Algorithm::PS256).unwrap().0;
        let seed = seed(profile);
        let jkt = dpop_key.as_ref().map(|k| k.thumbprint().to_owned());
        let t = crate::core::request::build_bound(
            &seed,
            &key,
            now(),
            &mut StdRng::seed_from_u64(3),
            jkt.as_deref(),
        )
        .unwrap();
        let dpop = dpop_key.map(|k| super::DpopFacts {
            proof: k
                .proof(
                    &crate::core::dpop::ProofFor::post(seed.endpoints.par.as_deref().unwrap()),
                    now(),
                    &mut StdRng::seed_from_u64(4),
                )
                .unwrap(),
            mtls: false,
        });
        Case {
            request: t.request.clone(),
            assertion: Some(t.client_assertion.clone()),
            form_client_id: seed.client_id.clone(),
            facts: key.facts(),
            issuer: seed.endpoints.issuer.clone(),
            par: seed.endpoints.par.clone().unwrap(),
            token: seed.endpoints.token.clone().unwrap(),
            deployment: seed.pack.id.clone(),
            packs: PackSet::builtin(),
            discovery: None,
            dpop,
        }
    }

    /// A `local` build whose packs add no caps of their own, so a generic FAPI rule is seen
    /// alone (the Malaysia pack repeats FAPI's 3600 s lifetime cap under the same rule id).
    pub fn generic() -> Case {
        let mut case = Case::new("local");
        for pack in &mut case.packs.packs {
            let c = &mut pack.constraints;
            c.max_request_lifetime = None;
            c.max_request_lifetime_disputed = None;
            c.allowed_algs.clear();
        }
        case
    }

    pub fn run(&self) -> Vec<Finding> {
        let deployment = self.packs.find(&self.deployment).cloned();
        let ctx = Context {
            now: now(),
            issuer: Some(&self.issuer),
            client_id: Some("consent-explorer-demo"),
            par_endpoint: Some(&self.par),
            token_endpoint: Some(&self.token),
            authorization_endpoint: None,
            packs: &self.packs,
            key: Some(&self.facts),
            deployment: deployment.as_ref(),
            discovery: self.discovery.as_ref(),
            dpop: self.dpop.as_ref(),
        };
        lint(
            &Subject {
                request: &self.request,
                assertion: self.assertion.as_ref(),
                form_client_id: Some(&self.form_client_id),
            },
            &ctx,
        )
    }

    pub fn ids(&self) -> Vec<&'static str> {
        self.run().iter().map(|f| f.id).collect()
    }

    /// The finding of one rule, if it fired.
    pub fn finding(&self, id: &str) -> Option<Finding> {
        self.run().into_iter().find(|f| f.id == id)
    }
}

pub fn claims(jwt: &mut DecodedJwt) -> &mut serde_json::Map<String, Value> {
    jwt.claims.as_object_mut().unwrap()
}

pub fn consent(case: &mut Case) -> &mut serde_json::Map<String, Value> {
    case.request.claims["authorization_details"][0]["consent"]
        .as_object_mut()
        .unwrap()
}

pub fn assertion(case: &mut Case) -> &mut serde_json::Map<String, Value> {
    claims(case.assertion.as_mut().unwrap())
}

/// Whether a rule fires on a build of `profile` after `mutate`.
pub fn fires(profile: &str, id: &str, mutate: &dyn Fn(&mut Case)) -> bool {
    let mut case = Case::new(profile);
    mutate(&mut case);
    case.ids().contains(&id)
}

/// A rule id, the profile to build, and the change that must make the rule fire.
pub type FiringCase = (&'static str, &'static str, fn(&mut Case));

/// Each rule of a subject has a case; it is silent on the clean build and fires, with its
/// severity and refusal, once the case's change is made.
pub fn check_subject(groups: &[&[Rule]], cases: Vec<FiringCase>) {
    for rule in groups.iter().flat_map(|g| g.iter()) {
        assert!(
            cases.iter().any(|(id, _, _)| *id == rule.id),
            "no firing case for {}",
            rule.id
        );
    }
    for (id, profile, mutate) in cases {
        let rule = groups
            .iter()
            .flat_map(|g| g.iter())
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} is not a rule of this subject"));
        let mut case = Case::new(profile);
        assert!(
            !case.ids().contains(&id),
            "{id} fires on a clean {profile} build"
        );
        mutate(&mut case);
        let findings = case.run();
        let finding = findings.iter().find(|f| f.id == id);
        let Some(finding) = finding else {
            panic!("{id} did not fire; got {findings:?}");
        };
        assert_eq!(finding.severity, rule.severity);
        assert_eq!(finding.refusal, rule.refusal);
        assert!(!finding.message.is_empty());
    }
}
