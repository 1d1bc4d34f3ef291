//! The fault schedule: which fault, where, when and for how long, drawn from a seed. The
//! same seed gives the same schedule (what a run does with it still depends on timing: a
//! node restarts as fast as it restarts), so a failing run's seed replays its faults.

use std::time::Duration;

/// One fault, held for `hold` and then healed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL a node; it starts again after `hold`.
    Kill { node: usize, hold: Duration },
    /// SIGSTOP a node for `hold` (longer than its lease), then SIGCONT.
    Pause { node: usize, hold: Duration },
    /// Stop the PostgreSQL server for `hold`, then start it.
    RestartDatabase { hold: Duration },
    /// A receiver answers 503 to everything for `hold`.
    Burst { receiver: usize, hold: Duration },
    /// A receiver answers nothing for `hold`: its requests time out.
    Hang { receiver: usize, hold: Duration },
}

impl Fault {
    pub fn hold(&self) -> Duration {
        match self {
            Fault::Kill { hold, .. }
            | Fault::Pause { hold, .. }
            | Fault::RestartDatabase { hold }
            | Fault::Burst { hold, .. }
            | Fault::Hang { hold, .. } => *hold,
        }
    }

    /// The node the fault takes away, if any.
    fn node(&self) -> Option<usize> {
        match self {
            Fault::Kill { node, .. } | Fault::Pause { node, .. } => Some(*node),
            _ => None,
        }
    }
}

/// A fault and when it starts, from the start of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub at: Duration,
    pub fault: Fault,
}

/// What the schedule may do.
pub struct Shape {
    pub seconds: u64,
    pub nodes: usize,
    pub receivers: usize,
    /// With several nodes on PostgreSQL: pauses and database restarts too.
    pub shared: bool,
    pub lease: Duration,
}

/// SplitMix64: small, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.between(lo, hi))
    }
}

/// The schedule of `seed`: a fault every 1.5 to 4 s until the last 5 s of the run, never
/// two on one node at once and never every node away at once.
pub fn schedule(seed: u64, shape: &Shape) -> Vec<Planned> {
    let mut rng = Rng::new(seed);
    let mut plan = Vec::new();
    let mut node_free = vec![Duration::ZERO; shape.nodes];
    let mut db_free = Duration::ZERO;
    // Until when a killed node is down: a node cannot start while the database is away, so
    // kills and database restarts never overlap.
    let mut kills_free = Duration::ZERO;
    let end = Duration::from_secs(shape.seconds.saturating_sub(5));
    let lease = shape.lease.as_millis() as u64;
    let mut at = Duration::from_millis(2_000);
    while at < end {
        let fault = match rng.between(0, if shape.shared { 5 } else { 2 }) {
            0 | 3 => Fault::Kill {
                node: rng.between(0, shape.nodes as u64 - 1) as usize,
                hold: rng.millis(300, 2_000),
            },
            1 => Fault::Burst {
                receiver: rng.between(0, shape.receivers as u64 - 1) as usize,
                hold: rng.millis(500, 5_000),
            },
            2 => Fault::Hang {
                receiver: rng.between(0, shape.receivers as u64 - 1) as usize,
                hold: rng.millis(500, 4_000),
            },
            4 => Fault::Pause {
                node: rng.between(0, shape.nodes as u64 - 1) as usize,
                hold: rng.millis(lease + 500, lease * 5 / 2),
            },
            _ => Fault::RestartDatabase {
                hold: rng.millis(500, 3_000),
            },
        };
        let busy = |n: usize| node_free[n] > at;
        // A lone node may go down: what it cannot take meanwhile is simply not acknowledged.
        let others_up = |n: usize| shape.nodes == 1 || (0..shape.nodes).any(|m| m != n && !busy(m));
        let fits = match (&fault, fault.node()) {
            (Fault::Kill { .. }, Some(n)) => !busy(n) && others_up(n) && db_free <= at,
            (_, Some(n)) => !busy(n) && others_up(n),
            (Fault::RestartDatabase { .. }, _) => db_free <= at && kills_free <= at,
            _ => true,
        };
        if fits {
            let until = at + fault.hold() + Duration::from_millis(500);
            match (&fault, fault.node()) {
                (Fault::Kill { .. }, Some(n)) => (node_free[n], kills_free) = (until, until),
                (_, Some(n)) => node_free[n] = until,
                // A start takes a while: the next restart waits for it.
                (Fault::RestartDatabase { .. }, _) => db_free = until + Duration::from_secs(2),
                _ => {}
            }
            plan.push(Planned { at, fault });
        }
        at += rng.millis(1_500, 4_000);
    }
    plan
}

/// How many of each fault a schedule holds, for the report.
pub fn census(plan: &[Planned]) -> String {
    let count = |f: fn(&Fault) -> bool| plan.iter().filter(|p| f(&p.fault)).count();
    format!(
        "{} faults: {} kills, {} pauses, {} database restarts, {} 5xx bursts, {} hangs",
        plan.len(),
        count(|f| matches!(f, Fault::Kill { .. })),
        count(|f| matches!(f, Fault::Pause { .. })),
        count(|f| matches!(f, Fault::RestartDatabase { .. })),
        count(|f| matches!(f, Fault::Burst { .. })),
        count(|f| matches!(f, Fault::Hang { .. })),
    )
}

#[test]
fn faults_a_seed_replays_the_same_schedule_and_keeps_a_node_up() {
    let shape = Shape {
        seconds: 600,
        nodes: 3,
        receivers: 3,
        shared: true,
        lease: Duration::from_secs(3),
    };
    let plan = schedule(7, &shape);
    assert_eq!(plan, schedule(7, &shape));
    assert_ne!(plan, schedule(8, &shape));
    assert!(plan.len() > 100, "{}", census(&plan));
    for kind in ["kills", "pauses", "database restarts", "bursts", "hangs"] {
        assert!(
            !census(&plan).contains(&format!(" 0 {kind}")),
            "{}",
            census(&plan)
        );
    }
    // At every fault's start, some node is neither down nor paused.
    for p in &plan {
        let away = plan
            .iter()
            .filter(|q| q.fault.node().is_some() && q.at <= p.at && p.at < q.at + q.fault.hold())
            .count();
        assert!(away < shape.nodes, "every node away at {:?}", p.at);
    }
}
