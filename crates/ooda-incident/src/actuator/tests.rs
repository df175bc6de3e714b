use super::*;
use ooda_core::{Action, ActionKind};
use std::time::Duration;

fn actuator(dir: &std::path::Path) -> LocalActuator {
    let mut config = LocalConfig {
        clean_allowlist: vec![dir.join("scratch")],
        timeout: Duration::from_secs(20),
        max_output: 64,
        ..LocalConfig::default()
    };
    config.commands.push(CommandSpec {
        kind: ActionKind::RotateLogs,
        argv: vec!["echo".into(), "rotated".into(), "{service}".into()],
    });
    config.commands.push(CommandSpec {
        kind: ActionKind::KillProcess,
        argv: vec!["false".into()],
    });
    config.commands.push(CommandSpec {
        kind: ActionKind::Scale,
        argv: vec!["yes".into()],
    });
    LocalActuator::new(config)
}

#[test]
fn clean_path_empties_only_allowlisted_directories() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(scratch.join("sub")).unwrap();
    std::fs::write(scratch.join("a.bin"), vec![0u8; 1000]).unwrap();
    std::fs::write(scratch.join("sub/b.bin"), vec![0u8; 24]).unwrap();
    std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("keep.txt"), scratch.join("link")).unwrap();
    let a = actuator(dir.path());
    let out = a
        .run(&Action::CleanPath {
            path: scratch.display().to_string(),
        })
        .unwrap();
    assert!(out.starts_with("removed"), "{out}");
    assert!(scratch.is_dir());
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    assert!(
        dir.path().join("keep.txt").exists(),
        "links are not followed"
    );
    let err = a
        .run(&Action::CleanPath {
            path: dir.path().display().to_string(),
        })
        .unwrap_err();
    assert!(err.contains("not under an allowlisted"), "{err}");
    let sneaky = format!("{}/../", scratch.display());
    assert!(a.run(&Action::CleanPath { path: sneaky }).is_err());
}

#[test]
fn commands_are_argv_from_the_allowlist_with_bounded_output() {
    let dir = tempfile::tempdir().unwrap();
    let a = actuator(dir.path());
    let out = a
        .run(&Action::RotateLogs {
            service: "nginx".into(),
        })
        .unwrap();
    assert!(out.contains("rotated nginx"), "{out}");
    // A shell metacharacter is refused, not interpreted.
    let err = a
        .run(&Action::RotateLogs {
            service: "nginx; rm -rf /".into(),
        })
        .unwrap_err();
    assert!(err.contains("expected a unit"), "{err}");
    assert!(a
        .run(&Action::RotateLogs {
            service: "--help".into()
        })
        .is_err());
    assert!(a
        .run(&Action::KillProcess {
            process: "x".into()
        })
        .is_err());
    assert!(a
        .run(&Action::Reboot {})
        .unwrap_err()
        .contains("no allowlisted"));
}

#[test]
fn output_is_bounded_and_slow_commands_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig {
        timeout: Duration::from_millis(300),
        max_output: 64,
        ..LocalConfig::default()
    };
    config.commands.push(CommandSpec {
        kind: ActionKind::Scale,
        argv: vec!["yes".into()],
    });
    let a = LocalActuator::new(config);
    let err = a
        .run(&Action::Scale {
            service: "x".into(),
            replicas: 2,
        })
        .unwrap_err();
    assert!(err.contains("timeout"), "{err}");
    assert!(err.len() < 400, "output bounded: {} bytes", err.len());
    drop(dir);
}

/// Real `ansible-playbook` (installed by `scripts/test`) against localhost with a local
/// connection: the playbook writes a file in a temp dir; an unapproved template never runs.
#[test]
fn ansible_playbooks_run_against_localhost() {
    assert!(
        std::process::Command::new("ansible-playbook")
            .arg("--version")
            .output()
            .is_ok(),
        "ansible-playbook is not installed; scripts/test installs the Debian package `ansible`"
    );
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("playbooks");
    std::fs::create_dir_all(&books).unwrap();
    let marker = dir.path().join("marker.txt");
    std::fs::write(
        books.join("touch-marker.yml"),
        format!(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: write the marker\n      ansible.builtin.copy:\n        dest: {}\n        content: \"ooda was here\\n\"\n",
            marker.display()
        ),
    )
    .unwrap();
    let config = LocalConfig {
        timeout: Duration::from_secs(300),
        max_output: 4096,
        ..LocalConfig::default()
    }
    .with_ansible(books.clone());
    let a = LocalActuator::new(config);
    let out = a
        .run(&Action::RunTemplate {
            template: "touch-marker".into(),
        })
        .unwrap_or_else(|e| panic!("playbook failed: {e}"));
    assert!(out.contains("ok=") || out.contains("changed="), "{out}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "ooda was here\n");
    let err = a
        .run(&Action::RunTemplate {
            template: "not-approved".into(),
        })
        .unwrap_err();
    assert!(err.contains("not an approved playbook"), "{err}");
}

#[test]
fn systemd_is_an_argv_row() {
    let config = LocalConfig::default().with_systemd();
    assert_eq!(
        config.commands[0].argv,
        vec!["systemctl", "restart", "{service}"]
    );
}
