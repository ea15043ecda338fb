//! The object cache of `qkms-server` processes on one PostgreSQL database, with real clients over real TLS: a
//! key read (and so cached) on node 2 and then activated, modified, revoked or destroyed on node 3 is served by
//! node 2 with the change right after node 3 acknowledged it; a change made while a node is frozen (SIGSTOP) is
//! acknowledged only once the frozen node's lease has run out, and after SIGCONT that node does not serve its
//! stale row; a node stopped cleanly removes its lease at once.

mod e2e_support;
mod pg_cluster;
mod pg_options;
mod pg_support;

use std::process::Command;
use std::time::{Duration, Instant};

use e2e_support::*;
use kmip::attributes::{Attribute, Attributes};
use kmip::client::Client;
use kmip::enums::{RevocationReasonCode, State};
use kmip::payloads::{ModifyAttributeRequest, RevocationReason, RevokeRequest};
use pg_cluster::Cluster;

/// The lease the nodes of these tests hold (short, so that the frozen-node test waits little).
const LEASE_MS: u64 = 2000;

fn cluster() -> Cluster {
    Cluster::new(|_| {})
}

fn start(cluster: &Cluster, n: usize) -> ServerProcess {
    let config = cluster.node_config_with(n, |c| c.store.object_cache_lease_ms = LEASE_MS);
    cluster.start_from(n, &config.file)
}

async fn attributes(client: &mut Client, uid: &str) -> Attributes {
    attributes_of(
        client
            .get_attributes(get_attributes(uid))
            .await
            .expect("Get Attributes"),
    )
}

fn description(attributes: &Attributes) -> Option<String> {
    attributes.iter().find_map(|a| match a {
        Attribute::Description(d) => Some(d.clone()),
        _ => None,
    })
}

fn state(attributes: &Attributes) -> Option<State> {
    attributes.iter().find_map(|a| match a {
        Attribute::State(s) => Some(*s),
        _ => None,
    })
}

/// A Description to create keys with (Modify Attribute changes an attribute the key has).
fn described() -> Vec<Attribute> {
    vec![Attribute::Description("as created".into())]
}

async fn describe(client: &mut Client, uid: &str, text: &str) {
    client
        .modify_attribute(ModifyAttributeRequest {
            unique_identifier: Some(uid.into()),
            current_attribute: None,
            new_attribute: Attribute::Description(text.into()).into(),
        })
        .await
        .expect("Modify Attribute");
}

fn signal(node: &ServerProcess, name: &str) {
    let sent = Command::new("kill")
        .args([name, &node.pid().to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(sent.success(), "kill {name}");
}

/// Waits until `n` nodes hold a cache lease.
fn wait_for_leases(cluster: &Cluster, n: usize) {
    let joined = pg_support::PgServer::wait_until(Duration::from_secs(10), || {
        cluster.sql("SELECT COUNT(*) FROM qkms_cache_nodes") == n.to_string()
    });
    assert!(joined, "{n} nodes hold a lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_node_is_served_by_a_node_that_cached_the_key_as_soon_as_it_is_acknowledged(
) {
    let cluster = cluster();
    let nodes: Vec<ServerProcess> = (1..=3).map(|n| start(&cluster, n)).collect();
    wait_for_leases(&cluster, 3);
    let mut one = nodes[0].connect(&cluster.setup.client).await;
    let mut two = nodes[1].connect(&cluster.setup.client).await;
    let mut three = nodes[2].connect(&cluster.setup.client).await;

    for round in 0..10 {
        let uid = one
            .create(create_aes(256, &format!("cached-{round}"), described()))
            .await
            .expect("Create on node 1")
            .unique_identifier;
        // Node 2 reads it (twice: the second read is from its cache).
        for _ in 0..2 {
            assert_eq!(material(&two.get(get(&uid)).await.expect("Get")).len(), 32);
        }
        assert_eq!(
            state(&attributes(&mut two, &uid).await),
            Some(State::PreActive)
        );

        three.activate(&uid).await.expect("Activate on node 3");
        assert_eq!(
            state(&attributes(&mut two, &uid).await),
            Some(State::Active),
            "round {round}"
        );

        describe(
            &mut three,
            &uid,
            &format!("modified on node 3, round {round}"),
        )
        .await;
        assert_eq!(
            description(&attributes(&mut two, &uid).await),
            Some(format!("modified on node 3, round {round}"))
        );

        three
            .revoke(RevokeRequest {
                unique_identifier: Some(uid.clone()),
                revocation_reason: RevocationReason {
                    code: RevocationReasonCode::CessationOfOperation,
                    message: None,
                },
                compromise_occurrence_date: None,
            })
            .await
            .expect("Revoke on node 3");
        assert_eq!(
            state(&attributes(&mut two, &uid).await),
            Some(State::Deactivated),
            "round {round}"
        );

        three.destroy(&uid).await.expect("Destroy on node 3");
        assert!(
            two.get(get(&uid)).await.is_err(),
            "round {round}: node 2 served a destroyed key"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_node_delays_a_change_at_most_its_lease_and_does_not_serve_its_stale_row_after() {
    let cluster = cluster();
    let writer = start(&cluster, 1);
    let frozen = start(&cluster, 2);
    wait_for_leases(&cluster, 2);
    let mut on_writer = writer.connect(&cluster.setup.client).await;
    let mut on_frozen = frozen.connect(&cluster.setup.client).await;
    let uid = on_writer
        .create(create_aes(256, "frozen-test", described()))
        .await
        .unwrap()
        .unique_identifier;
    describe(&mut on_writer, &uid, "before the freeze").await;
    for _ in 0..2 {
        assert_eq!(
            description(&attributes(&mut on_frozen, &uid).await).as_deref(),
            Some("before the freeze")
        );
    }

    signal(&frozen, "-STOP");
    let started = Instant::now();
    describe(&mut on_writer, &uid, "while node 2 was frozen").await;
    let waited = started.elapsed();
    // Node 2 held a lease renewed at most a poll before it froze: the change waited for it to run out.
    assert!(
        waited >= Duration::from_millis(LEASE_MS / 2),
        "acknowledged after {waited:?}, before the frozen node's lease ran out"
    );
    assert!(
        waited < Duration::from_millis(2 * LEASE_MS + 1000),
        "the wait is bounded by the lease: {waited:?}"
    );
    signal(&frozen, "-CONT");
    assert_eq!(
        description(&attributes(&mut on_frozen, &uid).await).as_deref(),
        Some("while node 2 was frozen"),
        "the node woken from the freeze served its stale row"
    );

    // Back to normal: node 2 renews again, and changes are acknowledged without waiting for a lease to run out.
    wait_for_leases(&cluster, 2);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    describe(&mut on_writer, &uid, "after the thaw").await;
    assert!(
        started.elapsed() < Duration::from_millis(LEASE_MS / 2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        description(&attributes(&mut on_frozen, &uid).await).as_deref(),
        Some("after the thaw")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_stopped_cleanly_removes_its_lease_and_is_not_waited_for() {
    let cluster = cluster();
    let staying = start(&cluster, 1);
    let leaving = start(&cluster, 2);
    wait_for_leases(&cluster, 2);
    assert!(leaving.stop(), "clean exit");
    assert_eq!(cluster.sql("SELECT COUNT(*) FROM qkms_cache_nodes"), "1");
    let mut client = staying.connect(&cluster.setup.client).await;
    let uid = client
        .create(create_aes(256, "after-leave", described()))
        .await
        .unwrap()
        .unique_identifier;
    let started = Instant::now();
    describe(&mut client, &uid, "no wait").await;
    assert!(
        started.elapsed() < Duration::from_millis(LEASE_MS / 2),
        "{:?}",
        started.elapsed()
    );
}
