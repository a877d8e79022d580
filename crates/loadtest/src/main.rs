//! `baton-loadtest`: the load tool, apart from the served binary (see `load.rs`).

mod load;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match load::run(load::LoadArgs::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
