//! `delay`: waits, reporting progress; useful to try deadlines, progress and cancellation.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use switchboard_contract::{succeed, Access, CommandSpec, FieldKind, FieldSpec, Outcome, Success};
use switchboard_runtime::{Call, Definition};

pub fn definition() -> Definition {
    Definition::builder("delay", "1.0.0", "Waits for a number of milliseconds, reporting progress. For trying deadlines, progress and cancellation.")
        .category("utility")
        .tags(&["utility", "testing"])
        .default_command("wait")
        .command(
            CommandSpec::new("health", Access::Read, "Always healthy: the delay connector needs no remote service.")
                .mock_payload("default", json!({"ok": true})),
            health,
        )
        .command(
            CommandSpec::new("wait", Access::Read, "Wait delayMs milliseconds, then return how long it waited. Reports progress every 100 ms.")
                .param(FieldSpec::new("delayMs", FieldKind::integer_range(0, 300_000)).default_value(1000).describe("How long to wait, in milliseconds (at most 300000)."))
                .outputs(["delayedMs"])
                .mock_payload("default", json!({"delayedMs": 0})),
            wait,
        )
        .build()
}

async fn health(_call: Call) -> Outcome {
    succeed(json!({"ok": true}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WaitParams {
    delay_ms: u64,
}

async fn wait(call: Call) -> Outcome {
    let p: WaitParams = call.params_as()?;
    let total = Duration::from_millis(p.delay_ms);
    let started = tokio::time::Instant::now();
    let step = Duration::from_millis(100);
    while started.elapsed() < total {
        let left = total.saturating_sub(started.elapsed());
        tokio::time::sleep(left.min(step)).await;
        let done = started.elapsed().min(total).as_millis() as f64;
        call.ctx
            .progress
            .report(done, Some(p.delay_ms as f64), None);
    }
    Ok(Success::new(json!({"delayedMs": p.delay_ms})).variable("delayedMs", p.delay_ms))
}
