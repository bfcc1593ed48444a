//! The history file: SQLite in WAL mode (a crash mid-write leaves the last committed state;
//! readers never wait for a writer), each write one IMMEDIATE transaction with a busy timeout
//! (two processes writing at once both get through), bounded by entries and bytes with the
//! oldest going first. Counts are kept by triggers so a write never scans the table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Exchange;
use crate::core::paths;

/// The layout this build writes; a file with a higher `user_version` was made by a newer build.
const SCHEMA_VERSION: i64 = 2;
const FILE_NAME: &str = "history.db";
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS flows (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    key TEXT NOT NULL,
    started_us INTEGER NOT NULL,
    UNIQUE (profile, key)
);
-- Another key of a flow: a consent's calls (`consent-ID`) join the flow that granted it.
CREATE TABLE IF NOT EXISTS flow_aliases (
    profile TEXT NOT NULL,
    key TEXT NOT NULL,
    flow_id INTEGER NOT NULL REFERENCES flows(id),
    PRIMARY KEY (profile, key)
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY,
    flow_id INTEGER NOT NULL REFERENCES flows(id),
    at_us INTEGER NOT NULL,
    profile TEXT NOT NULL,
    step TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER,
    elapsed_ms REAL NOT NULL,
    interaction_id TEXT,
    note TEXT,
    record TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS exchanges_by_flow ON exchanges (flow_id, id);
CREATE INDEX IF NOT EXISTS exchanges_by_time ON exchanges (at_us);
CREATE TABLE IF NOT EXISTS totals (one INTEGER PRIMARY KEY CHECK (one = 1), entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO totals VALUES (1, 0, 0);
CREATE TRIGGER IF NOT EXISTS count_in AFTER INSERT ON exchanges BEGIN
    UPDATE totals SET entries = entries + 1, bytes = bytes + NEW.size;
END;
CREATE TRIGGER IF NOT EXISTS count_out AFTER DELETE ON exchanges BEGIN
    UPDATE totals SET entries = entries - 1, bytes = bytes - OLD.size;
END;
";

/// How much history is kept: past either bound the oldest entries go.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: i64,
    pub max_bytes: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entries: 5_000,
            max_bytes: 50 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("no data dir: set CONSENT_EXPLORER_DATA_DIR")]
    NoDataDir,
    #[error("history {}: {source}", path.display())]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("history {}: cannot set the file aside: {source}", path.display())]
    SetAside {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("history {}: cannot create the file: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("history entry {0} is not readable: {1}")]
    Record(i64, serde_json::Error),
}

/// One exchange in a list: what a line shows.
#[derive(Debug, Clone, Serialize)]
pub struct StepSummary {
    pub id: i64,
    pub flow_id: i64,
    pub at: Timestamp,
    pub profile: String,
    pub step: String,
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub elapsed_ms: f64,
    pub interaction_id: Option<String>,
    pub note: Option<String>,
}

/// A flow and its steps, oldest step first.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSummary {
    pub id: i64,
    pub profile: String,
    pub started_at: Timestamp,
    pub steps: Vec<StepSummary>,
}

/// One exchange in full.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub summary: StepSummary,
    pub exchange: Exchange,
}

pub struct History {
    conn: Connection,
    path: PathBuf,
    limits: Limits,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("path", &self.path).finish()
    }
}

const SUMMARY_COLUMNS: &str =
    "id, flow_id, at_us, profile, step, method, url, status, elapsed_ms, interaction_id, note";

fn summary_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<StepSummary> {
    Ok(StepSummary {
        id: row.get(0)?,
        flow_id: row.get(1)?,
        at: timestamp_of(row.get(2)?),
        profile: row.get(3)?,
        step: row.get(4)?,
        method: row.get(5)?,
        url: row.get(6)?,
        status: row.get(7)?,
        elapsed_ms: row.get(8)?,
        interaction_id: row.get(9)?,
        note: row.get(10)?,
    })
}

fn timestamp_of(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Why a file cannot be used as it is, so it is set aside.
enum Unusable {
    Corrupt(String),
    TooNew(i64),
}

impl History {
    pub fn path_in_data_dir() -> Result<PathBuf, HistoryError> {
        paths::data_dir()
            .map(|d| d.join(FILE_NAME))
            .ok_or(HistoryError::NoDataDir)
    }

    /// Opens (or makes) the history at `path`. A file that is not a database, is damaged, or
    /// was made by a newer build is renamed beside itself (never deleted) and a new one made;
    /// the notice says so.
    pub fn open(path: &Path, limits: Limits) -> Result<(History, Option<String>), HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::SetAside {
                path: path.to_owned(),
                source: e,
            })?;
        }
        match Self::try_open(path, limits) {
            Ok(history) => Ok((history, None)),
            Err(Err(e)) => Err(e),
            Err(Ok(unusable)) => {
                let (why, tag, what_now) = match unusable {
                    Unusable::Corrupt(why) => (
                        format!("it is damaged ({why})"),
                        "corrupt",
                        "sqlite3's .recover may get some of it back, or delete it",
                    ),
                    Unusable::TooNew(v) => (
                        format!(
                            "it was written by a newer consent-explorer (schema {v}, this one reads {SCHEMA_VERSION})"
                        ),
                        "too-new",
                        "upgrade consent-explorer to read the old one, or delete it",
                    ),
                };
                let aside = set_aside(path, tag)?;
                let history = Self::try_open(path, limits).map_err(|e| match e {
                    Err(e) => e,
                    Ok(_) => HistoryError::SetAside {
                        path: path.to_owned(),
                        source: std::io::Error::other("a fresh history file is unusable"),
                    },
                })?;
                Ok((
                    history,
                    Some(format!(
                        "the history file {} could not be used: {why}; it was moved to {} and a new one started ({what_now})",
                        path.display(),
                        aside.display()
                    )),
                ))
            }
        }
    }

    fn try_open(path: &Path, limits: Limits) -> Result<History, Result<Unusable, HistoryError>> {
        let sql = |source| {
            Err(HistoryError::Sql {
                path: path.to_owned(),
                source,
            })
        };
        // What was sent names consents, accounts and people: readable by the user alone, as
        // every other file of the data dir (SQLite gives -wal and -shm the same mode).
        #[cfg(unix)]
        if let Err(source) = create_private(path)
            && source.kind() != std::io::ErrorKind::AlreadyExists
        {
            return Err(Err(HistoryError::Create {
                path: path.to_owned(),
                source,
            }));
        }
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        let version: i64 = match conn.query_row("PRAGMA user_version", [], |r| r.get(0)) {
            Ok(v) => v,
            Err(e) if is_corruption(&e) => return Err(Ok(Unusable::Corrupt(e.to_string()))),
            Err(e) => return Err(sql(e)),
        };
        if version > SCHEMA_VERSION {
            return Err(Ok(Unusable::TooNew(version)));
        }
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // In WAL, NORMAL survives a crash of the process; only power loss may lose the
            // last write, never the file.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            if version < SCHEMA_VERSION {
                conn.execute_batch(&format!(
                    "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))?;
            }
            Ok(())
        };
        match setup() {
            Ok(()) => {}
            Err(e) if is_corruption(&e) => return Err(Ok(Unusable::Corrupt(e.to_string()))),
            Err(e) => return Err(sql(e)),
        }
        Ok(History {
            conn,
            path: path.to_owned(),
            limits,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Gives the flow recorded under `flow_key` a second key: later exchanges recorded under
    /// `alias` join that flow. Nothing happens when no such flow was recorded.
    pub fn alias(&self, profile: &str, alias: &str, flow_key: &str) -> Result<(), HistoryError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO flow_aliases (profile, key, flow_id) SELECT ?1, ?2, id FROM flows WHERE profile = ?1 AND key = ?3",
            )
            .and_then(|mut insert| insert.execute(params![profile, alias, flow_key]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// The flow an alias names, if that flow is still kept.
    fn aliased(&self, profile: &str, key: &str) -> rusqlite::Result<Option<i64>> {
        use rusqlite::OptionalExtension;
        self.conn
            .prepare_cached(
                "SELECT a.flow_id FROM flow_aliases a JOIN flows f ON f.id = a.flow_id WHERE a.profile = ?1 AND a.key = ?2",
            )?
            .query_row(params![profile, key], |r| r.get(0))
            .optional()
    }

    /// Records one exchange in its flow (made on the flow's first step), then drops the
    /// oldest entries past the limits. One transaction: all of it or nothing.
    pub fn record(&self, exchange: &Exchange) -> Result<i64, HistoryError> {
        let f = exchange.fields();
        let record = serde_json::to_string(exchange).map_err(|e| HistoryError::Record(0, e))?;
        let at_us = f.at.as_microsecond();
        let key = if f.flow_key.is_empty() {
            format!("{}-{at_us}", f.step.as_str())
        } else {
            f.flow_key.clone()
        };
        let write = || -> rusqlite::Result<i64> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            let inserted = (|| {
                let flow_id = match self.aliased(&f.profile, &key)? {
                    Some(flow_id) => flow_id,
                    None => {
                        self.conn
                            .prepare_cached(
                                "INSERT INTO flows (profile, key, started_us) VALUES (?1, ?2, ?3) ON CONFLICT (profile, key) DO NOTHING",
                            )?
                            .execute(params![f.profile, key, at_us])?;
                        self.conn
                            .prepare_cached("SELECT id FROM flows WHERE profile = ?1 AND key = ?2")?
                            .query_row(params![f.profile, key], |r| r.get(0))?
                    }
                };
                self.conn
                    .prepare_cached(
                        "INSERT INTO exchanges (flow_id, at_us, profile, step, method, url, status, elapsed_ms, interaction_id, note, record, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    )?
                    .execute(params![
                        flow_id,
                        at_us,
                        f.profile,
                        f.step.as_str(),
                        f.method,
                        f.url,
                        f.status,
                        f.elapsed_ms,
                        f.interaction_id,
                        f.note,
                        record,
                        record.len() as i64
                    ])?;
                let id = self.conn.last_insert_rowid();
                self.prune()?;
                Ok(id)
            })();
            match inserted {
                Ok(id) => {
                    self.conn.execute_batch("COMMIT")?;
                    Ok(id)
                }
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        };
        write().map_err(|e| self.sql(e))
    }

    fn prune(&self) -> rusqlite::Result<()> {
        let (entries, bytes): (i64, i64) =
            self.conn
                .query_row("SELECT entries, bytes FROM totals", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        let mut pruned = false;
        if entries > self.limits.max_entries {
            self.conn.execute(
                "DELETE FROM exchanges WHERE id IN (SELECT id FROM exchanges ORDER BY id LIMIT ?1)",
                [entries - self.limits.max_entries],
            )?;
            pruned = true;
        }
        let mut bytes = bytes;
        while bytes > self.limits.max_bytes {
            self.conn.execute(
                "DELETE FROM exchanges WHERE id IN (SELECT id FROM exchanges ORDER BY id LIMIT 16)",
                [],
            )?;
            bytes = self
                .conn
                .query_row("SELECT bytes FROM totals", [], |r| r.get(0))?;
            pruned = true;
        }
        if pruned {
            self.drop_empty_flows()?;
        }
        Ok(())
    }

    fn drop_empty_flows(&self) -> rusqlite::Result<usize> {
        const EMPTY: &str =
            "NOT EXISTS (SELECT 1 FROM exchanges WHERE exchanges.flow_id = flows.id)";
        self.conn.execute(
            &format!(
                "DELETE FROM flow_aliases WHERE flow_id IN (SELECT id FROM flows WHERE {EMPTY})"
            ),
            [],
        )?;
        self.conn
            .execute(&format!("DELETE FROM flows WHERE {EMPTY}"), [])
    }

    /// Flows newest first, each with its steps; `limit` flows at most.
    pub fn flows(
        &self,
        profile: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FlowSummary>, HistoryError> {
        let run = || -> rusqlite::Result<Vec<FlowSummary>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, profile, started_us FROM flows WHERE (?1 IS NULL OR profile = ?1) ORDER BY id DESC LIMIT ?2",
            )?;
            let mut flows: Vec<FlowSummary> = stmt
                .query_map(params![profile, limit as i64], |r| {
                    Ok(FlowSummary {
                        id: r.get(0)?,
                        profile: r.get(1)?,
                        started_at: timestamp_of(r.get(2)?),
                        steps: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let Some(oldest) = flows.last().map(|f| f.id) else {
                return Ok(flows);
            };
            let mut steps = self.conn.prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS} FROM exchanges WHERE flow_id >= ?1 AND (?2 IS NULL OR profile = ?2) ORDER BY flow_id DESC, id"
            ))?;
            let mut rows = steps.query(params![oldest, profile])?;
            let mut index = 0;
            while let Some(row) = rows.next()? {
                let step = summary_of(row)?;
                while index < flows.len() && flows[index].id > step.flow_id {
                    index += 1;
                }
                if index < flows.len() && flows[index].id == step.flow_id {
                    flows[index].steps.push(step);
                }
            }
            Ok(flows)
        };
        run().map_err(|e| self.sql(e))
    }

    /// One exchange in full.
    pub fn entry(&self, id: i64) -> Result<Option<Entry>, HistoryError> {
        let mut entries = self.entries_where("id = ?1", id)?;
        Ok(entries.pop())
    }

    /// A flow's exchanges in time order.
    pub fn flow_entries(&self, flow_id: i64) -> Result<Vec<Entry>, HistoryError> {
        self.entries_where("flow_id = ?1", flow_id)
    }

    /// Every exchange in time order.
    pub fn all_entries(&self) -> Result<Vec<Entry>, HistoryError> {
        self.entries_where("?1 = ?1", 0)
    }

    fn entries_where(&self, condition: &str, value: i64) -> Result<Vec<Entry>, HistoryError> {
        let rows = (|| -> rusqlite::Result<Vec<(StepSummary, String)>> {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT {SUMMARY_COLUMNS}, record FROM exchanges WHERE {condition} ORDER BY at_us, id"
            ))?;
            stmt.query_map([value], |r| Ok((summary_of(r)?, r.get(11)?)))?
                .collect()
        })()
        .map_err(|e| self.sql(e))?;
        rows.into_iter()
            .map(|(summary, record)| {
                let exchange = serde_json::from_str(&record)
                    .map_err(|e| HistoryError::Record(summary.id, e))?;
                Ok(Entry { summary, exchange })
            })
            .collect()
    }

    /// The flow an exchange belongs to.
    pub fn flow_of(&self, entry_id: i64) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row(
                "SELECT flow_id FROM exchanges WHERE id = ?1",
                [entry_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Removes the entries made before `before` (all of them without it); how many went.
    pub fn clear(&self, before: Option<Timestamp>) -> Result<usize, HistoryError> {
        let cutoff = before.map_or(i64::MAX, |t| t.as_microsecond());
        let run = || -> rusqlite::Result<usize> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            let gone = self
                .conn
                .execute("DELETE FROM exchanges WHERE at_us < ?1", [cutoff])?;
            self.drop_empty_flows()?;
            self.conn.execute_batch("COMMIT")?;
            Ok(gone)
        };
        let gone = run().map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.sql(e)
        })?;
        // Deleted rows must not linger in free pages or the WAL.
        let _ = self
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
        Ok(gone)
    }

    pub fn count(&self) -> Result<i64, HistoryError> {
        self.conn
            .query_row("SELECT count(*) FROM exchanges", [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// SQLite's own check of the file: "ok" when sound.
    pub fn integrity(&self) -> Result<String, HistoryError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// `history.db` -> `history.db.corrupt-20260130T100000Z` (its -wal and -shm with it).
fn set_aside(path: &Path, tag: &str) -> Result<PathBuf, HistoryError> {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let aside = PathBuf::from(format!("{}.{tag}-{stamp}", path.display()));
    std::fs::rename(path, &aside).map_err(|e| HistoryError::SetAside {
        path: path.to_owned(),
        source: e,
    })?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{suffix}", aside.display()));
        }
    }
    Ok(aside)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;

/// A new empty file only the user may read.
#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}
