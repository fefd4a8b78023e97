//! Saved runs: an embedded SQLite database (WAL mode, `synchronous = FULL`), one row per run
//! with its input text, its result JSON, the engine and catalog versions and the input hash,
//! so that any result can be reproduced and audited.
//!
//! Every write is one transaction; a write returns only after it is committed, so a run the
//! server acknowledged survives the server being killed. The store never reads the clock: the
//! caller passes the creation time in.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Version of the database schema (the `schema_version` table); bumped by migrations.
pub const STORE_SCHEMA_VERSION: i64 = 1;

/// The kinds of runs the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// `gigawatt plan`: a scenario.
    Plan,
    /// `gigawatt train`: a training spec.
    Train,
}

impl RunKind {
    /// The name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Plan => "plan",
            RunKind::Train => "train",
        }
    }

    /// Parses a stored or requested kind.
    pub fn parse(text: &str) -> Option<RunKind> {
        match text {
            "plan" => Some(RunKind::Plan),
            "train" => Some(RunKind::Train),
            _ => None,
        }
    }
}

/// A run to save.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Plan or train.
    pub kind: RunKind,
    /// A title (the scenario's name, or the model and system).
    pub name: String,
    /// Where the input came from (a file name, a shipped scenario, `dashboard`).
    pub origin: String,
    /// The input text, exactly as run.
    pub input_text: String,
    /// The engine's hash of the input text.
    pub input_hash: String,
    /// The engine version that computed the result.
    pub engine_version: String,
    /// The catalog version the result used.
    pub catalog_version: String,
    /// The result, as JSON text.
    pub result_json: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_unix_ms: i64,
}

/// A saved run without its input and result (for lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Run id.
    pub id: i64,
    /// Plan or train.
    pub kind: String,
    /// Title.
    pub name: String,
    /// Where the input came from.
    pub origin: String,
    /// Hash of the input text.
    pub input_hash: String,
    /// Engine version.
    pub engine_version: String,
    /// Catalog version.
    pub catalog_version: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_unix_ms: i64,
}

/// A saved run with everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The summary fields.
    pub summary: RunSummary,
    /// The input text.
    pub input_text: String,
    /// The result JSON text.
    pub result_json: String,
}

/// A database failure (disk full, corrupt file, a newer schema).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("run store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer version.
    #[error("run store: the database has schema version {0}, newer than this binary's {STORE_SCHEMA_VERSION}; use a newer gigawatt or another --data folder")]
    TooNew(i64),
}

/// The open database.
pub struct Store {
    conn: Connection,
}

const SUMMARY_COLUMNS: &str =
    "id, kind, name, origin, input_hash, engine_version, catalog_version, created_unix_ms";

impl Store {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::init(Connection::open(path)?)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        // WAL: readers do not block the writer; FULL: a committed transaction is on disk.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")?;
        let current: Option<i64> = tx
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
            .optional()?
            .flatten();
        match current {
            Some(v) if v > STORE_SCHEMA_VERSION => return Err(StoreError::TooNew(v)),
            Some(_) => {}
            None => {
                tx.execute_batch(
                    "CREATE TABLE runs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL CHECK (kind IN ('plan', 'train')),
                        name TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        input_text TEXT NOT NULL,
                        input_hash TEXT NOT NULL,
                        engine_version TEXT NOT NULL,
                        catalog_version TEXT NOT NULL,
                        result_json TEXT NOT NULL,
                        created_unix_ms INTEGER NOT NULL
                    );
                    CREATE INDEX runs_by_hash ON runs (input_hash);
                    CREATE INDEX runs_by_kind ON runs (kind, id);",
                )?;
                tx.execute(
                    "INSERT INTO schema_version (version) VALUES (?1)",
                    [STORE_SCHEMA_VERSION],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Saves a run; returns its id once committed.
    pub fn insert(&mut self, run: &NewRun) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO runs (kind, name, origin, input_text, input_hash, engine_version,
                               catalog_version, result_json, created_unix_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                run.kind.as_str(),
                run.name,
                run.origin,
                run.input_text,
                run.input_hash,
                run.engine_version,
                run.catalog_version,
                run.result_json,
                run.created_unix_ms
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// The newest runs first, at most `limit`, of one kind or all.
    pub fn list(&self, kind: Option<RunKind>, limit: u32) -> Result<Vec<RunSummary>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs WHERE (?1 IS NULL OR kind = ?1)
             ORDER BY id DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![kind.map(RunKind::as_str), limit], summary_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Count of saved runs.
    pub fn count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))?)
    }

    /// The stored size of a run (input text plus result JSON, bytes), if it exists: what a
    /// view of it will hold in memory, known before loading it.
    pub fn run_bytes(&self, id: i64) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT length(CAST(input_text AS BLOB)) + length(CAST(result_json AS BLOB)) FROM runs WHERE id = ?1",
        )?;
        Ok(stmt.query_row([id], |r| r.get(0)).optional()?)
    }

    /// One run, if it exists.
    pub fn get(&self, id: i64) -> Result<Option<Run>, StoreError> {
        let sql =
            format!("SELECT {SUMMARY_COLUMNS}, input_text, result_json FROM runs WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt
            .query_row([id], |row| {
                Ok(Run {
                    summary: summary_from_row(row)?,
                    input_text: row.get(8)?,
                    result_json: row.get(9)?,
                })
            })
            .optional()?)
    }

    /// Deletes a run; false if there was none.
    pub fn delete(&mut self, id: i64) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM runs WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(n > 0)
    }
}

fn summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunSummary> {
    Ok(RunSummary {
        id: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        origin: row.get(3)?,
        input_hash: row.get(4)?,
        engine_version: row.get(5)?,
        catalog_version: row.get(6)?,
        created_unix_ms: row.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, kind: RunKind) -> NewRun {
        NewRun {
            kind,
            name: name.into(),
            origin: "test.toml".into(),
            input_text: format!("name = \"{name}\"\n"),
            input_hash: engine::content_hash(name),
            engine_version: "0.1.0".into(),
            catalog_version: "abc".into(),
            result_json: "{\"ok\":true}".into(),
            created_unix_ms: 1_700_000_000_000,
        }
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "gigawatt-store-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trip_list_and_delete() {
        let mut store = Store::in_memory().unwrap();
        let a = store.insert(&sample("a", RunKind::Plan)).unwrap();
        let b = store.insert(&sample("b", RunKind::Train)).unwrap();
        assert!(b > a);
        let run = store.get(a).unwrap().unwrap();
        assert_eq!(run.summary.name, "a");
        assert_eq!(run.summary.kind, "plan");
        assert_eq!(run.input_text, "name = \"a\"\n");
        assert_eq!(run.result_json, "{\"ok\":true}");
        assert_eq!(run.summary.created_unix_ms, 1_700_000_000_000);
        let all = store.list(None, 10).unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![b, a]);
        let plans = store.list(Some(RunKind::Plan), 10).unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(store.list(None, 1).unwrap().len(), 1);
        assert!(store.delete(a).unwrap());
        assert!(!store.delete(a).unwrap());
        assert!(store.get(a).unwrap().is_none());
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn reopening_keeps_data_and_ids_are_not_reused() {
        let dir = temp_dir("reopen");
        let path = dir.join("runs.sqlite3");
        let first = {
            let mut store = Store::open(&path).unwrap();
            let id = store.insert(&sample("kept", RunKind::Plan)).unwrap();
            let gone = store.insert(&sample("gone", RunKind::Plan)).unwrap();
            store.delete(gone).unwrap();
            id
        };
        let mut store = Store::open(&path).unwrap();
        let run = store
            .get(first)
            .unwrap()
            .expect("the run survives a reopen");
        assert_eq!(run.summary.name, "kept");
        let next = store.insert(&sample("next", RunKind::Plan)).unwrap();
        assert!(next > first + 1, "AUTOINCREMENT never reuses a deleted id");
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = temp_dir("newer");
        let path = dir.join("runs.sqlite3");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])
            .unwrap();
        drop(conn);
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew(99))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
