//! `microcred serve`: the issuer service (see the `microcred-service` crate).
//!
//! Configuration: `--config FILE` (TOML), then `MICROCRED_*` environment variables, then
//! these flags. `--init` is the first-run convenience: it creates the master key file if it
//! is missing (mode 0600) and starts on 127.0.0.1:8080 with `microcred.db`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_service::{Config, MasterKey, Server};

/// Where `--init` puts the master key when none is configured.
const DEFAULT_MASTER_KEY_FILE: &str = "microcred-master.key";

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML: listen, database, base_url, master_key_file, [limits]).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on [env MICROCRED_LISTEN; default 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// SQLite database file (created if missing), or a PostgreSQL URL postgres://user@host/db
    /// [env MICROCRED_DATABASE; default microcred.db].
    #[arg(long)]
    database: Option<PathBuf>,
    /// Public base URL used in every id the service mints, e.g. https://credentials.college.example
    /// [env MICROCRED_BASE_URL; default http://<listen address>].
    #[arg(long)]
    base_url: Option<String>,
    /// File holding the 32-byte master key that encrypts signing keys at rest (64 hex digits)
    /// [env MICROCRED_MASTER_KEY_FILE, or the key itself in MICROCRED_MASTER_KEY].
    #[arg(long)]
    master_key_file: Option<PathBuf>,
    /// The employer's verifier page, as built by `scripts/build-verifier.sh DIR`: served at
    /// /verify/ [env MICROCRED_VERIFIER_DIR; default: a `verifier` folder next to this
    /// program or one level up, e.g. target/verifier for target/release/microcred].
    #[arg(long, value_name = "DIR")]
    verifier_dir: Option<PathBuf>,
    /// First run: create the master key file if it is missing (mode 0600; default
    /// ./microcred-master.key), then start.
    #[arg(long)]
    init: bool,
    /// Do not serve: measure the core's single-thread signing rate for this many seconds on
    /// the bundled sample microcredential (then as long again the way a batch signs: proof
    /// options prepared once), print them (key=value lines) and exit.
    #[arg(long, value_name = "SECONDS")]
    bench_sign: Option<f64>,
    /// The cryptosuite for --bench-sign (default: the service's default suite).
    #[arg(long, requires = "bench_sign")]
    bench_suite: Option<String>,
}

pub(crate) fn run(args: ServeArgs) -> Result<ExitCode> {
    if let Some(secs) = args.bench_sign {
        return bench_sign(secs, args.bench_suite.as_deref());
    }
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    config.apply_env()?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(d) = args.database {
        config.database.set_location(d);
    }
    if let Some(b) = args.base_url {
        config.base_url = Some(b);
    }
    if let Some(m) = args.master_key_file {
        config.master_key_file = Some(m);
    }
    if let Some(d) = args.verifier_dir {
        config.verifier_dir = Some(d);
    }
    if config.verifier_dir.is_none() {
        config.verifier_dir = built_verifier_page();
    }
    if args.init && config.master_key.is_none() {
        let path = config
            .master_key_file
            .get_or_insert_with(|| PathBuf::from(DEFAULT_MASTER_KEY_FILE))
            .clone();
        if !path.exists() {
            create_master_key(&path)?;
            eprintln!(
                "created master key file {} (mode 0600). Back it up and keep it secret: without it the signing keys in {} cannot be opened.",
                path.display(),
                config.database.display()
            );
        }
    }
    microcred_service::init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let verifier_dir = config.verifier_dir.clone();
    runtime.block_on(async move {
        let mut server = Server::bind(config).await?;
        let addr = server.local_addr()?;
        if let Some(token) = server.take_generated_admin_token() {
            // Straight to the terminal, once, never through `tracing`: log lines are shipped
            // and kept, and the token must reach the operator and nothing else.
            eprintln!("==> administrator token (shown ONCE; store it now, only its hash is kept):");
            eprintln!("{}", token.as_str());
        }
        eprintln!(
            "==> microcred service listening on http://{addr} (base URL {})",
            server.base_url()
        );
        match &verifier_dir {
            Some(dir) => eprintln!(
                "==> the employer's verifier page: {}/verify/ (from {})",
                server.base_url(),
                dir.display()
            ),
            None => eprintln!(
                "==> no verifier page at /verify/: build it with `bash scripts/build-verifier.sh` (needs `rustup target add wasm32-unknown-unknown`)"
            ),
        }
        server.run(microcred_service::shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn create_master_key(path: &std::path::Path) -> Result<()> {
    use std::io::Write;
    let key = MasterKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(key.to_hex().as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

fn bench_sign(secs: f64, suite: Option<&str>) -> Result<ExitCode> {
    if !(secs > 0.0 && secs <= 600.0) {
        bail!("--bench-sign takes 0 < SECONDS <= 600");
    }
    let achievement: serde_json::Value =
        serde_json::from_str(microcred_service::SAMPLE_ACHIEVEMENT)?;
    let issuer: serde_json::Value = serde_json::from_str(microcred_service::SAMPLE_ISSUER)?;
    let r =
        microcred_service::sign_rate(&achievement, &issuer, suite, Duration::from_secs_f64(secs))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "suite={}",
        suite.unwrap_or(microcred_service::default_suite_name())
    );
    println!("credential_bytes={}", r.credential_bytes);
    println!("signatures={}", r.count);
    println!("seconds={:.3}", r.elapsed.as_secs_f64());
    println!("sign_rate_per_thread={:.0}", r.per_second);
    println!("batch_sign_rate_per_thread={:.0}", r.batch_per_second);
    Ok(ExitCode::SUCCESS)
}

/// The verifier page `scripts/build-verifier.sh` built for this checkout, if any: a
/// `verifier` folder (holding `index.html`) next to this program or one level up.
fn built_verifier_page() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("verifier"), dir.parent()?.join("verifier")]
        .into_iter()
        .find(|d| d.join("index.html").is_file() && d.join("verifier-wasm.js").is_file())
}
