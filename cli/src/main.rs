//! `keyway`: the Keyway command line — the demo now; the cloud, admin and tenant commands
//! join it as they are built. It uses the same core the phones embed.

mod admin_cmd;
mod cloud_cmd;
mod demo;
mod mail_cmd;
mod paths;
mod sim_cmd;
mod sim_iq;
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
    /// Site administration with the session of `keyway login`: CSV user import and its template.
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// Sync and list your digital keys.
    Keys,
    /// Keep your keys up to date live: print each access change until Ctrl-C.
    Watch,
    /// Print the current 5-character code of each IQ, for the remote-opening web page.
    Codes,
    /// Open a lock over BLE with your digital key.
    Unlock(tenant::UnlockArgs),
    /// The e-mails a cloud delivered to its local mailbox (`keyway mail list --data DIR`).
    #[command(subcommand)]
    Mail(mail_cmd::MailCommand),
    /// Simulated hardware: `keyway sim lock --stdio` runs a lock speaking raw BLE frames;
    /// `keyway sim iq` connects a simulated IQ with its locks to a cloud.
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo(args) => demo::run(args).await,
        Command::Cloud(command) => cloud_cmd::run(command).await,
        Command::Login(args) => tenant::login(args).await,
        Command::Admin(command) => admin_cmd::run(command).await,
        Command::Keys => tenant::keys().await,
        Command::Watch => tenant::watch().await,
        Command::Codes => tenant::codes().await,
        Command::Unlock(args) => tenant::unlock(args).await,
        Command::Mail(command) => mail_cmd::run(command),
        Command::Sim(command) => sim_cmd::run(command).await,
    }
}
