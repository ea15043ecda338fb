//! TTLV message framing over any async byte stream: the length a peer declares is checked against the limit
//! before a single byte of the body is read, so a hostile length cannot make us allocate or wait for it.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ttlv::Limits;

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The header declares a message longer than the limit (nothing more was read).
    #[error("message of {declared} bytes exceeds the limit of {max} bytes")]
    TooLarge { declared: u64, max: usize },
    /// The 8-byte header is not a valid TTLV item header (unknown type, bad fixed length, ...).
    #[error("invalid message header: {0}")]
    InvalidHeader(ttlv::DecodeError),
    /// The peer closed the stream cleanly before sending any byte of a new message.
    #[error("connection closed")]
    Closed,
    /// The stream ended inside a message.
    #[error("connection closed after {received} of {expected} bytes of a message")]
    UnexpectedEof { received: usize, expected: usize },
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// Reads one whole TTLV message (header included) from `reader`.
///
/// Returns [`TransportError::Closed`] when the stream ends cleanly between messages.
pub async fn read_message<R>(reader: &mut R, limits: &Limits) -> Result<Vec<u8>, TransportError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let (header, total) = read_header(reader, limits).await?;
    read_body(reader, header, total).await
}

/// Reads a message's 8-byte header and returns it with the message's total length, checked against the limit:
/// a server can reserve memory for the body (or refuse it) before reading it.
///
/// Returns [`TransportError::Closed`] when the stream ends cleanly before the first byte.
pub async fn read_header<R>(
    reader: &mut R,
    limits: &Limits,
) -> Result<([u8; 8], usize), TransportError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut header = [0u8; 8];
    let mut filled = 0;
    while filled < header.len() {
        let n = reader.read(&mut header[filled..]).await?;
        if n == 0 {
            return Err(if filled == 0 {
                TransportError::Closed
            } else {
                TransportError::UnexpectedEof {
                    received: filled,
                    expected: 8,
                }
            });
        }
        filled += n;
    }
    let total = ttlv::binary::message_length_with(&header, limits).map_err(|e| match e {
        ttlv::DecodeError::MessageTooLarge { size, max } => TransportError::TooLarge {
            declared: size,
            max,
        },
        other => TransportError::InvalidHeader(other),
    })?;
    Ok((header, total))
}

/// Reads the rest of the message whose header [`read_header`] returned: the whole message, header included.
pub async fn read_body<R>(
    reader: &mut R,
    header: [u8; 8],
    total: usize,
) -> Result<Vec<u8>, TransportError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&header);
    let body_len = total - header.len();
    let read = reader
        .take(body_len as u64)
        .read_to_end(&mut message)
        .await?;
    if read < body_len {
        return Err(TransportError::UnexpectedEof {
            received: 8 + read,
            expected: total,
        });
    }
    Ok(message)
}

/// Reads and drops the rest of a message whose body will not be kept (a server refusing it for lack of memory
/// keeps the stream's framing, so it can still answer), holding at most a small buffer.
pub async fn skip_body<R>(reader: &mut R, total: usize) -> Result<(), TransportError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let body_len = (total - 8) as u64;
    let skipped = tokio::io::copy(&mut reader.take(body_len), &mut tokio::io::sink()).await?;
    if skipped < body_len {
        return Err(TransportError::UnexpectedEof {
            received: 8 + skipped as usize,
            expected: total,
        });
    }
    Ok(())
}

/// [`read_message`] bounded by `timeout`.
pub async fn read_message_timeout<R>(
    reader: &mut R,
    limits: &Limits,
    timeout: Duration,
) -> Result<Vec<u8>, TransportError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    tokio::time::timeout(timeout, read_message(reader, limits))
        .await
        .map_err(|_| TransportError::Timeout(timeout))?
}

/// Writes one encoded message and flushes it.
pub async fn write_message<W>(writer: &mut W, message: &[u8]) -> Result<(), TransportError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    writer.write_all(message).await?;
    writer.flush().await?;
    Ok(())
}

/// [`write_message`] bounded by `timeout`.
pub async fn write_message_timeout<W>(
    writer: &mut W,
    message: &[u8],
    timeout: Duration,
) -> Result<(), TransportError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    tokio::time::timeout(timeout, write_message(writer, message))
        .await
        .map_err(|_| TransportError::Timeout(timeout))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlv::{tags, Item, Value};

    fn sample() -> Vec<u8> {
        let item = Item::structure(
            tags::PROTOCOL_VERSION,
            vec![
                Item::new(tags::PROTOCOL_VERSION_MAJOR, Value::Integer(2)),
                Item::new(tags::PROTOCOL_VERSION_MINOR, Value::Integer(1)),
            ],
        );
        ttlv::binary::encode(&item).unwrap()
    }

    #[tokio::test]
    async fn reads_back_to_back_messages_one_at_a_time() {
        let one = sample();
        let mut stream: Vec<u8> = one.iter().chain(one.iter()).copied().collect();
        stream.push(0x42); // start of a third, truncated message
        let mut reader = stream.as_slice();
        assert_eq!(
            read_message(&mut reader, &Limits::default()).await.unwrap(),
            one
        );
        assert_eq!(
            read_message(&mut reader, &Limits::default()).await.unwrap(),
            one
        );
        assert!(matches!(
            read_message(&mut reader, &Limits::default()).await,
            Err(TransportError::UnexpectedEof {
                received: 1,
                expected: 8
            })
        ));
    }

    #[tokio::test]
    async fn clean_end_of_stream_is_closed() {
        let mut reader: &[u8] = &[];
        assert!(matches!(
            read_message(&mut reader, &Limits::default()).await,
            Err(TransportError::Closed)
        ));
    }

    #[tokio::test]
    async fn oversized_declared_length_is_rejected_before_the_body() {
        // A Structure declaring 1 GiB, with no body at all: must fail on the header alone.
        let header = [0x42, 0x00, 0x78, 0x01, 0x40, 0x00, 0x00, 0x00];
        let mut reader: &[u8] = &header;
        let limits = Limits {
            max_message_size: 4096,
            ..Limits::default()
        };
        match read_message(&mut reader, &limits).await {
            Err(TransportError::TooLarge { declared, max }) => {
                assert_eq!(declared, 8 + 0x4000_0000);
                assert_eq!(max, 4096);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn truncated_body_is_unexpected_eof() {
        let one = sample();
        let mut reader = &one[..one.len() - 3];
        assert!(matches!(
            read_message(&mut reader, &Limits::default()).await,
            Err(TransportError::UnexpectedEof { .. })
        ));
    }

    #[tokio::test]
    async fn invalid_type_in_header_is_rejected() {
        let header = [0x42, 0x00, 0x78, 0x0F, 0x00, 0x00, 0x00, 0x08];
        let mut reader: &[u8] = &header;
        assert!(matches!(
            read_message(&mut reader, &Limits::default()).await,
            Err(TransportError::InvalidHeader(_))
        ));
    }

    #[tokio::test]
    async fn silent_peer_times_out() {
        let (mut client, _server) = tokio::io::duplex(64);
        let result =
            read_message_timeout(&mut client, &Limits::default(), Duration::from_millis(20)).await;
        assert!(matches!(result, Err(TransportError::Timeout(_))));
    }
}
