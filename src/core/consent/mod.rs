//! Consent packs: what an ecosystem's authorization_details item looks like, as data.
//!
//! A pack names the `type`, its fields (kind, wire path, values with descriptions, required),
//! and the ecosystem's constraints that lint enforces. The TUI draws its editor from a pack,
//! so a new ecosystem is a TOML file, not code.

mod check;
mod pack;
pub mod resource_api;
mod set;
#[cfg(test)]
mod test_support;
mod value;

pub use check::ItemIssue;
pub use pack::{
    Auto, Constraints, Field, Kind, Pack, ValueDesc, get_path, is_empty_value, set_path,
    toml_to_json,
};
pub use set::{PackSet, parse_pack};
pub use value::{ConsentValues, DefaultError, FieldValue, MaterializeError, ValueError};
