//! Fault tests: a server SIGKILLed and restarted under load, a surge at the
//! opening minute, and malformed, slow and dropped requests. The scenarios live
//! in `tests/scenarios/` and are shared with `benches/faults.rs`, which prints
//! the same runs as the reliability report. Loopback only; each test is bounded
//! in time and in requests.

mod scenarios;

use scenarios::*;
use std::time::Duration;

/// The heavy scenarios run one at a time, so neither slows the other down.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Hard bound on each test.
const TEST_BOUND: Duration = Duration::from_secs(58);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_restart_under_load_loses_no_acknowledged_claim_and_never_grants_twice() {
    let _one_at_a_time = HEAVY.lock().await;
    let cfg = KillRestart::default();
    let report = tokio::time::timeout(TEST_BOUND, kill_and_restart(&cfg))
        .await
        .expect("the scenario finishes within its bound")
        .expect("the scenario runs");
    eprintln!("{report:#?}");

    let violations = report.violations(cfg.client_bound);
    assert!(violations.is_empty(), "{violations:#?}");
    // Every client finished, so the cap is exactly used up and the rest were told 마감.
    assert_eq!(report.capped_rows as u64, cfg.cap);
    assert_eq!(report.capped_told_granted as u64, cfg.cap);
    assert_eq!(report.duplicate_rows, 0);
    assert!(report.lost.is_empty());
    // The kill really happened mid-run, and both the failover and the restart were used.
    assert!(
        report.answers_at_kill > 0 && report.answers_at_kill < report.tally.requests,
        "killed after {} of {} answers",
        report.answers_at_kill,
        report.tally.requests
    );
    assert!(report.cut_by_kill > 0, "no claim was in flight at the kill");
    assert_eq!(
        report.cut_then_replayed + report.cut_then_answered_fresh,
        report.cut_by_kill
    );
    assert!(report.failover_first.is_some(), "no client failed over");
    assert!(report.failover_per_client.n > 0);
    assert!(
        report.served_after_restart > 0,
        "the restarted server took no traffic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surge_of_1000_gets_exactly_the_cap_and_status_answers_throughout() {
    let _one_at_a_time = HEAVY.lock().await;
    let cfg = Surge::default();
    let report = tokio::time::timeout(TEST_BOUND, surge(&cfg))
        .await
        .expect("the surge finishes within its bound")
        .expect("the scenario runs");
    eprintln!(
        "surge: {} granted, {} sold out, {} waiting; {} requests, {} shed, {} limited; \
         status {} polls, max {:?}; script {}/{} limited, {} ok in {:?}; {:?}",
        report.told_granted,
        report.told_sold_out,
        report.waiting,
        report.tally.requests,
        report.tally.shed_503,
        report.tally.limited_429,
        report.status_polls,
        report.status_latency.max,
        report.script_limited,
        report.script_requests,
        report.script_ok,
        report.script_ran,
        report.elapsed,
    );

    let violations = report.violations(cfg.client_bound, 0);
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(report.db_grants, 100);
    assert_eq!(report.told_granted, 100);
    assert_eq!(report.told_sold_out, 900);
    // Shedding really happened, the status endpoint was polled during the whole surge.
    assert!(report.tally.shed_503 > 0, "nothing was shed");
    assert!(report.status_polls >= 5, "{} polls", report.status_polls);
    assert!(report.status_failures.is_empty());
    // The script was held to the per-user limit (a burst of 10, then 2 a second); people were not.
    assert!(report.script_requests >= 20, "{}", report.script_requests);
    let allowed = 10.0 + 2.0 * report.script_ran.as_secs_f64() + 1.0;
    assert!(
        (report.script_ok as f64) <= allowed,
        "the script got {} claims through in {:?}",
        report.script_ok,
        report.script_ran
    );
    assert!(report.script_limited > 0);
    assert_eq!(report.tally.limited_429, 0, "a person was rate-limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_slow_and_dropped_requests_do_not_disturb_others() {
    let _one_at_a_time = HEAVY.lock().await;
    let report = tokio::time::timeout(TEST_BOUND, malformed())
        .await
        .expect("the scenario finishes within its bound")
        .expect("the scenario runs");
    for c in &report.cases {
        eprintln!("{}: {} (others fine: {})", c.name, c.seen, c.others_fine);
    }
    let violations = report.violations();
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(report.status_polls > 0);
    let truncated = report
        .cases
        .iter()
        .find(|c| c.name.starts_with("a JSON body truncated"))
        .expect("the truncated JSON case ran");
    assert!(truncated
        .seen
        .starts_with("400 application/problem+json code=invalid_json"));
}
