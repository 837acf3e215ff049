//! `keyway cloud serve`: runs the Keyway cloud until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use keyway_cloud::CloudConfig;

use crate::paths;

/// `keyway cloud …`
#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// Serve the cloud API, the login pages and /openapi.json.
    Serve(ServeArgs),
}

/// Options of `keyway cloud serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (the SQLite file lives here). Default: ~/.local/share/keyway/cloud.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A reverse proxy in front of the cloud (repeatable): its `X-Forwarded-For` names the
    /// client that login throttling counts. Without it the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<IpAddr>,
    /// The URL browsers reach the cloud at, e.g. `https://keyway.example.com` behind a TLS
    /// reverse proxy: web cookies are then `Secure` `__Host-` cookies and web forms must come
    /// from its origin. Default: `http://<listen address>`, allowed only on loopback.
    #[arg(long = "public-url", value_name = "URL")]
    public_url: Option<url::Url>,
}

/// Runs a `keyway cloud` command.
pub async fn run(command: CloudCommand) -> anyhow::Result<()> {
    match command {
        CloudCommand::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Server logs on stderr; `RUST_LOG` tunes them (default: info), except that the HTTP,
    // WebSocket, TLS and SMTP libraries stay at info whatever it says: at debug and trace
    // they print frames and commands that carry secrets.
    let filter = keyway_cloud::log_filter(&std::env::var("RUST_LOG").unwrap_or_default());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let data = args.data.unwrap_or_else(paths::cloud_data_dir);
    let config = CloudConfig {
        trusted_proxies: args.trusted_proxies,
        public_url: args.public_url,
        ..CloudConfig::new(data.clone())
    };
    let running = keyway_cloud::start(config, args.listen).await?;
    println!("Keyway cloud listening on {}", running.base_url());
    if let Some(url) = &running.state.config.public_url {
        println!("  public:  {url}");
    }
    println!("  data:    {}", data.display());
    println!("  OpenAPI: {}/openapi.json", running.base_url());
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    running.shutdown().await;
    Ok(())
}
