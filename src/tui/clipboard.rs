//! Copying: the system clipboard through arboard (one Clipboard kept for the session, since
//! on X11 dropping it loses the content), else OSC 52 to the terminal (over SSH, in tmux).

use std::io::Write;

pub trait Clipboard {
    /// Copies `text`; says how ("system clipboard", "OSC 52").
    fn copy(&mut self, text: &str) -> Result<&'static str, String>;
}

pub struct SystemClipboard {
    arboard: Option<arboard::Clipboard>,
}

impl SystemClipboard {
    pub fn new() -> SystemClipboard {
        // Headless (no DISPLAY or Wayland socket) gives Err, not a panic.
        SystemClipboard {
            arboard: arboard::Clipboard::new().ok(),
        }
    }
}

impl Default for SystemClipboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Clipboard for SystemClipboard {
    fn copy(&mut self, text: &str) -> Result<&'static str, String> {
        if let Some(clipboard) = self.arboard.as_mut()
            && clipboard.set_text(text.to_owned()).is_ok()
        {
            return Ok("the system clipboard");
        }
        let mut out = std::io::stdout();
        crossterm::execute!(
            out,
            crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
        )
        .and_then(|_| out.flush())
        .map(|_| "OSC 52 (your terminal's clipboard)")
        .map_err(|e| format!("no system clipboard and OSC 52 failed: {e}"))
    }
}
