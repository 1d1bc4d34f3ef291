//! The workloads `herald bench` runs only when `--run` names them: each starts what it
//! needs on the Herald under test and prints its own lines.

use std::sync::Arc;

use super::receiver::Recorder;
use super::workloads::Target;
use super::{backlog, drain, failing, isolation, queries, scale, soak, BenchArgs};

/// Where the workloads send: Herald's first base URL, its admin token, the receiver's hook
/// and the process whose memory counts as Herald's.
pub struct Under<'a> {
    pub base: &'a str,
    pub token: &'a str,
    pub hook: &'a str,
    pub pid: u32,
}

/// The workloads run only when named: isolation, failing, soak and queries.
pub async fn run(
    args: &BenchArgs,
    target: &Target,
    recorder: &Arc<Recorder>,
    under: &Under<'_>,
    runs: &[&str],
) -> anyhow::Result<()> {
    let (hook, base, token) = (under.hook, under.base, under.token);
    if runs.contains(&"isolation") {
        isolation::runs(base, token, hook, args.isolation_events, recorder).await?;
    }
    if runs.contains(&"failing") {
        failing::runs(args, (base, token), hook, recorder).await?;
    }
    if runs.contains(&"soak") {
        soak::report(args, target, recorder).await?;
    }
    if runs.contains(&"queries") {
        queries::run(base, token, hook, args.query_events, recorder).await?;
    }
    if runs.contains(&"drain") {
        drain::run(args, hook, recorder).await?;
    }
    if runs.contains(&"backlog") {
        backlog::run(base, token, args.backlog_events, under.pid).await?;
    }
    if runs.contains(&"fanout") {
        scale::fanout((base, token, hook), args.fanout_events, recorder).await?;
    }
    if runs.contains(&"rooms") {
        scale::rooms((base, token, hook), args.room_events, recorder).await?;
    }
    Ok(())
}
