//! Configuration: a TOML file, then `MICROCRED_*` environment variables, then explicit
//! overrides (the CLI's flags), in that order of increasing precedence.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! database = "microcred.db"   # a SQLite file, or a PostgreSQL URL: "postgres://user:pw@host/db"
//! # or, to size the PostgreSQL connection pool (ignored for SQLite):
//! # [database]
//! # url = "postgres://microcred@db.internal/microcred"
//! # pool_size = 8               # connections per instance (env MICROCRED_DATABASE_POOL_SIZE)
//! # connect_timeout_secs = 5
//! base_url = "https://credentials.college.example"   # used in every id the service mints
//! master_key_file = "/etc/microcred/master.key"        # or env MICROCRED_MASTER_KEY
//! # admin_token = "..."                               # else generated once and shown once
//! # verifier_dir = "/srv/microcred/verifier"  # the employer's page at /verify/ (scripts/build-verifier.sh)
//! [limits]
//! body_bytes = 1048576          # every JSON endpoint
//! batch_body_bytes = 33554432   # the batch endpoint (JSON or CSV)
//! batch_rows = 10000
//! request_timeout_secs = 30
//! batch_timeout_secs = 300
//! credential_cache_bytes = 67108864
//! # CPU-heavy work (verification, JSON-LD checks, badge images): jobs running at once, and
//! # how many more may wait before requests are answered 503 with Retry-After. Unset: derived
//! # from the number of cores (n): n running, 8n waiting; public (unauthenticated) requests
//! # at most max(1, n/2) running and 4n waiting, so they never fill the pool.
//! # cpu_workers = 8
//! # cpu_queue = 64
//! # public_cpu_workers = 4
//! # public_cpu_queue = 32
//! # Institutions may keep their keys in a PKCS#11 token (HSM, SoftHSM2) instead of sealed in
//! # the database (`"keyStorage": "pkcs11"` when creating one or rotating its key):
//! # [pkcs11]
//! # module = "/usr/lib/softhsm/libsofthsm2.so"
//! # token_label = "microcred"
//! # pin_env = "MICROCRED_PKCS11_PIN"   # the variable holding the user PIN (this default)
//! # pin_file = "/etc/microcred/pkcs11.pin"   # or a file (first line), instead
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::error::Error;

/// Size and time limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// Largest request body on ordinary endpoints, in bytes.
    pub body_bytes: usize,
    /// Largest request body on the batch endpoint, in bytes.
    pub batch_body_bytes: usize,
    /// Most rows in one batch.
    pub batch_rows: usize,
    /// Time limit of an ordinary request.
    pub request_timeout_secs: u64,
    /// Time limit of a batch request.
    pub batch_timeout_secs: u64,
    /// Memory for recently fetched credential bodies (0 turns the cache off).
    pub credential_cache_bytes: usize,
    /// CPU-heavy jobs running at once (default: the number of cores).
    pub cpu_workers: Option<usize>,
    /// CPU-heavy jobs that may wait for a worker; beyond that, 503 (default: 8 × workers).
    pub cpu_queue: Option<usize>,
    /// Of the workers, how many unauthenticated requests may use at once (default: half, at
    /// least 1; at most `cpu_workers`).
    pub public_cpu_workers: Option<usize>,
    /// Unauthenticated jobs that may wait (default: 4 × workers); public running + waiting
    /// must stay below the pool's running + waiting, so authenticated work always gets in.
    pub public_cpu_queue: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1 << 20,
            batch_body_bytes: 32 << 20,
            batch_rows: 10_000,
            request_timeout_secs: 30,
            batch_timeout_secs: 300,
            credential_cache_bytes: 64 << 20,
            cpu_workers: None,
            cpu_queue: None,
            public_cpu_workers: None,
            public_cpu_queue: None,
        }
    }
}

/// The service's configuration.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the data lives: a SQLite file (created if missing), or a PostgreSQL URL
    /// (`postgres://` or `postgresql://`).
    pub database: Database,
    /// Public base URL (`https://host[:port][/prefix]`), used in every id the service mints
    /// (credential URLs, `did:web` DIDs, achievement ids). Default: `http://` + the bound
    /// address, which suits a local trial only.
    pub base_url: Option<String>,
    /// File holding the 32-byte master key (64 hex digits, base64, or 32 raw bytes).
    pub master_key_file: Option<PathBuf>,
    /// The master key itself (hex or base64); prefer the file or the environment.
    #[serde(skip)]
    pub master_key: Option<Zeroizing<String>>,
    /// The administrator token. When absent, one is generated on first start, shown once,
    /// and only its hash is stored.
    #[serde(deserialize_with = "de_secret")]
    pub admin_token: Option<Zeroizing<String>>,
    /// Limits.
    pub limits: Limits,
    /// The PKCS#11 token for keys that live in an HSM (none: keys are sealed in the database).
    pub pkcs11: Option<Pkcs11Config>,
    /// The employer's verifier page, built by `scripts/build-verifier.sh`: served at
    /// `/verify/` when set (env `MICROCRED_VERIFIER_DIR`).
    pub verifier_dir: Option<PathBuf>,
}

/// Where the service keeps its data (`database`): a SQLite file path, or a PostgreSQL URL
/// (`postgres://…` or `postgresql://…`; anything else is a SQLite path). In the configuration
/// file either a string, or a `[database]` table with `url` and the PostgreSQL pool settings.
///
/// Its `Debug` and [`Database::display`] never show a password the URL holds: use them in
/// logs and messages.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "DatabaseSetting")]
#[non_exhaustive]
pub struct Database {
    location: PathBuf,
    /// Connections per instance to PostgreSQL (default 8; unused for SQLite).
    pub pool_size: u32,
    /// How long connecting to PostgreSQL may take, in seconds (default 5).
    pub connect_timeout_secs: u64,
}

/// The two written forms of `database`.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a SQLite file name or a postgres:// URL, or a [database] table with url and optionally pool_size and connect_timeout_secs"
)]
enum DatabaseSetting {
    Location(PathBuf),
    Table(DatabaseTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseTable {
    url: PathBuf,
    pool_size: Option<u32>,
    connect_timeout_secs: Option<u64>,
}

impl TryFrom<DatabaseSetting> for Database {
    type Error = String;

    fn try_from(s: DatabaseSetting) -> Result<Self, String> {
        Ok(match s {
            DatabaseSetting::Location(p) => Self::from(p),
            DatabaseSetting::Table(t) => {
                let mut d = Self::from(t.url);
                d.pool_size = t.pool_size.unwrap_or(d.pool_size);
                d.connect_timeout_secs = t.connect_timeout_secs.unwrap_or(d.connect_timeout_secs);
                d
            }
        })
    }
}

impl Database {
    /// Default connections per instance.
    pub const DEFAULT_POOL_SIZE: u32 = 8;

    /// The PostgreSQL URL, when the setting is one (`postgres://` or `postgresql://`).
    pub fn postgres_url(&self) -> Option<&str> {
        self.location
            .to_str()
            .filter(|l| l.starts_with("postgres://") || l.starts_with("postgresql://"))
    }

    /// The SQLite file (meaningful when [`Self::postgres_url`] is `None`).
    pub fn sqlite_path(&self) -> &Path {
        &self.location
    }

    /// Replaces the file or URL, keeping the pool settings (environment, `--database`).
    pub fn set_location(&mut self, location: impl Into<PathBuf>) {
        self.location = location.into();
    }

    /// The setting for logs and messages: a URL's password (and a `password=` parameter)
    /// shows as `***`.
    pub fn display(&self) -> impl std::fmt::Display + '_ {
        match self.postgres_url() {
            Some(url) => redact_url(url),
            None => self.location.display().to_string(),
        }
    }
}

/// `url` with the password of its user info and of any `password=` parameter replaced.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl From<PathBuf> for Database {
    fn from(location: PathBuf) -> Self {
        Self {
            location,
            pool_size: Self::DEFAULT_POOL_SIZE,
            connect_timeout_secs: 5,
        }
    }
}

impl From<&Path> for Database {
    fn from(location: &Path) -> Self {
        Self::from(location.to_path_buf())
    }
}

impl From<String> for Database {
    fn from(location: String) -> Self {
        Self::from(PathBuf::from(location))
    }
}

impl From<&str> for Database {
    fn from(location: &str) -> Self {
        Self::from(PathBuf::from(location))
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("location", &self.display().to_string())
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

/// The PKCS#11 token institutions' keys can live in (`[pkcs11]`). Holds no secret: the user
/// PIN is read at start from the environment variable `pin_env` or the file `pin_file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pkcs11Config {
    /// The token's PKCS#11 module (shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The label of the token that holds the keys.
    pub token_label: String,
    /// The environment variable holding the user PIN (default `MICROCRED_PKCS11_PIN`).
    #[serde(default = "default_pin_env")]
    pub pin_env: String,
    /// A file whose first line is the user PIN; used instead of `pin_env` when set.
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
}

impl Pkcs11Config {
    /// The token labelled `token_label` of `module`, its PIN in `MICROCRED_PKCS11_PIN`.
    pub fn for_token(module: impl Into<PathBuf>, token_label: &str) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.to_owned(),
            pin_env: default_pin_env(),
            pin_file: None,
        }
    }
}

fn default_pin_env() -> String {
    "MICROCRED_PKCS11_PIN".into()
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database", &self.database)
            .field("base_url", &self.base_url)
            .field("master_key_file", &self.master_key_file)
            .field("master_key", &self.master_key.as_ref().map(|_| "<set>"))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("limits", &self.limits)
            .field("pkcs11", &self.pkcs11)
            .field("verifier_dir", &self.verifier_dir)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: Database::from("microcred.db"),
            base_url: None,
            master_key_file: None,
            master_key: None,
            admin_token: None,
            limits: Limits::default(),
            pkcs11: None,
            verifier_dir: None,
        }
    }
}

impl Config {
    /// Reads a TOML configuration file (unknown keys are refused, to catch typos).
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Applies `MICROCRED_LISTEN`, `MICROCRED_DATABASE`, `MICROCRED_DATABASE_POOL_SIZE`,
    /// `MICROCRED_BASE_URL`,
    /// `MICROCRED_MASTER_KEY_FILE`, `MICROCRED_MASTER_KEY`, `MICROCRED_ADMIN_TOKEN` and
    /// `MICROCRED_VERIFIER_DIR`.
    pub fn apply_env(&mut self) -> Result<(), Error> {
        self.apply_vars(|name| std::env::var(name).ok())
    }

    /// Like [`Self::apply_env`] with a custom variable source (for tests).
    pub fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = var("MICROCRED_LISTEN") {
            self.listen = v.parse().map_err(|_| {
                Error::Config(format!(
                    "MICROCRED_LISTEN={v} is not an address such as 127.0.0.1:8080"
                ))
            })?;
        }
        if let Some(v) = var("MICROCRED_DATABASE") {
            self.database.set_location(v);
        }
        if let Some(v) = var("MICROCRED_DATABASE_POOL_SIZE") {
            self.database.pool_size = v.parse().map_err(|_| {
                Error::Config(format!(
                    "MICROCRED_DATABASE_POOL_SIZE={v} is not a number of connections such as 8"
                ))
            })?;
        }
        if let Some(v) = var("MICROCRED_BASE_URL") {
            self.base_url = Some(v);
        }
        if let Some(v) = var("MICROCRED_MASTER_KEY_FILE") {
            self.master_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("MICROCRED_MASTER_KEY") {
            self.master_key = Some(Zeroizing::new(v));
        }
        if let Some(v) = var("MICROCRED_ADMIN_TOKEN") {
            self.admin_token = Some(Zeroizing::new(v));
        }
        if let Some(v) = var("MICROCRED_VERIFIER_DIR") {
            self.verifier_dir = Some(PathBuf::from(v));
        }
        Ok(())
    }

    /// Checks the configuration and normalizes the base URL.
    pub fn validate(&mut self) -> Result<(), Error> {
        if let Some(base) = &self.base_url {
            let trimmed = base.trim().trim_end_matches('/').to_owned();
            base_url_parts(&trimmed)?;
            self.base_url = Some(trimmed);
        }
        if let Some(t) = &self.admin_token {
            if t.len() < 16 {
                return Err(Error::Config(
                    "admin_token is too short: use at least 16 random characters (or leave it unset to have one generated)".into(),
                ));
            }
        }
        if let Some(p) = &self.pkcs11 {
            if p.token_label.trim().is_empty() {
                return Err(Error::Config(
                    "pkcs11.token_label is empty: give the label of the token that holds the keys"
                        .into(),
                ));
            }
            if p.pin_env.is_empty() && p.pin_file.is_none() {
                return Err(Error::Config(
                    "pkcs11: set pin_env (the variable holding the user PIN) or pin_file".into(),
                ));
            }
        }
        if self.database.pool_size == 0 || self.database.connect_timeout_secs == 0 {
            return Err(Error::Config(
                "database.pool_size and database.connect_timeout_secs must be at least 1".into(),
            ));
        }
        if self.limits.body_bytes == 0
            || self.limits.batch_body_bytes == 0
            || self.limits.batch_rows == 0
        {
            return Err(Error::Config("limits must be positive".into()));
        }
        crate::cpu::PoolSize::from_limits(&self.limits).map_err(Error::Config)?;
        Ok(())
    }

    /// Loads the master key from the environment value or the file; refuses to go on
    /// without one.
    pub fn load_master_key(&self) -> Result<MasterKey, Error> {
        if let Some(text) = &self.master_key {
            return MasterKey::from_text(text.as_bytes())
                .map_err(|e| Error::MasterKey(format!("MICROCRED_MASTER_KEY: {e}")));
        }
        let Some(path) = &self.master_key_file else {
            return Err(Error::MasterKey(
                "no master key: set master_key_file (or MICROCRED_MASTER_KEY_FILE) to a file holding 32 random bytes (64 hex digits), or MICROCRED_MASTER_KEY; `microcred serve --init` creates one".into(),
            ));
        };
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| Error::MasterKey(format!("cannot read {}: {e}", path.display())))?,
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(file = %path.display(), "the master key file is readable by group or others: chmod 600 it");
                }
            }
        }
        MasterKey::from_text(&bytes)
            .map_err(|e| Error::MasterKey(format!("{}: {e}", path.display())))
    }
}

fn de_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Zeroizing<String>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Zeroizing::new))
}

/// The parts of a base URL that identifiers are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `host` or `host:port`.
    pub(crate) authority: String,
    /// Path segments of the prefix (may be empty).
    pub(crate) path: Vec<String>,
}

pub(crate) fn base_url_parts(base: &str) -> Result<BaseUrl, Error> {
    let bad = || {
        Error::Config(format!(
            "base_url \"{base}\" must be an absolute http(s) URL such as https://credentials.college.example (no query or fragment)"
        ))
    };
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or_else(bad)?;
    if rest.contains(['?', '#', ' ', '@']) {
        return Err(bad());
    }
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    if authority.is_empty()
        || !authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(bad());
    }
    let path: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if path.iter().any(|s| {
        !s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
    }) {
        return Err(bad());
    }
    Ok(BaseUrl {
        authority: authority.to_ascii_lowercase(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_and_base_url_checks() {
        let mut c = Config::default();
        c.apply_vars(|n| match n {
            "MICROCRED_BASE_URL" => Some("https://x.example:8443/mc/".into()),
            "MICROCRED_LISTEN" => Some("127.0.0.1:9".into()),
            _ => None,
        })
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.base_url.as_deref(), Some("https://x.example:8443/mc"));
        assert_eq!(c.listen.port(), 9);
        let parts = base_url_parts("https://x.example:8443/mc").unwrap();
        assert_eq!(parts.authority, "x.example:8443");
        assert_eq!(parts.path, ["mc"]);
        assert!(base_url_parts("ftp://x").is_err());
        assert!(base_url_parts("https://x.example/?q").is_err());
        let mut bad = Config::default();
        assert!(bad
            .apply_vars(|n| (n == "MICROCRED_LISTEN").then(|| "nope".into()))
            .is_err());
    }

    #[test]
    fn database_setting_forms_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "database = \"x.db\"\n").unwrap();
        let c = Config::from_file(&p).unwrap();
        assert_eq!(c.database.postgres_url(), None);
        assert_eq!(c.database.sqlite_path(), Path::new("x.db"));
        std::fs::write(
            &p,
            "[database]\nurl = \"postgresql://mc:s3cret@db:5432/mc?password=s3cret&sslmode=disable\"\npool_size = 3\n",
        )
        .unwrap();
        let mut c = Config::from_file(&p).unwrap();
        assert_eq!(c.database.pool_size, 3);
        assert!(c.database.postgres_url().is_some());
        let shown = format!("{} {:?} {:?}", c.database.display(), c.database, c);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgresql://mc:***@db:5432/mc?password=***&sslmode=disable"));
        // The environment replaces the URL, not the pool settings.
        c.apply_vars(|n| (n == "MICROCRED_DATABASE").then(|| "postgres://u@h/d".into()))
            .unwrap();
        assert_eq!(c.database.postgres_url(), Some("postgres://u@h/d"));
        assert_eq!(c.database.pool_size, 3);
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        std::fs::write(&p, "[database]\nurl = \"x.db\"\npool = 3\n").unwrap();
        let e = Config::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("pool_size"), "{e}");
        c.database.pool_size = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn toml_file_with_unknown_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "listen = \"127.0.0.1:1\"\n[limits]\nbatch_rows = 5\n").unwrap();
        let c = Config::from_file(&p).unwrap();
        assert_eq!(c.limits.batch_rows, 5);
        std::fs::write(&p, "lisen = \"127.0.0.1:1\"\n").unwrap();
        assert!(Config::from_file(&p).is_err());
        std::fs::write(
            &p,
            "[pkcs11]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\ntoken_label = \"mc\"\n",
        )
        .unwrap();
        let c = Config::from_file(&p).unwrap();
        let p11 = c.pkcs11.unwrap();
        assert_eq!(p11.token_label, "mc");
        assert_eq!(p11.pin_env, "MICROCRED_PKCS11_PIN");
        assert_eq!(p11.pin_file, None);
        std::fs::write(
            &p,
            "[pkcs11]\nmodule = \"m.so\"\ntoken_label = \"mc\"\npin = \"1234\"\n",
        )
        .unwrap();
        let e = Config::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("pin"), "a PIN in the file is refused: {e}");
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Config {
            admin_token: Some(Zeroizing::new("secret-admin-token-123".into())),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("secret-admin"));
    }
}
