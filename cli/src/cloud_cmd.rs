//! `keyway cloud serve`: runs the Keyway cloud until Ctrl-C; `keyway cloud rotate-key`:
//! re-seals its database under a new key; `keyway cloud apps add|list`: the apps that may
//! connect to sites through OAuth.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use keyway_cloud::integrations::connections;
use keyway_cloud::store::{Store, KEY_ENV};
use keyway_cloud::{CloudConfig, KeySource};

use crate::paths;

/// `keyway cloud …`
#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// Serve the cloud API, the login pages and /openapi.json.
    Serve(ServeArgs),
    /// Re-seal every secret of a stopped cloud's database under a new key.
    RotateKey(RotateKeyArgs),
    /// Apps that connect to sites through OAuth ("Connect"): register and list them.
    #[command(subcommand)]
    Apps(AppsCommand),
}

/// `keyway cloud apps …`
#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Register an app: prints its client id and secret (the secret only this once).
    Add(AddAppArgs),
    /// List the registered apps (never their secrets).
    List(StoreArgs),
}

/// Where the cloud's database is.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Data directory of the cloud. Default: ~/.local/share/keyway/cloud.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The key file. Default: `<data>.key`; KEYWAY_CLOUD_KEY wins when set.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
}

/// Options of `keyway cloud apps add`.
#[derive(Debug, Args)]
pub struct AddAppArgs {
    /// The database.
    #[command(flatten)]
    store: StoreArgs,
    /// The app's name, shown on the consent page and to site admins.
    #[arg(long)]
    name: String,
    /// A redirect URI the app may use (repeatable; `https://`, or `http://127.0.0.1` /
    /// `http://[::1]` for development), compared exactly.
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    redirect_uris: Vec<String>,
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
    /// The key that seals the database's secrets (made at the first start). Default:
    /// `<data>.key` next to the data directory. The KEYWAY_CLOUD_KEY environment variable
    /// (base64 of 32 bytes) wins when set.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The URL browsers reach the cloud at, e.g. `https://keyway.example.com` behind a TLS
    /// reverse proxy: web cookies are then `Secure` `__Host-` cookies and web forms must come
    /// from its origin. Default: `http://<listen address>`, allowed only on loopback.
    #[arg(long = "public-url", value_name = "URL")]
    public_url: Option<url::Url>,
}

/// Options of `keyway cloud rotate-key`.
#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// Data directory of the (stopped) cloud. Default: ~/.local/share/keyway/cloud.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The current key file. Default: `<data>.key`; KEYWAY_CLOUD_KEY wins when set.
    #[arg(long, value_name = "OLD")]
    key_file: Option<PathBuf>,
    /// Where to write the new key (must not exist); start the cloud with it afterwards.
    #[arg(long, value_name = "NEW")]
    new_key_file: PathBuf,
}

/// Runs a `keyway cloud` command.
pub async fn run(command: CloudCommand) -> anyhow::Result<()> {
    match command {
        CloudCommand::Serve(args) => serve(args).await,
        CloudCommand::RotateKey(args) => rotate_key(args),
        CloudCommand::Apps(command) => apps(command).await,
    }
}

fn open_store(args: StoreArgs) -> anyhow::Result<Store> {
    let data = args.data.unwrap_or_else(paths::cloud_data_dir);
    let key = KeySource::from_env_or_file(&data, args.key_file);
    Ok(Store::open(&data, &key)?)
}

async fn apps(command: AppsCommand) -> anyhow::Result<()> {
    match command {
        AppsCommand::Add(args) => {
            let store = open_store(args.store)?;
            let (name, uris) = (args.name, args.redirect_uris);
            let now = keyway_cloud::clock::CloudClock::default().now();
            let new = store
                .run(move |db| connections::register_app(db, &name, &uris, now))
                .await?;
            println!("Registered {}.", new.app.name);
            println!("  client_id:     {}", new.app.client_id);
            println!("  client_secret: {}", new.secret);
            println!("The secret is shown only now: give it to the app's operator.");
        }
        AppsCommand::List(args) => {
            let store = open_store(args)?;
            let apps = store.run(|db| connections::list_apps(db)).await?;
            if apps.is_empty() {
                println!("No registered apps.");
            }
            for app in apps {
                let status = if app.disabled_at.is_some() {
                    "disabled"
                } else {
                    "live"
                };
                println!("{}  {}  ({status})", app.client_id, app.name);
                for uri in &app.redirect_uris {
                    println!("    {uri}");
                }
            }
        }
    }
    Ok(())
}

fn rotate_key(args: RotateKeyArgs) -> anyhow::Result<()> {
    let data = args.data.unwrap_or_else(paths::cloud_data_dir);
    let old = KeySource::from_env_or_file(&data, args.key_file);
    let rotation = keyway_cloud::store::rotate_key(&data, &old, &args.new_key_file)?;
    println!(
        "Re-sealed {} secrets of {} under the new key {}.",
        rotation.resealed,
        data.display(),
        args.new_key_file.display()
    );
    println!("The {old} no longer opens the database:");
    match &old {
        KeySource::File(path) => println!(
            "  start the cloud with --key-file {} (or move it to the default place), then \
             destroy {} (backups made before now still need it).",
            args.new_key_file.display(),
            path.display()
        ),
        KeySource::Env => println!(
            "  set {KEY_ENV} to the new key file's contents (or unset it and pass --key-file {})",
            args.new_key_file.display()
        ),
    }
    Ok(())
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
    let key = KeySource::from_env_or_file(&data, args.key_file);
    let config = CloudConfig {
        trusted_proxies: args.trusted_proxies,
        key: key.clone(),
        public_url: args.public_url,
        ..CloudConfig::new(data.clone())
    };
    let running = keyway_cloud::start(config, args.listen).await?;
    println!("Keyway cloud listening on {}", running.base_url());
    if let Some(url) = &running.state.config.public_url {
        println!("  public:  {url}");
    }
    println!("  data:    {}", data.display());
    println!("  key:     {key}");
    println!("  OpenAPI: {}/openapi.json", running.base_url());
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    running.shutdown().await;
    Ok(())
}
