pub mod id_token;
pub mod token;
