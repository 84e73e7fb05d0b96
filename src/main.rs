//! The `zhiku` binary: parse the command line, hand over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    zhiku::cli::run(zhiku::cli::Cli::parse()).await
}
