//! The command line: one file per subcommand.

pub mod bench;
mod listen;
mod migrate;
mod rekey;
mod serve;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "herald",
    version,
    about = "Webhook delivery engine for real-time communication platforms"
)]
pub struct Cli {
    /// Configuration file (TOML); missing is fine.
    #[arg(
        long,
        global = true,
        default_value = "herald.toml",
        env = "HERALD_CONFIG"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the API and the dispatcher (the default).
    Serve(serve::ServeArgs),
    /// Run the database migrations and exit.
    Migrate(serve::DatabaseArgs),
    /// Move every sealed secret to a new key (HERALD_NEW_SECRET_KEY), then exit.
    Rekey(rekey::RekeyArgs),
    /// A local receiver that prints each delivery and verifies its signature.
    Listen(listen::ListenArgs),
    /// Check a captured webhook's signature in any wire format (exit status 0 when genuine).
    Verify(verify::VerifyArgs),
    /// Measure throughput and latency against a Herald and a built-in receiver.
    Bench(bench::BenchArgs),
}

/// Parses the command line and runs the chosen subcommand.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli
            .command
            .unwrap_or(Command::Serve(serve::ServeArgs::default()))
        {
            Command::Serve(args) => serve::run(&cli.config, args).await,
            Command::Migrate(args) => migrate::run(&cli.config, args).await,
            Command::Rekey(args) => rekey::run(&cli.config, args).await,
            Command::Listen(args) => listen::run(args).await,
            Command::Verify(args) => {
                if verify::run(args)? {
                    Ok(())
                } else {
                    std::process::exit(1)
                }
            }
            Command::Bench(args) => bench::run(args).await,
        }
    })
}
