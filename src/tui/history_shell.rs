//! The history pane's effects: SQLite reads and the HAR write run on the blocking pool and
//! answer on the channel, so the event loop never waits on the disk.

use tokio::sync::mpsc::UnboundedSender;

use super::app::{HistoryEffect, HistoryMessage, Message};
use crate::core::history::curl::{self, CurlTls};
use crate::core::history::{History, Limits, har};
use crate::core::profile;

/// How many flows the pane lists: the newest, as `history list` does.
const FLOWS_SHOWN: usize = 200;

fn open() -> Result<History, String> {
    let path = History::path_in_data_dir().map_err(|e| e.to_string())?;
    History::open(&path, Limits::default())
        .map(|(history, _)| history)
        .map_err(|e| e.to_string())
}

fn answer(effect: HistoryEffect) -> Message {
    match effect {
        HistoryEffect::Load { id } => HistoryMessage::Flows {
            id,
            result: open().and_then(|h| h.flows(None, FLOWS_SHOWN).map_err(|e| e.to_string())),
        }
        .into(),
        HistoryEffect::Open { id, entry } => HistoryMessage::Opened {
            id,
            result: entry_of(entry).map(Box::new),
        }
        .into(),
        HistoryEffect::Curl { entry } => HistoryMessage::Curl(entry_of(entry).map(|e| {
            let tls = profile::find(&e.summary.profile)
                .map(|p| CurlTls::of_profile(&p))
                .unwrap_or_default();
            curl::entry_command(&e.exchange, &tls)
        }))
        .into(),
        HistoryEffect::ExportHar { flow } => Message::Notice(export(flow)),
    }
}

fn entry_of(id: i64) -> Result<crate::core::history::Entry, String> {
    open()?
        .entry(id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("history entry {id} is gone (cleared?)"))
}

/// Writes `consent-explorer-flow-N.har` in the current folder; the notice says where.
fn export(flow: i64) -> String {
    let written = open().and_then(|history| {
        let entries = history.flow_entries(flow).map_err(|e| e.to_string())?;
        let path = std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(format!("consent-explorer-flow-{flow}.har"));
        let text = serde_json::to_string_pretty(&har::document(&entries)).unwrap_or_default();
        crate::core::paths::write_atomic(
            &path,
            text.as_bytes(),
            crate::core::paths::Existing::Replace,
            crate::core::paths::Readers::Default,
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok((path, entries.len()))
    });
    match written {
        Ok((path, n)) => format!("Flow {flow} ({n} exchanges) written to {}", path.display()),
        Err(e) => format!("HAR not written: {e}"),
    }
}

pub(super) fn run(effect: HistoryEffect, tx: &UnboundedSender<Message>) {
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let _ = tx.send(answer(effect));
    });
}
