//! Admission control over real sockets (issue #12, part 2):
//! - Found: a connection slot was taken before the TLS handshake and held for the 10 s handshake timeout, so
//!   500 bare TCP connects (no certificate needed) delayed a legitimate client by 38 s. Here 500 half-open
//!   connections and 3,000 more attempts come from 127.0.0.2 (another address of the loopback range) while a
//!   legitimate client from 127.0.0.1 must connect and get an answer in under a second.
//! - Found: 20 slow senders each pinned a 16 MiB body for the 30 s read timeout. Here a server with room for
//!   one maximal message holds a slow sender's reservation; another client's message is answered with an error
//!   naming `max_pending_request_bytes` (its framing kept), and is served once the slow sender is gone.

mod common;
mod e2e_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{read_response, TestServer};
use e2e_support::*;
use kmip::payloads::DiscoverVersionsRequest;
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage, ResultReason, ResultStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const ATTACKER: &str = "127.0.0.2";
const HALF_OPEN: usize = 500;
const MORE_ATTEMPTS: usize = 3_000;

async fn connect_from(source: &str, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().expect("source address"))?;
    socket.connect(server).await
}

/// Whether the server closed `stream` (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_from_one_address_cannot_delay_another_client() {
    let setup = SetUp::init();
    let server = ServerProcess::start(&setup).unwrap_or_else(|log| panic!("{log}"));

    let mut held = Vec::with_capacity(HALF_OPEN);
    for _ in 0..HALF_OPEN {
        held.push(
            connect_from(ATTACKER, server.addr)
                .await
                .expect("TCP connect"),
        );
    }
    let mut attempts = Vec::with_capacity(MORE_ATTEMPTS / 100);
    for _ in 0..MORE_ATTEMPTS / 100 {
        let addr = server.addr;
        attempts.push(tokio::spawn(async move {
            for _ in 0..100 {
                // The connect may succeed (then the server closes it) or be refused: either is fine.
                if let Ok(mut stream) = connect_from(ATTACKER, addr).await {
                    let _ = stream.write_all(b"\x16\x03\x01").await;
                }
            }
        }));
    }

    let started = Instant::now();
    let mut client = server.connect(&setup.client).await;
    client
        .discover_versions(vec![])
        .await
        .expect("the legitimate client is served");
    let took = started.elapsed();
    println!("legitimate client connected and answered in {took:.1?} under {HALF_OPEN} half-open connections");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    for attempt in attempts {
        attempt.await.expect("attempt task");
    }

    // The server kept at most its per-address share of the half-open connections and closed the rest at once.
    let mut closed = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_millis(50)).await {
            closed += 1;
        }
    }
    assert!(
        closed >= HALF_OPEN - 64,
        "only {closed} of {HALF_OPEN} half-open connections were closed"
    );
    // The ones it kept are closed when their handshake time is up (5 s by default).
    tokio::time::sleep(Duration::from_secs(6)).await;
    for stream in &mut held {
        assert!(closed_within(stream, Duration::from_millis(200)).await);
    }
    // And the server still serves.
    client
        .discover_versions(vec![])
        .await
        .expect("still served");
}

fn discover_versions() -> Vec<u8> {
    let request = RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![RequestBatchItem::new(DiscoverVersionsRequest::default())],
    );
    ttlv::binary::encode(&request.to_ttlv()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sender_cannot_pin_more_than_the_servers_request_memory() {
    const ONE_MIB: usize = 1024 * 1024;
    let server = TestServer::start_with(|config| {
        config.limits.max_message_size = ONE_MIB;
        config.limits.max_pending_request_bytes = ONE_MIB;
    })
    .await;
    // The slow sender declares a 1 MiB message, sends a little of it and stalls.
    let mut slow = server.connect_raw().await;
    let mut header = vec![0x42, 0x00, 0x78, 0x01];
    header.extend_from_slice(&((ONE_MIB - 8) as u32).to_be_bytes());
    slow.write_all(&header).await.unwrap();
    slow.write_all(&[0u8; 4096]).await.unwrap();
    slow.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut other = server.connect_raw().await;
    other.write_all(&discover_versions()).await.unwrap();
    let refused = read_response(&mut other)
        .await
        .expect("an answer, not a close");
    assert_eq!(refused.items.len(), 1);
    assert_eq!(
        refused.items[0].result_status,
        ResultStatus::OperationFailed
    );
    assert_eq!(
        refused.items[0].result_reason,
        Some(ResultReason::GeneralFailure)
    );
    let message = refused.items[0].result_message.clone().unwrap_or_default();
    assert!(message.contains("max_pending_request_bytes"), "{message}");

    // The slow sender gives up: its reservation is released, and the same connection of the other client is
    // served (its framing survived the refusal).
    drop(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    other.write_all(&discover_versions()).await.unwrap();
    let served = read_response(&mut other).await.expect("an answer");
    assert_eq!(served.items[0].result_status, ResultStatus::Success);
}
