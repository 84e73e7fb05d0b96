//! The command line: `serve` (the default), `migrate`, `schema`, `seed --demo`, and the
//! offline recommendation tools `eval`, `synthetic`, `recommend-batch`, `predict`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::auth::AuthState;
use crate::auth::tokens::Audience;
use crate::config::{
    AuthConfig, DatabaseConfig, Environment, PaymentConfig, RecommendConfig, ServerConfig,
};
use crate::recommend::eval::{self, Dataset};
use crate::service::{sessions, users};
use crate::startup::{Application, Settings};
use crate::telemetry;
use entity::enums::Role;

/// Zhiku: GraphQL API for a knowledge-payment platform.
#[derive(Debug, Parser)]
#[command(name = "zhiku", version, about)]
pub struct Cli {
    /// Deployment environment: `production` turns off development conveniences and
    /// refuses unsafe settings.
    #[arg(long, env = "ZHIKU_ENV", value_enum, default_value_t = Environment::Development, global = true)]
    pub environment: Environment,

    /// Database options, shared by every command.
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Sign-in options (JWT secret, WeChat login), shared by every command.
    #[command(flatten)]
    pub auth: AuthConfig,

    /// Payment options (provider, merchant keys, order rules), shared by every command.
    #[command(flatten)]
    pub payments: PaymentConfig,

    /// Recommendation engine options, shared by the server and the offline commands.
    #[command(flatten)]
    pub recommend: RecommendConfig,

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
    Serve(Box<ServerConfig>),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Fill the database with data.
    Seed {
        /// Deterministic demo data at the scale of a small real platform.
        #[arg(long)]
        demo: bool,
        /// Then this many more paid orders (with their sales in the ledger) over the
        /// last year, for measuring analytics at scale (needs the demo data).
        #[arg(long)]
        orders: Option<usize>,
    },
    /// Print an access token for a user (for local use and scripts); prints only the token.
    Token {
        /// The user: database id or global ID.
        #[arg(long, conflicts_with = "openid", required_unless_present = "openid")]
        user: Option<String>,
        /// The user, by WeChat openid.
        #[arg(long)]
        openid: Option<String>,
        /// Which client the token is for.
        #[arg(long, value_enum, default_value_t = TokenAudience::Console)]
        audience: TokenAudience,
    },
    /// Payment tools.
    Pay {
        /// What to do.
        #[command(subcommand)]
        action: PayAction,
    },
    /// The money ledger.
    Ledger {
        /// What to do.
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Manage users.
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Evaluate the recommendation engine offline beside a popularity baseline; prints JSON.
    Eval {
        /// Ratings file: `user<TAB>item<TAB>rating<TAB>timestamp` lines.
        #[arg(
            long,
            required_unless_present = "synthetic",
            conflicts_with = "synthetic"
        )]
        ratings: Option<PathBuf>,
        /// Layout of the ratings file.
        #[arg(long, value_enum, default_value_t = DataFormat::Movielens)]
        format: DataFormat,
        /// Seed of the splits.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Evaluate on N generated ratings with planted structure instead of a file.
        #[arg(long, value_name = "N")]
        synthetic: Option<usize>,
    },
    /// Print generated ratings with planted structure, in the format `eval` reads.
    Synthetic {
        /// Number of ratings.
        #[arg(long, default_value_t = 100_000)]
        ratings: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Print `user<TAB>item,item,...` (top k, seen items excluded, best first) for every user.
    RecommendBatch {
        /// Training ratings, as `eval` reads them.
        #[arg(long)]
        train: PathBuf,
        /// Items per user.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
    /// Print `user<TAB>item<TAB>predicted` for each `user<TAB>item` line of the pairs file.
    Predict {
        /// Training ratings, as `eval` reads them.
        #[arg(long)]
        train: PathBuf,
        /// The pairs to predict.
        #[arg(long)]
        pairs: PathBuf,
    },
}

/// Layouts of rating files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    /// MovieLens: `user item rating timestamp`, tab-, space- or `::`-separated.
    Movielens,
}

/// `zhiku pay` actions.
#[derive(Debug, Subcommand)]
pub enum PayAction {
    /// Deliver a payment notification for a pending order, signed and encrypted as
    /// WeChat Pay would (simulated provider), to the server's notify endpoint.
    Simulate {
        /// The order's out_trade_no.
        #[arg(long)]
        order_no: String,
        /// Base URL of the running server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
}

/// `zhiku ledger` actions.
#[derive(Debug, Subcommand)]
pub enum LedgerAction {
    /// Check that every entry sums to zero, journal by journal, and that every paid
    /// order has its sale; exits non-zero when not.
    Check,
}

/// `zhiku user` actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Give a user a role (a creator also gets a creator profile).
    Promote {
        /// The user: database id or global ID.
        #[arg(long)]
        user: String,
        /// The new role.
        #[arg(long, value_enum)]
        role: PromoteRole,
    },
}

/// Audiences a token can be minted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenAudience {
    /// The admin and creator web console.
    Console,
    /// The WeChat mini-program.
    Miniprogram,
    /// Official-account (H5) pages.
    H5,
}

/// Roles an operator can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum PromoteRole {
    /// Runs the platform.
    Admin,
    /// Sells courses, livestreams and groups.
    Creator,
    /// Back to a plain learner.
    Learner,
}

/// A user named on the command line: a database id or a global ID.
fn user_key(text: &str) -> Result<i64, Box<dyn std::error::Error>> {
    if let Ok(id) = text.parse::<i64>() {
        return Ok(id);
    }
    Ok(crate::graphql::ids::decode(
        &async_graphql::ID(text.to_owned()),
        "User",
    )?)
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

async fn run_command(mut cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let command = match cli.command.take() {
        Some(command) => command,
        None => Command::Serve(Box::new(ServeDefaults::try_parse_from(["zhiku"])?.server)),
    };
    match command {
        Command::Serve(server) => serve(&cli, &server).await,
        Command::Migrate => {
            crate::db::connect_and_migrate(&cli.database).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Token {
            user,
            openid,
            audience,
        } => {
            let db = crate::db::connect_and_migrate(&cli.database).await?;
            let id = user.as_deref().map(user_key).transpose()?;
            let user = users::find_for_operator(&db, id, openid.as_deref()).await?;
            let auth = AuthState::new(&db, &cli.auth, cli.environment).await?;
            let audience = match audience {
                TokenAudience::Console => Audience::Console,
                TokenAudience::Miniprogram => Audience::MiniProgram,
                TokenAudience::H5 => Audience::H5,
            };
            println!("{}", sessions::operator_token(&auth, &user, audience)?);
            Ok(())
        }
        Command::Pay {
            action: PayAction::Simulate { order_no, url },
        } => {
            let db = crate::db::connect_and_migrate(&cli.database).await?;
            let status = crate::payments::simulated::deliver_payment(&db, &order_no, &url).await?;
            println!("notification delivered: HTTP {status}");
            if !(200..300).contains(&status) {
                return Err(format!("the server refused the notification (HTTP {status})").into());
            }
            Ok(())
        }
        Command::Ledger {
            action: LedgerAction::Check,
        } => {
            let db = crate::db::connect_and_migrate(&cli.database).await?;
            let report = crate::service::ledger::balances::check(&db).await?;
            println!(
                "{} journals; all entries sum to {} fen; {} unbalanced journals {:?}; {} paid orders without a sale {:?}",
                report.journals,
                report.total_fen,
                report.unbalanced_journals.len(),
                report.unbalanced_journals,
                report.unrecorded_orders.len(),
                report.unrecorded_orders,
            );
            if !report.is_clean() {
                return Err("the ledger does not balance".into());
            }
            Ok(())
        }
        Command::User {
            action: UserAction::Promote { user, role },
        } => {
            let db = crate::db::connect_and_migrate(&cli.database).await?;
            let role = match role {
                PromoteRole::Admin => Role::Admin,
                PromoteRole::Creator => Role::Creator,
                PromoteRole::Learner => Role::Learner,
            };
            let updated = users::promote(&db, user_key(&user)?, role).await?;
            println!("user {} is now {:?}", updated.id, updated.role);
            Ok(())
        }
        Command::Eval {
            ratings,
            format: DataFormat::Movielens,
            seed,
            synthetic,
        } => {
            let dataset = match (ratings, synthetic) {
                (Some(path), _) => Dataset::read(&path)?,
                (None, Some(n)) => eval::synthetic(n, seed),
                (None, None) => return Err("pass --ratings FILE or --synthetic N".into()),
            };
            let report = eval::evaluate(&dataset, seed, &cli.recommend.engine());
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Synthetic { ratings, seed } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            eval::synthetic(ratings, seed).write(&mut out)?;
            Ok(out.flush()?)
        }
        Command::RecommendBatch { train, k } => {
            let dataset = Dataset::read(&train)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            eval::recommend_batch(&dataset, k, &cli.recommend.engine(), &mut out)?;
            Ok(out.flush()?)
        }
        Command::Predict { train, pairs } => {
            let dataset = Dataset::read(&train)?;
            let pairs = std::io::BufReader::new(
                std::fs::File::open(&pairs)
                    .map_err(|e| format!("cannot read {}: {e}", pairs.display()))?,
            );
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            eval::predict_pairs(&dataset, pairs, &cli.recommend.engine(), &mut out)?;
            Ok(out.flush()?)
        }
        Command::Seed { demo, orders } => {
            if !demo && orders.is_none() {
                return Err("nothing to seed: pass --demo and/or --orders N".into());
            }
            let started = Instant::now();
            let db = crate::db::connect_and_migrate(&cli.database).await?;
            if demo {
                let counts = crate::seed::demo(&db).await?;
                println!(
                    "seeded demo data in {:.1}s: {counts}",
                    started.elapsed().as_secs_f64()
                );
            }
            if let Some(count) = orders {
                let started = Instant::now();
                let written = crate::seed::bulk::orders(&db, count).await?;
                println!(
                    "seeded {written} more paid orders in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
    }
}

async fn serve(cli: &Cli, server: &ServerConfig) -> Result<(), Box<dyn std::error::Error>> {
    telemetry::init_logging();
    let settings = Settings {
        environment: cli.environment,
        database: cli.database.clone(),
        auth: cli.auth.clone(),
        payments: cli.payments.clone(),
        recommend: cli.recommend.clone(),
        server: server.clone(),
    };
    let application = Application::build(&settings)
        .await
        .map_err(|error| -> Box<dyn std::error::Error> { error })?;
    application.run_until_stopped(shutdown_signal()).await?;
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
