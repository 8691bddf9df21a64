//! Measures the SQLite session store: append throughput with 1 and 32
//! committing threads, `load_all` of 100,000 headers, and bytes on disk per
//! session header and per command, under `SyncMode::Normal` and `Full`.
//! It prints figures and asserts nothing.
//!
//! ```text
//! cargo run --release -p kb-store-sqlite --example store_bench -- [--runs N] [--seconds S] [--dir DIR]
//! ```
//!
//! Each figure is the median of `--runs` runs (default 3). Throughput runs
//! last `--seconds` each (default 2). Databases go in a temporary directory
//! under `--dir` (default: the system's), which decides the file system
//! and so the cost of a sync.

use std::path::Path;

use kb_store::testkit::workload::{self, content, median};
use kb_store::{SessionStore, Write};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore, SyncMode};
use rusqlite::Connection;

const HEADERS: usize = 100_000;

struct Args {
    runs: usize,
    seconds: f64,
    dir: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        runs: 3,
        seconds: 2.0,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => args.runs = value.parse().expect("--runs N"),
            "--seconds" => args.seconds = value.parse().expect("--seconds S"),
            "--dir" => args.dir = Some(value),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn open(path: &Path, sync: SyncMode) -> SqliteSessionStore {
    SqliteSessionStore::open(SqliteOptions::new(path).sync(sync)).expect("open store")
}

/// Appends for `seconds` from `threads` threads, each on a session of its
/// own, one command per commit: commits per second, and batches per write
/// transaction (how much group commit grouped).
fn appends_per_second(dir: &Path, sync: SyncMode, threads: usize, seconds: f64) -> (f64, f64) {
    let path = dir.join(format!("appends-{sync:?}-{threads}.db"));
    let store = open(&path, sync);
    store
        .commit(vec![Write::PutContent(content())])
        .expect("put content");
    let rate = workload::appends_per_second(&[&store], threads, seconds);
    let stats = store.commit_stats();
    store.close().expect("close");
    (
        rate,
        stats.batches_answered as f64 / stats.transactions as f64,
    )
}

/// Bytes per command in the commands table, as laid out by the appends and
/// after a VACUUM: (pages / commands, payload / commands).
fn bytes_per_command(path: &Path) -> (f64, f64, f64) {
    let conn = Connection::open(path).expect("open");
    let commands: f64 = conn
        .query_row("SELECT count(*) FROM sessions_commands", [], |r| r.get(0))
        .expect("count");
    let (pages, payload) = table_bytes(&conn, &["sessions_commands"]);
    conn.execute_batch("VACUUM").expect("vacuum");
    let (vacuumed, _) = table_bytes(&conn, &["sessions_commands"]);
    (pages / commands, vacuumed / commands, payload / commands)
}

/// (page bytes, payload bytes) of tables and indexes, from `dbstat`.
fn table_bytes(conn: &Connection, names: &[&str]) -> (f64, f64) {
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",");
    conn.query_row(
        &format!("SELECT sum(pgsize), sum(payload) FROM dbstat WHERE name IN ({list})"),
        [],
        |r| Ok((r.get::<_, i64>(0)? as f64, r.get::<_, i64>(1)? as f64)),
    )
    .expect("dbstat")
}

/// Writes `HEADERS` fresh sessions, then times `load_all` on a reopened
/// store: (seconds, bytes per header in pages, bytes per header of file).
fn load_all_and_header_size(dir: &Path, sync: SyncMode) -> (f64, f64, f64) {
    let path = dir.join(format!("headers-{sync:?}.db"));
    let store = open(&path, sync);
    store
        .commit(vec![Write::PutContent(content())])
        .expect("put content");
    store.close().expect("close");
    let empty_file = std::fs::metadata(&path).expect("stat").len() as f64;
    let store = open(&path, sync);
    workload::save_headers(&store, HEADERS);
    store.close().expect("close");
    let file = std::fs::metadata(&path).expect("stat").len() as f64;

    let store = open(&path, sync);
    let seconds = workload::time_load_all(&store, HEADERS);
    store.close().expect("close");

    let conn = Connection::open(&path).expect("open");
    let (pages, _) = table_bytes(&conn, &["sessions", "sqlite_autoindex_sessions_1"]);
    (
        seconds,
        pages / HEADERS as f64,
        (file - empty_file) / HEADERS as f64,
    )
}

fn main() {
    let args = parse_args();
    let dir = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("temporary directory");
    println!(
        "store_bench: {} run(s), medians; {} s per throughput run; databases in {}",
        args.runs,
        args.seconds,
        dir.path().display()
    );
    for sync in [SyncMode::Normal, SyncMode::Full] {
        let mut one = Vec::new();
        let mut many = Vec::new();
        let mut group = Vec::new();
        let mut load = Vec::new();
        let mut header_pages = Vec::new();
        let mut header_file = Vec::new();
        let mut command_pages = Vec::new();
        let mut command_vacuumed = Vec::new();
        let mut command_payload = Vec::new();
        for _ in 0..args.runs {
            one.push(appends_per_second(dir.path(), sync, 1, args.seconds).0);
            let (rate, grouped) = appends_per_second(dir.path(), sync, 32, args.seconds);
            many.push(rate);
            group.push(grouped);
            let (pages, vacuumed, payload) =
                bytes_per_command(&dir.path().join(format!("appends-{sync:?}-32.db")));
            command_pages.push(pages);
            command_vacuumed.push(vacuumed);
            command_payload.push(payload);
            let (seconds, pages, file) = load_all_and_header_size(dir.path(), sync);
            load.push(seconds);
            header_pages.push(pages);
            header_file.push(file);
            for entry in std::fs::read_dir(dir.path()).expect("list") {
                std::fs::remove_file(entry.expect("entry").path()).expect("remove");
            }
        }
        println!("\nSyncMode::{sync:?}");
        println!("  appends/s, 1 thread              {:>10.0}", median(one));
        println!(
            "  appends/s, 32 threads            {:>10.0} ({:.1} commits per transaction)",
            median(many),
            median(group)
        );
        println!(
            "  load_all of {HEADERS} headers     {:>10.1} ms",
            median(load) * 1000.0
        );
        println!(
            "  bytes per fresh header           {:>10.1} (table + id index pages), {:.1} (file growth)",
            median(header_pages),
            median(header_file)
        );
        println!(
            "  bytes per command                {:>10.1} (pages as appended), {:.1} (after VACUUM), {:.1} (payload)",
            median(command_pages),
            median(command_vacuumed),
            median(command_payload)
        );
    }
}
