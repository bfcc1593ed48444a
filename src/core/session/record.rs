//! The session's history hooks: each step of the lifecycle recorded as it happens, and the one
//! call later steps (resource calls, consent, the probe) record through.

use jiff::Timestamp;

use super::Session;
use crate::core::flow::callback::{Callback, CheckError};
use crate::core::flow::token::{TokenExchange, TokenOutcome, TokenRequest};
use crate::core::history::{Exchange, Recorder, ResourceCall, Step};
use crate::core::lint;
use crate::core::request::ParTicket;
use crate::core::resource::{Answer, Opened, Planned};
use crate::core::transport::{Delivery, NetworkError};

/// Where a resource or consent call goes in the history: the calls made under one consent
/// (and the client_credentials tokens they took) are one flow.
pub(super) struct RecordAs {
    step: Step,
    flow_key: String,
}

impl RecordAs {
    pub(super) fn new(step: Step, consent_id: &str) -> RecordAs {
        let flow_key = if consent_id.is_empty() {
            format!("calls-{}", uuid::Uuid::new_v4())
        } else {
            RecordAs::consent_key(consent_id)
        };
        RecordAs { step, flow_key }
    }

    /// The key a consent's calls are recorded under (an alias of the flow that granted it).
    fn consent_key(consent_id: &str) -> String {
        format!("consent-{consent_id}")
    }

    pub(super) fn flow_key(&self) -> &str {
        &self.flow_key
    }
}

impl Session {
    /// Records one exchange in the history. Never fails: a problem becomes a warning for
    /// `history_warnings`.
    pub fn record(&self, exchange: &Exchange) {
        self.history.record(exchange);
    }

    /// Whether this session keeps history: skip building an `Exchange` when not.
    pub fn records_history(&self) -> bool {
        self.history.is_on()
    }

    /// Sends history to `recorder` instead (tests, or a TUI that opens its own).
    pub fn with_history(mut self, recorder: Recorder) -> Session {
        self.history = recorder;
        self
    }

    /// Sends history warnings to `notify` as they happen (the CLI prints them).
    pub fn on_history_warning(self, notify: impl Fn(&str) + Send + Sync + 'static) -> Session {
        self.history.notify(notify);
        self
    }

    /// What went wrong keeping the history since the last call: for the shell to warn of.
    pub fn history_warnings(&self) -> Vec<String> {
        self.history.take_warnings()
    }

    pub(super) fn record_par(
        &self,
        ticket: &ParTicket,
        delivery: Result<&Delivery, &NetworkError>,
    ) {
        if !self.history.is_on() {
            return;
        }
        let endpoints = &self.seed.endpoints;
        let url = match delivery {
            Ok(d) => d.par_endpoint.as_str(),
            Err(_) => endpoints.par.as_deref().unwrap_or(&endpoints.issuer),
        };
        // The findings as they stood when it was sent: lint is cheap next to a round trip.
        let findings =
            lint::lint_ticket(ticket, &self.seed, &self.key, &self.packs, ticket.built_at);
        let exchange = Exchange::of_par(
            &self.seed.profile_name,
            url,
            ticket,
            delivery.map(|d| &d.exchange),
            &findings,
        );
        self.record(&self.with_dpop_header(exchange));
    }

    pub(super) fn record_callback(
        &self,
        callback: &Callback,
        checked: Result<(), &CheckError>,
        now: Timestamp,
    ) {
        if !self.history.is_on() {
            return;
        }
        self.record(&Exchange::of_callback(
            &self.seed.profile_name,
            &self.seed.redirect_uri,
            callback,
            checked.map_err(ToString::to_string),
            now,
        ));
    }

    pub(super) fn record_token(
        &self,
        flow_key: &str,
        request: &TokenRequest,
        answer: Result<&TokenExchange, &NetworkError>,
    ) {
        if !self.history.is_on() {
            return;
        }
        let endpoints = &self.seed.endpoints;
        // The configured endpoint when no answer came; discovery's may not have been read.
        let url = match answer {
            Ok(exchange) => exchange.endpoint.as_str(),
            Err(_) => endpoints.token.as_deref().unwrap_or(&endpoints.issuer),
        };
        let exchange = Exchange::of_token(
            &self.seed.profile_name,
            flow_key,
            url,
            request,
            answer,
            Timestamp::now(),
        );
        self.record(&self.with_dpop_header(exchange));
        // The consent's later calls (`RecordAs`) join this flow, in this process or another.
        if let Ok(TokenOutcome::Issued(set)) = answer.map(|a| &a.outcome)
            && let Some(consent_id) = set.consent_id()
        {
            self.history.alias(
                &self.seed.profile_name,
                &RecordAs::consent_key(consent_id),
                flow_key,
            );
        }
    }

    /// A request that carried a proof says so (the proof itself is never kept).
    fn with_dpop_header(&self, exchange: Exchange) -> Exchange {
        match self.dpop() {
            Some(_) => exchange.with_dpop_proof(),
            None => exchange,
        }
    }

    /// A resource or consent call.
    pub(super) fn record_call(
        &self,
        record_as: &RecordAs,
        planned: &Planned,
        bearer: &str,
        answer: Result<(&Answer, &Opened), &NetworkError>,
    ) {
        if !self.history.is_on() {
            return;
        }
        let call = ResourceCall {
            profile: &self.seed.profile_name,
            step: record_as.step,
            flow_key: &record_as.flow_key,
            planned,
            bearer,
        };
        self.record(&Exchange::of_resource(call, answer, Timestamp::now()));
    }
}
