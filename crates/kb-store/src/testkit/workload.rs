//! The workload of the stores' `store_bench` examples, shared so that every
//! store is measured on the same sessions and commands: server-shaped
//! headers, commands of about 40 bytes, and an append loop over threads.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{ContentRecord, SessionRecord, SessionStore, Write};

/// A sha256-sized content id, as the session manager uses.
pub const CONTENT_ID: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The content every bench session references.
pub fn content() -> ContentRecord {
    ContentRecord {
        content_id: CONTENT_ID.to_owned(),
        content: r#"{"actions":[{"id":"expand"}]}"#.to_owned(),
        registries: "{}".to_owned(),
        metadata: "{}".to_owned(),
    }
}

/// Session `n`'s header, as the server writes one: a UUID-shaped id, an
/// owner, the bench content, version 0.
pub fn header(n: usize) -> SessionRecord {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64;
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
pub fn command(n: u64) -> String {
    format!(r#"{{"t":"act","a":"build_farm","n":{:>6}}}"#, n % 1_000_000)
}

/// Saves the headers of sessions `0..count`, 10,000 per commit.
///
/// # Panics
///
/// When the store refuses a write.
pub fn save_headers(store: &dyn SessionStore, count: usize) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        let writes = chunk
            .iter()
            .map(|&n| Write::SaveSession(header(n)))
            .collect();
        store.commit(writes).expect("save headers");
    }
}

/// Appends for `seconds` from `threads` threads, dealt round-robin over
/// `stores` (handles on one database, as server processes would hold),
/// each thread on a session of its own, one command per commit: the
/// acknowledged commits per second. The content must be stored already.
///
/// # Panics
///
/// When a store refuses a write.
pub fn appends_per_second(stores: &[&dyn SessionStore], threads: usize, seconds: f64) -> f64 {
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let barrier = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|scope| {
        for t in 0..threads {
            let store = stores[t % stores.len()];
            let (stop, total, barrier) = (&stop, &total, &barrier);
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
    total.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

/// Times `load_all` on `store`: seconds.
///
/// # Panics
///
/// When loading fails or does not return `expected` sessions.
pub fn time_load_all(store: &dyn SessionStore, expected: usize) -> f64 {
    let start = Instant::now();
    let loaded = store.load_all().expect("load_all");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(loaded.records.len(), expected, "sessions loaded");
    seconds
}

/// The median of some runs' figures.
///
/// # Panics
///
/// When there are none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
