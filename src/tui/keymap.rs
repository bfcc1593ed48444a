//! The main screen's keys as data: one table says which key does what, how the help overlay
//! describes it and what the footer shows, so the three cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Toggle,
    Previous,
    Next,
    Edit,
    Submit,
    CopyRequestUri,
    CopyAuthorizeUrl,
    CopyJwt,
    Save,
    Profiles,
    EditProfile,
    Probe,
    NextPane,
    PreviousPane,
    /// The pane at this index of PANES.
    FocusPane(usize),
    PageUp,
    PageDown,
    Mouse,
    History,
    Help,
    /// Both JWTs beside the portal's published sample.
    Compare,
    Quit,
    OpenAuthorize,
    PasteCallback,
    Refresh,
    RevealTokens,
    /// The resource step after the token: calls and the consent.
    Resource,
}

/// A key, and whether Control must be held. Keys without Control match whatever the
/// modifiers, as terminals differ in what they report with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(code: KeyCode) -> Chord {
    Chord { code, ctrl: false }
}

const fn char(c: char) -> Chord {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

/// One line of the help: its keys as shown, what they do, what they are bound to, and
/// the pieces the wide and the narrow footer show (each with its trailing separator).
pub struct Entry {
    pub keys: &'static str,
    pub does: &'static str,
    pub bindings: &'static [(Chord, Action)],
    pub footer: &'static str,
    pub footer_narrow: &'static str,
}

pub const KEYMAP: &[Entry] = &[
    Entry {
        keys: "↑ ↓  j k",
        does: "move in the editor (and in the profile list); scroll other panes",
        bindings: &[
            (key(KeyCode::Up), Action::Up),
            (char('k'), Action::Up),
            (key(KeyCode::Down), Action::Down),
            (char('j'), Action::Down),
        ],
        footer: "↑↓ move  ",
        footer_narrow: "↑↓ ",
    },
    Entry {
        keys: "space",
        does: "toggle a permission, claim or flag",
        bindings: &[(char(' '), Action::Toggle)],
        footer: "space toggle  ",
        footer_narrow: "space ",
    },
    Entry {
        keys: "◂ ▸  h l",
        does: "choose the value of a selector",
        bindings: &[
            (key(KeyCode::Left), Action::Previous),
            (char('h'), Action::Previous),
            (key(KeyCode::Right), Action::Next),
            (char('l'), Action::Next),
        ],
        footer: "◂▸ choose  ",
        footer_narrow: "◂▸ ",
    },
    Entry {
        keys: "enter",
        does: "edit a text, date or number field (enter keeps, esc cancels)",
        bindings: &[(key(KeyCode::Enter), Action::Edit)],
        footer: "enter edit  ",
        footer_narrow: "enter edit  ",
    },
    Entry {
        keys: "s",
        does: "submit the PAR (asks first when lint has errors)",
        bindings: &[(char('s'), Action::Submit)],
        footer: "s submit  ",
        footer_narrow: "s submit  ",
    },
    Entry {
        keys: "r",
        does: "push again (e.g. after EXPIRED)",
        bindings: &[(char('r'), Action::Submit)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "c / a",
        does: "copy the request_uri / the authorize URL",
        bindings: &[
            (char('c'), Action::CopyRequestUri),
            (char('a'), Action::CopyAuthorizeUrl),
        ],
        footer: "c/a/y copy  ",
        footer_narrow: "c copy  ",
    },
    Entry {
        keys: "o",
        does: "authorize: open the browser, show the URL and QR code (sandbox: approve here)",
        bindings: &[(char('o'), Action::OpenAuthorize)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "v",
        does: "paste the redirect URL while a callback is awaited; after the tokens: the consent",
        bindings: &[(char('v'), Action::PasteCallback)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "R / T",
        does: "refresh the tokens / show them in full (redacted by default)",
        bindings: &[
            (char('R'), Action::Refresh),
            (char('T'), Action::RevealTokens),
        ],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "u",
        does: "after the tokens: call the resource API (endpoint, account, each layer verified)",
        bindings: &[(char('u'), Action::Resource)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "y",
        does: "copy the JWT of the focused pane (request object or assertion)",
        bindings: &[(char('y'), Action::CopyJwt)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "w",
        does: "save the edits as a profile",
        bindings: &[(char('w'), Action::Save)],
        footer: "w save  ",
        footer_narrow: "w save  ",
    },
    Entry {
        keys: "p",
        does: "pick another profile",
        bindings: &[(char('p'), Action::Profiles)],
        footer: "p profiles  ",
        footer_narrow: "",
    },
    Entry {
        keys: "P",
        does: "probe: which FAPI rules the server enforces (faulty requests; asks first)",
        bindings: &[(char('P'), Action::Probe)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "e",
        does: "open the profile in $EDITOR, then reload it",
        bindings: &[(char('e'), Action::EditProfile)],
        footer: "e $EDITOR  ",
        footer_narrow: "",
    },
    Entry {
        keys: "d",
        does: "compare with the portal sample, key by key (↑↓ scroll, any other key closes)",
        bindings: &[(char('d'), Action::Compare)],
        footer: "d sample  ",
        footer_narrow: "",
    },
    Entry {
        keys: "tab, shift-tab, 1-5",
        does: "focus a pane (tabs on small terminals)",
        bindings: &[
            (key(KeyCode::Tab), Action::NextPane),
            (key(KeyCode::BackTab), Action::PreviousPane),
            (char('1'), Action::FocusPane(0)),
            (char('2'), Action::FocusPane(1)),
            (char('3'), Action::FocusPane(2)),
            (char('4'), Action::FocusPane(3)),
            (char('5'), Action::FocusPane(4)),
        ],
        footer: "tab pane  ",
        footer_narrow: "1-5 panes  ",
    },
    Entry {
        keys: "mouse",
        does: "click focuses a pane, the wheel scrolls it",
        bindings: &[],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "pgup pgdn",
        does: "scroll",
        bindings: &[
            (key(KeyCode::PageUp), Action::PageUp),
            (key(KeyCode::PageDown), Action::PageDown),
        ],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "m",
        does: "mouse capture on/off (off lets you select text)",
        bindings: &[(char('m'), Action::Mouse)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "H",
        does: "history: past exchanges (enter opens, y copies as curl, x exports HAR)",
        bindings: &[(char('H'), Action::History)],
        footer: "",
        footer_narrow: "",
    },
    Entry {
        keys: "?, F1 / esc",
        does: "this help / close",
        bindings: &[
            (char('?'), Action::Help),
            (key(KeyCode::F(1)), Action::Help),
        ],
        footer: "? help  ",
        footer_narrow: "? all keys  ",
    },
    Entry {
        keys: "q, ctrl-c",
        does: "quit (asks when edits are unsaved)",
        bindings: &[(char('q'), Action::Quit), (ctrl('c'), Action::Quit)],
        footer: "q quit",
        footer_narrow: "q quit",
    },
];

/// What a key does in the resource step (`u`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceAction {
    PreviousEndpoint,
    NextEndpoint,
    PreviousAccount,
    NextAccount,
    Send,
    Consent,
    Revoke,
    ScrollUp,
    ScrollDown,
    Close,
}

/// One line of the resource step's keys: shown in the help and in its footer.
pub struct ResourceEntry {
    pub keys: &'static str,
    pub does: &'static str,
    pub bindings: &'static [(KeyCode, ResourceAction)],
    pub footer: &'static str,
}

pub const RESOURCE_KEYMAP: &[ResourceEntry] = &[
    ResourceEntry {
        keys: "◂ ▸  h l",
        does: "resource step: choose the endpoint",
        bindings: &[
            (KeyCode::Left, ResourceAction::PreviousEndpoint),
            (KeyCode::Char('h'), ResourceAction::PreviousEndpoint),
            (KeyCode::Right, ResourceAction::NextEndpoint),
            (KeyCode::Char('l'), ResourceAction::NextEndpoint),
        ],
        footer: "◂▸ endpoint  ",
    },
    ResourceEntry {
        keys: "↑ ↓  j k",
        does: "resource step: choose the account",
        bindings: &[
            (KeyCode::Up, ResourceAction::PreviousAccount),
            (KeyCode::Char('k'), ResourceAction::PreviousAccount),
            (KeyCode::Down, ResourceAction::NextAccount),
            (KeyCode::Char('j'), ResourceAction::NextAccount),
        ],
        footer: "↑↓ account  ",
    },
    ResourceEntry {
        keys: "enter",
        does: "resource step: send the call (signed, then the answer opened layer by layer)",
        bindings: &[(KeyCode::Enter, ResourceAction::Send)],
        footer: "enter send  ",
    },
    ResourceEntry {
        keys: "v / x",
        does: "resource step: the consent's status / revoke it (asks first)",
        bindings: &[
            (KeyCode::Char('v'), ResourceAction::Consent),
            (KeyCode::Char('x'), ResourceAction::Revoke),
        ],
        footer: "v consent  x revoke  ",
    },
    ResourceEntry {
        keys: "pgup pgdn",
        does: "resource step: scroll the layers",
        bindings: &[
            (KeyCode::PageUp, ResourceAction::ScrollUp),
            (KeyCode::PageDown, ResourceAction::ScrollDown),
        ],
        footer: "pgup/pgdn scroll  ",
    },
    ResourceEntry {
        keys: "esc, u, q",
        does: "resource step: back to the request",
        bindings: &[
            (KeyCode::Esc, ResourceAction::Close),
            (KeyCode::Char('u'), ResourceAction::Close),
            (KeyCode::Char('q'), ResourceAction::Close),
        ],
        footer: "esc back",
    },
];

/// The action a key asks for in the resource step.
pub fn resource_action_for(event: &KeyEvent) -> Option<ResourceAction> {
    if event
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    RESOURCE_KEYMAP
        .iter()
        .flat_map(|e| e.bindings.iter())
        .find(|(code, _)| *code == event.code)
        .map(|(_, action)| *action)
}

/// The resource step's footer.
pub fn resource_footer() -> String {
    RESOURCE_KEYMAP.iter().map(|e| e.footer).collect()
}

/// The action a key press asks for on the main screen. Control chords win over plain keys,
/// so ctrl-c quits rather than copying.
pub fn action_for(event: &KeyEvent) -> Option<Action> {
    let control = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    let bindings = || KEYMAP.iter().flat_map(|e| e.bindings.iter());
    if control {
        // ctrl-s must not send a request to a real server because s does.
        return bindings()
            .find(|(chord, _)| chord.ctrl && chord.code == event.code)
            .map(|(_, action)| *action);
    }
    if alt {
        return None;
    }
    bindings()
        .find(|(chord, _)| !chord.ctrl && chord.code == event.code)
        .map(|(_, action)| *action)
}

/// The footer's key hints: every key on a wide terminal, the essentials on a narrow one.
pub fn footer(wide: bool) -> String {
    KEYMAP
        .iter()
        .map(|e| if wide { e.footer } else { e.footer_narrow })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_one_action_and_ctrl_c_quits() {
        let mut seen = Vec::new();
        for (chord, _) in KEYMAP.iter().flat_map(|e| e.bindings.iter()) {
            assert!(!seen.contains(chord), "{chord:?} bound twice");
            seen.push(*chord);
        }
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&ctrl_c), Some(Action::Quit));
        let c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(action_for(&c), Some(Action::CopyRequestUri));
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(action_for(&x), None);
        // A held ctrl or alt never turns into the plain key: ctrl-s does not submit.
        for modifier in [KeyModifiers::CONTROL, KeyModifiers::ALT] {
            let chord = KeyEvent::new(KeyCode::Char('s'), modifier);
            assert_eq!(action_for(&chord), None, "{modifier:?}-s");
        }
        let shifted = KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&shifted), None);
    }
}
