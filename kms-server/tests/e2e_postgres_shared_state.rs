//! The node state every node shares through PostgreSQL, with several `qkms-server` processes on one database
//! and real clients over real TLS: user-PIN tries counted across nodes (the lock reached by tries spread over
//! nodes holds on every node and across restarts, `qkms-server user-pin reset` on one node unlocks all), an
//! entropy-as-a-service day quota held across nodes, and usage counters added up in the database and shown by
//! every node's `/metrics`.

mod e2e_support;
mod https_client;
mod pg_cluster;
mod pg_options;
mod pg_support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_support::process::{client_config, SERVER_BIN};
use e2e_support::*;
use https_client::{HttpResponse, HttpsConnection};
use kmip::message::{Authentication, Credential, UsernamePassword};
use kmip::payloads::SecretText;
use kmip::{ProtocolVersion, RequestBatchItem, RequestMessage, ResultReason, ResultStatus};
use kms_server::config::EaasTenantLimits;
use kms_server::pki::files::ClientBundle;
use pg_cluster::Cluster;

/// One HTTPS GET against `addr` as `bundle`.
async fn https_get(addr: SocketAddr, bundle: &ClientBundle, path: &str) -> HttpResponse {
    let config = client_config(addr, bundle, ProtocolVersion::V2_1)
        .rustls_config()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut connection = loop {
        match HttpsConnection::connect(addr, Arc::new(config.clone())).await {
            Ok(connection) => break connection,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(error) => panic!("HTTPS connect: {error}"),
        }
    };
    connection
        .request("GET", path, None, b"", false)
        .await
        .unwrap()
}

fn json(response: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("a JSON body: {}", response.text()))
}

/// A cluster with HTTPS, operator "ops", and `edit` applied.
fn https_cluster(edit: impl FnOnce(&mut kms_server::config::Config)) -> Cluster {
    Cluster::new(|config| {
        config.https.enabled = true;
        config.https.listen = free_loopback_address();
        config.auth.operators = vec!["ops".into()];
        edit(config);
    })
}

fn https_addr(cluster: &Cluster, n: usize) -> SocketAddr {
    cluster.node_config(n).config.https.listen.parse().unwrap()
}

/// A Create presenting `pin` as the user PIN (as the PKCS#11 module sends it).
fn create_with_pin(pin: &str, name: &str) -> RequestMessage {
    let mut message = RequestMessage::new(
        ProtocolVersion::V2_1,
        vec![RequestBatchItem::new(create_aes(256, name, vec![]))],
    );
    message.header.authentication = Some(Authentication {
        credentials: vec![Credential::UsernamePassword(UsernamePassword {
            username: "user".into(),
            password: Some(SecretText::new(pin)),
        })],
    });
    message
}

/// What the server answered a message presenting a PIN: `Ok(())` when it ran, else the refusal's message.
async fn present(client: &mut kmip::client::Client, pin: &str) -> Result<(), String> {
    let response = client
        .send(&create_with_pin(pin, "pin-guarded"))
        .await
        .expect("an answer");
    let item = &response.items[0];
    if item.result_status == ResultStatus::Success {
        return Ok(());
    }
    assert_eq!(
        item.result_reason,
        Some(ResultReason::AuthenticationNotSuccessful),
        "{item:?}"
    );
    Err(item.result_message.clone().unwrap_or_default())
}

fn user_pin(action: &str, config: &Path) -> String {
    let output = Command::new(SERVER_BIN)
        .args(["user-pin", action, "pkcs11", "--config"])
        .arg(config)
        .output()
        .expect("qkms-server user-pin runs");
    assert!(
        output.status.success(),
        "user-pin {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_pins_spread_over_nodes_lock_the_tenant_on_all_and_a_reset_on_one_unlocks_all() {
    let cluster = Cluster::new(|_| {});
    let nodes: Vec<ServerProcess> = (1..=3).map(|n| cluster.start_node(n)).collect();
    let token = cluster.pkcs11_client();
    let pin = cluster.pkcs11_pin();
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(node.connect(&token).await);
    }
    // The right PIN works on every node.
    for client in clients.iter_mut() {
        present(client, &pin).await.expect("the right PIN");
    }
    // Five wrong PINs, spread over the three nodes, count down one counter.
    for (attempt, left) in [4, 3, 2, 1].into_iter().enumerate() {
        let refusal = present(&mut clients[attempt % 3], "000000")
            .await
            .unwrap_err();
        assert!(
            refusal.contains(&format!("user PIN incorrect (tries left: {left} of 5)")),
            "{refusal}"
        );
    }
    let refusal = present(&mut clients[1], "000000").await.unwrap_err();
    assert!(refusal.contains("user PIN locked"), "{refusal}");
    assert_eq!(
        cluster.sql("SELECT failures FROM qkms_user_pins WHERE tenant = 'pkcs11'"),
        "5"
    );
    // Locked everywhere, even for the right PIN (and for a node that had verified it before).
    for client in clients.iter_mut() {
        let refusal = present(client, &pin).await.unwrap_err();
        assert!(refusal.contains("user PIN locked"), "{refusal}");
    }
    // The lock survives restarts.
    drop(clients);
    let mut nodes = nodes;
    let first = nodes.remove(0);
    assert!(first.stop(), "graceful stop");
    let again = cluster.start_node(1);
    let refusal = present(&mut again.connect(&token).await, &pin)
        .await
        .unwrap_err();
    assert!(refusal.contains("user PIN locked"), "{refusal}");
    assert!(
        user_pin("status", &cluster.node_config(2).file).contains("0 of 5 tries left"),
        "status reads the database"
    );

    // A reset from the command line of one node unlocks the tenant on every node, without a restart.
    let said = user_pin("reset", &cluster.node_config(3).file);
    assert!(said.contains("PIN unlocked in the database"), "{said}");
    assert!(!said.contains("restart"), "{said}");
    for node in [&again, &nodes[0], &nodes[1]] {
        present(&mut node.connect(&token).await, &pin)
            .await
            .expect("unlocked everywhere");
    }

    // Wrong PINs sent at once over all nodes: exactly five count, the rest find the PIN locked.
    let mut tries = Vec::new();
    for n in 0..9 {
        let node = [&again, &nodes[0], &nodes[1]][n % 3];
        let mut client = node.connect(&token).await;
        tries.push(tokio::spawn(async move {
            present(&mut client, &format!("99999{n}"))
                .await
                .unwrap_err()
        }));
    }
    let mut incorrect = 0;
    let mut locked = 0;
    for attempt in tries {
        let refusal = attempt.await.unwrap();
        if refusal.contains("user PIN incorrect") {
            incorrect += 1;
        } else if refusal.contains("user PIN locked") {
            locked += 1;
        } else {
            panic!("{refusal}");
        }
    }
    assert_eq!(
        (incorrect + locked, locked >= 4),
        (9, true),
        "{incorrect} incorrect"
    );
    assert!(
        incorrect <= 4,
        "{incorrect} incorrect answers: one counter of five tries"
    );
    assert_eq!(
        cluster.sql("SELECT failures FROM qkms_user_pins WHERE tenant = 'pkcs11'"),
        "5"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_eaas_day_quota_holds_for_requests_spread_over_two_nodes() {
    let cluster = https_cluster(|config| {
        for tenant in ["default", "burst"] {
            config.eaas.tenants.insert(
                tenant.into(),
                EaasTenantLimits {
                    bytes_per_day: Some(100),
                    ..EaasTenantLimits::default()
                },
            );
        }
    });
    let burst = cluster.setup.issue_client("burst");
    let ops = cluster.setup.issue_client("ops");
    let _nodes = [cluster.start_node(1), cluster.start_node(2)];
    let (one, two) = (https_addr(&cluster, 1), https_addr(&cluster, 2));
    let client = cluster.setup.client.clone();

    let response = https_get(one, &client, "/v1/random?bytes=64").await;
    assert_eq!(response.status, 200, "{}", response.text());
    // Node 2 knows what node 1 served.
    let response = https_get(two, &client, "/v1/random?bytes=64").await;
    assert_eq!(response.status, 429, "{}", response.text());
    let refusal = json(&response);
    assert_eq!(refusal["limit"], "bytes_per_day");
    assert!(
        refusal["error"]
            .as_str()
            .unwrap_or_default()
            .contains("64 of 100 bytes used today")
            || response.text().contains("64 of 100 bytes used today"),
        "{}",
        response.text()
    );
    assert!(response.header("retry-after").is_some());
    let response = https_get(two, &client, "/v1/random?bytes=36").await;
    assert_eq!(response.status, 200, "{}", response.text());
    for addr in [one, two] {
        let response = https_get(addr, &client, "/v1/random?bytes=1").await;
        assert_eq!(response.status, 429, "{}", response.text());
        let usage = json(&https_get(addr, &client, "/v1/usage").await);
        assert_eq!(usage["usage"]["total_bytes"], 100, "{usage}");
        assert_eq!(usage["usage"]["total_requests"], 2, "{usage}");
    }

    // Twenty requests of 10 bytes at once, spread over both nodes: exactly ten fit in the quota.
    let mut requests = Vec::new();
    for n in 0..20 {
        let addr = if n % 2 == 0 { one } else { two };
        let bundle = burst.clone();
        requests.push(tokio::spawn(async move {
            https_get(addr, &bundle, "/v1/random?bytes=10").await.status
        }));
    }
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        cluster.sql("SELECT bytes FROM qkms_eaas_days WHERE tenant = 'burst'"),
        "100"
    );
    // An operator sees every tenant's figures, the same on both nodes.
    let all = json(&https_get(two, &ops, "/v1/usage").await);
    assert_eq!(
        all["tenants"]["burst"]["usage"]["total_bytes"], 100,
        "{all}"
    );
    let metrics = https_get(one, &ops, "/metrics").await.text();
    assert!(
        metrics.contains("qkms_eaas_tenant_bytes_total{tenant=\"burst\"} 100"),
        "{metrics}"
    );
}

/// `qkms_tenant_operations_total` of tenant "default" in `/metrics` of `addr`.
async fn operations_in_metrics(addr: SocketAddr, ops: &ClientBundle) -> u64 {
    let metrics = https_get(addr, ops, "/metrics").await.text();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("qkms_tenant_operations_total{tenant=\"default\"} "))
        .map_or(0, |value| value.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn usage_counters_of_several_nodes_add_up_in_the_database_and_in_metrics() {
    let cluster = https_cluster(|_| {});
    let ops = cluster.setup.issue_client("ops");
    let nodes = [cluster.start_node(1), cluster.start_node(2)];
    let addrs = [https_addr(&cluster, 1), https_addr(&cluster, 2)];
    // 3 Creates on node 1, 5 on node 2.
    for (node, count) in nodes.iter().zip([3, 5]) {
        let mut client = node.connect(&cluster.setup.client).await;
        for n in 0..count {
            client
                .create(create_aes(256, &format!("counted-{n}"), vec![]))
                .await
                .expect("Create");
        }
    }
    // Every node's /metrics shows the cluster's total within a flush interval or two.
    for addr in addrs {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let seen = operations_in_metrics(addr, &ops).await;
            if seen == 8 {
                break;
            }
            assert!(seen < 8, "{seen} operations counted, 8 made");
            assert!(
                Instant::now() < deadline,
                "{addr}: {seen} of 8 operations after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(
        cluster.sql(
            "SELECT operations || ' ' || keys_created FROM qkms_tenant_usage WHERE tenant = 'default'"
        ),
        "8 8"
    );
    // A graceful stop flushes what the node counted last.
    let [first, second] = nodes;
    let mut client = second.connect(&cluster.setup.client).await;
    client
        .create(create_aes(256, "counted-last", vec![]))
        .await
        .expect("Create");
    drop(client);
    assert!(second.stop(), "graceful stop");
    assert_eq!(
        cluster.sql("SELECT operations FROM qkms_tenant_usage WHERE tenant = 'default'"),
        "9"
    );
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_copies_in_the_pins_of_its_file_that_the_database_lacks() {
    let cluster = Cluster::new(|_| {});
    // A database without the PIN (copied before this release, say), a node whose user-pins.json guards pkcs11.
    cluster.sql("DELETE FROM qkms_user_pins");
    let pin_file = kms_server::user_pin::file_of(&cluster.setup.config);
    cluster.node_config_with(1, |config| config.auth.user_pins = Some(pin_file));
    let node = cluster.start_node(1);
    let mut client = node.connect(&cluster.pkcs11_client()).await;
    let refusal = present(&mut client, "000000")
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong PIN accepted; node log:\n{}", node.log()));
    assert!(refusal.contains("tries left: 4 of 5"), "{refusal}");
    present(&mut client, &cluster.pkcs11_pin())
        .await
        .expect("the right PIN");
    // A PIN-less message of the guarded tenant only reaches public objects.
    let response = client
        .send(&RequestMessage::new(
            ProtocolVersion::V2_1,
            vec![RequestBatchItem::new(create_aes(256, "no-pin", vec![]))],
        ))
        .await
        .unwrap();
    assert_eq!(
        response.items[0].result_reason,
        Some(ResultReason::PermissionDenied)
    );
}
