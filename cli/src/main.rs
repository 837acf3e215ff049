//! `keyway`: the Keyway command line — the demo now; the cloud, admin and tenant commands
//! join it as they are built. It uses the same core the phones embed.

mod demo;

use clap::{Parser, Subcommand};

/// Keyway: open doors with your phone.
#[derive(Debug, Parser)]
#[command(name = "keyway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Provision a simulated site and unlock its locks by simulated BLE, printing each step.
    Demo(demo::DemoArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo(args) => demo::run(args).await,
    }
}
