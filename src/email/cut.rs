//! A session's socket that can be cut from outside the SMTP client: once [`Cut::now`] is
//! called, nothing more is written to it. The client (lettre) owns the stream while a message
//! is sent; the [`Cut`] is the handle we keep, so that when the ledger cannot record a message
//! as *sending*, the terminating `.` of its data never reaches the server, which then discards
//! the message.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;

/// The handle that cuts a [`CutStream`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Cut(Arc<AtomicBool>);

impl Cut {
    /// From now on every write to the stream fails, and nothing of it reaches the server.
    pub(crate) fn now(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_cut(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A stream that refuses every write once its [`Cut`] was used.
#[derive(Debug)]
pub(crate) struct CutStream {
    inner: Box<dyn AsyncTokioStream>,
    cut: Cut,
}

impl CutStream {
    /// `inner`, and the handle that cuts it.
    pub(crate) fn new(inner: Box<dyn AsyncTokioStream>) -> (CutStream, Cut) {
        let cut = Cut::default();
        (
            CutStream {
                inner,
                cut: cut.clone(),
            },
            cut,
        )
    }

    fn refused() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "the connection was cut before the end of the message",
        )
    }
}

impl AsyncTokioStream for CutStream {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.peer_addr()
    }
}

impl tokio::io::AsyncRead for CutStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CutStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.cut.is_cut() {
            return Poll::Ready(Err(CutStream::refused()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.cut.is_cut() {
            return Poll::Ready(Err(CutStream::refused()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use tokio::io::AsyncWrite;

    async fn write(stream: &mut CutStream, bytes: &[u8]) -> std::io::Result<usize> {
        std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, bytes)).await
    }

    /// Writes before the cut arrive; after it, every write fails, and the peer reads only the
    /// bytes written before, then the end of the stream once the cut stream is dropped.
    #[test]
    fn nothing_written_after_the_cut_reaches_the_peer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut stream, cut) = CutStream::new(Box::new(client));
            assert_eq!(write(&mut stream, b"body\r\n").await.unwrap(), 6);
            cut.now();
            assert!(write(&mut stream, b".\r\n").await.is_err());
            let flushed = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_flush(cx)).await;
            assert!(flushed.is_err());
        });
        let (mut server, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"body\r\n");
    }
}
