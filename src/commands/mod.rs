//! One module per subcommand: turn arguments into a validated plan and call the core.

pub mod audit;
pub mod customers;
pub mod sample;
pub mod schedule;
pub mod score;
pub mod seed;
pub mod verify;

use std::any::Any;

use crate::cli::{Cli, Command, SampleCommand};
use crate::error::Result;

/// How a command was invoked: the arguments it records in its manifest as the command that
/// reproduces it (for `svcaudit plan`, the equivalent single-step command, not plan's own).
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The arguments, without the program name.
    pub args: Vec<String>,
}

impl Invocation {
    /// The process's own command line.
    pub fn from_env() -> Invocation {
        Invocation {
            args: std::env::args().skip(1).collect(),
        }
    }

    /// The command, shell-quoted, for manifests and reproduction lines.
    pub fn command_line(&self) -> String {
        crate::ui::shell_line(&self.args)
    }
}

/// What a finished command leaves to free: large results (drawn rows, millions of answers)
/// whose freeing the caller may skip. `main` ends the process without freeing them (the
/// system reclaims the memory at once; freeing took 10-20 ms); `plan`, which runs several
/// commands in one process, frees each.
#[derive(Default)]
pub struct Done {
    /// Held only to be freed, or not, by the caller.
    _held: Vec<Box<dyn Any + Send>>,
}

impl Done {
    /// Done, nothing to free.
    pub fn nothing() -> Done {
        Done::default()
    }

    /// Done, leaving `v` to the caller.
    pub fn leaving(v: impl Any + Send) -> Done {
        Done {
            _held: vec![Box::new(v)],
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli, inv: &Invocation) -> Result<Done> {
    crate::ui::set_quiet(cli.quiet);
    let nothing = |r: Result<()>| r.map(|()| Done::nothing());
    match cli.command {
        Command::Sample(SampleCommand::Outlets(a)) => nothing(sample::outlets(*a, inv)),
        Command::Sample(SampleCommand::Customers(a)) => customers::customers(*a, inv),
        Command::Verify(a) => nothing(verify::run(a)),
        Command::Seed(_) => nothing(seed::run()),
        Command::Schedule(a) => nothing(schedule::run(*a, inv)),
        Command::Scheme(c) => nothing(score::scheme(c)),
        Command::Score(a) => match &a.audit {
            Some(audit) => nothing(audit::score(audit, &a.audit_opts, a.force)),
            None => score::run(*a, inv),
        },
        Command::Init(a) => nothing(audit::init(a)),
        Command::Plan(a) => nothing(audit::plan(a)),
    }
}
