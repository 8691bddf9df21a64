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
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kb_store::{ContentRecord, SessionRecord, SessionStore, Write};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore, SyncMode};
use rusqlite::Connection;

/// A sha256-sized content id, as the session manager will use.
const CONTENT_ID: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn content() -> ContentRecord {
    ContentRecord {
        content_id: CONTENT_ID.to_owned(),
        content: r#"{"actions":[{"id":"expand"}]}"#.to_owned(),
        registries: "{}".to_owned(),
        metadata: "{}".to_owned(),
    }
}

/// A header like the server's: a UUID-shaped id, an owner, default content.
fn header(n: usize) -> SessionRecord {
    let now = now_ms();
    SessionRecord {
        session_id: format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (n as u64).wrapping_mul(2_654_435_761) as u32,
            n % 0xffff,
            n % 0xfff,
            (n / 7) % 0xfff,
            (n as u64).wrapping_mul(0x9e37_79b9_7f4a) & 0xffff_ffff_ffff
        ),
        created_at: now,
        last_accessed_at: now,
        dev_mode: false,
        config: None,
        content_id: CONTENT_ID.to_owned(),
        owner: Some(format!("user-{:04}", n % 10_000)),
        version: 0,
    }
}

/// About 40 bytes of command JSON.
fn command(n: u64) -> String {
    format!(r#"{{"t":"act","a":"build_farm","n":{:>6}}}"#, n % 1_000_000)
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
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let barrier = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|scope| {
        for t in 0..threads {
            let (store, stop, total, barrier) = (&store, &stop, &total, &barrier);
            scope.spawn(move || {
                let mut record = header(t);
                store.save(&record).expect("save");
                barrier.wait();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let next = SessionRecord {
                        version: record.version + 1,
                        ..record
                    };
                    store
                        .commit(vec![Write::append(&next, vec![command(n)])])
                        .expect("append");
                    record = next;
                    n += 1;
                }
                total.fetch_add(n, Ordering::Relaxed);
            });
        }
        barrier.wait();
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        start.elapsed()
    });
    let stats = store.commit_stats();
    store.close().expect("close");
    (
        total.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
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
    for chunk in (0..HEADERS).collect::<Vec<_>>().chunks(10_000) {
        let writes = chunk
            .iter()
            .map(|&n| Write::SaveSession(header(n)))
            .collect();
        store.commit(writes).expect("save headers");
    }
    store.close().expect("close");
    let file = std::fs::metadata(&path).expect("stat").len() as f64;

    let store = open(&path, sync);
    let start = Instant::now();
    let loaded = store.load_all().expect("load_all");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(loaded.records.len(), HEADERS);
    store.close().expect("close");

    let conn = Connection::open(&path).expect("open");
    let (pages, _) = table_bytes(&conn, &["sessions", "sqlite_autoindex_sessions_1"]);
    (
        seconds,
        pages / HEADERS as f64,
        (file - empty_file) / HEADERS as f64,
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
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
