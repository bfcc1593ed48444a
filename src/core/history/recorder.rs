//! What a session records through: the history opened on the first exchange, and a failure to
//! open or write it kept as a warning for the shell to show. Recording never fails a command.

use std::path::PathBuf;
use std::sync::Mutex;

use super::{Exchange, History, Limits};

enum State {
    Off,
    Unopened(PathBuf),
    Open(History),
    /// Opening failed once (warned); not retried on every exchange.
    Broken,
}

type Notify = Box<dyn Fn(&str) + Send + Sync>;

pub struct Recorder {
    state: Mutex<State>,
    warnings: Mutex<Vec<String>>,
    /// Where warnings go as they happen, when the shell asked; else they wait in `warnings`.
    notify: Mutex<Option<Notify>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Records nothing: benches, tests, and sessions that only build.
    pub fn off() -> Recorder {
        Recorder::with(State::Off)
    }

    /// Records into `path`, opened on the first exchange.
    pub fn at(path: PathBuf) -> Recorder {
        Recorder::with(State::Unopened(path))
    }

    /// Records into the data dir's history file; without a data dir, warns once and records
    /// nothing.
    pub fn in_data_dir() -> Recorder {
        match History::path_in_data_dir() {
            Ok(path) => Recorder::at(path),
            Err(e) => {
                let recorder = Recorder::with(State::Broken);
                recorder.warn(format!("history not kept: {e}"));
                recorder
            }
        }
    }

    fn with(state: State) -> Recorder {
        Recorder {
            state: Mutex::new(state),
            warnings: Mutex::new(Vec::new()),
            notify: Mutex::new(None),
        }
    }

    /// Whether exchanges are kept at all: callers skip building the record when not.
    pub fn is_on(&self) -> bool {
        self.state
            .lock()
            .is_ok_and(|s| matches!(*s, State::Unopened(_) | State::Open(_)))
    }

    fn warn(&self, message: String) {
        if let Ok(notify) = self.notify.lock()
            && let Some(notify) = &*notify
        {
            notify(&message);
        } else if let Ok(mut warnings) = self.warnings.lock() {
            warnings.push(message);
        }
    }

    /// Sends warnings to `notify` from now on (and those already waiting).
    pub fn notify(&self, notify: impl Fn(&str) + Send + Sync + 'static) {
        for waiting in self.take_warnings() {
            notify(&waiting);
        }
        if let Ok(mut slot) = self.notify.lock() {
            *slot = Some(Box::new(notify));
        }
    }

    /// Records one exchange; a failure becomes a warning, never an error.
    pub fn record(&self, exchange: &Exchange) {
        self.with_history(|history| {
            history.record(exchange).map(drop).map_err(|e| {
                format!(
                    "this {} exchange was not added to the history: {e}",
                    exchange.fields().step.as_str()
                )
            })
        });
    }

    /// Later exchanges under `alias` join the flow recorded under `flow_key` (a consent's calls
    /// join the flow that granted it); a failure becomes a warning.
    pub fn alias(&self, profile: &str, alias: &str, flow_key: &str) {
        self.with_history(|history| {
            history
                .alias(profile, alias, flow_key)
                .map_err(|e| format!("the history could not link {alias} to its flow: {e}"))
        });
    }

    /// Runs `work` on the history, opened on first use; its error becomes a warning.
    fn with_history(&self, work: impl FnOnce(&History) -> Result<(), String>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if let State::Unopened(path) = &*state {
            *state = match History::open(path, Limits::default()) {
                Ok((history, notice)) => {
                    if let Some(notice) = notice {
                        self.warn(notice);
                    }
                    State::Open(history)
                }
                Err(e) => {
                    self.warn(format!("history not kept: {e}"));
                    State::Broken
                }
            };
        }
        if let State::Open(history) = &*state
            && let Err(warning) = work(history)
        {
            self.warn(warning);
        }
    }

    /// The warnings since the last call, for the shell to show.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }
}
