use super::template::{cluster, is_error_line, mask};

#[test]
fn masks_the_variable_parts() {
    assert_eq!(
        mask("2026-11-26T07:00:01.123Z ERROR request 3f2a9c1e-1b2c-4d5e-8f90-123456789abc from 10.1.2.3:5432 failed after 1532 ms"),
        "<ts> ERROR request <uuid> from <ip> failed after <num> ms"
    );
    assert_eq!(
        mask("ptr=0xdeadbeef id=a1b2c3d4e5f6 user=\"bob smith\" code='x'"),
        "ptr=<hex> id=<hex> user=<str> code=<str>"
    );
    assert_eq!(
        mask("worker-12 on eth0 at fe80::1:2:3"),
        "worker-<num> on eth<num> at <ip>"
    );
    assert_eq!(
        mask("add bad cafe beef"),
        "add bad cafe beef",
        "short hex-looking words stay words"
    );
    assert_eq!(mask("   spaced    out  "), "spaced out");
}

#[test]
fn ten_thousand_identical_errors_become_one_line_with_a_count() {
    let mut lines: Vec<String> = (0..10_000)
        .map(|i| {
            format!("ERROR db timeout after {i} ms for request {i:08x}-aaaa-bbbb-cccc-{i:012x}")
        })
        .collect();
    lines.push("WARN disk 91% full on /var".into());
    lines.push("WARN disk 92% full on /var".into());
    lines.push("panic: index out of range".into());
    let top = cluster(lines.iter().map(String::as_str), "file:/var/log/app.log", 5);
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].count, 10_000);
    assert_eq!(
        top[0].template,
        "ERROR db timeout after <num> ms for request <uuid>"
    );
    assert!(top[0].example.starts_with("ERROR db timeout after 0 ms"));
    assert_eq!(top[0].source, "file:/var/log/app.log");
    assert_eq!(
        (top[1].count, top[1].template.as_str()),
        (2, "WARN disk <num>% full on /var")
    );
    assert_eq!(top[2].count, 1);
    assert_eq!(
        cluster(lines.iter().map(String::as_str), "x", 1).len(),
        1,
        "top bounds the output"
    );
}

#[test]
fn error_lines() {
    assert!(is_error_line("kernel: Out of memory: Killed process 123"));
    assert!(is_error_line("level=error msg=boom"));
    assert!(is_error_line("connection refused"));
    assert!(!is_error_line("GET /healthz 200"));
}

proptest::proptest! {
    #[test]
    fn templating_never_panics_and_is_idempotent_on_templates(line in "\\PC{0,200}") {
        let once = mask(&line);
        let _ = cluster([line.as_str(), once.as_str()], "p", 3);
    }
}
