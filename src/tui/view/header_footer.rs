//! The two lines above the panes (profile, key, endpoints) and the one below (keys or a notice).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::Theme;
use crate::core::printable::redact_url;
use crate::tui::app::App;

pub(super) fn draw_header(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let seed = &app.seed;
    let mtls = match &app.client_cert {
        Some(c) => format!("mTLS on ({})", c.subject),
        None => "mTLS off".into(),
    };
    let dpop = app
        .session
        .dpop_jkt()
        .map_or_else(String::new, |jkt| format!("   DPoP jkt {jkt}"));
    let dirty = if app.dirty {
        "  [modified: w saves]"
    } else {
        ""
    };
    let line1 = Line::from(vec![
        Span::styled(
            "consent-explorer ",
            theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("profile {}", app.profile.name),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(dirty, theme.fg(Color::Yellow)),
        Span::raw(format!(
            "   {} {}, kid {}   {mtls}{dpop}",
            seed.pack.id,
            crate::core::keys::alg_name(app.key.alg()),
            app.key.kid()
        )),
    ]);
    let line2 = Line::from(vec![
        Span::styled("issuer ", theme.dim()),
        Span::raw(redact_url(&seed.endpoints.issuer)),
        Span::styled("   PAR ", theme.dim()),
        Span::raw(
            seed.endpoints
                .par
                .as_deref()
                .map_or_else(|| "(from discovery)".into(), redact_url),
        ),
    ]);
    frame.render_widget(
        Paragraph::new(vec![line1, line2]).wrap(Wrap { trim: false }),
        area,
    );
}

pub(super) fn draw_footer(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let line = match &app.notice {
        Some(n) => Line::styled(n.clone(), theme.fg(Color::Yellow)),
        None => Line::styled(crate::tui::keymap::footer(area.width >= 130), theme.dim()),
    };
    frame.render_widget(Paragraph::new(line), area);
}
