//! The fault suite's short form (`kingdom torture --quick`), one test per
//! fault so that a failure names its fault: the real binary tortures the
//! real binary, and every round checks the database against what every
//! client was told.

use std::process::Command;

use serde_json::Value;

/// Runs `kingdom torture --quick --faults FAULT` and returns its report,
/// failing with its output when it found a problem.
fn torture(fault: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_kingdom"))
        .args(["torture", "--quick", "--faults", fault, "--report"])
        .arg(&report)
        .arg("--dir")
        .arg(dir.path().join("work"))
        .env_remove("RUST_LOG")
        .output()
        .expect("kingdom torture runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(
        output.status.success(),
        "kingdom torture --faults {fault} failed ({}):\n{}\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let round = &report["faults"][0];
    assert_eq!(round["fault"], fault, "{report}");
    assert_eq!(round["lost"], 0, "{report}");
    assert_eq!(round["duplicated"], 0, "{report}");
    assert_eq!(round["problems"], Value::Array(Vec::new()), "{report}");
    assert!(round["injected"].as_u64().unwrap() > 0, "{report}");
    assert!(round["acknowledged"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(round["checked"], round["acknowledged"], "{report}");
    eprintln!("{}", text(&output.stdout));
    report
}

#[test]
fn vanishing_clients_lose_nothing_and_quarantine_nothing() {
    torture("vanishing-clients");
}

#[test]
fn many_connections_writing_one_session_each_get_their_own_version() {
    torture("one-session");
}

#[test]
fn sigkill_at_random_moments_under_mixed_load_loses_nothing() {
    let report = torture("sigkill");
    assert!(
        report["faults"][0]["injected"].as_u64().unwrap() >= 10,
        "{report}"
    );
}

/// Mounts a tmpfs of its own: needs root (as the machine's CI runs).
#[test]
fn a_full_disk_refuses_writes_with_503_keeps_reads_and_recovers_without_a_restart() {
    torture("disk-full");
}

/// `chattr +i` on the database: needs root and a filesystem with the
/// immutable flag under the temporary directory.
#[test]
fn a_read_only_database_refuses_writes_with_503_and_recovers_without_a_restart() {
    torture("read-only");
}

/// Starts a PostgreSQL cluster of its own (initdb, pg_ctl as the postgres
/// user), never the machine's.
#[test]
fn a_postgresql_restart_under_load_fails_writes_fast_and_loses_nothing() {
    torture("pg-restart");
}

/// On the machine's PostgreSQL (`KB_TEST_POSTGRES_URL`), in a schema of
/// its own.
#[test]
fn two_servers_on_one_postgresql_one_killed_the_survivor_serves_all() {
    torture("two-servers");
}

#[test]
fn slow_idle_and_unfinished_connections_do_not_keep_the_server_from_anyone_else() {
    torture("slow-clients");
}
