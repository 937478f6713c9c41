//! Output of a batch: one file per credential, written in chunks, each chunk made durable by
//! one sync instead of one per file.
//!
//! Workers write a chunk's files under temporary names (`.mc-<name>.<pid>.tmp`), then one
//! `syncfs` of the output directory's file system puts their bytes on disk (on systems
//! without it, each file is synced), and only then are they renamed to their final names.
//! The renames become durable with the next chunk's sync or the directory sync at the end. So
//! after a crash every final file is whole (its bytes were durable before it had its name) or
//! absent (its rename was lost); the temporary files of an interrupted run are removed when
//! the directory is opened again, and re-running issues exactly the missing files.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Prefix of temporary files (hidden, never a final name: those are hex hashes).
const TMP_PREFIX: &str = ".mc-";
const TMP_SUFFIX: &str = ".tmp";

/// The output directory of a batch.
pub(crate) struct OutDir {
    dir: PathBuf,
    /// Open for syncing (the directory's entries, and on Linux its whole file system);
    /// `None` for a dry run, which writes nothing.
    handle: Option<File>,
    /// Final files present when the run started.
    existing: HashSet<String>,
    pid: u32,
}

/// Files of one chunk written under temporary names, not yet durable nor named.
#[derive(Default)]
pub(crate) struct Chunk {
    files: Vec<(PathBuf, PathBuf)>,
}

impl OutDir {
    /// Opens `dir` (which exists): notes the files already there and removes temporary files
    /// an interrupted run left.
    pub(crate) fn open(dir: &Path) -> Result<Self> {
        let mut existing = HashSet::new();
        let entries =
            fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TMP_PREFIX) && name.ends_with(TMP_SUFFIX) {
                fs::remove_file(entry.path()).with_context(|| {
                    format!(
                        "cannot remove {}, left by an interrupted run",
                        entry.path().display()
                    )
                })?;
            } else {
                existing.insert(name);
            }
        }
        let handle = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
        Ok(Self {
            handle: Some(handle),
            dir: dir.to_owned(),
            existing,
            pid: std::process::id(),
        })
    }

    /// For a dry run: notes the files already in `dir` (none if it does not exist), changes
    /// nothing.
    pub(crate) fn look(dir: &Path) -> Result<Self> {
        let mut existing = HashSet::new();
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                existing.insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            handle: None,
            existing,
            pid: std::process::id(),
        })
    }

    /// True when the file `name` was there when the run started.
    pub(crate) fn exists(&self, name: &str) -> bool {
        self.existing.contains(name)
    }

    /// Writes `bytes` for the file `name` under a temporary name, into `chunk`.
    pub(crate) fn write(&self, chunk: &mut Chunk, name: &str, bytes: &[u8]) -> Result<()> {
        let tmp = self
            .dir
            .join(format!("{TMP_PREFIX}{name}.{}{TMP_SUFFIX}", self.pid));
        let written = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(bytes)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
        }
        chunk.files.push((tmp, self.dir.join(name)));
        Ok(())
    }

    /// Makes the files of `chunks` durable with one sync, then gives them their final names.
    /// Returns how many files it named. On failure the chunks' temporary files are removed
    /// (their credentials are issued again by the next run).
    pub(crate) fn commit(&self, chunks: Vec<Chunk>) -> Result<usize> {
        let files: Vec<(PathBuf, PathBuf)> = chunks.into_iter().flat_map(|c| c.files).collect();
        if files.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.sync_data(&files) {
            for (tmp, _) in &files {
                let _ = fs::remove_file(tmp);
            }
            return Err(e);
        }
        for (i, (tmp, path)) in files.iter().enumerate() {
            if let Err(e) = fs::rename(tmp, path) {
                for (rest, _) in &files[i..] {
                    let _ = fs::remove_file(rest);
                }
                return Err(e).with_context(|| format!("cannot write {}", path.display()));
            }
        }
        Ok(files.len())
    }

    /// Makes the last renames durable.
    pub(crate) fn finish(&self) -> Result<()> {
        match &self.handle {
            Some(dir) => dir
                .sync_all()
                .with_context(|| format!("cannot sync {}", self.dir.display())),
            None => Ok(()),
        }
    }

    /// One `syncfs` of the directory's file system: every byte written so far (this chunk's
    /// files, and the renames of earlier chunks) is on disk when it returns.
    #[cfg(target_os = "linux")]
    fn sync_data(&self, _files: &[(PathBuf, PathBuf)]) -> Result<()> {
        match &self.handle {
            Some(dir) => rustix::fs::syncfs(dir)
                .with_context(|| format!("cannot sync the file system of {}", self.dir.display())),
            None => Ok(()),
        }
    }

    /// Without `syncfs`: each file, then the directory.
    #[cfg(not(target_os = "linux"))]
    fn sync_data(&self, files: &[(PathBuf, PathBuf)]) -> Result<()> {
        for (tmp, _) in files {
            File::open(tmp)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot sync {}", tmp.display()))?;
        }
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_named_files_and_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("kept.json"), b"old").unwrap();
        fs::write(dir.path().join(".mc-lost.json.1.tmp"), b"half").unwrap();
        let out = OutDir::open(dir.path()).unwrap();
        assert!(out.exists("kept.json"));
        assert!(!dir.path().join(".mc-lost.json.1.tmp").exists());
        let mut chunk = Chunk::default();
        out.write(&mut chunk, "a.json", b"{\"a\":1}").unwrap();
        out.write(&mut chunk, "b.json", b"{\"b\":2}").unwrap();
        // Not named before the commit.
        assert!(!dir.path().join("a.json").exists());
        assert_eq!(out.commit(vec![chunk, Chunk::default()]).unwrap(), 2);
        out.finish().unwrap();
        assert_eq!(fs::read(dir.path().join("a.json")).unwrap(), b"{\"a\":1}");
        assert_eq!(fs::read(dir.path().join("b.json")).unwrap(), b"{\"b\":2}");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }
}
