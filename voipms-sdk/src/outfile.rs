//! Writing an output file honestly: a regular file (or a path that does not exist yet) is
//! replaced atomically — written beside it as `NAME.part`, synced, then renamed over it, so it
//! appears complete or not at all; a symbolic link is followed and its target replaced (the link
//! stays); a FIFO, a device or a socket is written through as it is (nothing to rename, nothing
//! to replace). Every write and the final flush report their errors.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file being written; [`commit`](Self::commit) puts it in place. Dropped without a commit,
/// a partly written replacement is removed (the original is untouched).
#[derive(Debug)]
pub struct OutputFile {
    file: Option<File>,
    /// The path the data ends up at (a symbolic link's target).
    target: PathBuf,
    /// The temporary file renamed over `target`, or `None` when writing straight through.
    part: Option<PathBuf>,
}

impl OutputFile {
    /// Opens `path` for writing (see the module documentation). A FIFO blocks here until a
    /// reader opens it, as a shell redirection does. A directory is an error.
    pub fn create(path: &Path) -> io::Result<OutputFile> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "is a directory; name a file",
                ));
            }
            Ok(m) if !m.is_file() => {
                // A FIFO, a device, a socket: write to it, never replace it.
                let file = OpenOptions::new().write(true).open(path)?;
                return Ok(OutputFile {
                    file: Some(file),
                    target: path.to_owned(),
                    part: None,
                });
            }
            _ => {}
        }
        let target = resolve_links(path)?;
        let mut part = target.clone().into_os_string();
        part.push(".part");
        let part = PathBuf::from(part);
        let file = File::create(&part)?;
        // A replaced file keeps its permissions.
        if let Ok(m) = std::fs::metadata(&target) {
            let _ = file.set_permissions(m.permissions());
        }
        Ok(OutputFile {
            file: Some(file),
            target,
            part: Some(part),
        })
    }

    /// Where the data goes (a symbolic link's target).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the data to the disk and puts the file in place.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        file.flush()?;
        match self.part.take() {
            None => Ok(()),
            Some(part) => {
                let done = file
                    .sync_all()
                    .and_then(|()| std::fs::rename(&part, &self.target));
                if done.is_err() {
                    let _ = std::fs::remove_file(&part);
                }
                done
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("the file is closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(part) = self.part.take() {
            self.file = None;
            let _ = std::fs::remove_file(part);
        }
    }
}

/// `path` with its symbolic links followed (the last component's, repeatedly), so that a
/// rename replaces what the link points at, not the link. A dangling link names the file to
/// create.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Writes `bytes` to `path` through an [`OutputFile`].
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OutputFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("voipms-outfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn regular_files_are_replaced_whole() {
        let d = dir("regular");
        let p = d.join("a.csv");
        std::fs::write(&p, "old").unwrap();
        let mut f = OutputFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        // Abandoned: the original stays, no part file is left.
        let mut f = OutputFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert!(!d.join("a.csv.part").exists());
        assert!(OutputFile::create(&d).is_err());
        let _ = std::fs::remove_dir_all(d);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_devices_written_through() {
        let d = dir("links");
        let real = d.join("real.csv");
        std::fs::write(&real, "old").unwrap();
        let link = d.join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_file(&link, b"via link").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "via link");
        // A device is written to, not replaced.
        write_file(Path::new("/dev/null"), b"x").unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_file()
                .eq(&false)
        );
        let full = write_file(Path::new("/dev/full"), &[0; 10_000]);
        assert!(full.is_err(), "/dev/full must fail");
        let _ = std::fs::remove_dir_all(d);
    }
}
