//! Claims throughput and latency on loopback, with the cap check on.
//!
//! Starts the server in-process on 127.0.0.1:0 with a fresh SQLite file, then
//! 64 concurrent clients each claim the capped voucher for distinct users.
//! Run it with the fast profile:
//!
//!     cargo bench -p maeum-server --profile server --bench claims
//!
//! `MAEUM_BENCH_CLAIMS` (default 5000) and `MAEUM_BENCH_CLIENTS` (default 64)
//! change the load. Stops after 50 s whatever the count, and says so.

use maeum_server::{Campaign, Config};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ITEM: &str = "drawer-plus-1m";
const CAP: u64 = 1_000_000;
const TIME_LIMIT: Duration = Duration::from_secs(50);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run() -> Result<(), String> {
    let total = env_usize("MAEUM_BENCH_CLAIMS", 5000);
    let clients = env_usize("MAEUM_BENCH_CLIENTS", 64);

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut campaign = Campaign::shipped();
    if let Some(item) = campaign.items.iter_mut().find(|i| i.id == ITEM) {
        item.cap = Some(CAP);
    }
    let mut config = Config::new(dir.path().join("data"));
    config.campaign = campaign;
    let server = maeum_server::start(config).await?;
    let url = format!("{}/api/v1/claims", server.url());
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..total)
            .map(|i| server.token(&format!("bench-user-{i}")))
            .collect(),
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(|e| e.to_string())?;
    // Warm up connections and the database.
    for i in 0..clients.min(8) {
        let res = http
            .get(format!("{}/api/v1/status?warm={i}", server.url()))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("warm-up answered {}", res.status()));
        }
    }

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + TIME_LIMIT;
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, tokens, next) =
                (http.clone(), url.clone(), tokens.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= tokens.len() || Instant::now() > deadline {
                        break;
                    }
                    let t0 = Instant::now();
                    let res = http
                        .post(&url)
                        .bearer_auth(&tokens[i])
                        .header("Idempotency-Key", format!("bench-{i}"))
                        .json(&serde_json::json!({ "item_ids": [ITEM] }))
                        .send()
                        .await;
                    let ok = match res {
                        Ok(r) if r.status().is_success() => {
                            r.text().await.is_ok_and(|b| b.contains("\"granted\""))
                        }
                        _ => false,
                    };
                    latencies.push(t0.elapsed());
                    if !ok {
                        failures += 1;
                    }
                }
                (latencies, failures)
            })
        })
        .collect();

    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let done = latencies.len();

    let package: serde_json::Value = http
        .get(format!("{}/api/v1/package", server.url()))
        .bearer_auth(server.token("bench-check"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let remaining = package["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == ITEM))
        .and_then(|i| i["remaining"].as_u64())
        .unwrap_or(0);
    let _ = server.shutdown().await;

    println!("maeum-server claims bench (in-process server and clients, loopback, SQLite WAL synchronous=FULL)");
    println!("  {done} claims of {ITEM} (cap {CAP}, cap check on), {clients} concurrent clients, each claim a distinct user");
    if done < total {
        println!(
            "  stopped at the {} s time limit before all {total} claims",
            TIME_LIMIT.as_secs()
        );
    }
    println!(
        "  claims/second: {:.0}",
        done as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency: p50 {}, p90 {}, p99 {}, max {}",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "  wall time: {:.2} s; failed requests: {failures}",
        elapsed.as_secs_f64()
    );
    let granted = CAP - remaining;
    println!("  granted according to the server: {granted}");
    if failures > 0 || granted != (done - failures) as u64 {
        return Err(format!(
            "{failures} requests failed; {granted} granted for {done} requests"
        ));
    }
    Ok(())
}
