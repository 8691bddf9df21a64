//! Measures the PostgreSQL session store: append throughput with 1 and 32
//! committing threads on one store, and with 32 threads split over two
//! stores (as two server processes would be), `load_all` of 100,000
//! headers, and bytes on disk per header and per command. It prints figures
//! and asserts nothing.
//!
//! ```text
//! cargo run --release -p kb-store-postgres --example store_bench -- [--runs N] [--seconds S] [--url URL]
//! ```
//!
//! Each figure is the median of `--runs` runs (default 3). Throughput runs
//! last `--seconds` each (default 2). The server is `--url`, else
//! `KB_TEST_POSTGRES_URL`, else the local test database; the tables go in a
//! schema of their own, dropped at the end.

use kb_store::testkit::workload::{self, content, median};
use kb_store::{SessionStore, Write};
use kb_store_postgres::{PostgresOptions, PostgresSessionStore};
use postgres::{Client, NoTls};

const HEADERS: usize = 100_000;
const DEFAULT_URL: &str = "host=127.0.0.1 user=postgres dbname=test";

struct Args {
    runs: usize,
    seconds: f64,
    url: String,
}

fn parse_args() -> Args {
    let mut args = Args {
        runs: 3,
        seconds: 2.0,
        url: std::env::var("KB_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => args.runs = value.parse().expect("--runs N"),
            "--seconds" => args.seconds = value.parse().expect("--seconds S"),
            "--url" => args.url = value,
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// A schema of the bench's own, empty; dropped by [`Schema::drop`].
struct Schema {
    url: String,
    name: String,
    admin: Client,
}

impl Schema {
    fn new(url: &str) -> Self {
        let mut admin = Client::connect(url, NoTls).unwrap_or_else(|e| {
            panic!("cannot connect to {url}: {e} (start PostgreSQL, or pass --url)")
        });
        let name = format!("kb_bench_{}", std::process::id());
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .expect("create the bench schema");
        Self {
            url: url.to_owned(),
            name,
            admin,
        }
    }

    fn open(&self, table: &str) -> PostgresSessionStore {
        PostgresSessionStore::open(
            PostgresOptions::new(&self.url)
                .schema(&self.name)
                .table_name(table),
        )
        .expect("open store")
    }

    /// Total bytes (heap, indexes, TOAST) of one table.
    fn bytes(&mut self, table: &str) -> f64 {
        let qualified = format!("\"{}\".\"{table}\"", self.name);
        let bytes: i64 = self
            .admin
            .query_one(
                "SELECT pg_total_relation_size($1::TEXT::regclass)",
                &[&qualified],
            )
            .expect("relation size")
            .get(0);
        bytes as f64
    }

    fn vacuum(&mut self, table: &str) {
        self.admin
            .batch_execute(&format!("VACUUM FULL \"{}\".\"{table}\"", self.name))
            .expect("vacuum");
    }

    fn drop_tables(&mut self) {
        self.admin
            .batch_execute(&format!(
                "DROP SCHEMA {0} CASCADE; CREATE SCHEMA {0}",
                self.name
            ))
            .expect("clear the bench schema");
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// Appends for `seconds` from `threads` threads spread over `stores`
/// stores, each thread on a session of its own, one command per commit:
/// commits per second, and batches per write transaction (how much group
/// commit grouped).
fn appends_per_second(schema: &Schema, stores: usize, threads: usize, seconds: f64) -> (f64, f64) {
    let table = format!("appends_{stores}_{threads}");
    let stores: Vec<PostgresSessionStore> = (0..stores).map(|_| schema.open(&table)).collect();
    stores[0]
        .commit(vec![Write::PutContent(content())])
        .expect("put content");
    let handles: Vec<&dyn SessionStore> = stores.iter().map(|s| s as &dyn SessionStore).collect();
    let rate = workload::appends_per_second(&handles, threads, seconds);
    let (mut answered, mut transactions) = (0, 0);
    for store in &stores {
        let stats = store.commit_stats();
        answered += stats.batches_answered;
        transactions += stats.transactions;
        store.close().expect("close");
    }
    (rate, answered as f64 / transactions as f64)
}

/// Bytes per command of the last 32-thread run, after a VACUUM FULL.
fn bytes_per_command(schema: &mut Schema) -> f64 {
    let table = "appends_1_32_commands";
    let commands: i64 = schema
        .admin
        .query_one(
            &format!("SELECT count(*) FROM \"{}\".\"{table}\"", schema.name),
            &[],
        )
        .expect("count")
        .get(0);
    schema.vacuum(table);
    schema.bytes(table) / commands as f64
}

/// Writes `HEADERS` fresh sessions, then times `load_all` on a new store:
/// (seconds, bytes per header after a VACUUM FULL).
fn load_all_and_header_size(schema: &mut Schema) -> (f64, f64) {
    let store = schema.open("headers");
    store
        .commit(vec![Write::PutContent(content())])
        .expect("put content");
    workload::save_headers(&store, HEADERS);
    store.close().expect("close");

    let store = schema.open("headers");
    let seconds = workload::time_load_all(&store, HEADERS);
    store.close().expect("close");

    schema.vacuum("headers");
    (seconds, schema.bytes("headers") / HEADERS as f64)
}

fn main() {
    let args = parse_args();
    let mut schema = Schema::new(&args.url);
    println!(
        "store_bench: {} run(s), medians; {} s per throughput run; schema {}",
        args.runs, args.seconds, schema.name
    );
    let mut one = Vec::new();
    let mut many = Vec::new();
    let mut group = Vec::new();
    let mut two = Vec::new();
    let mut two_group = Vec::new();
    let mut load = Vec::new();
    let mut header_bytes = Vec::new();
    let mut command_bytes = Vec::new();
    for _ in 0..args.runs {
        one.push(appends_per_second(&schema, 1, 1, args.seconds).0);
        let (rate, grouped) = appends_per_second(&schema, 1, 32, args.seconds);
        many.push(rate);
        group.push(grouped);
        command_bytes.push(bytes_per_command(&mut schema));
        let (rate, grouped) = appends_per_second(&schema, 2, 32, args.seconds);
        two.push(rate);
        two_group.push(grouped);
        let (seconds, bytes) = load_all_and_header_size(&mut schema);
        load.push(seconds);
        header_bytes.push(bytes);
        schema.drop_tables();
    }
    println!(
        "  appends/s, 1 thread                 {:>10.0}",
        median(one)
    );
    println!(
        "  appends/s, 32 threads, 1 store      {:>10.0} ({:.1} commits per transaction)",
        median(many),
        median(group)
    );
    println!(
        "  appends/s, 32 threads, 2 stores     {:>10.0} ({:.1} commits per transaction)",
        median(two),
        median(two_group)
    );
    println!(
        "  load_all of {HEADERS} headers        {:>10.1} ms",
        median(load) * 1000.0
    );
    println!(
        "  bytes per fresh header              {:>10.1} (table, indexes, after VACUUM FULL)",
        median(header_bytes)
    );
    println!(
        "  bytes per command                   {:>10.1} (table, key index, after VACUUM FULL)",
        median(command_bytes)
    );
}
