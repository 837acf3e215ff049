//! `keyway`: the Keyway command line — the demo now; the cloud, admin and tenant commands
//! join it as they are built. It uses the same core the phones embed.

mod cloud_cmd;
mod demo;
mod paths;
mod tenant;

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
    /// Run everything on loopback: cloud, admin, tenant phone, simulated locks; print each step.
    Demo(demo::DemoArgs),
    /// The Keyway cloud.
    #[command(subcommand)]
    Cloud(cloud_cmd::CloudCommand),
    /// Log in to a Keyway cloud in your browser and register this terminal as a device.
    Login(tenant::LoginArgs),
    /// Sync and list your digital keys.
    Keys,
    /// Open a lock over BLE with your digital key.
    Unlock(tenant::UnlockArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo(args) => demo::run(args).await,
        Command::Cloud(command) => cloud_cmd::run(command).await,
        Command::Login(args) => tenant::login(args).await,
        Command::Keys => tenant::keys().await,
        Command::Unlock(args) => tenant::unlock(args).await,
    }
}
