//! Counters and histograms, rendered in the Prometheus text format at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Latency bucket bounds in microseconds.
const BUCKETS_US: [u64; 12] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

pub struct Histogram {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; 12],
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe_us(&self, us: u64) {
        for (i, bound) in BUCKETS_US.iter().enumerate() {
            if us <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} histogram\n"));
        for (i, bound) in BUCKETS_US.iter().enumerate() {
            let le = *bound as f64 / 1e6;
            out.push_str(&format!(
                "{name}_bucket{{le=\"{le}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            ));
        }
        let count = self.count.load(Ordering::Relaxed);
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {count}\n"));
        out.push_str(&format!(
            "{name}_sum {}\n",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!("{name}_count {count}\n"));
    }
}

pub struct Metrics {
    pub http_requests: [AtomicU64; 5],
    pub turns: AtomicU64,
    pub turn_batches: AtomicU64,
    pub duplicate_messages: AtomicU64,
    /// Connections closed at once: over the total or the per-address limit.
    pub refused_connections: AtomicU64,
    pub webhook_attempts: AtomicU64,
    pub webhook_failures: AtomicU64,
    pub ws_connections: AtomicU64,
    pub turn_latency: Histogram,
    pub http_latency: Histogram,
}

pub static METRICS: Metrics = Metrics {
    http_requests: [const { AtomicU64::new(0) }; 5],
    turns: AtomicU64::new(0),
    turn_batches: AtomicU64::new(0),
    duplicate_messages: AtomicU64::new(0),
    refused_connections: AtomicU64::new(0),
    webhook_attempts: AtomicU64::new(0),
    webhook_failures: AtomicU64::new(0),
    ws_connections: AtomicU64::new(0),
    turn_latency: Histogram::new(),
    http_latency: Histogram::new(),
};

impl Metrics {
    pub fn count_http(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.http_requests[class].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition; `pending_outbox` is read from the store by the caller.
    pub fn render(&self, pending_outbox: i64) -> String {
        let mut out = String::new();
        out.push_str("# HELP baton_http_requests_total HTTP requests answered, by status class.\n# TYPE baton_http_requests_total counter\n");
        for (i, c) in self.http_requests.iter().enumerate() {
            out.push_str(&format!(
                "baton_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                c.load(Ordering::Relaxed)
            ));
        }
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        };
        counter(
            &mut out,
            "baton_turns_total",
            "Conversation turns committed.",
            &self.turns,
        );
        counter(
            &mut out,
            "baton_turn_batches_total",
            "Commits of batches of turns.",
            &self.turn_batches,
        );
        counter(
            &mut out,
            "baton_duplicate_messages_total",
            "Customer messages recognised as retries by client id.",
            &self.duplicate_messages,
        );
        counter(
            &mut out,
            "baton_refused_connections_total",
            "Connections closed as soon as accepted: over the total or the per-address limit.",
            &self.refused_connections,
        );
        counter(
            &mut out,
            "baton_webhook_attempts_total",
            "Webhook HTTP attempts.",
            &self.webhook_attempts,
        );
        counter(
            &mut out,
            "baton_webhook_failures_total",
            "Webhook calls that failed after all retries.",
            &self.webhook_failures,
        );
        out.push_str(&format!(
            "# HELP baton_ws_connections Open WebSocket connections.\n# TYPE baton_ws_connections gauge\nbaton_ws_connections {}\n",
            self.ws_connections.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP baton_outbox_pending Effects waiting to be carried out.\n# TYPE baton_outbox_pending gauge\nbaton_outbox_pending {pending_outbox}\n"
        ));
        self.turn_latency.render(
            "baton_turn_seconds",
            "Time from a turn entering the writer to its commit.",
            &mut out,
        );
        self.http_latency
            .render("baton_http_request_seconds", "HTTP request handling time.", &mut out);
        out
    }
}
