//! The session's DPoP side: proofs signed for each request to the authorization server (and,
//! through `with_proofs`, any other), the nonce a server last offered kept per origin, the one
//! `use_dpop_nonce` retry, and what the token answer says of the binding.

use std::future::Future;

use futures::future::Either;
use jiff::Timestamp;
use serde::Serialize;

use super::Session;
use crate::core::dpop::{self, Answered, Binding, DpopKey, PROOF_HEADER, ProofFor, ProofTrail};
use crate::core::flow::token::{self, TokenExchange, TokenOutcome, TokenRequest, TokenType};
use crate::core::jws::DecodedJwt;
use crate::core::lint::DpopFacts;
use crate::core::request::ParTicket;
use crate::core::resource::{self, Answer, Authorization, CallError, Planned};
use crate::core::transport::{
    self, ClientOptions, Delivery, FormAnswer, NetworkError, NetworkErrorKind,
    closed_after_handshake,
};

/// What DPoP did for one token request: the proofs sent (and the nonce retry) and how the
/// issued token stands to our key.
#[derive(Debug, Clone, Serialize)]
pub struct DpopUse {
    pub jkt: String,
    #[serde(flatten)]
    pub trail: ProofTrail,
    /// None when no token was issued.
    pub binding: Option<Binding>,
}

impl DpopUse {
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.trail.notes();
        if let Some(binding) = &self.binding {
            notes.push(binding.describe(&self.jkt));
        }
        notes
    }
}

fn origin(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.origin().ascii_serialization())
}

fn unsigned(e: impl std::fmt::Display) -> NetworkError {
    NetworkError::new(
        NetworkErrorKind::Other,
        format!("the DPoP proof could not be signed: {e}"),
        "check [dpop] alg and key in the profile",
    )
}

impl Session {
    /// The DPoP key when the profile's `[dpop]` is enabled (or one was given).
    pub fn dpop(&self) -> Option<&DpopKey> {
        self.dpop.as_deref()
    }

    /// This session sending DPoP proofs with `key` (tests and benches; profiles use `[dpop]`).
    pub fn with_dpop(mut self, key: DpopKey) -> Session {
        self.dpop = Some(std::sync::Arc::new(key));
        self
    }

    /// The JWK thumbprint tokens are bound to: `dpop_jkt` of the request object.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.dpop().map(DpopKey::thumbprint)
    }

    fn remembered_nonce(&self, url: &str) -> Option<String> {
        let nonces = self
            .dpop_nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        nonces.get(&origin(url)).cloned()
    }

    fn remember_nonce(&self, url: &str, trail: &ProofTrail) {
        if let Some(nonce) = &trail.next_nonce {
            self.dpop_nonces
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(origin(url), nonce.clone());
        }
    }

    /// A proof for one request now, with the nonce this server last offered; none without
    /// DPoP. `build` shows the PAR's; a resource call passes its access token (`ath`).
    pub fn dpop_proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        now: Timestamp,
    ) -> Option<Result<DecodedJwt, NetworkError>> {
        let key = self.dpop()?;
        let nonce = self.remembered_nonce(url);
        let target = ProofFor {
            method,
            url,
            nonce: nonce.as_deref(),
            access_token,
        };
        Some(key.proof(&target, now, &mut rand::rng()).map_err(unsigned))
    }

    /// What lint reads of DPoP for a build: a PAR proof as it would be sent, and whether
    /// mutual TLS is configured too.
    pub(super) fn dpop_facts(&self, now: Timestamp) -> Option<DpopFacts> {
        let par = self
            .seed
            .endpoints
            .par
            .clone()
            .unwrap_or_else(|| self.seed.endpoints.issuer.clone());
        let proof = self.dpop_proof("POST", &par, None, now)?.ok()?;
        Some(DpopFacts {
            proof,
            mtls: self.profile.has_client_certificate(),
        })
    }

    /// What a server's discovery document says of our DPoP: `dpop.alg-unadvertised` when its
    /// dpop_signing_alg_values_supported leaves our alg out (the `discover` command).
    pub fn dpop_against_discovery(
        &self,
        doc: &crate::core::transport::DiscoveryDocument,
        now: Timestamp,
    ) -> Vec<crate::core::lint::Finding> {
        let Some(facts) = self.dpop_facts(now) else {
            return Vec::new();
        };
        let no_request = DecodedJwt {
            header: serde_json::json!({}),
            claims: serde_json::json!({}),
            compact: String::new(),
        };
        crate::core::lint::lint_dpop(&no_request, &facts, Some(doc), &self.packs, now)
            .into_iter()
            .filter(|f| f.id == "dpop.alg-unadvertised")
            .collect()
    }

    /// Sends one request with a DPoP proof for `method url` (and `ath` of `access_token`),
    /// answering a nonce challenge once; `send` gets the proof to put in the `DPoP` header.
    /// Resource calls reuse this.
    pub async fn with_proofs<T, F, Fut>(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        mut send: F,
    ) -> Result<(T, ProofTrail), NetworkError>
    where
        T: Answered,
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<T, NetworkError>>,
    {
        let nonce = self.remembered_nonce(url);
        let (answer, trail) = dpop::send_with_nonce_retry(nonce, |nonce: Option<String>| {
            let target = ProofFor {
                method,
                url,
                nonce: nonce.as_deref(),
                access_token,
            };
            let proof = match self.dpop() {
                Some(key) => key
                    .proof(&target, Timestamp::now(), &mut rand::rng())
                    .map_err(unsigned),
                None => Err(unsigned("no [dpop] key")),
            };
            match proof {
                Ok(proof) => {
                    let sent = send(proof.compact.clone());
                    Either::Left(async move { Ok((sent.await?, proof)) })
                }
                Err(e) => Either::Right(std::future::ready(Err(e))),
            }
        })
        .await?;
        self.remember_nonce(url, &trail);
        Ok((answer, trail))
    }

    /// `deliver`, with the DPoP proofs sent (and the nonce retry) when the profile uses DPoP.
    pub async fn deliver_traced(
        &self,
        ticket: &ParTicket,
        options: &ClientOptions,
    ) -> Result<(Delivery, Option<ProofTrail>), NetworkError> {
        let answer = self
            .clients
            .scope(async {
                if self.dpop.is_some() {
                    let (delivery, trail) = self.deliver_with_proof(ticket, options).await?;
                    return Ok((delivery, Some(trail)));
                }
                let delivery =
                    transport::deliver(&self.seed.endpoints, &self.tls, options, ticket).await?;
                Ok((delivery, None))
            })
            .await;
        self.record_par(ticket, answer.as_ref().map(|(delivery, _)| delivery));
        answer
    }

    /// The form again for a retry, with a fresh client assertion: a server may have spent
    /// the first one's jti on the refused try (the sandbox does).
    fn form_for_try(
        &self,
        form: &[(String, String)],
        attempt: usize,
    ) -> Result<Vec<(String, String)>, NetworkError> {
        let mut form = form.to_vec();
        if attempt > 0 {
            let fresh = crate::core::request::client_assertion(
                &self.seed,
                &self.key,
                Timestamp::now(),
                &mut rand::rng(),
            )
            .map_err(unsigned)?;
            for (name, value) in &mut form {
                if name == "client_assertion" {
                    *value = fresh.compact.clone();
                }
            }
        }
        Ok(form)
    }

    /// POSTs a form (PAR or token) to `endpoint` with a DPoP proof, retried once on
    /// `use_dpop_nonce` with a fresh client assertion.
    async fn post_with_proof(
        &self,
        endpoint: &str,
        interaction_id: &str,
        form: &[(String, String)],
        options: &ClientOptions,
    ) -> Result<(FormAnswer, ProofTrail), NetworkError> {
        let mtls = self.tls.identity_pem.is_some();
        let client = transport::http_client(endpoint, &self.tls, options)?;
        let client = &client;
        let mut attempt = 0;
        self.with_proofs("POST", endpoint, None, |proof| {
            let form = self.form_for_try(form, attempt);
            attempt += 1;
            async move {
                transport::post_form_with(
                    client,
                    endpoint,
                    interaction_id,
                    &form?,
                    &[(PROOF_HEADER, &proof)],
                )
                .await
            }
        })
        .await
        .map_err(|e| closed_after_handshake(e, endpoint, mtls))
    }

    /// The PAR with a DPoP proof (htu: the PAR endpoint, discovery's when the profile has
    /// none), retried once on `use_dpop_nonce`.
    pub(super) async fn deliver_with_proof(
        &self,
        ticket: &ParTicket,
        options: &ClientOptions,
    ) -> Result<(Delivery, ProofTrail), NetworkError> {
        let (par_endpoint, authorization_endpoint) =
            transport::par_endpoints(&self.seed.endpoints, &self.tls, options).await?;
        let (answer, trail) = self
            .post_with_proof(&par_endpoint, &ticket.interaction_id, &ticket.form, options)
            .await?;
        Ok((
            Delivery {
                exchange: transport::read_par_answer(answer, ticket),
                par_endpoint,
                authorization_endpoint,
            },
            trail,
        ))
    }

    /// A token request with a DPoP proof, retried once on `use_dpop_nonce`; the issued
    /// token's binding read against our key.
    pub(super) async fn token_with_proof(
        &self,
        request: &TokenRequest,
        options: &ClientOptions,
    ) -> Result<(TokenExchange, Option<DpopUse>), NetworkError> {
        let Some(key) = self.dpop() else {
            let exchange =
                token::exchange(&self.seed.endpoints, &self.tls, options, request).await?;
            return Ok((exchange, None));
        };
        let token_endpoint =
            token::token_endpoint(&self.seed.endpoints, &self.tls, options).await?;
        let (answer, trail) = self
            .post_with_proof(
                &token_endpoint,
                &request.interaction_id,
                &request.form,
                options,
            )
            .await?;
        let exchange = token::read_token_answer(answer, request, &token_endpoint);
        let binding = match &exchange.outcome {
            TokenOutcome::Issued(set) => Some(Binding::of(
                set.token_type == TokenType::DPoP,
                &format!("{:?}", set.token_type),
                set.access_token.expose(),
                key.thumbprint(),
            )),
            _ => None,
        };
        Ok((
            exchange,
            Some(DpopUse {
                jkt: key.thumbprint().to_owned(),
                trail,
                binding,
            }),
        ))
    }
}

impl Session {
    /// A resource call sent with its access token: as Bearer, or, for a DPoP-bound token, as
    /// `Authorization: DPoP` with a proof of our key carrying its `ath`, a resource server's
    /// `use_dpop_nonce` answered once (RFC 9449 7.1, 9).
    pub(super) async fn send_resource(
        &self,
        client: &reqwest::Client,
        planned: &Planned,
        token: &str,
        dpop_bound: bool,
    ) -> Result<(Answer, Option<ProofTrail>), CallError> {
        if !dpop_bound {
            let answer = resource::send(client, planned, Authorization::Bearer(token)).await?;
            return Ok((answer, None));
        }
        if self.dpop.is_none() {
            return Err(CallError::Token(
                "the kept access token is DPoP-bound but this profile sends no DPoP proofs: set [dpop] enabled = true with the key the token was bound to, or run `flow` again".into(),
            ));
        }
        let (answer, trail) = self
            .with_proofs(
                &planned.method,
                planned.url.as_str(),
                Some(token),
                |proof| async move {
                    resource::send(
                        client,
                        planned,
                        Authorization::Dpop {
                            token,
                            proof: &proof,
                        },
                    )
                    .await
                },
            )
            .await?;
        Ok((answer, Some(trail)))
    }
}

/// What a resource call's notes say of its DPoP: the proof sent, and the nonce retry.
pub(super) fn resource_notes(trail: &ProofTrail, jkt: &str) -> Vec<String> {
    let mut notes = vec![format!(
        "DPoP: the access token went as Authorization: DPoP with a proof of key {jkt} carrying its ath (RFC 9449 7.1)"
    )];
    notes.extend(trail.notes());
    notes
}

impl Session {
    /// Forgets the nonces servers offered, as a new command starts: the next request to each
    /// server learns its nonce anew (a resource server's `use_dpop_nonce` is then answered).
    pub fn forget_dpop_nonces(&self) {
        self.dpop_nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
