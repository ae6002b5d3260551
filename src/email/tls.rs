//! TLS for SMTP sessions: lettre's parameters for STARTTLS, and implicit TLS (`smtps://`) over
//! our own socket. Both trust the system's roots plus the optional extra CA, and always verify.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use anyhow::{Context, Result, anyhow};
use lettre::transport::smtp::client::{AsyncTokioStream, Certificate, TlsParameters};
use rustls::pki_types::ServerName;

use crate::email::smtp::{Security, SmtpSettings};

/// Builds the STARTTLS parameters; `None` for a plaintext endpoint.
pub(crate) fn tls_parameters(settings: &SmtpSettings) -> Result<Option<TlsParameters>> {
    if settings.endpoint.security == Security::None {
        return Ok(None);
    }
    let mut builder = TlsParameters::builder(settings.endpoint.host.clone());
    if let Some(ca) = &settings.ca {
        let pem =
            std::fs::read(ca).with_context(|| format!("cannot read CA file {}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| anyhow!("CA file {} is not a PEM certificate: {e}", ca.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    let params = builder
        .build_rustls()
        .map_err(|e| anyhow!("cannot set up TLS: {e}"))?;
    Ok(Some(params))
}

/// The rustls configuration for implicit TLS.
pub(crate) fn implicit_tls_config(settings: &SmtpSettings) -> Result<Arc<rustls::ClientConfig>> {
    client_config(settings.ca.as_deref())
}

/// The rustls configuration for a client: the system's roots and `ca`, if any (IMAP uses it
/// for implicit TLS and for STARTTLS alike).
pub(crate) fn client_config(ca: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(ca) = ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow!("CA file {} is not a PEM certificate: {e}", ca.display()))?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| anyhow!("CA file {}: {e}", ca.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry, or why `host` cannot be one.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("`{host}` is not a valid TLS server name: {e}"))
}

/// A TLS stream over our own socket, in the shape lettre takes for a transport.
#[derive(Debug)]
pub(crate) struct ImplicitTls(tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl ImplicitTls {
    /// The TLS handshake over `tcp`, the server's certificate checked against `name`.
    pub(crate) async fn handshake(
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
        tcp: tokio::net::TcpStream,
    ) -> std::io::Result<Self> {
        let connector = tokio_rustls::TlsConnector::from(config);
        connector.connect(name, tcp).await.map(ImplicitTls)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
