//! Mutual TLS material from a profile's `[tls]`: the client identity (PEM cert + key, or
//! PKCS#12 with its passphrase from an environment variable) and a CA bundle.

use std::fmt;

use serde::{Deserialize, Serialize};
use std::path::Path;

use super::error::{ConfigError, Origin};
use super::keys::b64url;
use super::paths;

/// Mutual TLS client identity and trust, used when submitting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12: Option<String>,
    /// Environment variable holding the PKCS#12 passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password_env: Option<String>,
}

/// What the user should see of the client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339.
    pub not_after: String,
    pub expired: bool,
    /// SHA-256 of the DER certificate, base64url: the `x5t#S256` a bound token carries.
    pub x5t_s256: String,
}

impl fmt::Display for CertInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subject {}; issuer {}; expires {}{}; x5t#S256 {}",
            self.subject,
            self.issuer,
            self.not_after,
            if self.expired { " (EXPIRED)" } else { "" },
            self.x5t_s256
        )
    }
}

/// The loaded material. The identity holds a private key: `Debug` leaves it out.
#[derive(Clone, Default)]
pub struct TlsMaterial {
    /// Private key and certificate chain, PEM, leaf first: what reqwest's Identity takes.
    pub identity_pem: Option<Vec<u8>>,
    pub client_cert: Option<CertInfo>,
    pub ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("client_cert", &self.client_cert)
            .field("ca", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let not_after_ts = jiff::Timestamp::from_second(not_after).ok()?;
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_after: super::time::rfc3339_seconds(not_after_ts),
        expired: not_after_ts < jiff::Timestamp::now(),
        x5t_s256: b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref()),
    })
}

/// Reads `[tls]`; `origin_of` names a field's place in the profile for errors.
pub fn load(
    tls: &Tls,
    base_dir: Option<&Path>,
    origin_of: &dyn Fn(&str) -> Origin,
) -> Result<TlsMaterial, ConfigError> {
    let read = |field: &str, path: &str| -> Result<Vec<u8>, ConfigError> {
        let path = paths::resolve_from(base_dir, path);
        std::fs::read(&path).map_err(|e| {
            ConfigError::new(
                origin_of(field),
                field,
                format!("cannot read {}: {e}", path.display()),
                "relative paths are taken from the profile's folder; ~ is expanded",
            )
        })
    };
    let bad = |field: &str, message: String, hint: &str| {
        ConfigError::new(origin_of(field), field, message, hint)
    };
    let mut material = TlsMaterial::default();
    if let Some(ca) = &tls.ca {
        let pem = read("tls.ca", ca)?;
        let certs = pem::parse_many(&pem).unwrap_or_default();
        if !certs.iter().any(|c| c.tag() == "CERTIFICATE") {
            return Err(bad(
                "tls.ca",
                "no PEM certificate in the CA bundle".into(),
                "give the CA certificates in PEM (-----BEGIN CERTIFICATE-----)",
            ));
        }
        material.ca_pem = Some(pem);
    }
    let (key_der, chain): (Vec<u8>, Vec<Vec<u8>>) = match (&tls.pkcs12, &tls.cert, &tls.key) {
        (Some(p12), _, _) => pkcs12_identity(&read("tls.pkcs12", p12)?, tls, &bad)?,
        (None, Some(cert), Some(key)) => {
            let certs: Vec<Vec<u8>> = pem::parse_many(read("tls.cert", cert)?)
                .unwrap_or_default()
                .into_iter()
                .filter(|b| b.tag() == "CERTIFICATE")
                .map(|b| b.into_contents())
                .collect();
            if certs.is_empty() {
                return Err(bad(
                    "tls.cert",
                    "no PEM certificate in the file".into(),
                    "give the client (transport) certificate in PEM, leaf first, then its chain",
                ));
            }
            (pem_private_key(&read("tls.key", key)?, &bad)?, certs)
        }
        (None, Some(_), None) => {
            return Err(bad(
                "tls.key",
                "tls.cert is set but tls.key is not".into(),
                "set tls.key to the certificate's private key (PEM)",
            ));
        }
        (None, None, Some(_)) => {
            return Err(bad(
                "tls.cert",
                "tls.key is set but tls.cert is not".into(),
                "set tls.cert to the client certificate (PEM)",
            ));
        }
        (None, None, None) => return Ok(material),
    };
    material.client_cert = cert_info(&chain[0]);
    if material.client_cert.is_none() {
        return Err(bad(
            "tls.cert",
            "the client certificate cannot be parsed".into(),
            "give an X.509 certificate in PEM",
        ));
    }
    if let Err(problem) = key_fits_certificate(&chain, &key_der) {
        let (field, hint) = if tls.pkcs12.is_some() {
            (
                "tls.pkcs12",
                "export the PKCS#12 again with the certificate and its own key",
            )
        } else {
            (
                "tls.key",
                "tls.key must be the private key of tls.cert (compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`)",
            )
        };
        return Err(bad(field, problem, hint));
    }
    let mut pem_text = pem::encode(&pem::Pem::new("PRIVATE KEY", key_der));
    for der in chain {
        pem_text.push_str(&pem::encode(&pem::Pem::new("CERTIFICATE", der)));
    }
    material.identity_pem = Some(pem_text.into_bytes());
    Ok(material)
}

/// Whether the private key is the one the leaf certificate names: the TLS handshake would fail
/// later with a vague error otherwise.
fn key_fits_certificate(chain: &[Vec<u8>], key_der: &[u8]) -> Result<(), String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certs = chain
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec()));
    match rustls::sign::CertifiedKey::from_der(certs, key, &provider) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => {
            Err("the TLS private key does not belong to the client certificate".into())
        }
        Err(e) => Err(format!("the TLS private key cannot be used: {e}")),
    }
}

/// The key as PKCS#8 DER; legacy PKCS#1 and SEC1 keys are passed through by tag.
fn pem_private_key(
    pem_bytes: &[u8],
    bad: &dyn Fn(&str, String, &str) -> ConfigError,
) -> Result<Vec<u8>, ConfigError> {
    let blocks = pem::parse_many(pem_bytes).unwrap_or_default();
    for block in &blocks {
        let encrypted = block.tag() == "ENCRYPTED PRIVATE KEY"
            || block
                .headers()
                .get("Proc-Type")
                .is_some_and(|v| v.contains("ENCRYPTED"));
        if encrypted {
            // reqwest skips encrypted keys with "private key or certificate not found".
            return Err(bad(
                "tls.key",
                "the TLS private key is encrypted".into(),
                "decrypt it (`openssl pkey -in tls.key -out tls-plain.key`, keep it mode 0600) or use tls.pkcs12 with tls.pkcs12_password_env",
            ));
        }
        if block.tag() == "PRIVATE KEY" {
            return Ok(block.contents().to_vec());
        }
        if matches!(block.tag(), "RSA PRIVATE KEY" | "EC PRIVATE KEY") {
            return Err(bad(
                "tls.key",
                format!("the TLS key is in the legacy {} format", block.tag()),
                "convert it to PKCS#8: `openssl pkcs8 -topk8 -nocrypt -in tls.key -out tls-pkcs8.key`",
            ));
        }
    }
    Err(bad(
        "tls.key",
        "no private key in the file".into(),
        "give the client certificate's private key in PEM (-----BEGIN PRIVATE KEY-----)",
    ))
}

fn pkcs12_identity(
    data: &[u8],
    tls: &Tls,
    bad: &dyn Fn(&str, String, &str) -> ConfigError,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), ConfigError> {
    let password = match &tls.pkcs12_password_env {
        Some(var) => std::env::var(var).map_err(|_| {
            bad(
                "tls.pkcs12_password_env",
                format!("the environment variable {var} is not set"),
                "export it with the PKCS#12 passphrase",
            )
        })?,
        None => String::new(),
    };
    let store = p12_keystore::KeyStore::from_pkcs12(
        data,
        &password,
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .map_err(|e| {
        bad(
            "tls.pkcs12",
            format!("cannot open the PKCS#12 file ({e})"),
            "check the file and tls.pkcs12_password_env (the passphrase)",
        )
    })?;
    for (_, entry) in store.entries() {
        if let p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) = entry
            && !chain.certs().is_empty()
        {
            let certs = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
            return Ok((chain.key().as_der().to_vec(), certs));
        }
    }
    Err(bad(
        "tls.pkcs12",
        "no private key with a certificate in the PKCS#12 file".into(),
        "export the client certificate together with its key",
    ))
}
