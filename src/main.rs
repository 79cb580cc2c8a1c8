//! Parses the command line, runs it, prints one error and maps it to an exit code
//! (0 ok, 1 data or verification failure, 2 usage error).

use clap::Parser;

fn main() {
    let cli = svcaudit::cli::Cli::parse();
    if let Err(e) = svcaudit::commands::run(cli) {
        eprintln!("error: {}", e.message);
        std::process::exit(e.exit_code());
    }
}
