//! The pure core: profiles, consent packs, keys, request building and lint.
//! Nothing here knows of terminals or of clap.

pub mod consent;
pub mod edit;
pub mod error;
pub mod jws;
pub mod keys;
pub mod lint;
pub mod local_as;
pub mod par;
pub mod paths;
pub mod profile;
pub mod request;
pub mod session;
pub mod time;
pub mod tls;
