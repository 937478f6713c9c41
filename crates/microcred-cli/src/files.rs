//! File helpers: reading input, and writing output atomically (never a half-written file).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

/// Largest input file accepted (credentials are kilobytes; baked images a few MB).
pub(crate) const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Reads a file (or stdin for `-`), refusing anything over [`MAX_INPUT`].
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
    } else {
        File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if buf.len() as u64 > MAX_INPUT {
        anyhow::bail!("{} is larger than {} MiB", path.display(), MAX_INPUT >> 20);
    }
    Ok(buf)
}

/// Reads and strictly parses a JSON file.
pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let bytes = read_input(path)?;
    microcred_core::parse_strict(&bytes)
        .with_context(|| format!("{} is not valid JSON", path.display()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed to
/// disk, then renamed over the target. Readers see the old file or the new one, never a part.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if private {
            options.mode(0o600);
        }
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = (|| -> Result<()> {
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes JSON (pretty, with a final newline) to `out`, or to stdout when `out` is `None`.
pub(crate) fn emit_json(value: &Value, out: Option<&Path>) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    match out {
        Some(path) => write_atomic(path, text.as_bytes(), false),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// 32 random bytes from the operating system.
pub(crate) fn random_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(seed)
}

/// Parses a `--created`/`--at` time (RFC 3339 / XML Schema dateTime with zone), or now.
pub(crate) fn time_or_now(text: Option<&str>) -> Result<time::OffsetDateTime> {
    match text {
        None => Ok(time::OffsetDateTime::now_utc()),
        Some(t) => microcred_core::parse_datetime(t).with_context(|| {
            format!("\"{t}\" is not a date-time with a time zone, e.g. 2025-06-01T12:00:00Z")
        }),
    }
}

/// Reads an issuer key file.
pub(crate) fn read_key(path: &Path) -> Result<microcred_core::IssuerKey> {
    let bytes = read_input(path)?;
    let text = zeroize::Zeroizing::new(
        String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 text", path.display()))?,
    );
    microcred_core::IssuerKey::from_key_file(&text)
        .with_context(|| format!("cannot use key file {}", path.display()))
}

/// The `--context URL=FILE` options read: URL, file name and the file's text, each.
pub(crate) fn read_context_specs(specs: &[String]) -> Result<Vec<(String, String, String)>> {
    specs
        .iter()
        .map(|spec| {
            let (url, file) = spec
                .split_once('=')
                .with_context(|| format!("--context \"{spec}\" must be URL=FILE"))?;
            let bytes = read_input(Path::new(file))?;
            let text = String::from_utf8(bytes).with_context(|| format!("{file} is not UTF-8"))?;
            Ok((url.to_owned(), file.to_owned(), text))
        })
        .collect()
}

/// JSON-LD contexts: the bundled set, plus any the user added with `--context URL=FILE`.
pub(crate) struct Contexts(Option<microcred_core::ContextLoader>);

impl Contexts {
    /// Reads `URL=FILE` pairs; without any, the shared bundled set is used.
    pub(crate) fn load(specs: &[String]) -> Result<Self> {
        if specs.is_empty() {
            return Ok(Self(None));
        }
        let mut loader = microcred_core::ContextLoader::bundled();
        for (url, file, text) in read_context_specs(specs)? {
            loader
                .add(&url, &text)
                .with_context(|| format!("cannot use {file} as the context {url}"))?;
        }
        Ok(Self(Some(loader)))
    }

    /// True when only the bundled contexts are used (no `--context`).
    pub(crate) fn is_bundled_only(&self) -> bool {
        self.0.is_none()
    }

    /// The loader to use.
    pub(crate) fn get(&self) -> &microcred_core::ContextLoader {
        self.0
            .as_ref()
            .unwrap_or_else(|| microcred_core::bundled_contexts())
    }
}
