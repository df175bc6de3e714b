//! The RESP client and the fallback logic against tiny scripted TCP peers.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use ooda_monitor::Dedup;

use super::client::{Connection, Reply, RespError};
use super::{DedupChange, RedisDedup, RedisDedupConfig};
use crate::testkit;

/// Serves one connection: reads each command (RESP array) and answers with the next reply.
fn scripted(replies: Vec<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        for reply in replies {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let n: usize = header.trim().trim_start_matches('*').parse().unwrap_or(0);
            for _ in 0..n * 2 {
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
            }
            let _ = writer.write_all(reply.as_bytes());
        }
    });
    port
}

#[test]
fn replies_of_every_kind() {
    let port = scripted(vec![
        "+OK\r\n",
        "$-1\r\n",
        ":3\r\n",
        "$5\r\nhello\r\n",
        "-ERR wrong\r\n",
        "?junk\r\n",
    ]);
    let mut c =
        Connection::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(5)).expect("connect");
    assert_eq!(
        c.command(&[b"SET"]).expect("ok"),
        Reply::Simple("OK".into())
    );
    assert_eq!(c.command(&[b"SET"]).expect("nil"), Reply::Bulk(None));
    assert_eq!(c.command(&[b"DEL"]).expect("int"), Reply::Integer(3));
    assert_eq!(
        c.command(&[b"GET"]).expect("bulk"),
        Reply::Bulk(Some(b"hello".to_vec()))
    );
    assert!(matches!(c.command(&[b"X"]), Err(RespError::Server(e)) if e == "ERR wrong"));
    assert!(matches!(c.command(&[b"X"]), Err(RespError::Protocol(_))));
}

fn config_for(port: u16) -> RedisDedupConfig {
    RedisDedupConfig {
        address: format!("127.0.0.1:{port}"),
        key_prefix: "t:".into(),
        ..RedisDedupConfig::default()
    }
}

#[test]
fn unreachable_redis_falls_back_reports_and_recovers() {
    let port = testkit::free_port();
    let dedup = RedisDedup::new(config_for(port));
    let ttl = Duration::from_secs(60);
    assert!(
        dedup.claim("a", ttl, 0).expect("fallback claim"),
        "first claim still announces"
    );
    assert!(
        !dedup.claim("a", ttl, 1).expect("fallback claim"),
        "local dedup still dedups"
    );
    let health = dedup.health();
    assert!(health.degraded);
    assert_eq!((health.fallback_claims, health.outages), (2, 1));
    assert!(matches!(
        dedup.take_change(),
        Some(DedupChange::WentLocal { .. })
    ));
    assert_eq!(dedup.take_change(), None, "a change is reported once");

    // Redis comes back on that port (a scripted peer saying OK); before retry_after nothing
    // is tried, after it the next claim goes to Redis and recovery is reported.
    let peer = scripted_on(port, vec!["+OK\r\n"]);
    assert!(
        dedup.claim("b", ttl, 2).expect("claim"),
        "still local inside retry_after"
    );
    assert_eq!(dedup.health().fallback_claims, 3);
    assert!(dedup.claim("c", ttl, 10_000).expect("claim"));
    let health = dedup.health();
    assert!(!health.degraded);
    assert_eq!(health.redis_claims, 1);
    assert_eq!(dedup.take_change(), Some(DedupChange::Recovered));
    peer.join().expect("peer");
}

fn scripted_on(port: u16, replies: Vec<&'static str>) -> std::thread::JoinHandle<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind the same port");
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        for reply in replies {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let n: usize = header.trim().trim_start_matches('*').parse().unwrap_or(0);
            for _ in 0..n * 2 {
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
            }
            let _ = writer.write_all(reply.as_bytes());
        }
    })
}

#[test]
fn config_defaults_and_unknown_fields() {
    let c: RedisDedupConfig = toml::from_str("").expect("defaults");
    assert_eq!(c, RedisDedupConfig::default());
    assert_eq!(c.address, "127.0.0.1:6379");
    assert!(toml::from_str::<RedisDedupConfig>("adress = \"x\"").is_err());
}
