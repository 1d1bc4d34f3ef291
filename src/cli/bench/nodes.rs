//! `herald bench --processes N`: several `herald serve` processes on one database.
//!
//! Scaling out is about separate processes sharing one PostgreSQL database, so the bench
//! starts real child processes of this same binary rather than several servers in one
//! runtime: each has its own connection pool, dispatcher and leases, as in production.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};

/// Child Herald processes, killed when dropped.
pub struct Nodes {
    children: Vec<Child>,
    pub urls: Vec<String>,
}

impl Nodes {
    /// Starts `count` nodes on `database`, keeping events and bodies for `retention`, and
    /// waits until each one listens.
    pub fn start(
        count: usize,
        database: &str,
        token: &str,
        dir: &std::path::Path,
        retention: &str,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the herald binary")?;
        let mut nodes = Nodes {
            children: Vec::new(),
            urls: Vec::new(),
        };
        for n in 0..count {
            let mut child = Command::new(&exe)
                .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
                .env("HERALD_ADMIN_TOKEN", token)
                .env("HERALD_ALLOW_DESTINATIONS", "127.0.0.0/8")
                .env("HERALD_CONFIG", dir.join("absent.toml"))
                .env("HERALD_LOG", "warn")
                .env("HERALD_RETENTION_EVENTS", retention)
                .env("HERALD_RETENTION_ATTEMPT_BODIES", retention)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .with_context(|| format!("starting node {n}"))?;
            let stdout = child.stdout.take().context("node stdout")?;
            nodes.children.push(child);
            nodes
                .urls
                .push(listening_url(stdout).with_context(|| format!("node {n}"))?);
        }
        Ok(nodes)
    }
}

impl Nodes {
    /// The first node's process id.
    pub fn first_pid(&self) -> Option<u32> {
        self.children.first().map(Child::id)
    }
}

/// Reads the child's stdout until it says where it listens, then keeps draining it.
fn listening_url(stdout: std::process::ChildStdout) -> anyhow::Result<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent {
                if let Some(url) = line.strip_prefix("Herald listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => Ok(url),
        Err(_) => bail!("did not start listening within 60 s"),
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
