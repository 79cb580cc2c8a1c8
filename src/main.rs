//! Parses the command line, runs it, prints one error and maps it to an exit code
//! (0 ok, 1 data or verification failure, 2 usage error).

use clap::Parser;

fn main() {
    // A panic inside the xlsx reader on a damaged workbook is caught and reported as an
    // error naming the file (io::xlsx); only such panics are kept off stderr.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_reader = info
            .location()
            .is_some_and(|l| l.file().contains("calamine"));
        if !in_reader {
            default(info);
        }
    }));
    let cli = svcaudit::cli::Cli::parse();
    let inv = svcaudit::commands::Invocation::from_env();
    match svcaudit::commands::run(cli, &inv) {
        // The process ends here: what the command left is not freed piece by piece, the
        // system reclaims it (commands::Done).
        Ok(done) => {
            std::mem::forget(done);
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("error: {}", e.message);
            std::process::exit(e.exit_code());
        }
    }
}
