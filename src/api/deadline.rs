//! The two wrappers through which `serve` watches a connection: the socket, to see when a
//! request head starts arriving and whether the peer takes the answers written to it (and
//! to refuse, as problem+json, a head the HTTP parser
//! would answer with a bare status: see `head_scan`), and each request body, to end it at
//! its deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::conn::Conn;
use super::head_scan::HeadScan;

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A socket that tells its connection when bytes arrive.
pub struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
    /// The request head being read, while one is.
    head: Option<HeadScan>,
    /// Set once a request line was refused: the parser sees the end of the stream.
    refused: bool,
    /// Bytes read so far, while fewer than the HTTP/2 preface's.
    opening: usize,
}

impl Watched {
    pub fn new(stream: TcpStream, conn: Arc<Conn>) -> Self {
        Self {
            stream,
            conn,
            head: None,
            refused: false,
            opening: 0,
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.refused {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            if self.opening < HTTP2_PREFACE.len() {
                let fresh = &buf.filled()[before..];
                let at = self.opening;
                let n = fresh.len().min(HTTP2_PREFACE.len() - at);
                if fresh[..n] == HTTP2_PREFACE[at..at + n] && at + n == HTTP2_PREFACE.len() {
                    self.conn.speaks_http2();
                }
                self.opening = if fresh[..n] == HTTP2_PREFACE[at..at + n] {
                    at + n
                } else {
                    usize::MAX
                };
            }
            let starts = self.conn.read_some();
            let this = &mut *self;
            if starts {
                this.head = Some(HeadScan::default());
            }
            let scanned = match &mut this.head {
                Some(scan) => scan.read(&buf.filled()[before..]),
                None => Ok(false),
            };
            match scanned {
                Ok(true) => this.head = None,
                Ok(false) => {}
                Err(refusal) => {
                    // Small enough for the socket's send buffer; the connection closes after.
                    let _ = this.stream.try_write(&refusal.raw_response());
                    this.refused = true;
                    this.head = None;
                    buf.set_filled(before);
                }
            }
        }
        polled
    }
}

impl Watched {
    /// Tells the connection whether the peer is taking what is written to it.
    fn note(&self, polled: &Poll<std::io::Result<usize>>) {
        match polled {
            Poll::Pending => self.conn.write_blocked(),
            Poll::Ready(Ok(n)) if *n > 0 => self.conn.wrote(),
            Poll::Ready(_) => {}
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.note(&polled);
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.note(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The body of a request did not arrive whole in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A request body that fails once its deadline passes, however slowly it trickles in, and
/// tells its connection when it is dropped unread.
pub struct Deadline<B: Body> {
    body: B,
    sleep: Pin<Box<Sleep>>,
    after: Duration,
    conn: Arc<Conn>,
    ended: bool,
}

impl<B: Body> Deadline<B> {
    pub fn new(body: B, after: Duration, conn: Arc<Conn>) -> Self {
        Self {
            body,
            sleep: Box::pin(tokio::time::sleep(after)),
            after,
            conn,
            ended: false,
        }
    }
}

impl<B: Body> Drop for Deadline<B> {
    fn drop(&mut self) {
        if !self.ended && !self.body.is_end_stream() {
            self.conn.body_left_unread();
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = B::Data;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            self.ended |= frame.is_none();
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.after))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The body timeout behind an error, if that is what ended the body.
pub fn timed_out<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimedOut> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(late) = e.downcast_ref::<BodyTimedOut>() {
            return Some(late);
        }
        source = e.source();
    }
    None
}
