//! The `baton` binary.

mod abcd;
mod allocator;
mod chat;
mod eval;
mod eval_escapes;
mod kb_cmd;
mod report;
mod serve;
mod test_cmd;
mod validate_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: allocator::Mimalloc = allocator::Mimalloc;

#[derive(Parser)]
#[command(
    name = "baton",
    version,
    about = "Baton: AI customer-support flows with a clean hand-over to people"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check flow files and print every finding; exits 1 when any has errors.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
    },
    /// Run a flow's scripted tests (embedded in the flow and/or in test files) with coverage.
    Test {
        flow: PathBuf,
        /// Test files: {"format": 1, "tests": [...]}.
        tests: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// Print the whole transcript of every test, not only of failures.
        #[arg(long)]
        verbose: bool,
    },
    /// Talk to a flow in the terminal as the customer; play the agent and the clock with /commands.
    Chat {
        flow: PathBuf,
        /// Answer webhook nodes with a failure instead of calling them.
        #[arg(long)]
        mock_webhooks: bool,
        /// Contact or conversation facts, e.g. --var contact.name=Ana.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// A folder of Markdown articles (or ABCD's guidelines.json) that Let AI Answer answers from.
        #[arg(long)]
        kb: Option<PathBuf>,
        /// A workspace's settings (JSON, as `GET /api/v1/workspace` shows them): its hand-off
        /// messages and times, escapes, silence and reply targets. Default: a new workspace's.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
    },
    /// Run the server: customers chat over HTTP and WebSocket; flows, members and API keys.
    Serve(serve::ServeArgs),
    /// Print the OpenAPI document of the server's API.
    Openapi,
    /// Print the JSON Schema of the flow document (or of a scripted tests file).
    Schema {
        #[arg(long)]
        tests: bool,
    },
    /// Measure the offline AI: classification accuracy, answer/refuse accuracy, latency.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Knowledge-base articles: read and chunk a folder, convert ABCD's guidelines.
    #[command(subcommand)]
    Kb(kb_cmd::KbCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate { files, format } => validate_cmd::run(&files, format),
        Command::Test {
            flow,
            tests,
            format,
            verbose,
        } => test_cmd::run(&flow, &tests, format, verbose),
        Command::Chat {
            flow,
            mock_webhooks,
            vars,
            kb,
            settings,
        } => chat::run(&flow, mock_webhooks, &vars, kb.as_deref(), settings.as_deref()),
        Command::Serve(args) => serve::run(args),
        Command::Eval(command) => eval::run(command),
        Command::Kb(command) => kb_cmd::run(command),
        Command::Openapi => {
            print!("{}", baton_server::routes::system::openapi_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { tests } => {
            if tests {
                print!("{}", baton_flow::schema::tests_schema_json());
            } else {
                print!("{}", baton_flow::schema::flow_schema_json());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
