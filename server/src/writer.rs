//! Async access to the SQLite database without blocking the runtime.
//!
//! Reads run on `spawn_blocking` with a connection from a small pool. Writes go
//! to one writer thread that owns the write connection and commits in groups:
//! it takes every write waiting in its queue, runs each inside its own
//! `SAVEPOINT` within one `BEGIN IMMEDIATE` transaction, then `COMMIT`s once and
//! only then answers each caller. A write that fails rolls back to its savepoint
//! alone; if the commit fails, every write in the group gets the error and none
//! of them is answered as done. So each claim is still atomic, nothing is
//! answered before it is durable, and many claims share one fsync.

use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use crate::db::{self, DbError, DbResult};

/// Most writes committed together.
const MAX_GROUP: usize = 256;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 16;
/// Longest wait for the write lock before a group of writes fails as busy.
const BEGIN_DEADLINE: Duration = Duration::from_secs(10);

trait WriteJob: Send {
    /// Runs the job; `false` means it failed and its savepoint must be rolled back.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Sends the job's result, or `commit`'s error if the group did not commit.
    fn finish(self: Box<Self>, commit: DbResult<()>);
}

struct Job<R, F> {
    work: Option<F>,
    result: Option<DbResult<R>>,
    reply: oneshot::Sender<DbResult<R>>,
}

impl<R: Send, F: FnOnce(&Connection) -> DbResult<R> + Send> WriteJob for Job<R, F> {
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(DbError::Other("a database write panicked".into())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: DbResult<()>) {
        let out = match (commit, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(DbError::Other("the write did not run".into())),
            (Err(e), _) => Err(e),
        };
        let _ = self.reply.send(out); // the caller may have gone away; the write stands
    }
}

struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<Box<dyn WriteJob>>,
}

/// Shared handle to the database.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl SqliteStore {
    /// Opens the write connection (already migrated and seeded by the caller) and starts the writer thread.
    pub fn new(path: &Path, writer: Connection) -> std::io::Result<SqliteStore> {
        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>();
        std::thread::Builder::new()
            .name("maeum-db-writer".into())
            .spawn(move || writer_loop(writer, rx))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                readers: Mutex::new(Vec::new()),
                writer: tx,
            }),
        })
    }

    /// Runs `f` on a read connection (it sees only committed data).
    pub async fn read<R, F>(&self, f: F) -> DbResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> DbResult<R> + Send + 'static,
    {
        let inner = self.inner.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => c,
                None => db::open(&inner.path)?,
            };
            let result = f(&conn);
            if let Ok(mut idle) = inner.readers.lock() {
                if idle.len() < MAX_IDLE_READERS {
                    idle.push(conn);
                }
            }
            result
        })
        .await;
        joined.unwrap_or_else(|e| Err(DbError::Other(format!("a database read failed: {e}"))))
    }

    /// Runs `f` in the write transaction; resolves once its group has committed.
    pub async fn write<R, F>(&self, f: F) -> DbResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> DbResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job {
            work: Some(f),
            result: None,
            reply,
        });
        if self.inner.writer.send(job).is_err() {
            return Err(DbError::Other("the database writer has stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(DbError::Other("the database writer dropped a write".into())))
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn WriteJob>>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let commit = run_group(&conn, &mut group);
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for job in group {
            job.finish(match &commit {
                Ok(()) => Ok(()),
                Err(e) => Err(copy_error(e)),
            });
        }
    }
}

fn copy_error(e: &DbError) -> DbError {
    match e {
        DbError::Sqlite(rusqlite::Error::SqliteFailure(code, msg)) => {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(*code, msg.clone()))
        }
        other => DbError::Other(other.to_string()),
    }
}

/// Takes the write lock. Another process (a second server, `admin`) may hold
/// it: each attempt waits up to `BUSY_TIMEOUT` in SQLite's busy handler, and a
/// busy answer that skipped the handler is retried with a short backoff, until
/// [`BEGIN_DEADLINE`]. Nothing has run yet, so a retry cannot double anything.
fn begin_immediate(conn: &Connection) -> DbResult<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => return Ok(()),
            Err(e) => {
                let e = DbError::from(e);
                if !e.is_busy() || started.elapsed() + pause > BEGIN_DEADLINE {
                    return Err(e);
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
        }
    }
}

fn run_group(conn: &Connection, group: &mut [Box<dyn WriteJob>]) -> DbResult<()> {
    begin_immediate(conn)?;
    for job in group.iter_mut() {
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        if job.run(conn) {
            conn.prepare_cached("RELEASE job")?.execute([])?;
        } else {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            conn.prepare_cached("RELEASE job")?.execute([])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}
