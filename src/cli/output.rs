//! Standard output for every command. `println!` panics when stdout is closed (`| head`,
//! `| true`) or full (`> /dev/full`); here the first failure is kept, the rest of the output
//! skipped, and `finish` turns it into an outcome: a closed pipe ends quietly, anything else is
//! a clear error (exit 2). Both streams show outside text (a server's error_description, a
//! body, a request_uri, a value from a file) only through `printable`, so an escape sequence
//! in it is shown, never obeyed.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use crate::core::printable::{printable, printable_json};

static FAILURE: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// Writes `text` and a newline to stdout, unless an earlier write failed.
pub fn line(text: &str) {
    write_stdout(&printable(text));
}

/// Writes `value` as pretty JSON (a `--json` answer): still valid JSON, every control and bidi
/// character escaped the JSON way.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    write_stdout(&printable_json(&text));
}

fn write_stdout(text: &str) {
    let Ok(mut failure) = FAILURE.lock() else {
        return;
    };
    if failure.is_some() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    if let Err(e) = written {
        *failure = Some(e);
    }
}

/// Writes `text` and a newline to stderr; a failure there has nowhere to be reported.
pub fn error_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{}", printable(text));
}

/// `code` when every write went through or the reader went away (a closed pipe is the
/// reader's choice), else the write error, said once, exit 2.
pub fn finish(code: ExitCode) -> ExitCode {
    let failure = FAILURE.lock().ok().and_then(|mut f| f.take());
    match failure {
        None => code,
        Some(e) if e.kind() == ErrorKind::BrokenPipe => code,
        Some(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to standard output: {e}\n  hint: check the disk or the file stdout is redirected to"
            );
            ExitCode::from(2)
        }
    }
}

/// `println!` for commands: formats and goes through `line`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::line(&format!($($arg)*))
    };
}
pub(crate) use say;

/// `eprintln!` for commands: formats and goes through `error_line`.
macro_rules! complain {
    ($($arg:tt)*) => {
        $crate::cli::output::error_line(&format!($($arg)*))
    };
}
pub(crate) use complain;
