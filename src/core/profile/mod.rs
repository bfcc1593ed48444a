//! Profiles: a client, its key, its endpoints and its consent defaults, in TOML.
//!
//! Lookup by name: the user's config dir, then ./profiles/, then the profiles built into the
//! binary; or by path. Secrets are referenced (a path or an environment variable), never
//! stored as values.

mod dpop;
mod load;
mod resolve;
mod resource_keys;
mod save;
mod schema;

pub use load::{
    BUILTIN_PROFILES, LoadedProfile, ProfileEntry, ProfileSource, builtin, find, find_given_by,
    list, load_file, parse,
};
pub use resolve::{DEFAULT_EMBEDDED_PORT, MAX_LIFETIME, default_embedded_base};
pub use resource_keys::EnvelopeKeys;
pub use save::{save, valid_profile_name};
pub use schema::{Dpop, Encryption, Profile, ResourceServer, Signing, Target, Userinfo};
