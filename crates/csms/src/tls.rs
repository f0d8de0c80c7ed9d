//! TLS for both listeners (rustls, `ring` provider): the REST listener speaks `https`
//! when `CSMS_API_TLS_CERT` + `CSMS_API_TLS_KEY` are set, the charger listener `wss`
//! when `CSMS_OCPP_TLS_CERT` + `CSMS_OCPP_TLS_KEY` are (security profile 2).
//!
//! With `CSMS_OCPP_TLS_CLIENT_CA` the charger listener also asks for a client
//! certificate (profile 3). Presenting one is optional at the TLS level, so profile 1/2
//! chargers without a certificate still connect; a presented one must chain to the CA
//! or the TLS handshake fails. The gateway's listener hands the verified certificate's
//! subject CN to the WebSocket handshake (`ocpp_gateway::upgrade`), which decides per
//! station whether it is needed.
//!
//! Every file problem is a start-up error naming the setting and the path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Settings;

/// Why a TLS listener could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{cert} and {key} must be set together")]
    Incomplete {
        cert: &'static str,
        key: &'static str,
    },
    #[error("CSMS_OCPP_TLS_CLIENT_CA needs CSMS_OCPP_TLS_CERT and CSMS_OCPP_TLS_KEY (client certificates need a TLS listener)")]
    ClientCaWithoutTls,
    #[error("{setting}: cannot read {}: {source}", path.display())]
    Read {
        setting: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{setting}: {} is not a valid PEM file: {reason}", path.display())]
    Pem {
        setting: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{setting}: {} holds no {what}", path.display())]
    Empty {
        setting: &'static str,
        path: PathBuf,
        what: &'static str,
    },
    #[error("{setting}: {} was refused: {source}", path.display())]
    Refused {
        setting: &'static str,
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("CSMS_OCPP_TLS_CLIENT_CA: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// One listener's certificate settings, by their variable names.
struct Names {
    cert: &'static str,
    key: &'static str,
}

const OCPP: Names = Names {
    cert: "CSMS_OCPP_TLS_CERT",
    key: "CSMS_OCPP_TLS_KEY",
};
const API: Names = Names {
    cert: "CSMS_API_TLS_CERT",
    key: "CSMS_API_TLS_KEY",
};
const CLIENT_CA: &str = "CSMS_OCPP_TLS_CLIENT_CA";

/// A set path; an empty value counts as unset (e.g. `CSMS_OCPP_TLS_CERT=` in compose).
fn set(path: Option<&PathBuf>) -> Option<&Path> {
    path.map(PathBuf::as_path)
        .filter(|p| !p.as_os_str().is_empty())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        setting,
        path: path.to_owned(),
        source,
    })
}

fn pem_error(setting: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Pem {
        setting,
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn certificates(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(setting, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(setting, path, e))?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            setting,
            path: path.to_owned(),
            what: "certificate",
        });
    }
    Ok(certs)
}

fn private_key(setting: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(setting, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => TlsError::Empty {
            setting,
            path: path.to_owned(),
            what: "private key",
        },
        other => pem_error(setting, path, other),
    })
}

/// Certificate and key of one listener, or `None` when neither is set.
fn cert_and_key<'a>(
    names: &Names,
    cert: Option<&'a PathBuf>,
    key: Option<&'a PathBuf>,
) -> Result<Option<(&'a Path, &'a Path)>, TlsError> {
    match (set(cert), set(key)) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some((cert, key))),
        _ => Err(TlsError::Incomplete {
            cert: names.cert,
            key: names.key,
        }),
    }
}

fn server_config(
    names: &Names,
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<ServerConfig, TlsError> {
    let chain = certificates(names.cert, cert)?;
    let key_der = private_key(names.key, key)?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(CLIENT_CA, ca)? {
                roots.add(cert).map_err(|source| TlsError::Refused {
                    setting: CLIENT_CA,
                    path: ca.to_owned(),
                    source,
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                // Profile 1/2 chargers present no certificate; the handshake decides
                // per station whether one is needed.
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(chain, key_der)
        .map_err(|source| TlsError::Refused {
            setting: names.key,
            path: key.to_owned(),
            source,
        })
}

/// The charger listener's TLS configuration, `None` for plain `ws`.
///
/// # Errors
/// [`TlsError`] when a setting is incomplete or a file unreadable or invalid.
pub fn ocpp_server_config(settings: &Settings) -> Result<Option<ServerConfig>, TlsError> {
    let client_ca = set(settings.ocpp_tls_client_ca.as_ref());
    let Some((cert, key)) = cert_and_key(
        &OCPP,
        settings.ocpp_tls_cert.as_ref(),
        settings.ocpp_tls_key.as_ref(),
    )?
    else {
        return match client_ca {
            Some(_) => Err(TlsError::ClientCaWithoutTls),
            None => Ok(None),
        };
    };
    server_config(&OCPP, cert, key, client_ca).map(Some)
}

/// The REST listener's TLS configuration, `None` for plain `http`.
///
/// # Errors
/// [`TlsError`] when a setting is incomplete or a file unreadable or invalid.
pub fn api_server_config(settings: &Settings) -> Result<Option<ServerConfig>, TlsError> {
    let Some((cert, key)) = cert_and_key(
        &API,
        settings.api_tls_cert.as_ref(),
        settings.api_tls_key.as_ref(),
    )?
    else {
        return Ok(None);
    };
    server_config(&API, cert, key, None).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::default()
    }

    #[test]
    fn no_tls_settings_mean_plain_listeners() {
        assert!(matches!(ocpp_server_config(&settings()), Ok(None)));
        assert!(matches!(api_server_config(&settings()), Ok(None)));
    }

    #[test]
    fn a_certificate_without_a_key_is_refused_naming_both_settings() {
        let mut s = settings();
        s.api_tls_cert = Some("cert.pem".into());
        let err = api_server_config(&s).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("CSMS_API_TLS_CERT and CSMS_API_TLS_KEY must be set together")
        );
    }

    #[test]
    fn a_client_ca_without_a_tls_listener_is_refused() {
        let mut s = settings();
        s.ocpp_tls_client_ca = Some("ca.pem".into());
        assert!(matches!(
            ocpp_server_config(&s),
            Err(TlsError::ClientCaWithoutTls)
        ));
    }

    #[test]
    fn an_unreadable_certificate_file_is_refused_naming_the_setting_and_path() {
        let mut s = settings();
        s.ocpp_tls_cert = Some("/nonexistent/csms-cert.pem".into());
        s.ocpp_tls_key = Some("/nonexistent/csms-key.pem".into());
        let err = ocpp_server_config(&s)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("CSMS_OCPP_TLS_CERT: cannot read /nonexistent/csms-cert.pem"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_pem_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("csms-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap_or_default();
        let mut s = settings();
        s.api_tls_cert = Some(junk.clone());
        s.api_tls_key = Some(junk.clone());
        let err = api_server_config(&s)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            err.starts_with("CSMS_API_TLS_CERT:") && err.contains("holds no certificate"),
            "{err}"
        );
    }
}
