//! What the program says on stderr besides errors: the one-line summaries, progress bars and
//! step lines, all silenced by `--quiet`; and the command line recorded in manifests, which
//! `svcaudit plan` replaces with the equivalent single-step command it runs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static ARGS: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// Silences summaries and progress (`--quiet`); errors are always printed.
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

/// True under `--quiet`.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints a status line on stderr unless `--quiet`.
#[macro_export]
macro_rules! status {
    ($($t:tt)*) => {
        if !$crate::ui::quiet() {
            eprintln!($($t)*);
        }
    };
}

/// Prints to stdout; a closed pipe (`svcaudit scheme show gbt27922 | head`) ends the
/// process quietly with exit 0, as `head` asked for no more. Other write errors are reported.
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {
        $crate::ui::write_stdout(format_args!($($t)*), true)
    };
}

/// Like [`outln!`] without the newline.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {
        $crate::ui::write_stdout(format_args!($($t)*), false)
    };
}

/// The body of [`outln!`] and [`out!`].
pub fn write_stdout(args: std::fmt::Arguments, newline: bool) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let r = o
        .write_fmt(args)
        .and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| o.flush());
    match r {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            std::process::exit(1);
        }
    }
}

/// Records `args` (without the program name) as the command being run, for manifests and
/// reproduction lines; `None` goes back to the process's own arguments.
pub fn set_args(args: Option<Vec<String>>) {
    *ARGS.lock().unwrap_or_else(|e| e.into_inner()) = args;
}

/// The arguments of the command being run, without the program name.
pub fn args() -> Vec<String> {
    match &*ARGS.lock().unwrap_or_else(|e| e.into_inner()) {
        Some(a) => a.clone(),
        None => std::env::args().skip(1).collect(),
    }
}

/// The command being run, shell-quoted, for manifests and reproduction lines.
pub fn command_line() -> String {
    shell_line(&args())
}

/// `svcaudit` followed by `args`, each shell-quoted when it holds anything but plain
/// characters, so that the line can be pasted into a shell.
pub fn shell_line(args: &[String]) -> String {
    let mut parts = vec!["svcaudit".to_string()];
    for a in args {
        let plain = !a.is_empty()
            && a.chars()
                .all(|c| c.is_alphanumeric() || "-_./=:,@%+".contains(c));
        parts.push(if plain {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        });
    }
    parts.join(" ")
}
