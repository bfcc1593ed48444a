//! The terminal UI: a thin shell over `core`. One loop on tokio selects over terminal input,
//! the channel where async work reports, and a tick that exists only while a spinner or a
//! countdown runs; it redraws after each message and sleeps otherwise.

pub mod app;
pub mod clipboard;
pub mod view;

#[cfg(test)]
mod tests;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, MouseButton, MouseEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::core::consent::PackSet;
use crate::core::error::ConfigError;
use crate::core::paths;
use crate::core::profile::{self, ProfileSource, Target};
use crate::core::request::Overrides;
use crate::core::sandbox::{Config, Sandbox, TrustedClient};
use crate::core::tls::TlsMaterial;
use crate::core::transport::{self, ClientOptions};
use app::{App, Effect, Loaded, Message};
use clipboard::{Clipboard, SystemClipboard};
use view::{HitAreas, Theme};

/// Set to make the TUI quit right after its first frame and print how long that took
/// (the start-to-first-frame benchmark).
pub const FIRST_FRAME_ENV: &str = "CONSENT_EXPLORER_EXIT_AFTER_FIRST_FRAME";

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
    match runtime.block_on(run_async(profile_name, started)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Everything the loop needs besides the state: the sandbox server, TLS, the clipboard.
struct Shell {
    packs: PackSet,
    embedded: Option<Sandbox>,
    tls: TlsMaterial,
    options: ClientOptions,
    clipboard: SystemClipboard,
    tx: mpsc::UnboundedSender<Message>,
}

impl Shell {
    /// Loads a profile and its key, starting the in-process sandbox server when it is targeted.
    /// Nothing of the running state changes unless the whole load succeeds.
    async fn load(&mut self, name: &str) -> Result<Loaded, ConfigError> {
        let loaded = profile::find(name)?;
        let key = loaded.signing_key(None)?;
        let tls = loaded.tls()?;
        let (server, base) = if loaded.profile.target == Target::Embedded {
            let nominal = loaded.seed(
                &self.packs,
                &Overrides::default(),
                &profile::default_embedded_base(),
            )?;
            let config = Config::new(TrustedClient::of(&nominal, &key), self.packs.clone());
            let server = Sandbox::start(config, 0).await.map_err(|e| {
                ConfigError::new(
                    crate::core::error::Origin::Flag("embedded server".into()),
                    "",
                    format!("cannot listen on 127.0.0.1: {e}"),
                    "",
                )
            })?;
            let base = server.issuer().to_owned();
            (Some(server), base)
        } else {
            (None, profile::default_embedded_base())
        };
        let seed = loaded.seed(&self.packs, &Overrides::default(), &base)?;
        self.embedded = server;
        self.tls = tls;
        Ok(Loaded {
            client_cert: self.tls.client_cert.clone(),
            profile: loaded,
            seed,
            key: Arc::new(key),
        })
    }

    async fn run(
        &mut self,
        effect: Effect,
        app: &mut App,
        terminal: &mut ratatui::DefaultTerminal,
    ) {
        match effect {
            Effect::Submit(ticket) => {
                let tx = self.tx.clone();
                let endpoints = app.seed.endpoints.clone();
                let tls = self.tls.clone();
                let options = self.options.clone();
                tokio::spawn(async move {
                    let result = transport::deliver(&endpoints, &tls, &options, &ticket).await;
                    let _ = tx.send(Message::Delivered(Box::new(result)));
                });
            }
            Effect::Copy { what, text } => {
                let result = self
                    .clipboard
                    .copy(&text)
                    .map(|how| format!("Copied the {what} to {how}"));
                app.update(Message::Copied(result));
            }
            Effect::Save { name, replace } => {
                let result = match paths::user_profiles_dir() {
                    None => Err("no config directory (set CONSENT_EXPLORER_CONFIG_DIR)".to_owned()),
                    Some(dir) if dir.join(format!("{name}.toml")).exists() && !replace => {
                        app.update(Message::SaveExists(name));
                        return;
                    }
                    Some(dir) => {
                        let path = dir.join(format!("{name}.toml"));
                        profile::save(&app.profile.with_edits(&app.seed, &name), &path)
                            .map_err(|e| e.to_string())
                            .and_then(|()| profile::load_file(&path).map_err(|e| e.to_string()))
                            .map(Box::new)
                    }
                };
                app.update(Message::Saved(result));
            }
            Effect::ListProfiles => {
                app.update(Message::Profiles(profile::list()));
            }
            Effect::Open { name } => {
                let result = self.load(&name).await.map_err(|e| e.to_string());
                app.update(Message::Loaded(Box::new(result)));
            }
            Effect::EditProfile => {
                let ProfileSource::File(path) = app.profile.source.clone() else {
                    app.update(Message::Notice(
                        "A built-in profile has no file: save it first with w, then press e".into(),
                    ));
                    return;
                };
                let editor = std::env::var("VISUAL")
                    .or_else(|_| std::env::var("EDITOR"))
                    .unwrap_or_else(|_| "vi".into());
                ratatui::restore();
                let _ =
                    crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
                let status = std::process::Command::new(&editor).arg(&path).status();
                *terminal = ratatui::init();
                if app.mouse {
                    let _ = crossterm::execute!(
                        std::io::stdout(),
                        crossterm::event::EnableMouseCapture
                    );
                }
                let result = match status {
                    Ok(_) => self
                        .load(&path.display().to_string())
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("cannot start {editor}: {e}")),
                };
                app.update(Message::Loaded(Box::new(result)));
            }
            Effect::SetMouse(on) => {
                let _ = if on {
                    crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
                } else {
                    crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture)
                };
            }
            Effect::Quit => {}
        }
    }
}

/// Terminal input as a message; None for what needs only a redraw (resize, focus).
fn to_message(event: Event, hits: &HitAreas) -> Option<Message> {
    match event {
        Event::Key(key) => Some(Message::Key(key)),
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

async fn run_async(profile_name: &str, started: Instant) -> Result<(), String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let packs = PackSet::load(paths::user_packs_dir().as_deref()).map_err(|e| e.to_string())?;
    let mut shell = Shell {
        packs: packs.clone(),
        embedded: None,
        tls: TlsMaterial::default(),
        options: ClientOptions::default(),
        clipboard: SystemClipboard::new(),
        tx,
    };
    // Profile problems are reported before the terminal is taken over.
    let loaded = shell.load(profile_name).await.map_err(|e| e.to_string())?;
    let mut app = App::new(
        loaded,
        packs,
        Box::new(jiff::Timestamp::now),
        Box::new(<rand::rngs::StdRng as rand::SeedableRng>::from_os_rng()),
    );
    let theme = Theme::from_env();
    let bench_first_frame = std::env::var_os(FIRST_FRAME_ENV).is_some();

    // ratatui's hook restores the terminal and then calls this one: mouse capture off too.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        previous(info);
    }));
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let mut events = EventStream::new();
    let mut hits = HitAreas::default();
    let mut first_frame = None;
    // One interval per tick period, kept across messages so keys do not delay the countdown.
    let mut ticker: Option<(Duration, tokio::time::Interval)> = None;
    loop {
        if let Err(e) = terminal.draw(|frame| hits = view::draw(frame, &app, theme)) {
            app.quit = true;
            app.notice = Some(e.to_string());
        }
        first_frame.get_or_insert_with(|| started.elapsed());
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
                _ => break,
            },
            Some(message) = rx.recv() => message,
            _ = async { ticker.as_mut().expect("guarded by is_some").1.tick().await }, if ticker.is_some() => Message::Tick,
        };
        for effect in app.update(message) {
            // The editor owns the terminal meanwhile: no reader may take its keystrokes.
            let hands_over_terminal = matches!(effect, Effect::EditProfile);
            if hands_over_terminal {
                drop(std::mem::replace(&mut events, EventStream::new()));
            }
            shell.run(effect, &mut app, &mut terminal).await;
            if hands_over_terminal {
                events = EventStream::new();
            }
        }
    }
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    if bench_first_frame && let Some(t) = first_frame {
        eprintln!("first frame after {:.1} ms", t.as_secs_f64() * 1000.0);
    }
    Ok(())
}
