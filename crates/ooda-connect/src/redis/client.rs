//! A minimal, blocking RESP2 client: exactly the commands dedup needs (AUTH, SELECT, SET NX PX,
//! DEL), with a timeout on connect, read and write. Blocking matches the `Dedup` port, which is
//! synchronous; each call is one round trip on a kept-open connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A reply, as far as dedup cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    /// Arrays are not used by these commands; their length is kept for error messages.
    Array(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum RespError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("redis error: {0}")]
    Server(String),
    #[error("unexpected reply: {0}")]
    Protocol(String),
}

/// One connection.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    pub fn connect(address: &str, timeout: Duration) -> Result<Self, RespError> {
        let mut last = None;
        for addr in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))?;
                    stream.set_nodelay(true)?;
                    return Ok(Self {
                        reader: BufReader::new(stream),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(RespError::Io(last.unwrap_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{address} resolves to nothing"),
            )
        })))
    }

    /// Sends one command and reads its reply; a `-ERR` reply is [`RespError::Server`].
    pub fn command(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&out)?;
        self.read_reply()
    }

    fn line(&mut self) -> Result<String, RespError> {
        let mut line = Vec::new();
        // A reply line longer than this is not one these commands produce.
        (&mut self.reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\r\n") {
            return Err(RespError::Protocol("connection closed mid-reply".into()));
        }
        line.truncate(line.len() - 2);
        String::from_utf8(line).map_err(|_| RespError::Protocol("non-UTF-8 reply line".into()))
    }

    fn read_reply(&mut self) -> Result<Reply, RespError> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(line.len().min(1));
        let number = |text: &str| {
            text.parse::<i64>()
                .map_err(|_| RespError::Protocol(format!("expected a number, found {text:?}")))
        };
        match kind {
            "+" => Ok(Reply::Simple(rest.to_owned())),
            "-" => Err(RespError::Server(rest.to_owned())),
            ":" => Ok(Reply::Integer(number(rest)?)),
            "$" => {
                let len = number(rest)?;
                if len < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let len =
                    usize::try_from(len).map_err(|_| RespError::Protocol("bulk length".into()))?;
                if len > 16 * 1024 * 1024 {
                    return Err(RespError::Protocol(format!("bulk of {len} bytes refused")));
                }
                let mut data = vec![0; len + 2];
                self.reader.read_exact(&mut data)?;
                data.truncate(len);
                Ok(Reply::Bulk(Some(data)))
            }
            "*" => Ok(Reply::Array(number(rest)?)),
            _ => Err(RespError::Protocol(format!(
                "unknown reply type in {line:?}"
            ))),
        }
    }
}
