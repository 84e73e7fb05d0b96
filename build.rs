//! Rebuilds the server when the console build changes: `include_dir!` embeds
//! `console/dist`, but stable Rust cannot tell Cargo which files a macro read.

fn main() {
    println!("cargo:rerun-if-changed=console/dist");
}
