//! Folders held open by handle. Every name is looked up inside a folder already open, one
//! segment at a time, and never through a symbolic link: a link, or a folder swapped for one
//! while spacegen runs, makes the operation fail instead of writing where the link points.
//! Only the destination itself is opened by path (the user named it, links included).

use std::io;
use std::path::{Path, PathBuf};

/// What a name inside a folder is, looked up without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Folder,
    Link,
    Other,
}

/// An open folder, with the path it was opened as (for messages only).
#[derive(Debug)]
pub(crate) struct Dir {
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// The path this folder was reached by, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` inside this folder, for messages.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens `name` below this folder, one segment at a time (`a/b/c`), refusing links.
    pub(crate) fn descend(&self, relative: &str) -> io::Result<Dir> {
        let mut segments = relative.split('/').filter(|s| !s.is_empty());
        let Some(first) = segments.next() else {
            return self.child(".");
        };
        let mut dir = self.child(first)?;
        for segment in segments {
            dir = dir.child(segment)?;
        }
        Ok(dir)
    }

    /// Removes `name` and everything below it, never following a link.
    pub(crate) fn remove_tree(&self, name: &str) -> io::Result<()> {
        match self.kind(name)? {
            None => Ok(()),
            Some(Kind::Folder) => {
                let dir = self.child(name)?;
                // A read-only folder (an old tree an exchange left) must let its entries go.
                let _ = dir.set_mode(0o700);
                for entry in dir.names()? {
                    let entry = entry.to_string_lossy().into_owned();
                    dir.remove_tree(&entry)?;
                }
                self.remove_dir(name)
            }
            Some(_) => self.remove_file(name),
        }
    }
}

#[cfg(unix)]
mod imp {
    use super::{Dir, Kind};
    use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, CWD};
    use std::ffi::OsString;
    use std::io::{self, Write as _};
    use std::os::unix::ffi::OsStrExt as _;
    use std::path::Path;

    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::CLOEXEC);

    fn err(e: rustix::io::Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }

    impl Dir {
        /// Opens the folder at `path`, following links in the path (the user named it).
        pub(crate) fn open(path: &Path) -> io::Result<Dir> {
            let fd = rustix::fs::openat(CWD, path, DIR_FLAGS, Mode::empty()).map_err(err)?;
            Ok(Dir {
                fd,
                path: path.to_path_buf(),
            })
        }

        /// Opens the folder `name` inside this one; a link there is an error.
        pub(crate) fn child(&self, name: &str) -> io::Result<Dir> {
            let flags = DIR_FLAGS | OFlags::NOFOLLOW;
            let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty()).map_err(|e| {
                // A link gives ELOOP or, with O_DIRECTORY, ENOTDIR: say which it was.
                let link = matches!(e, rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR)
                    && matches!(self.kind(name), Ok(Some(Kind::Link)));
                if link {
                    io::Error::other("is a symbolic link; spacegen does not write through links")
                } else {
                    err(e)
                }
            })?;
            Ok(Dir {
                fd,
                path: self.path.join(name),
            })
        }

        /// What `name` is, or `None` when it does not exist.
        pub(crate) fn kind(&self, name: &str) -> io::Result<Option<Kind>> {
            match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => Ok(Some(match FileType::from_raw_mode(stat.st_mode) {
                    FileType::RegularFile => Kind::File,
                    FileType::Directory => Kind::Folder,
                    FileType::Symlink => Kind::Link,
                    _ => Kind::Other,
                })),
                Err(rustix::io::Errno::NOENT) => Ok(None),
                Err(e) => Err(err(e)),
            }
        }

        /// Creates the folder `name` with `mode`, whatever the umask.
        pub(crate) fn create_dir(&self, name: &str, mode: u32) -> io::Result<Dir> {
            rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o700)).map_err(err)?;
            let dir = self.child(name)?;
            rustix::fs::fchmod(&dir.fd, Mode::from_raw_mode(mode)).map_err(err)?;
            Ok(dir)
        }

        /// Creates the file `name`, which must not exist, with `contents` and `mode`.
        pub(crate) fn create_file(
            &self,
            name: &str,
            contents: &[u8],
            mode: u32,
            sync: bool,
        ) -> io::Result<()> {
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o600))
                .map_err(err)?;
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(err)?;
            let mut file = std::fs::File::from(fd);
            file.write_all(contents)?;
            if sync {
                file.sync_all()?;
            }
            Ok(())
        }

        /// Moves `name` to `to_name` in `to`. With `replace` false, an existing `to_name` is an
        /// error (checked by the kernel where it can, so nothing appearing meanwhile is lost).
        pub(crate) fn rename(
            &self,
            name: &str,
            to: &Dir,
            to_name: &str,
            replace: bool,
        ) -> io::Result<()> {
            if replace {
                return rustix::fs::renameat(&self.fd, name, &to.fd, to_name).map_err(err);
            }
            #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
            {
                match rustix::fs::renameat_with(
                    &self.fd,
                    name,
                    &to.fd,
                    to_name,
                    RenameFlags::NOREPLACE,
                ) {
                    Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
                    other => return other.map_err(err),
                }
            }
            if to.kind(to_name)?.is_some() {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            rustix::fs::renameat(&self.fd, name, &to.fd, to_name).map_err(err)
        }

        pub(crate) fn remove_file(&self, name: &str) -> io::Result<()> {
            rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(err)
        }

        /// The contents of the file `name`, or `None` when there is none; a link is an error.
        pub(crate) fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
                Ok(fd) => {
                    let mut out = Vec::new();
                    std::io::Read::read_to_end(&mut std::fs::File::from(fd), &mut out)?;
                    Ok(Some(out))
                }
                Err(rustix::io::Errno::NOENT) => Ok(None),
                Err(e) => Err(err(e)),
            }
        }

        /// Sets this folder's own mode.
        pub(crate) fn set_mode(&self, mode: u32) -> io::Result<()> {
            rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(mode)).map_err(err)
        }

        pub(crate) fn remove_dir(&self, name: &str) -> io::Result<()> {
            rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).map_err(err)
        }

        /// The names in this folder, `.` and `..` left out.
        pub(crate) fn names(&self) -> io::Result<Vec<OsString>> {
            let mut out = Vec::new();
            for entry in rustix::fs::Dir::read_from(&self.fd).map_err(err)? {
                let name = entry.map_err(err)?.file_name().to_bytes().to_vec();
                if name != b"." && name != b".." {
                    out.push(std::ffi::OsStr::from_bytes(&name).to_os_string());
                }
            }
            Ok(out)
        }

        /// Flushes this folder's entries to disk.
        pub(crate) fn sync(&self) -> io::Result<()> {
            rustix::fs::fsync(&self.fd).map_err(err)
        }

        /// Takes an exclusive advisory lock on this folder (`flock`), held until this handle
        /// is closed; `false` when another open handle (another run) holds it.
        pub(crate) fn try_lock(&self) -> io::Result<bool> {
            use rustix::fs::FlockOperation;
            match rustix::fs::flock(&self.fd, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => Ok(true),
                Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
                Err(e) => Err(err(e)),
            }
        }

        /// Flushes everything written to this folder's filesystem: one call instead of one per
        /// file. Where there is no such call, each file must have been flushed when written.
        pub(crate) fn sync_filesystem(&self) -> io::Result<()> {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            return rustix::fs::syncfs(&self.fd).map_err(err);
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            return self.sync();
        }
    }

    /// What `fstat`/`statat` say about one entry, for carrying it over whole.
    #[cfg(target_os = "linux")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Meta {
        pub kind: Kind,
        pub dev: u64,
        pub ino: u64,
        /// Permission bits, setuid, setgid and sticky included.
        pub mode: u32,
        pub uid: u32,
        pub gid: u32,
    }

    #[cfg(target_os = "linux")]
    fn meta_from(stat: &rustix::fs::Stat) -> Meta {
        Meta {
            kind: match FileType::from_raw_mode(stat.st_mode) {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Folder,
                FileType::Symlink => Kind::Link,
                _ => Kind::Other,
            },
            dev: stat.st_dev,
            ino: stat.st_ino,
            mode: stat.st_mode & 0o7777,
            uid: stat.st_uid,
            gid: stat.st_gid,
        }
    }

    /// What the exchange of two folders needs ([`super::super::exchange`]).
    #[cfg(target_os = "linux")]
    impl Dir {
        /// This folder's own metadata.
        pub(crate) fn meta(&self) -> io::Result<Meta> {
            Ok(meta_from(&rustix::fs::fstat(&self.fd).map_err(err)?))
        }

        /// The metadata of `name`, a link not followed.
        pub(crate) fn meta_of(&self, name: &str) -> io::Result<Meta> {
            let stat =
                rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).map_err(err)?;
            Ok(meta_from(&stat))
        }

        /// A second name `to_name` in `to` for the file `name` (a hard link).
        pub(crate) fn hard_link(&self, name: &str, to: &Dir, to_name: &str) -> io::Result<()> {
            rustix::fs::linkat(&self.fd, name, &to.fd, to_name, AtFlags::empty()).map_err(err)
        }

        /// Makes `to_name` in `to` a symbolic link with the same target as the link `name`.
        pub(crate) fn copy_link(&self, name: &str, to: &Dir, to_name: &str) -> io::Result<()> {
            let target = rustix::fs::readlinkat(&self.fd, name, Vec::new()).map_err(err)?;
            rustix::fs::symlinkat(target.as_c_str(), &to.fd, to_name).map_err(err)
        }

        /// Swaps the entries `a` and `b` of this folder in one step (`RENAME_EXCHANGE`).
        pub(crate) fn exchange(&self, a: &str, b: &str) -> io::Result<()> {
            rustix::fs::renameat_with(&self.fd, a, &self.fd, b, RenameFlags::EXCHANGE).map_err(err)
        }

        /// Gives this folder the owner `uid` and group `gid`.
        pub(crate) fn set_owner(&self, uid: u32, gid: u32) -> io::Result<()> {
            let (uid, gid) = (
                rustix::fs::Uid::from_raw(uid),
                rustix::fs::Gid::from_raw(gid),
            );
            rustix::fs::fchown(&self.fd, Some(uid), Some(gid)).map_err(err)
        }

        /// The names of this folder's extended attributes (ACLs included).
        pub(crate) fn xattr_names(&self) -> io::Result<Vec<String>> {
            let mut buf = vec![0u8; 4096];
            let len = loop {
                match rustix::fs::flistxattr(&self.fd, &mut buf[..]) {
                    Ok(len) => break len,
                    Err(rustix::io::Errno::RANGE) => {
                        let need = rustix::fs::flistxattr_query(&self.fd).map_err(err)?;
                        buf.resize(need.max(buf.len() * 2), 0);
                    }
                    Err(rustix::io::Errno::NOTSUP) => return Ok(Vec::new()),
                    Err(e) => return Err(err(e)),
                }
            };
            Ok(buf[..len]
                .split(|&b| b == 0)
                .filter(|n| !n.is_empty())
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect())
        }
    }

    /// Whether files must be flushed one by one (no filesystem-wide flush here).
    pub(crate) const SYNC_EACH_FILE: bool = !cfg!(any(target_os = "linux", target_os = "android"));
}

#[cfg(not(unix))]
mod imp {
    //! Without handles, names are checked with `symlink_metadata` just before each use.
    use super::{Dir, Kind};
    use std::ffi::OsString;
    use std::fs;
    use std::io::{self, Write as _};
    use std::path::Path;

    impl Dir {
        /// Without handles there is no lock to take: runs are not kept apart here.
        pub(crate) fn try_lock(&self) -> io::Result<bool> {
            Ok(true)
        }

        pub(crate) fn open(path: &Path) -> io::Result<Dir> {
            if !fs::metadata(path)?.is_dir() {
                return Err(io::Error::new(io::ErrorKind::Other, "is not a folder"));
            }
            Ok(Dir {
                path: path.to_path_buf(),
            })
        }

        pub(crate) fn child(&self, name: &str) -> io::Result<Dir> {
            match self.kind(name)? {
                Some(Kind::Folder) => Ok(Dir {
                    path: self.path.join(name),
                }),
                Some(Kind::Link) => Err(io::Error::other(
                    "is a symbolic link; spacegen does not write through links",
                )),
                Some(_) => Err(io::Error::new(io::ErrorKind::Other, "is not a folder")),
                None => Err(io::Error::from(io::ErrorKind::NotFound)),
            }
        }

        pub(crate) fn kind(&self, name: &str) -> io::Result<Option<Kind>> {
            match fs::symlink_metadata(self.path.join(name)) {
                Ok(m) if m.file_type().is_symlink() => Ok(Some(Kind::Link)),
                Ok(m) if m.is_dir() => Ok(Some(Kind::Folder)),
                Ok(m) if m.is_file() => Ok(Some(Kind::File)),
                Ok(_) => Ok(Some(Kind::Other)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }

        pub(crate) fn create_dir(&self, name: &str, _mode: u32) -> io::Result<Dir> {
            fs::create_dir(self.path.join(name))?;
            self.child(name)
        }

        pub(crate) fn create_file(
            &self,
            name: &str,
            contents: &[u8],
            _mode: u32,
            sync: bool,
        ) -> io::Result<()> {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.path.join(name))?;
            file.write_all(contents)?;
            if sync {
                file.sync_all()?;
            }
            Ok(())
        }

        pub(crate) fn rename(
            &self,
            name: &str,
            to: &Dir,
            to_name: &str,
            replace: bool,
        ) -> io::Result<()> {
            if !replace && to.kind(to_name)?.is_some() {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            fs::rename(self.path.join(name), to.path.join(to_name))
        }

        pub(crate) fn remove_file(&self, name: &str) -> io::Result<()> {
            fs::remove_file(self.path.join(name))
        }

        pub(crate) fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
            match self.kind(name)? {
                None => Ok(None),
                Some(Kind::Link) => Err(io::Error::new(
                    io::ErrorKind::Other,
                    "is a symbolic link; spacegen does not read through links",
                )),
                Some(_) => fs::read(self.path.join(name)).map(Some),
            }
        }

        pub(crate) fn set_mode(&self, _mode: u32) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn remove_dir(&self, name: &str) -> io::Result<()> {
            fs::remove_dir(self.path.join(name))
        }

        pub(crate) fn names(&self) -> io::Result<Vec<OsString>> {
            fs::read_dir(&self.path)?
                .map(|e| e.map(|e| e.file_name()))
                .collect()
        }

        pub(crate) fn sync(&self) -> io::Result<()> {
            Ok(())
        }

        pub(crate) fn sync_filesystem(&self) -> io::Result<()> {
            Ok(())
        }
    }

    pub(crate) const SYNC_EACH_FILE: bool = true;
}

#[cfg(target_os = "linux")]
pub(crate) use imp::Meta;
pub(crate) use imp::SYNC_EACH_FILE;

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_are_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("app")).unwrap();
        let dir = Dir::open(root.path()).unwrap();
        assert_eq!(dir.kind("app").unwrap(), Some(Kind::Link));
        let e = dir.descend("app").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        dir.remove_tree("app").unwrap();
        assert!(outside.path().exists(), "the link's target was removed");
    }

    #[test]
    fn files_get_their_mode_whatever_the_umask_and_never_replace() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = Dir::open(root.path()).unwrap();
        let sub = dir.create_dir("d", 0o755).unwrap();
        sub.create_file("x.sh", b"1", 0o755, false).unwrap();
        assert!(sub.create_file("x.sh", b"2", 0o644, false).is_err());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.path().join("d")), 0o755);
        assert_eq!(mode(&root.path().join("d/x.sh")), 0o755);
        dir.create_file("y", b"y", 0o644, false).unwrap();
        let e = dir.rename("y", &sub, "x.sh", false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        dir.rename("y", &sub, "x.sh", true).unwrap();
        assert_eq!(std::fs::read(root.path().join("d/x.sh")).unwrap(), b"y");
        dir.remove_tree("d").unwrap();
        assert!(dir.names().unwrap().is_empty());
    }
}
