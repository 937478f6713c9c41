//! Output of a batch: one file per credential, written in chunks, each chunk made durable by
//! one sync instead of one per file.
//!
//! On Linux each file is written as an anonymous file in the output directory (`O_TMPFILE`):
//! it has no name until one `syncfs` of the directory's file system has put the chunk's bytes
//! on disk, and is then linked under its final name. Creating an anonymous file does not
//! lock the directory, so the workers do not queue behind each other's inode allocation, and
//! each file costs one directory change instead of two (a create and a rename). Measured on 2
//! cores, 50,000 rows, old and new binaries alternating: on a new ext4 file system the kernel's
//! share went from 2.5 to 1.8 s and the batch from 10.1k to 11.9k credentials/s (medians of
//! 3); on tmpfs from 1.0 to 0.9 s and 16.1k to 16.7k/s (medians of 4). Linking by the
//! descriptor (`AT_EMPTY_PATH`) matters on tmpfs: through the `/proc` path the batch was 6%
//! slower than with temporary names there. Where `O_TMPFILE` is
//! not available (another system, a file system without it, no `/proc`, or no file
//! descriptors left), files are written under temporary names (`.mc-<name>.<pid>.tmp`) and
//! renamed after the sync instead (on systems without `syncfs`, each file is synced).
//!
//! Names become durable with the next chunk's sync or the directory sync at the end. So after
//! a crash every final file is whole (its bytes were durable before it had its name) or
//! absent; anonymous files vanish with the process, temporary files of an interrupted run
//! are removed when the directory is opened again, and re-running issues exactly the missing
//! files.

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
    /// Whether files can be written anonymous and linked later (see the module notes).
    #[cfg(target_os = "linux")]
    anonymous: bool,
}

/// Files of one chunk, written but not yet durable nor named.
#[derive(Default)]
pub(crate) struct Chunk {
    files: Vec<(Pending, PathBuf)>,
}

/// A written file waiting for its final name.
enum Pending {
    /// An anonymous file (`O_TMPFILE`), open until it is linked.
    #[cfg(target_os = "linux")]
    Anonymous(File),
    /// A file under a temporary name.
    Named(PathBuf),
}

impl Pending {
    /// Removes what the file left on disk (an anonymous file leaves nothing once closed).
    fn discard(self) {
        match self {
            #[cfg(target_os = "linux")]
            Self::Anonymous(_) => {}
            Self::Named(tmp) => {
                let _ = fs::remove_file(tmp);
            }
        }
    }
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
        #[cfg(target_os = "linux")]
        let anonymous = anonymous_files_work(&handle);
        Ok(Self {
            handle: Some(handle),
            dir: dir.to_owned(),
            existing,
            pid: std::process::id(),
            #[cfg(target_os = "linux")]
            anonymous,
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
            #[cfg(target_os = "linux")]
            anonymous: false,
        })
    }

    /// True when the file `name` was there when the run started.
    pub(crate) fn exists(&self, name: &str) -> bool {
        self.existing.contains(name)
    }

    /// Writes `bytes` for the file `name`, not yet named, into `chunk`.
    pub(crate) fn write(&self, chunk: &mut Chunk, name: &str, bytes: &[u8]) -> Result<()> {
        #[cfg(target_os = "linux")]
        if self.anonymous {
            if let Some(file) = self.write_anonymous(bytes)? {
                chunk
                    .files
                    .push((Pending::Anonymous(file), self.dir.join(name)));
                return Ok(());
            }
        }
        let tmp = self.temporary(name);
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
        chunk.files.push((Pending::Named(tmp), self.dir.join(name)));
        Ok(())
    }

    /// The temporary name of the file `name`.
    fn temporary(&self, name: &str) -> PathBuf {
        self.dir
            .join(format!("{TMP_PREFIX}{name}.{}{TMP_SUFFIX}", self.pid))
    }

    /// `bytes` in a new anonymous file of the directory; `None` when no file descriptor is
    /// left for it (the caller writes a named temporary file instead).
    #[cfg(target_os = "linux")]
    fn write_anonymous(&self, bytes: &[u8]) -> Result<Option<File>> {
        use rustix::fs::{Mode, OFlags};
        let Some(dir) = &self.handle else {
            return Ok(None);
        };
        let fd = match rustix::fs::openat(
            dir,
            ".",
            OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::MFILE | rustix::io::Errno::NFILE) => return Ok(None),
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("cannot write a file in {}", self.dir.display()))
            }
        };
        let mut file = File::from(fd);
        file.write_all(bytes)
            .with_context(|| format!("cannot write a file in {}", self.dir.display()))?;
        Ok(Some(file))
    }

    /// Makes the files of `chunks` durable with one sync, then gives them their final names.
    /// Returns how many files it named. On failure the chunks' files are discarded (their
    /// credentials are issued again by the next run).
    pub(crate) fn commit(&self, chunks: Vec<Chunk>) -> Result<usize> {
        let files: Vec<(Pending, PathBuf)> = chunks.into_iter().flat_map(|c| c.files).collect();
        if files.is_empty() {
            return Ok(0);
        }
        let count = files.len();
        if let Err(e) = self.sync_data(&files) {
            for (pending, _) in files {
                pending.discard();
            }
            return Err(e);
        }
        let mut files = files.into_iter();
        while let Some((pending, path)) = files.next() {
            if let Err(e) = self.name(pending, &path) {
                for (rest, _) in files {
                    rest.discard();
                }
                return Err(e).with_context(|| format!("cannot write {}", path.display()));
            }
        }
        Ok(count)
    }

    /// Gives a durable file its final name `path` (replacing a file of that name, as a rename
    /// does).
    fn name(&self, pending: Pending, path: &Path) -> std::io::Result<()> {
        match pending {
            #[cfg(target_os = "linux")]
            Pending::Anonymous(file) => {
                use std::os::fd::AsRawFd;
                let link = |to: &Path| {
                    // Straight from the descriptor where the kernel allows it (Linux 6.10 and
                    // later for the opener, or CAP_DAC_READ_SEARCH), else by its /proc path.
                    match rustix::fs::linkat(
                        &file,
                        "",
                        rustix::fs::CWD,
                        to,
                        rustix::fs::AtFlags::EMPTY_PATH,
                    ) {
                        Err(rustix::io::Errno::PERM | rustix::io::Errno::NOENT) => {
                            rustix::fs::linkat(
                                rustix::fs::CWD,
                                format!("/proc/self/fd/{}", file.as_raw_fd()),
                                rustix::fs::CWD,
                                to,
                                rustix::fs::AtFlags::SYMLINK_FOLLOW,
                            )
                        }
                        other => other,
                    }
                };
                match link(path) {
                    Ok(()) => Ok(()),
                    // Only if something else made the file meanwhile: replace it atomically.
                    Err(rustix::io::Errno::EXIST) => {
                        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                        let tmp = self.temporary(name.as_deref().unwrap_or("file"));
                        let _ = fs::remove_file(&tmp);
                        link(&tmp)?;
                        fs::rename(&tmp, path).inspect_err(|_| {
                            let _ = fs::remove_file(&tmp);
                        })
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Pending::Named(tmp) => fs::rename(&tmp, path).inspect_err(|_| {
                let _ = fs::remove_file(&tmp);
            }),
        }
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
    fn sync_data(&self, _files: &[(Pending, PathBuf)]) -> Result<()> {
        match &self.handle {
            Some(dir) => rustix::fs::syncfs(dir)
                .with_context(|| format!("cannot sync the file system of {}", self.dir.display())),
            None => Ok(()),
        }
    }

    /// Without `syncfs`: each file, then the directory.
    #[cfg(not(target_os = "linux"))]
    fn sync_data(&self, files: &[(Pending, PathBuf)]) -> Result<()> {
        for (pending, _) in files {
            let Pending::Named(tmp) = pending;
            File::open(tmp)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot sync {}", tmp.display()))?;
        }
        self.finish()
    }
}

/// Whether anonymous files can be made in `dir` and surely linked later: by their descriptor
/// or, where the kernel refuses that, by their `/proc/self/fd` path, which must exist (a file
/// that could not be named would be lost work). Also raises this
/// process's limit of open files to what the system allows, since every file of the chunks in
/// flight stays open until it is named (a file that finds no descriptor left falls back to a
/// temporary name).
#[cfg(target_os = "linux")]
fn anonymous_files_work(dir: &File) -> bool {
    use rustix::fs::{Mode, OFlags};
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
    let probe = rustix::fs::openat(
        dir,
        ".",
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    );
    match probe {
        Ok(fd) => {
            use std::os::fd::AsRawFd;
            Path::new(&format!("/proc/self/fd/{}", fd.as_raw_fd())).exists()
        }
        Err(_) => false,
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

    /// Both ways of writing (anonymous files where the system has them, temporary names
    /// elsewhere) leave only whole, named files; a file made under a final name while its
    /// chunk waited is replaced, as a rename would.
    #[test]
    fn both_ways_of_writing_name_whole_files() {
        for anonymous in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            #[allow(unused_mut)]
            let mut out = OutDir::open(dir.path()).unwrap();
            #[cfg(target_os = "linux")]
            {
                out.anonymous &= anonymous;
            }
            let mut chunk = Chunk::default();
            for i in 0..20 {
                out.write(
                    &mut chunk,
                    &format!("{i}.json"),
                    format!("{{\"n\":{i}}}").as_bytes(),
                )
                .unwrap();
            }
            let listed = || -> Vec<String> {
                let mut v: Vec<String> = fs::read_dir(dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                v
            };
            #[cfg(target_os = "linux")]
            if out.anonymous {
                assert!(listed().is_empty(), "anonymous files have no names yet");
            }
            fs::write(dir.path().join("7.json"), b"made meanwhile").unwrap();
            assert_eq!(out.commit(vec![chunk]).unwrap(), 20);
            out.finish().unwrap();
            let names = listed();
            assert_eq!(names.len(), 20, "{anonymous}: {names:?}");
            for i in 0..20 {
                assert_eq!(
                    fs::read_to_string(dir.path().join(format!("{i}.json"))).unwrap(),
                    format!("{{\"n\":{i}}}")
                );
            }
        }
    }
}
