//! After the token: resource calls and the consent's status and revocation, for both shells.
//! The kept access token is used (refreshed first when it expired and a refresh token is
//! kept), the request signed the pack's way, and the answer opened layer by layer.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use jsonwebtoken::jwk::JwkSet;
use rand::RngCore;
use serde_json::Value;

use super::Session;
use super::record::RecordAs;
use crate::core::consent::resource_api::{Endpoint, ResourceApi, TokenKind};
use crate::core::error::{ConfigError, Origin};
use crate::core::flow::id_token;
use crate::core::flow::store::StoredTokens;
use crate::core::flow::token::{Grant, TokenOutcome, TokenType};
use crate::core::history::Step;
use crate::core::jws;
use crate::core::paths;
use crate::core::profile::EnvelopeKeys;
use crate::core::resource::envelope::{self, Keys, Opened};
use crate::core::resource::jwe::EncryptionKey;
use crate::core::resource::{
    self, CallError, Planned, ResourceExchange, Target, Vars, account_ids, consent_field,
};
use crate::core::sandbox::Config;
use crate::core::transport::{self, ClientOptions};

/// Seconds before expiry at which a kept access token counts as expired: a call takes time.
const EXPIRY_MARGIN_SECS: i64 = 5;

/// A profile name as a file name: anything but letters, digits, - and _ becomes _.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What calls reuse beside the session's HTTP clients: the envelope's JWK Set once read.
#[derive(Default)]
pub(super) struct ResourceCache {
    jwks: Mutex<Option<JwkSet>>,
}

/// What a call is asked to do beyond its endpoint.
#[derive(Debug, Clone, Default)]
pub struct CallInput {
    pub query: Vec<(String, String)>,
    /// Extra headers (the pack's customer headers), sent as given.
    pub headers: Vec<(String, String)>,
}

impl Session {
    /// The embedded sandbox encrypts resource answers to the client's key, and keeps its
    /// tokens and consents where the next command's sandbox finds them.
    pub(super) fn prepare_resource_sandbox(&self, config: &mut Config) -> Result<(), ConfigError> {
        config.client_encryption_key = self
            .encryption_key()
            .map_err(|e| {
                ConfigError::new(
                    Origin::Flag("[encryption]".into()),
                    "",
                    e.to_string(),
                    "check encryption.key in the profile",
                )
            })?
            .map(|k| k.public_jwk().clone());
        config.state_file = paths::data_dir()
            .filter(|_| self.keep_sandbox_state)
            .map(|d| {
                d.join("sandbox")
                    .join(format!("{}.json", file_safe(&self.seed.profile_name)))
            });
        Ok(())
    }

    /// The pack's resource API.
    pub fn resource_api(&self) -> Result<&ResourceApi, CallError> {
        self.seed
            .pack
            .resource
            .as_ref()
            .ok_or_else(|| CallError::NoResourceApi {
                pack: self.seed.pack.id.clone(),
            })
    }

    /// The profile's encryption key, read once.
    pub fn encryption_key(&self) -> Result<Option<Arc<EncryptionKey>>, CallError> {
        if let Some(key) = self.encryption.get() {
            return Ok(key.clone());
        }
        let key = self
            .profile
            .encryption_key()
            .map_err(|e| CallError::Token(e.to_string()))?
            .map(Arc::new);
        Ok(self.encryption.get_or_init(|| key).clone())
    }

    /// Where resource calls go: `[resource] base_url`, else the embedded sandbox.
    pub fn resource_base_url(&self) -> Result<String, CallError> {
        self.profile
            .resource_base_url()
            .map(str::to_owned)
            .or_else(|| self.sandbox_issuer().map(str::to_owned))
            .ok_or(CallError::NoBaseUrl)
    }

    /// The kept tokens, refreshed first when the access token expired and a refresh token
    /// is kept; the note says so.
    pub async fn live_tokens(
        &self,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<(StoredTokens, Option<String>), CallError> {
        let kept = self
            .kept_tokens()
            .map_err(|e| CallError::Token(e.to_string()))?
            .ok_or_else(|| CallError::NoTokens {
                profile: self.seed.profile_name.clone(),
            })?;
        let expired = kept
            .expires_at
            .is_some_and(|at| at.as_second() - EXPIRY_MARGIN_SECS < Timestamp::now().as_second());
        if !expired || kept.refresh_token.is_none() {
            let note = expired.then(|| {
                "the kept access token has expired and no refresh token is kept: the call will likely be refused".to_owned()
            });
            return Ok((kept, note));
        }
        let tokens = self
            .refresh(&kept, options, rng)
            .await
            .map_err(|e| CallError::Token(e.to_string()))?;
        match &tokens.exchange.outcome {
            TokenOutcome::Issued(set) => {
                let stored = self
                    .keep_tokens(set, Some(&kept))
                    .map_err(|e| CallError::Token(e.to_string()))?;
                Ok((
                    stored,
                    Some("the access token had expired: it was refreshed first".into()),
                ))
            }
            _ => Err(CallError::Token(
                "the access token expired and the refresh was refused: run `flow` again".into(),
            )),
        }
    }

    fn vars(&self, tokens: Option<&StoredTokens>, consent_id: &str) -> Vars {
        let details = tokens.and_then(|t| t.authorization_details.as_ref());
        let from_profile = |name: &str| {
            self.seed.consent.get(name).map(|v| match v {
                crate::core::consent::FieldValue::Json(Value::String(s)) => s.clone(),
                other => other.to_string(),
            })
        };
        let field = |name: &str| {
            consent_field(details, name)
                .or_else(|| from_profile(name))
                .unwrap_or_default()
        };
        Vars {
            dc_id: field("dc_id"),
            dp_id: field("dp_id"),
            consent_id: consent_id.to_owned(),
            client_id: self.seed.client_id.clone(),
        }
    }

    /// `call ENDPOINT [ARGS]` (or `call METHOD /path`) with the kept token: signed, sent,
    /// and the answer opened.
    pub async fn call(
        &self,
        endpoint: &str,
        args: &[String],
        input: &CallInput,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<ResourceExchange, CallError> {
        let api = self.resource_api()?;
        let (tokens, refreshed) = self.live_tokens(options, rng).await?;
        let consent_id = tokens.consent_id.clone().unwrap_or_default();
        let vars = self.vars(Some(&tokens), &consent_id);
        let accounts = account_ids(tokens.authorization_details.as_ref());
        let target = resource::target(
            api,
            endpoint,
            args,
            &vars,
            accounts.first().map(String::as_str),
        )?;
        let mut notes: Vec<String> = refreshed.into_iter().collect();
        let needs_account = target.endpoint.placeholders().contains(&"account_id");
        if needs_account && args.is_empty() && !target.endpoint.name.contains(' ') {
            notes.push(format!(
                "no account given: the consent's first account was used (it has: {})",
                accounts.join(", ")
            ));
        }
        let mut headers = self.auth_date_header(api, &tokens);
        headers.extend(input.headers.iter().cloned());
        let base = self.resource_base_url()?;
        let planned = resource::plan(
            api,
            &target,
            &base,
            &input.query,
            &headers,
            &vars,
            &self.key,
            Timestamp::now(),
        )?;
        if let Some(scheme) = &api.request_signature
            && planned.x_signature.is_some()
        {
            notes.extend(scheme.sub_disputed.iter().cloned());
            notes.extend(scheme.url_disputed.iter().cloned());
        }
        let record_as = RecordAs::new(Step::Resource, &consent_id);
        let token = (tokens.access_token.as_str(), tokens.dpop_bound);
        self.exchange(api, &target, planned, token, notes, options, &record_as)
            .await
    }

    /// x-fapi-auth-date from the ID token's auth_time, when the pack sends it.
    fn auth_date_header(&self, api: &ResourceApi, tokens: &StoredTokens) -> Vec<(String, String)> {
        let auth_time = tokens
            .id_token
            .as_deref()
            .and_then(|t| jws::decode(t).ok())
            .and_then(|jwt| jwt.claim("auth_time").and_then(Value::as_i64))
            .and_then(|s| Timestamp::from_second(s).ok());
        api.headers
            .iter()
            .filter(|h| h.from == "auth_time")
            .filter_map(|h| {
                let at = auth_time?;
                Some((
                    h.name.clone(),
                    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                ))
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    async fn exchange(
        &self,
        api: &ResourceApi,
        target: &Target,
        planned: Planned,
        (token, dpop_bound): (&str, bool),
        mut notes: Vec<String>,
        options: &ClientOptions,
        record_as: &RecordAs,
    ) -> Result<ResourceExchange, CallError> {
        let client = self.resource_client(&planned.url, options)?;
        let (answer, dpop) = match self
            .send_resource(&client, &planned, token, dpop_bound)
            .await
        {
            Ok(sent) => sent,
            Err(e) => {
                if let CallError::Network(network) = &e {
                    self.record_call(record_as, &planned, token, Err(network));
                }
                return Err(e);
            }
        };
        if let (Some(trail), Some(jkt)) = (&dpop, self.dpop_jkt()) {
            notes.extend(super::dpop::resource_notes(trail, jkt));
        }
        let success = (200..300).contains(&answer.status);
        let opened = if success {
            let opened = self.open_answer(api, &answer.body, options).await?;
            // A kid the kept JWK Set lacks may be a rotated key: read the set again, once.
            let kid_unknown = opened.envelope.as_ref().is_some_and(|e| {
                matches!(&e.verdict, envelope::Verdict::NotVerified(why) if why.contains("is not in the configured JWK Set"))
            });
            let forget_cached = || {
                self.resource_cache
                    .jwks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .is_some()
            };
            if kid_unknown && forget_cached() {
                self.open_answer(api, &answer.body, options).await?
            } else {
                opened
            }
        } else {
            Opened {
                payload: Some(
                    serde_json::from_str(&answer.body)
                        .unwrap_or_else(|_| Value::String(answer.body.clone())),
                ),
                ..Opened::default()
            }
        };
        notes.extend(opened.notes.iter().cloned());
        self.record_call(record_as, &planned, token, Ok((&answer, &opened)));
        let scheme = if dpop.is_some() { "DPoP" } else { "Bearer" };
        let mut sent_headers = vec![("authorization".to_owned(), format!("{scheme} <redacted>"))];
        if dpop.is_some() {
            sent_headers.push(("dpop".to_owned(), "<proof, shown decoded>".to_owned()));
        }
        sent_headers.extend(planned.headers.iter().cloned());
        Ok(ResourceExchange {
            endpoint: Some(target.endpoint.name.clone()),
            method: planned.method.clone(),
            url: planned.url.to_string(),
            sent_headers,
            x_signature: planned.x_signature,
            interaction_id: planned.interaction_id,
            status: answer.status,
            headers: answer.headers,
            opened,
            notes,
            elapsed: answer.elapsed,
            dpop,
        })
    }

    async fn open_answer(
        &self,
        api: &ResourceApi,
        body: &str,
        options: &ClientOptions,
    ) -> Result<Opened, CallError> {
        let jwks = self.envelope_jwks(options).await;
        let (set, missing) = match &jwks {
            Ok(set) => (set.as_ref(), String::new()),
            Err(why) => (None, why.clone()),
        };
        let decryption = self.encryption_key()?;
        let keys = Keys {
            envelope: set,
            envelope_missing: &missing,
            decryption: decryption.as_deref(),
        };
        Ok(envelope::open(body, &api.response, &keys, Timestamp::now()))
    }

    /// The session's client for the resource server (one per TLS material and options).
    fn resource_client(
        &self,
        url: &url::Url,
        options: &ClientOptions,
    ) -> Result<reqwest::Client, CallError> {
        let client = self
            .clients
            .run(|| transport::http_client(url.as_str(), &self.tls, options))?;
        Ok(client)
    }

    /// The keys that verify envelopes, or why there are none (a reason, not an error: the
    /// answer is still shown, marked not verified).
    async fn envelope_jwks(&self, options: &ClientOptions) -> Result<Option<JwkSet>, String> {
        let uri = match self.profile.envelope_keys().map_err(|e| e.to_string())? {
            EnvelopeKeys::Set(set) => return Ok(Some(set)),
            EnvelopeKeys::Uri(uri) => uri,
            EnvelopeKeys::None => match self.sandbox_issuer() {
                Some(issuer) => format!("{issuer}/jwks"),
                None => {
                    return Err(
                        "no key configured: set [resource] jwks_uri or jwks in the profile".into(),
                    );
                }
            },
        };
        let cached = self
            .resource_cache
            .jwks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(set) = cached {
            return Ok(Some(set));
        }
        let client = transport::http_client(&uri, &self.tls, options).map_err(|e| e.to_string())?;
        let set = id_token::fetch_jwks(&client, &uri)
            .await
            .map_err(|e| format!("the envelope keys could not be read: {e}"))?;
        *self
            .resource_cache
            .jwks
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(set.clone());
        Ok(Some(set))
    }

    /// The consent's status and history, as the server says.
    pub async fn consent_show(
        &self,
        consent_id: Option<&str>,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<ResourceExchange, CallError> {
        let api = self.resource_api()?;
        let endpoint = api
            .consent_show
            .as_ref()
            .ok_or_else(|| CallError::NotOffered {
                what: "showing a consent".into(),
            })?;
        self.consent_call(api, endpoint, consent_id, options, rng)
            .await
    }

    /// Revokes the consent; later calls with its tokens fail.
    pub async fn consent_revoke(
        &self,
        consent_id: Option<&str>,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<ResourceExchange, CallError> {
        let api = self.resource_api()?;
        let endpoint = api
            .consent_revoke
            .as_ref()
            .ok_or_else(|| CallError::NotOffered {
                what: "revoking a consent".into(),
            })?;
        self.consent_call(api, endpoint, consent_id, options, rng)
            .await
    }

    async fn consent_call(
        &self,
        api: &ResourceApi,
        endpoint: &Endpoint,
        consent_id: Option<&str>,
        options: &ClientOptions,
        rng: &mut dyn RngCore,
    ) -> Result<ResourceExchange, CallError> {
        let kept = self
            .kept_tokens()
            .map_err(|e| CallError::Token(e.to_string()))?;
        let consent_id = consent_id
            .map(str::to_owned)
            .or_else(|| kept.as_ref().and_then(|t| t.consent_id.clone()))
            .ok_or_else(|| CallError::NoConsentId {
                profile: self.seed.profile_name.clone(),
            })?;
        let record_as = RecordAs::new(Step::Consent, &consent_id);
        let token = match endpoint.token {
            TokenKind::ClientCredentials => {
                self.client_token(record_as.flow_key(), rng, options)
                    .await?
            }
            TokenKind::AccessToken => {
                let live = self.live_tokens(options, rng).await?.0;
                (live.access_token, live.dpop_bound)
            }
        };
        let vars = self.vars(kept.as_ref(), &consent_id);
        let path = resource::fill_path(endpoint, &[], &vars, None)?;
        let target = Target {
            endpoint: endpoint.clone(),
            path,
        };
        // The consent endpoints are not documented as signed: no request signature.
        let unsigned = ResourceApi {
            request_signature: None,
            ..api.clone()
        };
        let base = self.resource_base_url()?;
        let planned = resource::plan(
            &unsigned,
            &target,
            &base,
            &[],
            &[],
            &vars,
            &self.key,
            Timestamp::now(),
        )?;
        let plain = ResourceApi {
            response: Default::default(),
            ..unsigned
        };
        let notes = endpoint.status.iter().cloned().collect();
        self.exchange(
            &plain,
            &target,
            planned,
            (&token.0, token.1),
            notes,
            options,
            &record_as,
        )
        .await
    }

    /// A client_credentials token (RFC 6749 4.4) with the accounts scope, and whether it is
    /// DPoP-bound.
    async fn client_token(
        &self,
        flow_key: &str,
        rng: &mut dyn RngCore,
        options: &ClientOptions,
    ) -> Result<(String, bool), CallError> {
        let grant = Grant::ClientCredentials {
            scope: "accounts".into(),
        };
        let tokens = self
            .trade(&grant, None, flow_key, options, rng)
            .await
            .map_err(|e| CallError::Token(e.to_string()))?;
        match tokens.exchange.outcome {
            TokenOutcome::Issued(set) => Ok((
                set.access_token.expose().to_owned(),
                set.token_type == TokenType::DPoP,
            )),
            TokenOutcome::Refused {
                error, explanation, ..
            } => Err(CallError::Token(format!(
                "the client_credentials grant was refused ({error}): {explanation}"
            ))),
            _ => Err(CallError::Token(
                "the client_credentials grant gave no usable token".into(),
            )),
        }
    }
}
