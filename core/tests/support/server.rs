//! A scripted HTTP/1.1 server on loopback for fault-injection tests and benchmarks.
//!
//! Each request is recorded and answered with whatever the handler returns for it: a normal
//! response, a reset connection, a body that stalls halfway, or a chunked body. Connections are
//! kept alive like a real server's, so the client's pool behaves as in production.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What to do with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response with `Content-Length`.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The same, with a `Transfer-Encoding: chunked` body (no length known in advance).
    Chunked {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Sends the head and half the body, then stalls for `stall` before the rest.
    SlowBody {
        status: u16,
        body: Vec<u8>,
        stall: Duration,
    },
    /// Closes the connection with a TCP reset, without answering.
    Reset,
    /// Waits, then does the inner reply.
    Delay(Duration, Box<Reply>),
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/fhir+json".into())],
            body: body.into(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Respond { headers, .. } | Self::Chunked { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync + 'static;

pub struct Server {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Starts a server answering each request with `handler(request)`.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Server {
        Self::start_with(handler, true).await
    }

    /// Like [`Server::start`]; `record = false` skips the request log (benchmarks).
    pub async fn start_with(
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
        record: bool,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = sock.set_nodelay(true);
                    let log = Arc::clone(&log);
                    let handler = Arc::clone(&handler);
                    tokio::spawn(async move {
                        let _ = serve(sock, handler, log, record).await;
                    });
                }
            })
        };
        Server { addr, log, task }
    }

    /// The base URL (`http://127.0.0.1:<port>/`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests had a path starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path().starts_with(prefix))
            .count()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        410 => "Gone",
        412 => "Precondition Failed",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn head(status: u16, headers: &[(String, String)], framing: &str) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status} {}\r\n{framing}\r\n", reason(status));
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

async fn serve(
    mut sock: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Recorded>>>,
    record: bool,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head_text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head_text.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let target = first.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let start = head_end + 4;
        while buf.len() < start + len {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[start..start + len].to_vec();
        buf.drain(..start + len);
        let req = Recorded {
            method,
            target,
            headers,
            body,
            at: Instant::now(),
        };
        let mut reply = handler(&req);
        while let Reply::Delay(d, inner) = reply {
            tokio::time::sleep(d).await;
            reply = *inner;
        }
        if record {
            log.lock().unwrap().push(req);
        }
        match reply {
            Reply::Respond {
                status,
                headers,
                body,
            } => {
                let mut out = head(status, &headers, &format!("Content-Length: {}", body.len()));
                out.extend_from_slice(&body);
                sock.write_all(&out).await?;
            }
            Reply::Chunked {
                status,
                headers,
                body,
            } => {
                sock.write_all(&head(status, &headers, "Transfer-Encoding: chunked"))
                    .await?;
                for part in body.chunks(64 * 1024) {
                    sock.write_all(format!("{:x}\r\n", part.len()).as_bytes())
                        .await?;
                    sock.write_all(part).await?;
                    sock.write_all(b"\r\n").await?;
                }
                sock.write_all(b"0\r\n\r\n").await?;
            }
            Reply::SlowBody {
                status,
                body,
                stall,
            } => {
                let h = vec![(
                    "Content-Type".to_owned(),
                    "application/fhir+json".to_owned(),
                )];
                sock.write_all(&head(
                    status,
                    &h,
                    &format!("Content-Length: {}", body.len()),
                ))
                .await?;
                let half = body.len() / 2;
                sock.write_all(&body[..half]).await?;
                sock.flush().await?;
                tokio::time::sleep(stall).await;
                sock.write_all(&body[half..]).await?;
            }
            Reply::Reset => {
                sock.set_zero_linger()?;
                return Ok(());
            }
            Reply::Delay(..) => unreachable!("unwrapped above"),
        }
    }
}
