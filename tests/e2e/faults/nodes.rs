//! The system under faults: Herald nodes that can be killed, restarted and paused, the
//! receivers that can fail or hang, and the database that can restart; and the nemesis that
//! applies a schedule to them, noting when each kill happened.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use super::schedule::{Fault, Planned};
use crate::harness::{Herald, TempDir};
use crate::pg_restart;
use crate::receiver::{Receiver, Reply};

pub const LEASE_S: u64 = 3;

/// The nodes of one run; a slot is empty while its node is down.
pub struct Nodes {
    dir: TempDir,
    slots: Vec<Mutex<Option<Herald>>>,
    /// Each node's base URL while it takes requests (not while down or paused).
    bases: Mutex<Vec<Option<String>>>,
    /// When each kill happened: requests in flight then have no attempt row.
    pub kills: Mutex<Vec<SystemTime>>,
}

/// A node with a short lease, and breakers that cool down within seconds (bursts and hangs
/// open them; the run must settle once the faults end).
fn start(dir: &TempDir) -> Herald {
    let lease = LEASE_S.to_string();
    let env = [
        ("HERALD_LEASE_S", lease.as_str()),
        ("HERALD_BREAKER_COOLDOWN", "1s"),
        ("HERALD_BREAKER_COOLDOWN_MAX", "4s"),
    ];
    tokio::task::block_in_place(|| Herald::start_with(&dir.0, &env))
}

impl Nodes {
    pub fn start(name: &str, n: usize) -> Arc<Nodes> {
        let dir = TempDir::new(name);
        let nodes: Vec<Herald> = (0..n).map(|_| start(&dir)).collect();
        let bases = nodes.iter().map(|h| Some(h.base.clone())).collect();
        Arc::new(Nodes {
            slots: nodes.into_iter().map(|h| Mutex::new(Some(h))).collect(),
            dir,
            bases: Mutex::new(bases),
            kills: Mutex::default(),
        })
    }

    /// The base URLs of the nodes taking requests now.
    pub fn up(&self) -> Vec<String> {
        let bases = self.bases.lock().expect("lock");
        bases.iter().flatten().cloned().collect()
    }

    fn set_base(&self, node: usize, base: Option<String>) {
        self.bases.lock().expect("lock")[node] = base;
    }

    fn kill(&self, node: usize) {
        self.set_base(node, None);
        if let Some(mut h) = self.slots[node].lock().expect("lock").take() {
            h.kill();
            self.kills.lock().expect("lock").push(SystemTime::now());
        }
    }

    fn restart(&self, node: usize) {
        let mut slot = self.slots[node].lock().expect("lock");
        if slot.is_none() {
            let h = start(&self.dir);
            self.set_base(node, Some(h.base.clone()));
            *slot = Some(h);
        }
    }

    fn signal(&self, node: usize, signal: &str) {
        let slot = self.slots[node].lock().expect("lock");
        if let Some(h) = slot.as_ref() {
            h.signal(signal);
            let base = (signal == "CONT").then(|| h.base.clone());
            self.set_base(node, base);
        }
    }

    /// The first node, to use while no fault runs (before the schedule, after healing);
    /// [`Nodes::give_back`] returns it.
    pub fn lend(&self) -> Herald {
        let taken = self.slots[0].lock().expect("lock").take();
        taken.expect("node 0 is up while no fault runs")
    }

    /// The database the nodes share, to read past the API when a run does not settle.
    pub fn db(&self) -> &crate::harness::TestDb {
        &self.dir.1
    }

    pub fn give_back(&self, node: Herald) {
        *self.slots[0].lock().expect("lock") = Some(node);
    }

    /// Ends every fault: paused nodes go on, killed ones start again.
    pub fn heal(&self) {
        for node in 0..self.slots.len() {
            self.signal(node, "CONT");
            self.restart(node);
        }
    }
}

/// Applies `plan` to `nodes` and `receivers`, from now; each fault heals itself after its
/// hold. Returns once the last fault is healed.
pub async fn nemesis(plan: Vec<Planned>, nodes: Arc<Nodes>, receivers: Arc<Vec<Receiver>>) {
    let start = Instant::now();
    let mut healing = tokio::task::JoinSet::new();
    // One database restart at a time, each to its end (the server up again).
    let database = Arc::new(tokio::sync::Mutex::new(()));
    for Planned { at, fault } in plan {
        tokio::time::sleep_until((start + at).into()).await;
        let (nodes, receivers) = (Arc::clone(&nodes), Arc::clone(&receivers));
        let database = Arc::clone(&database);
        healing.spawn(async move {
            let hold = fault.hold();
            match fault {
                Fault::Kill { node, .. } => {
                    nodes.kill(node);
                    tokio::time::sleep(hold).await;
                    nodes.restart(node);
                }
                Fault::Pause { node, .. } => {
                    nodes.signal(node, "STOP");
                    tokio::time::sleep(hold).await;
                    nodes.signal(node, "CONT");
                }
                Fault::RestartDatabase { .. } => {
                    let _one = database.lock().await;
                    let stopped = tokio::task::block_in_place(pg_restart::Stopped::now);
                    tokio::time::sleep(hold).await;
                    tokio::task::block_in_place(|| drop(stopped));
                }
                Fault::Burst { receiver, .. } => {
                    receivers[receiver].set_default(Reply::Status(503));
                    tokio::time::sleep(hold).await;
                    receivers[receiver].set_default(Reply::Status(200));
                }
                Fault::Hang { receiver, .. } => {
                    receivers[receiver].set_default(Reply::Hang);
                    tokio::time::sleep(hold).await;
                    receivers[receiver].set_default(Reply::Status(200));
                }
            }
        });
    }
    while let Some(healed) = healing.join_next().await {
        healed.expect("a fault could not be applied or healed");
    }
}
