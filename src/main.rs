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
    if let Err(e) = svcaudit::commands::run(cli) {
        eprintln!("error: {}", e.message);
        std::process::exit(e.exit_code());
    }
}
