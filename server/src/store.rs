//! The server's one way to its data: SQLite under `--data-dir` (the default) or
//! PostgreSQL (`--database postgres://...`). Handlers, `admin` and `report` call
//! these async methods and never see which engine answers.

use maeum_contract::business::DamageClaimReceipt;
use maeum_contract::{MyClaims, Package, Timestamp};
use std::path::{Path, PathBuf};

use crate::bizdb::{
    self, ChannelCashInput, DamageClaimInput, DamageClaimRow, Decision, NewUpload, Outcome,
    UploadOutcome,
};
use crate::campaign::Campaign;
use crate::db::{self, ClaimInput, ClaimOutcome, DbError, DbResult, Report, Settings};
use crate::pg::Pg;
use crate::writer::SqliteStore;

/// Where the data lives, as given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Database {
    /// `DIR/maeum.sqlite3`.
    Sqlite(PathBuf),
    /// A `postgres://` URL (it may carry a password: never print it).
    Postgres(String),
}

impl Database {
    /// `--database URL` (or `DATABASE_URL`) if given, else SQLite in `data_dir`.
    pub fn choose(url: Option<&str>, data_dir: &Path) -> Result<Database, String> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Database::Sqlite(data_dir.to_path_buf())),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Database::Postgres(u.to_string()))
            }
            Some(_) => Err(
                "--database must be a postgres:// URL (without it, SQLite in --data-dir is used)"
                    .into(),
            ),
        }
    }

    /// For messages: the SQLite file, or the PostgreSQL host and database without credentials.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(dir) => db::db_path(dir).display().to_string(),
            Database::Postgres(url) => match url.parse::<tokio_postgres::Config>() {
                Ok(c) => format!(
                    "PostgreSQL database {:?} on {:?}",
                    c.get_dbname().unwrap_or("(default)"),
                    c.get_hosts()
                ),
                Err(_) => "PostgreSQL (unparsable URL)".into(),
            },
        }
    }
}

#[derive(Clone)]
enum Engine {
    Sqlite { store: SqliteStore, path: PathBuf },
    Postgres(Pg),
}

/// Shared handle to the data, whichever engine holds it.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
}

impl Store {
    /// Opens the database for `serve`: creates or migrates the schema and seeds
    /// the campaign. Returns notes for the operator.
    pub async fn open(
        database: &Database,
        pool_size: usize,
        campaign: &Campaign,
        now: Timestamp,
    ) -> DbResult<(Store, Vec<String>)> {
        match database {
            Database::Sqlite(dir) => {
                let path = db::db_path(dir);
                let (file, campaign) = (path.clone(), campaign.clone());
                let (conn, notes) = tokio::task::spawn_blocking(move || -> DbResult<_> {
                    let mut conn = db::open(&file)?;
                    db::migrate(&mut conn)?;
                    let notes = db::seed(&mut conn, &campaign, now)?;
                    Ok((conn, notes))
                })
                .await
                .map_err(|e| DbError::Other(format!("opening the database failed: {e}")))??;
                Ok((Store::sqlite(path, conn)?, notes))
            }
            Database::Postgres(url) => {
                let pg = Pg::connect(url, pool_size)?;
                pg.migrate().await?;
                let notes = pg.seed(campaign, now).await?;
                Ok((
                    Store {
                        engine: Engine::Postgres(pg),
                    },
                    notes,
                ))
            }
        }
    }

    /// Opens a database that must already exist (for `admin` and `report`).
    pub async fn open_existing(database: &Database) -> DbResult<Store> {
        match database {
            Database::Sqlite(dir) => {
                let dir = dir.clone();
                let conn = tokio::task::spawn_blocking(move || db::open_existing(&dir))
                    .await
                    .map_err(|e| DbError::Other(format!("opening the database failed: {e}")))??;
                let path = match database {
                    Database::Sqlite(dir) => db::db_path(dir),
                    Database::Postgres(_) => unreachable!(),
                };
                Store::sqlite(path, conn)
            }
            Database::Postgres(url) => {
                let pg = Pg::connect(url, 2)?;
                pg.check_seeded().await?;
                pg.migrate().await?;
                Ok(Store {
                    engine: Engine::Postgres(pg),
                })
            }
        }
    }

    fn sqlite(path: PathBuf, writer: rusqlite::Connection) -> DbResult<Store> {
        let store = SqliteStore::new(&path, writer)
            .map_err(|e| DbError::Other(format!("cannot start the database writer: {e}")))?;
        Ok(Store {
            engine: Engine::Sqlite { store, path },
        })
    }

    /// Whether the store answers and can take a write (SQLite: a read, and an empty
    /// write through the writer thread; PostgreSQL: the campaign row from the pool).
    pub async fn probe(&self) -> bool {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store.read(db::settings).await.is_ok() && store.write(|_| Ok(())).await.is_ok()
            }
            Engine::Postgres(pg) => pg.settings().await.is_ok(),
        }
    }

    /// Every item with its grant count (for the metrics' remaining stock).
    pub async fn items(&self) -> DbResult<Vec<db::ItemRow>> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(db::items).await,
            Engine::Postgres(pg) => pg.items().await,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The campaign row, read for this call (on PostgreSQL shared with the
    /// calls waiting at the same moment).
    pub async fn settings(&self) -> DbResult<Settings> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(db::settings).await,
            Engine::Postgres(pg) => pg.settings().await,
        }
    }

    /// The campaign row, on PostgreSQL as read at most `pg::RECENT_FOR` ago:
    /// only for admitting a claim (see `gate::claim_gate`).
    pub async fn recent_settings(&self) -> DbResult<Settings> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(db::settings).await,
            Engine::Postgres(pg) => pg.recent_settings().await,
        }
    }

    pub async fn record_early_attempt(
        &self,
        at: Timestamp,
        user: Option<String>,
        endpoint: &'static str,
    ) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store
                    .write(move |c| db::record_early_attempt(c, at, user.as_deref(), endpoint))
                    .await
            }
            Engine::Postgres(pg) => pg.record_early_attempt(at, user.as_deref(), endpoint).await,
        }
    }

    pub async fn package(&self, now: Timestamp) -> DbResult<Package> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(move |c| db::package(c, now)).await,
            Engine::Postgres(pg) => pg.package(now).await,
        }
    }

    pub async fn my_claims(&self, user: String) -> DbResult<MyClaims> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(move |c| db::my_claims(c, &user)).await,
            Engine::Postgres(pg) => pg.my_claims(&user).await,
        }
    }

    /// Decides a claim request; answers only once the decision is durable.
    pub async fn claim(&self, input: ClaimInput) -> DbResult<ClaimOutcome> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.write(move |c| db::claim(c, &input)).await,
            Engine::Postgres(pg) => pg.claim(&input).await,
        }
    }

    /// (uploads stored by `user`, whether these bytes are among them).
    pub async fn upload_stats(&self, user: String, sha256: String) -> DbResult<(u64, bool)> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store
                    .read(move |c| {
                        Ok((
                            bizdb::upload_count(c, &user)?,
                            bizdb::has_upload(c, &user, &sha256)?,
                        ))
                    })
                    .await
            }
            Engine::Postgres(pg) => pg.upload_stats(&user, &sha256).await,
        }
    }

    pub async fn insert_upload(&self, new: NewUpload, quota: u64) -> DbResult<UploadOutcome> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store
                    .write(move |c| bizdb::insert_upload(c, &new, quota))
                    .await
            }
            Engine::Postgres(pg) => pg.insert_upload(&new, quota).await,
        }
    }

    pub async fn foreign_uploads(&self, user: String, ids: Vec<String>) -> DbResult<Vec<String>> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store
                    .read(move |c| bizdb::foreign_uploads(c, &user, &ids))
                    .await
            }
            Engine::Postgres(pg) => pg.foreign_uploads(&user, &ids).await,
        }
    }

    pub async fn submit_damage_claim(&self, input: DamageClaimInput) -> DbResult<Outcome> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store
                    .write(move |c| bizdb::submit_damage_claim(c, &input))
                    .await
            }
            Engine::Postgres(pg) => pg.submit_damage_claim(&input).await,
        }
    }

    pub async fn receipt_for(
        &self,
        user: String,
        receipt_no: String,
    ) -> DbResult<Option<DamageClaimReceipt>> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store
                    .read(move |c| bizdb::receipt_for(c, &user, &receipt_no))
                    .await
            }
            Engine::Postgres(pg) => pg.receipt_for(&user, &receipt_no).await,
        }
    }

    pub async fn channel_cash(&self, input: ChannelCashInput) -> DbResult<Outcome> {
        match &self.engine {
            Engine::Sqlite { store, .. } => {
                store.write(move |c| bizdb::channel_cash(c, &input)).await
            }
            Engine::Postgres(pg) => pg.channel_cash(&input).await,
        }
    }

    // ---- operator changes and the report (`admin ...`, `report`) ----

    /// Runs an operator change on its own SQLite connection (its own immediate transaction).
    async fn sqlite_admin<R: Send + 'static>(
        path: &Path,
        f: impl FnOnce(&mut rusqlite::Connection) -> DbResult<R> + Send + 'static,
    ) -> DbResult<R> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut conn = db::open(&path)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Other(format!("the database change failed: {e}")))?
    }

    /// Sets an item's cap (`None`: unlimited). Returns (old cap, granted so far).
    pub async fn set_cap(&self, item_id: String, cap: Option<u64>) -> DbResult<(Option<u64>, u64)> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                Self::sqlite_admin(path, move |c| db::set_cap(c, &item_id, cap)).await
            }
            Engine::Postgres(pg) => pg.set_cap(&item_id, cap).await,
        }
    }

    pub async fn set_ineligible(
        &self,
        user: String,
        reason: Option<String>,
        now: Timestamp,
    ) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                Self::sqlite_admin(path, move |c| {
                    db::set_ineligible(c, &user, reason.as_deref(), now)
                })
                .await
            }
            Engine::Postgres(pg) => pg.set_ineligible(&user, reason.as_deref(), now).await,
        }
    }

    pub async fn set_paused(&self, paused: bool, now: Timestamp) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                Self::sqlite_admin(path, move |c| db::set_paused(c, paused, now)).await
            }
            Engine::Postgres(pg) => pg.set_paused(paused, now).await,
        }
    }

    /// Returns the previous release instant.
    pub async fn set_release_at(&self, at: Timestamp, now: Timestamp) -> DbResult<Timestamp> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                Self::sqlite_admin(path, move |c| db::set_release_at(c, at, now)).await
            }
            Engine::Postgres(pg) => pg.set_release_at(at, now).await,
        }
    }

    pub async fn set_closes_at(&self, at: Option<Timestamp>, now: Timestamp) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                Self::sqlite_admin(path, move |c| db::set_closes_at(c, at, now)).await
            }
            Engine::Postgres(pg) => pg.set_closes_at(at, now).await,
        }
    }

    pub async fn list_damage_claims(&self) -> DbResult<Vec<DamageClaimRow>> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(bizdb::list_damage_claims).await,
            Engine::Postgres(pg) => pg.list_damage_claims().await,
        }
    }

    /// Applies an operator's decision; returns the claim before and after.
    pub async fn decide_damage_claim(
        &self,
        receipt_no: String,
        decision: Decision,
        now: Timestamp,
    ) -> DbResult<(DamageClaimRow, DamageClaimRow)> {
        match &self.engine {
            Engine::Sqlite { path, .. } => {
                Self::sqlite_admin(path, move |c| {
                    bizdb::decide_damage_claim(c, &receipt_no, &decision, now)
                })
                .await
            }
            Engine::Postgres(pg) => pg.decide_damage_claim(&receipt_no, &decision, now).await,
        }
    }

    pub async fn report(&self) -> DbResult<Report> {
        match &self.engine {
            Engine::Sqlite { store, .. } => store.read(db::report).await,
            Engine::Postgres(pg) => pg.report().await,
        }
    }
}
