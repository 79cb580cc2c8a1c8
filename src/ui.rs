//! What the program says on stderr besides errors: the one-line summaries, progress bars and
//! step lines, all silenced by `--quiet`; and the command line recorded in manifests, which
//! `svcaudit plan` replaces with the equivalent single-step command it runs.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

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
