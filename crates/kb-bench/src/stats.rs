//! Per-route request statistics: counts, errors, bytes and latency
//! percentiles, and their report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Statistics of one route.
#[derive(Clone, Debug, Default)]
pub struct RouteStats {
    /// Latencies in microseconds.
    pub latencies_us: Vec<u32>,
    /// Responses that were not what the client expected.
    pub errors: u64,
    /// Response bytes.
    pub bytes: u64,
}

/// Statistics of every route.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// By route name.
    pub routes: BTreeMap<&'static str, RouteStats>,
}

impl Recorder {
    /// Records one request.
    pub fn record(&mut self, route: &'static str, latency: Duration, bytes: usize, ok: bool) {
        let stats = self.routes.entry(route).or_default();
        stats
            .latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        stats.bytes += bytes as u64;
        if !ok {
            stats.errors += 1;
        }
    }

    /// Merges another recorder in.
    pub fn merge(&mut self, other: Recorder) {
        for (route, stats) in other.routes {
            let mine = self.routes.entry(route).or_default();
            mine.latencies_us.extend(stats.latencies_us);
            mine.errors += stats.errors;
            mine.bytes += stats.bytes;
        }
    }

    /// Total errors.
    pub fn errors(&self) -> u64 {
        self.routes.values().map(|s| s.errors).sum()
    }

    /// Per-route summaries over `elapsed`.
    pub fn summaries(&self, elapsed: Duration) -> Vec<Summary> {
        self.routes
            .iter()
            .map(|(route, stats)| {
                let mut sorted = stats.latencies_us.clone();
                sorted.sort_unstable();
                let pct = |p: f64| -> f64 {
                    if sorted.is_empty() {
                        return 0.0;
                    }
                    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
                    f64::from(sorted[index]) / 1000.0
                };
                let count = sorted.len() as u64;
                Summary {
                    route,
                    count,
                    per_second: count as f64 / elapsed.as_secs_f64(),
                    p50_ms: pct(0.50),
                    p90_ms: pct(0.90),
                    p99_ms: pct(0.99),
                    max_ms: pct(1.0),
                    errors: stats.errors,
                    mean_bytes: stats.bytes.checked_div(count).unwrap_or(0),
                }
            })
            .collect()
    }
}

/// One route's figures.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Route name.
    pub route: &'static str,
    /// Requests.
    pub count: u64,
    /// Requests per second.
    pub per_second: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Unexpected responses.
    pub errors: u64,
    /// Mean response size.
    pub mean_bytes: u64,
}

/// A table of summaries.
pub fn table(summaries: &[Summary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9}",
        "route", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "bytes/rsp"
    );
    for s in summaries {
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>9}",
            s.route,
            s.count,
            s.per_second,
            s.p50_ms,
            s.p90_ms,
            s.p99_ms,
            s.max_ms,
            s.errors,
            s.mean_bytes
        );
    }
    out
}
