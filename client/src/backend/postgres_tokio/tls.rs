//! TLS for tokio-postgres connections through rustls (ring, the Mozilla roots), with the modes
//! and certificates [`crate::tls`] settles for sqlx: `verify-full` checks the chain and the host
//! name, `verify-ca` the chain only, `require` and `prefer` encrypt without checking (as libpq
//! and sqlx do), `disable` sends plain text.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sqlx::postgres::PgSslMode;

/// A TLS setting refused before connecting (an unreadable certificate, a key without a
/// certificate).
#[derive(Debug)]
pub(crate) struct TlsRefused(pub(crate) String);

impl std::fmt::Display for TlsRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsRefused {}

/// Where a certificate comes from: a file the URL names, or PEM held in memory.
#[derive(Clone, Debug)]
pub(crate) enum Pem {
    File(std::path::PathBuf),
    Memory(Vec<u8>),
}

impl Pem {
    fn read(&self) -> Result<Vec<u8>, TlsRefused> {
        match self {
            Self::File(path) => std::fs::read(path)
                .map_err(|e| TlsRefused(format!("cannot read {}: {e}", path.display()))),
            Self::Memory(pem) => Ok(pem.clone()),
        }
    }
}

/// The certificates of a connection.
#[derive(Clone, Debug, Default)]
pub(crate) struct Certificates {
    pub(crate) root: Option<Pem>,
    pub(crate) client_cert: Option<Pem>,
    pub(crate) client_key: Option<Pem>,
}

/// The rustls client configuration for `mode` (`None` for `disable` and `allow`, which foxdb
/// connects without TLS, as sqlx does).
pub(crate) fn client_config(
    mode: PgSslMode,
    certificates: &Certificates,
) -> Result<Option<Arc<rustls::ClientConfig>>, TlsRefused> {
    let refused = |e: rustls::Error| TlsRefused(e.to_string());
    if matches!(mode, PgSslMode::Disable | PgSslMode::Allow) {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(refused)?;
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(root) = &certificates.root {
        let pem = root.read()?;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate =
                certificate.map_err(|e| TlsRefused(format!("invalid CA certificate: {e}")))?;
            roots.add(certificate).map_err(refused)?;
        }
    }
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        PgSslMode::VerifyFull => {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsRefused(e.to_string()))?
        }
        PgSslMode::VerifyCa => Arc::new(ChainOnly(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsRefused(e.to_string()))?,
        )),
        _ => Arc::new(Unverified(provider)),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&certificates.client_cert, &certificates.client_key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(&cert.read()?)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| TlsRefused(format!("invalid client certificate: {e}")))?;
            let key = PrivateKeyDer::from_pem_slice(&key.read()?)
                .map_err(|e| TlsRefused(format!("invalid client key: {e}")))?;
            builder.with_client_auth_cert(chain, key).map_err(refused)?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(TlsRefused(
                "a client certificate and its key must be given together".into(),
            ));
        }
    };
    Ok(Some(Arc::new(config)))
}

/// `verify-ca`: the chain must lead to a trusted CA; the name in the certificate may differ.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            verified => verified,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` and `prefer`: encrypted, the certificate not checked (signatures still are).
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// tokio-postgres's TLS hook over a rustls configuration.
#[derive(Clone, Debug)]
pub(crate) struct MakeRustls(pub(crate) Arc<rustls::ClientConfig>);

impl<S> tokio_postgres::tls::MakeTlsConnect<S> for MakeRustls
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = TlsRefused;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, TlsRefused> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| TlsRefused(format!("{domain:?} is not a host name TLS can check: {e}")))?;
        Ok(RustlsConnect {
            connector: tokio_rustls::TlsConnector::from(self.0.clone()),
            name,
        })
    }
}

/// One handshake.
pub(crate) struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl std::fmt::Debug for RustlsConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustlsConnect")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<S> tokio_postgres::tls::TlsConnect<S> for RustlsConnect
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = std::io::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<RustlsStream<S>, std::io::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            self.connector
                .connect(self.name, stream)
                .await
                .map(|stream| RustlsStream(Box::new(stream)))
        })
    }
}

/// An encrypted stream.
#[derive(Debug)]
pub(crate) struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S> tokio_postgres::tls::TlsStream for RustlsStream<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> tokio_postgres::tls::ChannelBinding {
        // SCRAM without channel binding, as sqlx authenticates: the binding's hash must match
        // the certificate's signature algorithm, which a wrong guess turns into a refused login.
        tokio_postgres::tls::ChannelBinding::none()
    }
}

impl<S> tokio::io::AsyncRead for RustlsStream<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S> tokio::io::AsyncWrite for RustlsStream<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
