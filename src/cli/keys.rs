//! `jwks` and `keygen`: the public side of a key, and new keys.

use std::process::ExitCode;

use super::output::{self, complain};
use super::{Failure, JwksArgs, KeygenArgs, Outcome};
use crate::core::error::{ConfigError, Origin};
use crate::core::keys::{self, SigningKey};
use crate::core::paths;
use crate::core::profile;
use crate::core::resource::jwe::EncryptionKey;

pub fn jwks(args: &JwksArgs) -> Outcome {
    let loaded = profile::find(&args.profile.profile)?;
    let key = loaded.signing_key(args.key.as_deref())?;
    let mut set = key.public_jwks();
    // The encryption key (use: enc) is registered beside the signing key.
    if let Some(encryption) = loaded.encryption_key()? {
        set.keys.push(encryption.public_jwk().clone());
    }
    output::json(&set);
    Ok(ExitCode::SUCCESS)
}

fn keygen_enc(args: &KeygenArgs) -> Outcome {
    let failed = |message: String, hint: &str| {
        Failure::Config(ConfigError::new(
            Origin::Flag("--use enc".into()),
            "",
            message,
            hint,
        ))
    };
    // --alg defaults to PS256, the signing default: anything else was asked for and cannot be.
    if !matches!(args.alg.as_str(), "PS256" | "RSA-OAEP-256") {
        return Err(Failure::Config(ConfigError::new(
            Origin::Flag("--alg".into()),
            "",
            format!(
                "--alg {} does not apply with --use enc: encryption keys are RSA-2048 for RSA-OAEP-256",
                args.alg
            ),
            "leave --alg out (or give --alg RSA-OAEP-256)",
        )));
    }
    let (key, pem) = EncryptionKey::generate().map_err(|e| failed(e.to_string(), &e.hint()))?;
    let path = match &args.out {
        Some(p) => p.clone(),
        None => paths::data_dir()
            .ok_or_else(|| failed("no data directory for keys".into(), "pass --out PATH"))?
            .join("keys")
            .join(format!("enc-RSA-OAEP-256-{}.pem", &key.kid()[..8])),
    };
    write_new_key(&path, &pem)?;
    complain!(
        "Wrote a new RSA-2048 encryption key to {} (mode 0600).\nUse it with [encryption] key = \"{}\" in a profile.\nIts public JWK (use enc, alg RSA-OAEP-256), to register beside the signing key:",
        path.display(),
        path.display()
    );
    output::json(key.public_jwk());
    Ok(ExitCode::SUCCESS)
}

pub fn keygen(args: &KeygenArgs) -> Outcome {
    if args.key_use == "enc" {
        return keygen_enc(args);
    }
    let flag_error = |message: String, hint: &str| {
        Failure::Config(ConfigError::new(
            Origin::Flag("--alg".into()),
            "",
            message,
            hint,
        ))
    };
    let alg = keys::parse_alg(&args.alg)
        .filter(|a| keys::is_asymmetric(*a))
        .ok_or_else(|| {
            flag_error(
                format!("\"{}\" is not an asymmetric JWS algorithm", args.alg),
                "use PS256 (default), ES256 or EdDSA",
            )
        })?;
    let (key, pem) = SigningKey::generate(alg).map_err(|e| flag_error(e.to_string(), &e.hint()))?;
    let path = match &args.out {
        Some(p) => p.clone(),
        None => paths::data_dir()
            .ok_or_else(|| flag_error("no data directory for keys".into(), "pass --out PATH"))?
            .join("keys")
            .join(format!("{}-{}.pem", keys::alg_name(alg), &key.kid()[..8])),
    };
    write_new_key(&path, &pem)?;
    complain!(
        "Wrote a new {} private key to {} (mode 0600).\nUse it with signing.key = \"{}\" and signing.alg = \"{}\" in a profile, or --key.\nIts public JWK, to register with the authorization server:",
        key.kind().describe(),
        path.display(),
        path.display(),
        keys::alg_name(alg)
    );
    output::json(&key.public_jwk());
    Ok(ExitCode::SUCCESS)
}

/// Writes a new private key (0600), never over an existing file.
fn write_new_key(path: &std::path::Path, pem: &str) -> Result<(), Failure> {
    paths::write_private_new(path, pem.as_bytes()).map_err(|e| {
        let (message, hint) = if e.kind() == std::io::ErrorKind::AlreadyExists {
            (
                "the file already exists; keys are never overwritten".to_owned(),
                "choose another --out path",
            )
        } else {
            (
                format!("cannot write the key: {e}"),
                "check the folder exists and is writable",
            )
        };
        Failure::Config(ConfigError::new(Origin::file(path), "", message, hint))
    })
}
