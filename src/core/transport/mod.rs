//! Talking to an authorization server: the HTTP client (rustls, optional mutual TLS, timeouts,
//! body cap, no proxy on loopback) with network and TLS failures named, the PAR exchange and
//! the authorize URL, and discovery.

mod cache;
mod client;
mod discovery;
mod exchange;
mod form;

pub use cache::ClientCache;
pub use client::{
    BODY_CAP, ClientOptions, NetworkError, NetworkErrorKind, classify, closed_after_handshake,
    http_client, is_loopback_url, read_capped,
};
pub use discovery::{
    Discovery, DiscoveryDocument, DiscoveryError, FLOW_FIELDS, discover, discovery_url,
    fetch_document, read_discovery, read_document,
};
pub use exchange::{
    Delivery, Outcome, ParExchange, authorize_url, deliver, kind_of, read_answer, send,
};
pub use exchange::{par_endpoints, read_par_answer};
pub use form::{Body, FormAnswer, INTERACTION_HEADER, header_pairs, post_form, post_form_with};
