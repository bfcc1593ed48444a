//! The pure core: profiles, consent packs, keys, request building and lint.
//! Nothing here knows of terminals or of clap.

pub mod consent;
pub mod diff;
pub mod discovery_check;
pub mod display;
pub mod dpop;
pub mod edit;
pub mod error;
pub mod flow;
pub mod history;
pub mod jws;
pub mod keys;
pub mod lint;
pub mod oauth;
pub mod paths;
pub mod printable;
pub mod probe;
pub mod profile;
pub mod request;
pub mod resource;
pub mod sample;
pub mod sandbox;
pub mod session;
pub mod time;
pub mod tls;
pub mod transport;
