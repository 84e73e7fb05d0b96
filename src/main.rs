//! The `zhiku` binary: parse the command line, hand over to the library.

use clap::Parser;

/// mimalloc instead of the system allocator: a GraphQL response is hundreds of small
/// allocations across threads, where glibc's malloc showed up as a quarter of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    zhiku::cli::run(zhiku::cli::Cli::parse()).await
}
