//! The terminal UI: a thin shell over `core`. One loop on tokio selects over terminal input,
//! the channel where async work reports, and a tick that exists only while a spinner or a
//! countdown runs; it redraws after each message and sleeps otherwise.

pub mod app;
pub mod clipboard;
mod flow_work;
mod history_shell;
pub mod keymap;
mod resource_work;
pub mod view;

#[cfg(test)]
mod dpop_tests;
#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod probe_tests;
#[cfg(test)]
mod resource_tests;
#[cfg(test)]
mod save_tests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream, MouseButton, MouseEventKind,
};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::core::paths;
use crate::core::printable::printable;
use crate::core::printable::printable_line;
use crate::core::profile::{self, ProfileSource};
use crate::core::request::Overrides;
use crate::core::session::Session;
use crate::core::transport::{ClientOptions, NetworkError, NetworkErrorKind, Outcome};
use app::{App, Effect, Message, ProofShown};
use clipboard::{Clipboard, SystemClipboard};
use view::{HitAreas, Theme};

/// Set to make the TUI quit right after its first frame and print how long that took
/// (the start-to-first-frame benchmark).
pub const FIRST_FRAME_ENV: &str = "CONSENT_EXPLORER_EXIT_AFTER_FIRST_FRAME";

/// Debug builds only: set to make the TUI panic right after its first frame, so a test can see
/// the panic hook give the terminal back. Release builds never read it.
#[cfg(debug_assertions)]
pub const PANIC_AFTER_FIRST_FRAME_ENV: &str = "CONSENT_EXPLORER_PANIC_AFTER_FIRST_FRAME";

/// Debug builds only: set to make every submit's background task panic, so a test can see the
/// UI survive it (terminal still raw, nothing printed over the screen, the spinner stopped).
#[cfg(debug_assertions)]
pub const PANIC_IN_SUBMIT_ENV: &str = "CONSENT_EXPLORER_PANIC_IN_SUBMIT";

pub fn run(profile_name: &str) -> ExitCode {
    let started = Instant::now();
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!(
            "consent-explorer: the terminal UI needs a terminal, and stdin or stdout is not one.\n  In scripts and CI use the subcommands, e.g. consent-explorer submit --profile {profile_name} (see --help)."
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(run_async(profile_name, started));
    // A flow step may still wait on a browser launcher or a listener: quitting does not.
    runtime.shutdown_timeout(Duration::from_millis(300));
    if let Some(panic) = BACKGROUND_PANIC.get() {
        eprintln!(
            "note: a background task failed (a bug: please report it): {}",
            printable(panic)
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {}", printable(&message));
            ExitCode::from(2)
        }
    }
}

/// Everything the loop needs besides the state: HTTP options, the clipboard, the channel.
struct Shell {
    options: ClientOptions,
    clipboard: SystemClipboard,
    tx: mpsc::UnboundedSender<Message>,
    /// Set when the terminal is lost: the loop ends with this error.
    fatal: Option<String>,
    flow: flow_work::FlowShell,
    /// The probe run under way, aborted when the view closes: nothing more is sent.
    probe: Option<tokio::task::JoinHandle<()>>,
}

/// Opens a profile ready to send (its sandbox started when targeted). Nothing of the running
/// state changes unless the whole open succeeds.
async fn open_session(name: &str) -> Result<Arc<Session>, String> {
    Session::open(name, &Overrides::default())
        .await
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

impl Shell {
    /// Feeds a message to update, runs every effect it returns, and feeds back what those
    /// effects report at once, until nothing is left: no effect is ever dropped.
    async fn dispatch(
        &mut self,
        message: Message,
        app: &mut App,
        terminal: &mut ratatui::DefaultTerminal,
        events: &mut EventStream,
    ) {
        let mut pending = VecDeque::from([message]);
        while let Some(message) = pending.pop_front() {
            for effect in app.update(message) {
                pending.extend(self.run(effect, app, terminal, events).await);
            }
        }
    }

    /// Carries out one effect. Slow work (a submit) reports later through the channel;
    /// what is known at once comes back as the returned message.
    async fn run(
        &mut self,
        effect: Effect,
        app: &App,
        terminal: &mut ratatui::DefaultTerminal,
        events: &mut EventStream,
    ) -> Option<Message> {
        match effect {
            Effect::Submit { id, ticket } => {
                let tx = self.tx.clone();
                let session = app.session.clone();
                let options = self.options.clone();
                tokio::spawn(async move {
                    let delivery = tokio::spawn(async move {
                        #[cfg(debug_assertions)]
                        if std::env::var_os(PANIC_IN_SUBMIT_ENV).is_some() {
                            panic!("deliberate panic in a submit ({PANIC_IN_SUBMIT_ENV})");
                        }
                        let (delivery, trail) =
                            match session.deliver_traced(&ticket, &options).await {
                                Ok((delivery, trail)) => (Ok(delivery), trail),
                                Err(e) => (Err(e), None),
                            };
                        // The callback later needs this PAR's state, nonce and verifier.
                        let recorded = match &delivery {
                            Ok(d) if matches!(d.exchange.outcome, Outcome::Accepted { .. }) => {
                                session
                                    .record_flow(
                                        &ticket,
                                        &d.exchange.outcome,
                                        jiff::Timestamp::now(),
                                    )
                                    .err()
                            }
                            _ => None,
                        };
                        (delivery, recorded, trail)
                    });
                    // A panic in the request must still end the spinner, with a word on why.
                    let (result, not_recorded, trail) = delivery
                        .await
                        .unwrap_or_else(|e| (Err(task_failed(e)), None, None));
                    if let Some(proof) = trail.as_ref().and_then(ProofShown::of) {
                        let proof = Box::new(proof);
                        let _ = tx.send(Message::ParProof { id, proof });
                    }
                    let _ = tx.send(Message::Delivered {
                        id,
                        result: Box::new(result),
                    });
                    if let Some(e) = not_recorded {
                        let _ = tx.send(Message::Notice(format!(
                            "Accepted, but the flow was not recorded, so its callback cannot be checked: {e}"
                        )));
                    }
                });
                None
            }
            Effect::Copy { what, text } => {
                let result = self
                    .clipboard
                    .copy(&text)
                    .map(|how| format!("Copied the {what} to {how}"));
                Some(Message::Copied(result))
            }
            Effect::Save { name, replace } => Some(save(app, name, replace)),
            Effect::ListProfiles => Some(Message::Profiles(profile::list())),
            Effect::Open { name } => Some(Message::Loaded(Box::new(open_session(&name).await))),
            Effect::EditProfile => {
                let ProfileSource::File(path) = app.profile.source.clone() else {
                    return Some(Message::Notice(
                        "A built-in profile has no file: save it first with w, then press e".into(),
                    ));
                };
                let editor = std::env::var("VISUAL")
                    .or_else(|_| std::env::var("EDITOR"))
                    .unwrap_or_else(|_| "vi".into());
                // The editor owns the terminal meanwhile: no reader may take its keystrokes.
                drop(std::mem::replace(events, EventStream::new()));
                give_back_terminal();
                let status = std::process::Command::new(&editor).arg(&path).status();
                match take_terminal(app.mouse) {
                    Ok(t) => *terminal = t,
                    Err(e) => {
                        // Nothing can be drawn: end the loop rather than scribble on a cooked tty.
                        give_back_terminal();
                        self.fatal =
                            Some(format!("cannot take the terminal back after {editor}: {e}"));
                        return None;
                    }
                }
                *events = EventStream::new();
                let result = match status {
                    Ok(_) => open_session(&path.display().to_string()).await,
                    Err(e) => Err(format!("cannot start {editor}: {e}")),
                };
                Some(Message::Loaded(Box::new(result)))
            }
            Effect::Flow { id, work } => {
                let session = app.session.clone();
                let (options, tx) = (self.options.clone(), self.tx.clone());
                self.flow.start(id, work, session, options, tx);
                None
            }
            Effect::Probe { id, plan } => {
                if let Some(running) = self.probe.take() {
                    running.abort();
                }
                self.probe = Some(tokio::spawn(probe_run(
                    app.session.clone(),
                    plan,
                    self.options.clone(),
                    id,
                    self.tx.clone(),
                )));
                None
            }
            Effect::StopProbe => {
                if let Some(running) = self.probe.take() {
                    running.abort();
                }
                None
            }
            Effect::Resource { id, work } => {
                let session = app.session.clone();
                let (options, tx) = (self.options.clone(), self.tx.clone());
                resource_work::start(id, work, session, options, tx);
                None
            }
            Effect::History(effect) => {
                history_shell::run(effect, &self.tx);
                None
            }
            Effect::SetMouse(on) => {
                let _ = if on {
                    crossterm::execute!(std::io::stdout(), EnableMouseCapture)
                } else {
                    crossterm::execute!(std::io::stdout(), DisableMouseCapture)
                };
                None
            }
        }
    }
}

/// One probe run, each row reported as it is decided, then the end.
async fn probe_run(
    session: Arc<Session>,
    plan: crate::core::probe::Plan,
    options: ClientOptions,
    id: app::RequestId,
    tx: mpsc::UnboundedSender<Message>,
) {
    let delay = Duration::from_millis(crate::core::probe::DEFAULT_DELAY_MS);
    probe_run_with_delay(session, plan, options, id, tx, delay).await;
}

async fn probe_run_with_delay(
    session: Arc<Session>,
    plan: crate::core::probe::Plan,
    options: ClientOptions,
    id: app::RequestId,
    tx: mpsc::UnboundedSender<Message>,
    delay: Duration,
) {
    use rand::SeedableRng;
    let rows = tx.clone();
    let mut on_row = move |row: &crate::core::probe::Row| {
        let _ = rows.send(Message::probe_row(id, row));
    };
    let rng = rand::rngs::StdRng::from_os_rng();
    let result = crate::core::probe::run(&session, &plan, &options, delay, rng, &mut on_row)
        .await
        .map_err(|e| e.to_string());
    let _ = tx.send(Message::Probe {
        id,
        event: app::ProbeEvent::Finished(Box::new(result)),
    });
}

/// A submit whose task ended without an answer (it panicked, or the runtime is going down).
fn task_failed(error: tokio::task::JoinError) -> NetworkError {
    let why = match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned()),
        Err(_) => "the task was cancelled".to_owned(),
    };
    NetworkError {
        kind: NetworkErrorKind::Other,
        message: format!("the request stopped without an answer: {}", printable_line(&why)),
        hint: "this is a bug in consent-explorer: please report it with the profile (no keys) and what was sent".to_owned(),
    }
}

/// Writes the edits as a profile in the config dir; an existing file is only replaced once
/// the user has confirmed.
fn save(app: &App, name: String, replace: bool) -> Message {
    let Some(dir) = paths::user_profiles_dir() else {
        return Message::Saved(Err(
            "no config directory (set CONSENT_EXPLORER_CONFIG_DIR)".to_owned()
        ));
    };
    save_in(&dir, app, name, replace)
}

/// Writes the edits as the profile `name` in `dir`; saving over a file keeps its comments.
fn save_in(dir: &std::path::Path, app: &App, name: String, replace: bool) -> Message {
    let path = dir.join(format!("{name}.toml"));
    if path.exists() && !replace {
        return Message::SaveExists(name);
    }
    let result = profile::save(&app.profile.with_edits(&app.seed, &name), &path)
        .map_err(|e| e.to_string())
        .and_then(|()| profile::load_file(&path).map_err(|e| e.to_string()))
        .map(Box::new);
    Message::Saved(result)
}

/// The next tick while a spinner or countdown runs; never, while nothing needs one.
async fn next_tick(ticker: &mut Option<(Duration, tokio::time::Interval)>) {
    match ticker {
        Some((_, interval)) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Terminal input as a message; None for what needs only a redraw (resize, focus).
fn to_message(event: Event, hits: &HitAreas) -> Option<Message> {
    match event {
        Event::Key(key) => Some(Message::Key(key)),
        Event::Paste(text) => Some(Message::Paste(text)),
        Event::Mouse(m) => {
            let pane = hits.pane_at(m.column, m.row)?;
            match m.kind {
                MouseEventKind::Down(MouseButton::Left) => Some(Message::Focus(pane)),
                MouseEventKind::ScrollDown => Some(Message::Scroll(pane, 3)),
                MouseEventKind::ScrollUp => Some(Message::Scroll(pane, -3)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Raw mode, the alternate screen, bracketed paste (a paste arrives as one text, never as
/// keys that would run commands) and, when on, mouse capture. No panic hook is installed here
/// (ratatui::init would add one per call): `install_panic_hook` does that once.
fn take_terminal(mouse: bool) -> std::io::Result<ratatui::DefaultTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    let mut out = std::io::stdout();
    crossterm::execute!(
        out,
        crossterm::terminal::EnterAlternateScreen,
        EnableBracketedPaste
    )?;
    if mouse {
        crossterm::execute!(out, EnableMouseCapture)?;
    }
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(out))
}

/// Undoes everything `take_terminal` did. Also called from the panic hook, so each step is
/// tried even when an earlier one fails.
fn give_back_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste
    );
    ratatui::restore();
}

/// A panic on the UI thread gives the terminal back before the message is printed, so the
/// message is readable and the shell usable afterwards. A panic in a background task leaves the
/// terminal alone (the UI still runs on it) and prints nothing over the screen: the task's
/// JoinHandle reports it as a failed request instead.
static BACKGROUND_PANIC: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            give_back_terminal();
            previous(info);
        } else {
            // Said once the terminal is the shell's again (see `run`): nothing is lost.
            let _ = BACKGROUND_PANIC.set(info.to_string());
        }
    }));
}

async fn run_async(profile_name: &str, started: Instant) -> Result<(), String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut shell = Shell {
        options: ClientOptions::default(),
        clipboard: SystemClipboard::new(),
        tx,
        fatal: None,
        flow: flow_work::FlowShell::default(),
        probe: None,
    };
    // Profile problems are reported before the terminal is taken over.
    let session = open_session(profile_name).await?;
    let mut app = App::new(
        session,
        Box::new(jiff::Timestamp::now),
        Box::new(<rand::rngs::StdRng as rand::SeedableRng>::from_os_rng()),
    );
    let theme = Theme::from_env();
    let bench_first_frame = std::env::var_os(FIRST_FRAME_ENV).is_some();

    install_panic_hook();
    let mut terminal =
        take_terminal(app.mouse).map_err(|e| format!("cannot take over the terminal: {e}"))?;
    let mut events = EventStream::new();
    let mut hits = HitAreas::default();
    let mut first_frame = None;
    // One interval per tick period, kept across messages so keys do not delay the countdown.
    let mut ticker: Option<(Duration, tokio::time::Interval)> = None;
    loop {
        if let Err(e) = terminal.draw(|frame| hits = view::draw(frame, &app, theme)) {
            give_back_terminal();
            return Err(format!("cannot draw on the terminal: {e}"));
        }
        first_frame.get_or_insert_with(|| started.elapsed());
        #[cfg(debug_assertions)]
        if std::env::var_os(PANIC_AFTER_FIRST_FRAME_ENV).is_some() {
            panic!("deliberate panic after the first frame ({PANIC_AFTER_FIRST_FRAME_ENV})");
        }
        if app.quit || bench_first_frame {
            break;
        }
        let period = app.tick_period();
        if ticker.as_ref().map(|(p, _)| *p) != period {
            ticker = period.map(|p| {
                let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + p, p);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                (p, interval)
            });
        }
        let message = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => match to_message(event, &hits) {
                    Some(m) => m,
                    None => continue,
                },
                Some(Err(e)) => {
                    give_back_terminal();
                    return Err(format!("cannot read the terminal: {e}"));
                }
                None => break,
            },
            Some(message) = rx.recv() => message,
            () = next_tick(&mut ticker) => Message::Tick,
        };
        shell
            .dispatch(message, &mut app, &mut terminal, &mut events)
            .await;
        if let Some(fatal) = shell.fatal.take() {
            give_back_terminal();
            return Err(fatal);
        }
    }
    give_back_terminal();
    if bench_first_frame && let Some(t) = first_frame {
        eprintln!("first frame after {:.1} ms", t.as_secs_f64() * 1000.0);
    }
    Ok(())
}
