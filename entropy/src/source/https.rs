//! An upstream HTTPS QRNG service speaking a JSON API, e.g. ANU's
//! `GET ...?length=N&type=uint8` with header `x-api-key`, answering `{"success":true,"type":"uint8","length":N,
//! "data":[...]}`.
//!
//! The request is a GET of the configured URL (which carries any fixed parameters, e.g. `?type=uint8`) plus the
//! length parameter; the answer's optional success flag and its data are found by JSON Pointer (RFC 6901).
//! Anything else than exactly the requested amount of well-formed data is a typed failure.
//!
//! A network service is third-party trust: by default it is not credited (mixed in as additional input only).

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use zeroize::{Zeroize, Zeroizing};

use super::{check_assessment, EntropySource, SourceError, SourceInfo, SourceKind};

/// Largest answer body read, bytes: a 1024-number answer is a few KiB; this bounds a hostile server.
pub const MAX_BODY_BYTES: u64 = 1 << 20;

/// How the service encodes random data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpsDataFormat {
    /// An array of integers 0..=255, one byte each.
    Uint8,
    /// An array of integers 0..=65535, two bytes each (big-endian).
    Uint16,
    /// An array of hex strings (or one hex string), each decoding to `bytes_per_item` bytes.
    HexString { bytes_per_item: usize },
}

impl HttpsDataFormat {
    fn bytes_per_item(self) -> usize {
        match self {
            Self::Uint8 => 1,
            Self::Uint16 => 2,
            Self::HexString { bytes_per_item } => bytes_per_item,
        }
    }
}

/// Which certificate authorities the client trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustRoots {
    /// The Mozilla root program (webpki-roots).
    WebPki,
    /// Only the certificates in this PEM file.
    PemFile(PathBuf),
}

/// The API key header; the value is a secret (zeroized, redacted).
#[derive(Clone)]
pub struct ApiKey {
    pub header: String,
    pub value: Zeroizing<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("header", &self.header)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// How the operator configured an HTTPS source.
#[derive(Clone, Debug)]
pub struct HttpsSourceConfig {
    /// `https://` URL, including any fixed query parameters.
    pub url: String,
    pub api_key: Option<ApiKey>,
    /// Query parameter carrying the number of items requested. Default `length`.
    pub length_param: String,
    /// Most items one request may ask for (the service's limit). Default 1024.
    pub max_items_per_request: usize,
    /// JSON Pointer to a boolean that must be `true`, if the API has one. Default `/success`.
    pub success_pointer: Option<String>,
    /// JSON Pointer to the data. Default `/data`.
    pub data_pointer: String,
    pub format: HttpsDataFormat,
    pub trust: TrustRoots,
    pub timeout: Duration,
    /// Whether the service's randomness is of quantum origin, as the operator judges it. Default true.
    pub quantum: bool,
    /// Assessed min-entropy per byte. Default 4.0.
    pub min_entropy_per_sample: f64,
    /// Default false: third-party trust is additional input unless the operator credits it.
    pub credited: bool,
}

impl HttpsSourceConfig {
    /// ANU-shaped defaults (`length`, `/success`, `/data`, uint8, 1024 per request, webpki roots, 30 s).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: None,
            length_param: "length".to_owned(),
            max_items_per_request: 1024,
            success_pointer: Some("/success".to_owned()),
            data_pointer: "/data".to_owned(),
            format: HttpsDataFormat::Uint8,
            trust: TrustRoots::WebPki,
            timeout: Duration::from_secs(30),
            quantum: true,
            min_entropy_per_sample: 4.0,
            credited: false,
        }
    }

    pub fn with_api_key(mut self, header: impl Into<String>, value: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey {
            header: header.into(),
            value: Zeroizing::new(value.into()),
        });
        self
    }
}

/// What went wrong talking to the service.
#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    #[error("cannot reach the service: {0}")]
    Transport(String),
    #[error("the service answered HTTP {status}")]
    Status { status: u16 },
    #[error("reading the answer failed: {0}")]
    Body(std::io::Error),
    #[error("the answer is longer than {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("the answer is not JSON: {0}")]
    BadJson(String),
    #[error("the answer's {pointer} is not true")]
    NotSuccessful { pointer: String },
    #[error("the answer has no {pointer}")]
    MissingData { pointer: String },
    #[error("the answer's data is not {expected}")]
    WrongShape { expected: &'static str },
    #[error("asked for {requested} items, the answer has {received}")]
    WrongLength { requested: usize, received: usize },
    #[error("item {index} is {value}, outside 0..={max}")]
    OutOfRange {
        index: usize,
        value: String,
        max: u32,
    },
    #[error("item {index} is not {bytes} bytes of hex")]
    BadHex { index: usize, bytes: usize },
    #[error("trust roots: {0}")]
    TrustRoots(String),
}

/// An HTTPS QRNG service.
pub struct HttpsSource {
    info: SourceInfo,
    config: HttpsSourceConfig,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsSource")
            .field("info", &self.info)
            .field("config", &self.config)
            .finish()
    }
}

impl HttpsSource {
    pub fn new(config: HttpsSourceConfig) -> Result<Self, SourceError> {
        let id = config.url.clone();
        let invalid = |reason: String| SourceError::InvalidConfig {
            id: id.clone(),
            reason,
        };
        check_assessment(&id, 8, config.min_entropy_per_sample)?;
        if !config.url.to_ascii_lowercase().starts_with("https://") {
            return Err(invalid("the URL must be https://".to_owned()));
        }
        if config.max_items_per_request == 0 || config.format.bytes_per_item() == 0 {
            return Err(invalid(
                "items per request and bytes per item must be positive".to_owned(),
            ));
        }
        if config.length_param.is_empty() {
            return Err(invalid("the length parameter name is empty".to_owned()));
        }
        let tls = tls_config(&config.trust).map_err(|error| SourceError::Https {
            id: id.clone(),
            error,
        })?;
        let agent = ureq::AgentBuilder::new()
            .tls_config(tls)
            .timeout(config.timeout)
            .https_only(true)
            .redirects(0)
            .try_proxy_from_env(false)
            .build();
        Ok(Self {
            info: SourceInfo {
                id,
                kind: SourceKind::Https,
                quantum: config.quantum,
                sample_bits: 8,
                min_entropy_per_sample: config.min_entropy_per_sample,
                credited: config.credited,
            },
            config,
            agent,
        })
    }

    fn fail(&self, error: HttpsError) -> SourceError {
        SourceError::Https {
            id: self.info.id.clone(),
            error,
        }
    }

    /// One request for `items` items; returns their bytes.
    fn fetch(&self, items: usize) -> Result<Zeroizing<Vec<u8>>, HttpsError> {
        let mut request = self
            .agent
            .get(&self.config.url)
            .query(&self.config.length_param, &items.to_string());
        if let Some(key) = &self.config.api_key {
            request = request.set(&key.header, &key.value);
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, _)) => return Err(HttpsError::Status { status }),
            Err(ureq::Error::Transport(t)) => return Err(HttpsError::Transport(t.to_string())),
        };
        let mut body = Zeroizing::new(Vec::new());
        response
            .into_reader()
            .take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(HttpsError::Body)?;
        if body.len() as u64 > MAX_BODY_BYTES {
            return Err(HttpsError::BodyTooLarge);
        }
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| HttpsError::BadJson(e.to_string()))?;
        let result = self.decode(&json, items);
        zeroize_json(json);
        result
    }

    fn decode(
        &self,
        json: &serde_json::Value,
        items: usize,
    ) -> Result<Zeroizing<Vec<u8>>, HttpsError> {
        if let Some(pointer) = &self.config.success_pointer {
            if json.pointer(pointer) != Some(&serde_json::Value::Bool(true)) {
                return Err(HttpsError::NotSuccessful {
                    pointer: pointer.clone(),
                });
            }
        }
        let pointer = &self.config.data_pointer;
        let data = json
            .pointer(pointer)
            .ok_or_else(|| HttpsError::MissingData {
                pointer: pointer.clone(),
            })?;
        let mut out = Zeroizing::new(Vec::with_capacity(
            items * self.config.format.bytes_per_item(),
        ));
        match self.config.format {
            HttpsDataFormat::Uint8 | HttpsDataFormat::Uint16 => {
                let wide = self.config.format == HttpsDataFormat::Uint16;
                let array = data.as_array().ok_or(HttpsError::WrongShape {
                    expected: "an array of integers",
                })?;
                check_length(items, array.len())?;
                let max: u32 = if wide { 0xffff } else { 0xff };
                for (index, value) in array.iter().enumerate() {
                    let n = value
                        .as_u64()
                        .filter(|&n| n <= u64::from(max))
                        .ok_or_else(|| HttpsError::OutOfRange {
                            index,
                            value: value.to_string(),
                            max,
                        })?;
                    if wide {
                        out.extend_from_slice(&(n as u16).to_be_bytes());
                    } else {
                        out.push(n as u8);
                    }
                }
            }
            HttpsDataFormat::HexString { bytes_per_item } => {
                let strings: Vec<&str> = match data {
                    serde_json::Value::String(s) if items == 1 => vec![s.as_str()],
                    serde_json::Value::Array(array) => array
                        .iter()
                        .map(|v| {
                            v.as_str().ok_or(HttpsError::WrongShape {
                                expected: "an array of hex strings",
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(HttpsError::WrongShape {
                            expected: "an array of hex strings",
                        })
                    }
                };
                check_length(items, strings.len())?;
                for (index, s) in strings.iter().enumerate() {
                    let mut bytes = Zeroizing::new(vec![0u8; bytes_per_item]);
                    if s.len() != 2 * bytes_per_item || hex::decode_to_slice(s, &mut bytes).is_err()
                    {
                        return Err(HttpsError::BadHex {
                            index,
                            bytes: bytes_per_item,
                        });
                    }
                    out.extend_from_slice(&bytes);
                }
            }
        }
        Ok(out)
    }
}

fn check_length(requested: usize, received: usize) -> Result<(), HttpsError> {
    if requested == received {
        Ok(())
    } else {
        Err(HttpsError::WrongLength {
            requested,
            received,
        })
    }
}

/// Overwrites the strings of a parsed answer (hex data) before it is dropped; numbers cannot be reached.
fn zeroize_json(mut json: serde_json::Value) {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => s.zeroize(),
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut json);
}

fn tls_config(trust: &TrustRoots) -> Result<Arc<rustls::ClientConfig>, HttpsError> {
    let mut roots = rustls::RootCertStore::empty();
    match trust {
        TrustRoots::WebPki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        TrustRoots::PemFile(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| HttpsError::TrustRoots(format!("{}: {e}", path.display())))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| HttpsError::TrustRoots(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| HttpsError::TrustRoots(format!("{}: {e}", path.display())))?;
            }
            if roots.is_empty() {
                return Err(HttpsError::TrustRoots(format!(
                    "{}: no certificates",
                    path.display()
                )));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpsError::TrustRoots(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl EntropySource for HttpsSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        if out.is_empty() {
            return Ok(0);
        }
        let per_item = self.config.format.bytes_per_item();
        let items = (out.len() / per_item).clamp(1, self.config.max_items_per_request);
        let bytes = self.fetch(items).map_err(|e| self.fail(e))?;
        let n = bytes.len().min(out.len());
        out[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }
}
