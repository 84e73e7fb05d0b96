//! The command line: `serve` (the default), `migrate`, `schema`, `seed --demo`.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::auth::AuthState;
use crate::config::{AuthConfig, DatabaseConfig, ServerConfig};
use crate::telemetry::{self, Metrics};

/// Zhiku: GraphQL API for a knowledge-payment platform.
#[derive(Debug, Parser)]
#[command(name = "zhiku", version, about)]
pub struct Cli {
    /// Database options, shared by every command.
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Sign-in options (JWT secret, WeChat login), shared by every command.
    #[command(flatten)]
    pub auth: AuthConfig,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `serve`'s options when no command is given (read from the environment and defaults).
#[derive(Debug, Parser)]
struct ServeDefaults {
    #[command(flatten)]
    server: ServerConfig,
}

/// Commands of the `zhiku` binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrating the database first).
    Serve(ServerConfig),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Fill the database with data.
    Seed {
        /// Deterministic demo data at the scale of a small real platform.
        #[arg(long)]
        demo: bool,
    },
}

/// Runs one command; errors are printed (never with secrets) and turned into exit 1.
pub async fn run(cli: Cli) -> ExitCode {
    match run_command(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run_command(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(ServeDefaults::try_parse_from(["zhiku"])?.server),
    };
    match command {
        Command::Serve(server) => serve(&cli.database, &cli.auth, &server).await,
        Command::Migrate => {
            crate::db::connect_and_migrate(&cli.database).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Seed { demo } => {
            if !demo {
                return Err("nothing to seed: pass --demo".into());
            }
            let started = Instant::now();
            let db = crate::db::connect_and_migrate(&cli.database).await?;
            let counts = crate::seed::demo(&db).await?;
            println!(
                "seeded demo data in {:.1}s: {counts}",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn serve(
    database: &DatabaseConfig,
    auth: &AuthConfig,
    server: &ServerConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    telemetry::init_logging();
    let metrics = Metrics::new();
    let db = crate::open_database(database, &metrics).await?;
    let auth = AuthState::new(&db, auth, server.environment).await?;
    let app = crate::app(db, auth, server, metrics);
    let listener = TcpListener::bind(server.listen).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        "serving GraphQL at http://{}/graphql",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, so in-flight requests can finish.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}
