//! Profiles: a client, its key, its endpoints and its consent defaults, in TOML.
//!
//! Lookup by name: the user's config dir, then ./profiles/, then the profiles built into the
//! binary; or by path. Secrets are referenced (a path or an environment variable), never
//! stored as values.

mod dpop;
mod load;
mod resolve;
mod save;
mod schema;

pub use load::{
    BUILTIN_PROFILES, LoadedProfile, ProfileEntry, ProfileSource, builtin, find, find_given_by,
    list, load_file, parse,
};
pub use resolve::{DEFAULT_EMBEDDED_PORT, MAX_LIFETIME, default_embedded_base};
pub use save::{save, valid_profile_name};
pub use schema::{Dpop, Profile, Signing, Target, Userinfo};
