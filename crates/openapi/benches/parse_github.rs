//! Parsing GitHub's OpenAPI description (npm `@octokit/openapi`, installed by
//! scripts/oas-corpus) into a draft: time and peak memory, next to the baseline of
//! reading the same text into a `serde_json::Value` (the least any parser must do).
//! Prints figures; asserts nothing. Target: under 2 s.

use std::path::Path;
use std::time::{Duration, Instant};

use switchboard_openapi::{parse, ParseLimits};

const RUNS: usize = 5;

/// Peak resident set size of this process so far (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oas/node_modules/@octokit/openapi/generated/api.github.com.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        println!(
            "skipped: {} is not installed; run scripts/oas-corpus",
            file.display()
        );
        return;
    };
    let before = peak_rss_kib();

    let mut baseline = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let value: serde_json::Value =
            serde_json::from_str(&text).expect("GitHub's description is JSON");
        baseline.push(start.elapsed());
        drop(value);
    }
    let after_baseline = peak_rss_kib();

    let mut draft_times = Vec::new();
    let mut commands = 0;
    let mut warnings = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let draft = parse(&text, &ParseLimits::default()).expect("GitHub's description parses");
        draft_times.push(start.elapsed());
        commands = draft.commands.len();
        warnings = draft.warnings.len();
    }
    let after_draft = peak_rss_kib();

    let base = median(baseline);
    let full = median(draft_times);
    println!(
        "OpenAPI parse of GitHub's description ({:.1} MB, {commands} operations, {warnings} warnings), median of {RUNS}:",
        text.len() as f64 / 1e6
    );
    println!(
        "  baseline serde_json::Value only: {:>8.1} ms",
        base.as_secs_f64() * 1e3
    );
    println!(
        "  document to draft:               {:>8.1} ms ({:.1}x baseline; target under 2000 ms)",
        full.as_secs_f64() * 1e3,
        full.as_secs_f64() / base.as_secs_f64().max(1e-9)
    );
    println!(
        "  peak RSS: {} with the text loaded, {} after the baseline, {} after drafting",
        mib(before),
        mib(after_baseline),
        mib(after_draft)
    );
}
