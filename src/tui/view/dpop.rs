//! A DPoP proof drawn decoded beside the request it went with (the PAR in the response pane
//! and the stepper, the token request under the access token): its header and claims, and
//! whether the server's nonce challenge was answered.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use super::Theme;
use super::jwt::json_text;
use crate::core::display;
use crate::tui::app::ProofShown;

pub(super) fn proof_lines(request: &str, proof: &ProofShown, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::raw(""),
        Line::styled(
            format!("DPoP proof sent with the {request}"),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ];
    if let Some(status) = proof.nonce_retry {
        lines.push(Line::styled(
            format!(
                "the first try was refused {status} use_dpop_nonce: sent again once with the server's nonce"
            ),
            theme.fg(Color::Yellow),
        ));
    }
    // The claims first: htm, htu, ath and nonce are what a server checks against the request.
    lines.extend(json_text(&display::json_lines(&proof.claims), theme));
    lines.extend(json_text(&display::json_lines(&proof.header), theme));
    lines
}
