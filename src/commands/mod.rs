//! One module per subcommand: turn arguments into a validated plan and call the core.

pub mod audit;
pub mod customers;
pub mod sample;
pub mod schedule;
pub mod score;
pub mod seed;
pub mod verify;

use crate::cli::{Cli, Command, SampleCommand};
use crate::error::Result;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    crate::ui::set_quiet(cli.quiet);
    match cli.command {
        Command::Sample(SampleCommand::Outlets(a)) => sample::outlets(*a),
        Command::Sample(SampleCommand::Customers(a)) => customers::customers(*a),
        Command::Verify(a) => verify::run(a),
        Command::Seed(_) => seed::run(),
        Command::Schedule(a) => schedule::run(*a),
        Command::Scheme(c) => score::scheme(c),
        Command::Score(a) => score::run(*a),
        Command::Init(a) => audit::init(a),
        Command::Plan(a) => audit::plan(a),
    }
}
