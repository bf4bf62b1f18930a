//! The reliability report: runs the fault scenarios of `tests/faults.rs` (the
//! same code, `tests/scenarios/mod.rs`) with measurements and prints a Markdown
//! section for docs/reliability.md.
//!
//!     cargo bench -p maeum-server --profile server --bench faults
//!
//! `MAEUM_FAULT_KILL_RUNS` (default 3) repeats the kill-and-restart scenario.
//! Loopback only; bounded to well under two minutes (each scenario has its own
//! deadline). Exits with status 1, after printing, if an invariant broke.

#[path = "../tests/scenarios/mod.rs"]
mod scenarios;

use maeum_contract::money::group_thousands;
use scenarios::*;
use std::time::{Duration, Instant};

const COMMAND: &str = "cargo bench -p maeum-server --profile server --bench faults";
/// Hard bound on each scenario run.
const RUN_BOUND: Duration = Duration::from_secs(50);
/// Hard bound on the whole report.
const TOTAL_BOUND: Duration = Duration::from_secs(110);

fn main() {
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
    match runtime.block_on(run()) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("fault bench failed: {e}");
            std::process::exit(1);
        }
    }
}

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = Res<T>>) -> Res<T> {
    tokio::time::timeout(RUN_BOUND, f)
        .await
        .map_err(|_| format!("{what} did not finish within {RUN_BOUND:?}"))?
}

fn yes_no(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**NO**"
    }
}

fn opt_ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "n/a".to_string(), ms)
}

/// Returns whether every invariant held.
async fn run() -> Res<bool> {
    let started = Instant::now();
    let kill_runs = std::env::var("MAEUM_FAULT_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| (1..=5).contains(&n))
        .unwrap_or(3);

    let kill_cfg = KillRestart::default();
    let mut kills = Vec::new();
    for i in 0..kill_runs {
        if started.elapsed() > TOTAL_BOUND / 2 {
            eprintln!("stopping the kill runs after {i}: time");
            break;
        }
        eprintln!("kill and restart, run {} of {kill_runs} ...", i + 1);
        kills.push(bounded("kill and restart", kill_and_restart(&kill_cfg)).await?);
    }
    let surge_cfg = Surge::default();
    eprintln!("surge ...");
    let surge = bounded("surge", surge(&surge_cfg)).await?;
    eprintln!("malformed, slow and dropped requests ...");
    let bad = bounded("malformed", malformed()).await?;

    let mut problems: Vec<String> = Vec::new();
    for (i, k) in kills.iter().enumerate() {
        problems.extend(
            k.violations(kill_cfg.client_bound)
                .into_iter()
                .map(|v| format!("kill run {}: {v}", i + 1)),
        );
    }
    problems.extend(
        surge
            .violations(surge_cfg.client_bound, 0)
            .into_iter()
            .map(|v| format!("surge: {v}")),
    );
    problems.extend(
        bad.violations()
            .into_iter()
            .map(|v| format!("malformed: {v}")),
    );

    print_report(
        &kill_cfg,
        &kills,
        &surge_cfg,
        &surge,
        &bad,
        started.elapsed(),
        &problems,
    );
    Ok(problems.is_empty())
}

fn print_report(
    kill_cfg: &KillRestart,
    kills: &[KillReport],
    surge_cfg: &Surge,
    s: &SurgeReport,
    bad: &MalformedReport,
    total: Duration,
    problems: &[String],
) {
    let now = maeum_server::clock::system_now();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let sum = |f: &dyn Fn(&KillReport) -> usize| kills.iter().map(f).sum::<usize>();
    let dup_total: i64 = kills.iter().map(|k| k.duplicate_rows).sum::<i64>() + s.duplicate_rows;
    let lost_total = sum(&|k| k.lost.len()) + s.mismatched.len();
    let failover_best = kills.iter().filter_map(|k| k.failover_first).min();
    let failover_worst = kills.iter().filter_map(|k| k.failover_first).max();
    let runs = kills.len();

    println!("## Reliability under faults");
    println!();
    println!("Command: `{COMMAND}`");
    println!();
    println!(
        "Measured {} on loopback ({cores} CPU cores), with the `server` profile binary. The scenarios are \
         `server/tests/scenarios/mod.rs`, the same code that `cargo test -p maeum-server --test faults` \
         asserts on; this run took {:.1} s.",
        now.to_rfc3339(),
        total.as_secs_f64()
    );
    println!();
    println!("| Figure | Measured | Must be |");
    println!("|---|---|---|");
    for (i, k) in kills.iter().enumerate() {
        println!(
            "| Grants versus cap, kill and restart run {} ({} clients, cap {}) | {} granted of {} (database), {} told `granted` | ≤ cap |",
            i + 1,
            k.clients,
            k.cap,
            k.capped_rows,
            k.cap,
            k.capped_told_granted
        );
    }
    println!(
        "| Grants versus cap, surge ({} clients at once, cap {}) | {} granted of {} (database), {} told `granted` | = cap |",
        group_thousands(s.clients as u64),
        s.cap, s.db_grants, s.cap, s.told_granted
    );
    println!("| Duplicate grants (one user holding one item twice), all runs | {dup_total} | 0 |");
    println!(
        "| Acknowledged claims lost (told `granted`, not in the database after the kill), all runs | {lost_total} | 0 |"
    );
    println!(
        "| Time to fail over: SIGKILL of the primary → first answer from the secondary to a client of the primary | {} (best of {runs} runs), {} (worst) | — |",
        opt_ms(failover_best),
        opt_ms(failover_worst)
    );
    println!(
        "| Surge latency, every answered request (p50 / p99) | {} / {} | — |",
        ms(s.latency.p50),
        ms(s.latency.p99)
    );
    println!(
        "| Surge: shed with 503 `busy` / rate-limited with 429 (people) / 429 to the script | {} / {} / {} of {} | — |",
        s.tally.shed_503, s.tally.limited_429, s.script_limited, s.script_requests
    );
    println!(
        "| `GET /api/v1/status` during the surge: failures / max latency | {} of {} polls / {} | 0 / — |",
        s.status_failures.len(),
        s.status_polls,
        ms(s.status_latency.max)
    );
    println!();

    println!("### Kill and restart under load");
    println!();
    println!(
        "Two `maeum-server serve` processes on one data directory (SQLite WAL). {} clients, each a distinct \
         user, arrive in waves of {} over {:.1} s; half prefer the first server (the primary), half the second. \
         Each reads the package, then makes two claims (`{CAPPED}` capped at {} with `{FOREVER}`; then \
         `{EMO_A}` with `{MAKERS}`), each with one `Idempotency-Key` for all its retries. A request that fails \
         to connect, is cut off or gets 502/503/504 goes to the other server at once; backoff is exponential \
         with full jitter (base {} ms, cap {} s), never shorter than `Retry-After`; {} attempts and {} s per \
         client at most. The primary is SIGKILLed once {} answers are in and at least {} claims are in flight \
         to it, and restarted on its port {} ms later. The database is then read directly.",
        kill_cfg.clients,
        kill_cfg.wave,
        kill_cfg.arrival.as_secs_f64(),
        kill_cfg.cap,
        kill_cfg.policy.backoff_base.as_millis(),
        kill_cfg.policy.backoff_cap.as_secs_f64(),
        kill_cfg.policy.max_attempts,
        kill_cfg.client_bound.as_secs(),
        kill_cfg.kill_after_answers,
        kill_cfg.kill_with_in_flight,
        kill_cfg.down_for.as_millis()
    );
    println!();
    print!("| Figure |");
    for i in 0..runs {
        print!(" Run {} |", i + 1);
    }
    println!();
    print!("|---|");
    for _ in 0..runs {
        print!("---|");
    }
    println!();
    let row = |name: &str, f: &dyn Fn(&KillReport) -> String| {
        print!("| {name} |");
        for k in kills {
            print!(" {} |", f(k));
        }
        println!();
    };
    row("Rows for the capped item / cap", &|k| {
        format!("{} / {}", k.capped_rows, k.cap)
    });
    row("Item counters that disagree with their rows", &|k| {
        k.counter_mismatches.to_string()
    });
    row("Duplicate grants", &|k| k.duplicate_rows.to_string());
    row("Acknowledged claims lost", &|k| k.lost.len().to_string());
    row("Rows the client was told were not granted", &|k| {
        k.unacknowledged_rows.len().to_string()
    });
    row("Claims in flight to the primary at the kill", &|k| {
        k.in_flight_at_kill.to_string()
    });
    row(
        "Claims cut off by the kill → retried and answered fresh / replayed (had committed)",
        &|k| {
            format!(
                "{} → {} / {}",
                k.cut_by_kill, k.cut_then_answered_fresh, k.cut_then_replayed
            )
        },
    );
    row(
        "Time to fail over (SIGKILL → first answer from the secondary)",
        &|k| opt_ms(k.failover_first),
    );
    row(
        "Per client: failed request at the primary → answer from the secondary (p50 / max)",
        &|k| {
            format!(
                "{} / {} (n = {})",
                ms(k.failover_per_client.p50),
                ms(k.failover_per_client.max),
                k.failover_per_client.n
            )
        },
    );
    row("SIGKILL → restarted primary listening", &|k| {
        ms(k.restart_took)
    });
    row("Requests answered by the restarted primary", &|k| {
        k.served_after_restart.to_string()
    });
    row("Requests / no answer (refused or cut) / 503 / 429", &|k| {
        format!(
            "{} / {} / {} / {}",
            k.tally.requests, k.tally.no_answer, k.tally.shed_503, k.tally.limited_429
        )
    });
    row("Clients finished / gave up", &|k| {
        format!("{} / {}", k.clients - k.gave_up, k.gave_up)
    });
    row(
        "Client time, arrival → last answer (p50 / p99 / max)",
        &|k| {
            format!(
                "{} / {} / {}",
                ms(k.client_time.p50),
                ms(k.client_time.p99),
                ms(k.client_time.max)
            )
        },
    );
    row("Whole run", &|k| ms(k.elapsed));
    println!();

    println!("### Surge");
    println!();
    println!(
        "One `maeum-server serve --max-in-flight {}` (default per-user rate limit: burst 10, 2 per second). \
         {} clients, each a distinct user, are released at the same instant on one shared HTTP client; each reads \
         the package, then claims `{CAPPED}` (cap {}) with retries as above ({} attempts, {} s at most). \
         Meanwhile `GET /api/v1/status` is polled every {} ms on its own connections, never retried, and one \
         script user fires up to {} claims with fresh keys and no pauses.",
        surge_cfg.max_in_flight,
        group_thousands(s.clients as u64),
        s.cap,
        surge_cfg.policy.max_attempts,
        surge_cfg.client_bound.as_secs(),
        surge_cfg.status_every.as_millis(),
        surge_cfg.script_requests
    );
    println!();
    println!("| Figure | Value |");
    println!("|---|---|");
    println!(
        "| Rows for the capped item / its counter / cap | {} / {} / {} |",
        s.db_grants, s.capped_counter, s.cap
    );
    println!(
        "| Clients told `granted` / `sold_out` (마감) / still waiting | {} / {} / {} |",
        s.told_granted, s.told_sold_out, s.waiting
    );
    println!("| Duplicate grants | {} |", s.duplicate_rows);
    println!("| Client and database disagree | {} |", s.mismatched.len());
    println!("| Requests sent by the clients | {} |", s.tally.requests);
    println!(
        "| Shed (503 `busy`, `Retry-After: 1`) | {} |",
        s.tally.shed_503
    );
    println!(
        "| Rate-limited (429): people / script | {} / {} of {} (the script's 503s: {}) |",
        s.tally.limited_429, s.script_limited, s.script_requests, s.script_shed
    );
    println!("| No answer (transport errors) | {} |", s.tally.no_answer);
    println!(
        "| Latency of every answered request (p50 / p99 / max) | {} / {} / {} |",
        ms(s.latency.p50),
        ms(s.latency.p99),
        ms(s.latency.max)
    );
    println!(
        "| Latency of claims answered 200 (p50 / p99 / max) | {} / {} / {} |",
        ms(s.claim_latency.p50),
        ms(s.claim_latency.p99),
        ms(s.claim_latency.max)
    );
    println!(
        "| Client time to its final answer, retries included (p50 / p99 / max) | {} / {} / {} |",
        ms(s.completion.p50),
        ms(s.completion.p99),
        ms(s.completion.max)
    );
    println!(
        "| `GET /api/v1/status`: polls / failures | {} / {} |",
        s.status_polls,
        s.status_failures.len()
    );
    println!(
        "| `GET /api/v1/status` latency (p50 / p99 / max) | {} / {} / {} |",
        ms(s.status_latency.p50),
        ms(s.status_latency.p99),
        ms(s.status_latency.max)
    );
    println!("| Whole surge | {} |", ms(s.elapsed));
    println!();

    println!("### Malformed, slow and dropped requests");
    println!();
    println!(
        "An in-process server with {SLOTS} in-flight slots, a body idle timeout of {} (the default is {} s) \
         and a header-read timeout of {} (the default is {} s). \
         After each client below, a normal claim by another user must be answered 200 at once; \
         `GET /api/v1/status` was polled {} times meanwhile, {} failed.",
        ms(BODY_IDLE),
        maeum_server::guard::DEFAULT_BODY_IDLE_TIMEOUT.as_secs(),
        ms(HEADER_READ),
        maeum_server::conn::DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
        bad.status_polls,
        bad.status_failures.len()
    );
    println!();
    println!("| Client | What happened | Others served after | As required |");
    println!("|---|---|---|---|");
    for c in &bad.cases {
        println!(
            "| {} | {} | {} | {} |",
            c.name,
            c.seen.replace('|', "\\|"),
            yes_no(c.others_fine),
            yes_no(c.ok)
        );
    }
    println!();
    if problems.is_empty() {
        println!("All invariants held: no duplicate grant, no acknowledged claim lost, caps exact, every client finished.");
    } else {
        println!("**Invariants broken in this run:**");
        println!();
        for p in problems {
            println!("- {p}");
        }
    }
}
