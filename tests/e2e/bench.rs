//! `herald bench` as the README and BENCHMARKS.md run it, scaled down: it must start its
//! Herald (or Heralds), deliver every event and print the figures BENCHMARKS.md quotes.

use std::process::Command;

use crate::db::on_postgres;
use crate::harness::{database_url, TempDir};

/// The number after `label` in `line`, e.g. `figure(line, "publish ")`.
fn figure(line: &str, label: &str) -> f64 {
    let rest = line
        .split_once(label)
        .unwrap_or_else(|| panic!("no '{label}' in: {line}"))
        .1;
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .unwrap_or_else(|_| panic!("no number after '{label}' in: {line}"))
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{out}"))
}

/// What a bench that must have succeeded printed.
fn succeeded(out: &std::process::Output) -> std::borrow::Cow<'_, str> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "herald bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn bench_runs_and_reports_every_figure() {
    let dir = TempDir::new("bench");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(["bench", "--events", "1500", "--concurrency", "16"]);
    if on_postgres() {
        // Two `herald serve` processes on this test's own database.
        cmd.args(["--database", &database_url(&dir.0), "--processes", "2"])
            .args(["--run", "w1"]);
    } else {
        cmd.args(["--rate", "200", "--duration", "2"]);
    }
    let out = cmd.output().expect("run herald bench");
    let stdout = succeeded(&out);

    let w1 = line(&stdout, "W1: 1500 events:");
    assert!(figure(w1, "publish ") > 0.0, "{w1}");
    assert!(figure(w1, "delivered ") > 0.0, "{w1}");
    assert!(figure(w1, "p99 ") >= figure(w1, "p50 "), "{w1}");
    if on_postgres() {
        assert!(stdout.contains(", http://"), "two Heralds named: {stdout}");
        return;
    }
    let ceiling = line(&stdout, "ceiling:");
    assert!(figure(ceiling, "directly: ") > 0.0, "{ceiling}");
    line(&stdout, "W1 delivery rate is ");
    let w2 = line(&stdout, "W2: 200 events/s for 2 s:");
    assert!(w2.contains("delivered 400 of 400"), "{w2}");
    assert!(figure(w2, "max ") >= figure(w2, "p99 "), "{w2}");
}

/// The scale workloads, scaled down, with Herald as its own process: each prints its lines.
#[test]
fn bench_scale_runs_report_their_figures() {
    if on_postgres() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "bench",
            "--processes",
            "1",
            "--run",
            "queries,drain,backlog,rooms,fanout",
        ])
        .args(["--query-events", "600", "--drain-events", "400"])
        .args([
            "--backlog-events",
            "600",
            "--room-events",
            "300",
            "--fanout-events",
            "3",
        ])
        .output()
        .expect("run herald bench");
    let stdout = succeeded(&out);
    let rooms = line(&stdout, "queries: one room's deliveries:");
    assert!(figure(rooms, "p99 ") >= figure(rooms, "median "), "{rooms}");
    assert!(line(&stdout, "queries: one event's deliveries:").contains("(1 per page)"));
    let drain = line(&stdout, "drain: 400 deliveries pending");
    assert!(figure(drain, "s: ") > 0.0, "{drain}");
    let backlog = line(&stdout, "backlog: publish ");
    assert!(figure(backlog, "RSS ") > 0.0, "{backlog}");
    line(&stdout, "rooms: ordering costs ");
    let fanout = line(&stdout, "fanout: 3 events x 1000 endpoints:");
    assert!(figure(fanout, "endpoints: ") >= 3000.0, "{fanout}");
}

/// `--run failing`, scaled down: each run on a fresh Herald of its own, every healthy
/// delivery made, and the ratio of the p99s printed.
#[test]
fn bench_failing_runs_each_on_a_fresh_herald() {
    if on_postgres() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["bench", "--run", "failing", "--failing-events", "300"])
        .output()
        .expect("run herald bench");
    let stdout = succeeded(&out);
    for run in ["alone:", "beside 500 failing endpoints:"] {
        let l = line(&stdout, &format!("failing: 500 healthy endpoints {run}"));
        assert!(l.contains(": 300 deliveries in"), "{l}");
        assert!(figure(l, "p99 ") >= figure(l, "p50 "), "{l}");
    }
    let ratio = line(&stdout, "failing: p99 beside failing endpoints / alone = ");
    assert!(figure(ratio, "= ") > 0.0, "{ratio}");
}
