//! Plan, then apply: every edit is computed first, then all files are replaced together or not
//! at all.

use std::collections::HashSet;
use std::io::{self, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// The new content of one file. `mode` forces permission bits (the env file is always 0600);
/// otherwise an existing file keeps its own.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    /// The path as shown to the user, relative to the project folder.
    pub display: String,
    pub old: Option<String>,
    pub new: String,
    pub old_mode: Option<u32>,
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    Created,
    Modified,
    /// Only the permission bits change.
    Permissions,
    Unchanged,
}

impl FileChange {
    pub fn new(
        path: PathBuf,
        display: String,
        old: Option<String>,
        new: String,
        old_mode: Option<u32>,
    ) -> Self {
        FileChange {
            path,
            display,
            old,
            new,
            old_mode,
            mode: None,
        }
    }

    pub fn action(&self) -> FileAction {
        match &self.old {
            None => FileAction::Created,
            Some(old) if *old != self.new => FileAction::Modified,
            Some(_) if self.mode.is_some_and(|m| Some(m) != self.old_mode) => {
                FileAction::Permissions
            }
            Some(_) => FileAction::Unchanged,
        }
    }

    /// A unified diff of the change, for `--dry-run`.
    pub fn diff(&self) -> String {
        let old = self.old.as_deref().unwrap_or("");
        let from = if self.old.is_some() {
            format!("a/{}", self.display)
        } else {
            "/dev/null".to_string()
        };
        let mut out = similar::TextDiff::from_lines(old, &self.new)
            .unified_diff()
            .context_radius(3)
            .header(&from, &format!("b/{}", self.display))
            .to_string();
        if self.action() == FileAction::Permissions {
            out.push_str(&format!(
                "mode {:o} -> {:o} {}\n",
                self.old_mode.unwrap_or(0) & 0o777,
                self.mode.unwrap_or(0),
                self.display
            ));
        }
        out
    }
}

/// Write every changed file, all or nothing.
///
/// Each new content is first written to a temporary file beside its target and each original is
/// kept beside it (a hard link, else a copy); only then are the files swapped in. When any step
/// fails, every file already replaced gets its original back and the folders created are removed,
/// and the error says exactly what happened. A file that is a mount point of its own (a `.env`
/// bind-mounted into a dev container) cannot be replaced by a rename: it is written in place,
/// last, after everything else succeeded.
///
/// Returns warnings about what could not be cleaned up after a successful write.
pub fn apply(changes: &[FileChange]) -> Result<Vec<String>> {
    // Ctrl-C while files are swapped in must not leave half of them replaced: the signal is held
    // for the few milliseconds the apply takes, and then everything is undone.
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone());
    let result = apply_with(&mut RealFs, changes, &mount_points(), &|| {
        interrupted.load(std::sync::atomic::Ordering::SeqCst)
    });
    if let Ok(id) = handler {
        signal_hook::low_level::unregister(id);
    }
    result
}

/// The file-system calls that change something, so that tests can make any one of them fail.
pub trait Fs {
    fn create_dir(&mut self, path: &Path) -> io::Result<()>;
    /// A new file (never an existing one) holding `bytes` with permission bits `mode`, on disk.
    fn create_file(&mut self, path: &Path, bytes: &[u8], mode: u32) -> io::Result<()>;
    fn hard_link(&mut self, original: &Path, link: &Path) -> io::Result<()>;
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()>;
    /// Open an existing file for writing without changing it: proves it can be written in place.
    fn check_writable(&mut self, path: &Path) -> io::Result<()>;
    /// Replace the content of an existing file, keeping the file itself.
    fn overwrite(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    fn set_mode(&mut self, path: &Path, mode: u32) -> io::Result<()>;
    fn set_owner(&mut self, path: &Path, uid: u32, gid: u32) -> io::Result<()>;
    fn remove_file(&mut self, path: &Path) -> io::Result<()>;
    fn remove_dir(&mut self, path: &Path) -> io::Result<()>;
}

/// The real file system.
pub struct RealFs;

impl Fs for RealFs {
    fn create_dir(&mut self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }
    fn create_file(&mut self, path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(mode)))
            .and_then(|()| file.sync_all());
        if written.is_err() {
            let _ = std::fs::remove_file(path);
        }
        written
    }
    fn hard_link(&mut self, original: &Path, link: &Path) -> io::Result<()> {
        std::fs::hard_link(original, link)
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn check_writable(&mut self, path: &Path) -> io::Result<()> {
        std::fs::OpenOptions::new().write(true).open(path).map(drop)
    }
    fn overwrite(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(0)?;
        file.write_all(bytes)?;
        file.sync_all()
    }
    fn set_mode(&mut self, path: &Path, mode: u32) -> io::Result<()> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    fn set_owner(&mut self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
    }
    fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }
}

/// A project file's text, `None` when it does not exist. What cannot be read as text is said in
/// the user's words: a folder where a file belongs, a link loop, bytes that are not UTF-8 (with
/// the line and column of the first one), never the library's wording.
pub fn read_text(path: &Path, display: &str) -> Result<Option<String>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A dangling link reads as missing; a link loop does not.
            return Ok(None);
        }
        Err(e) => {
            let (message, hint) = match (e.kind(), e.raw_os_error()) {
                (io::ErrorKind::IsADirectory, _) | (_, Some(21)) => (
                    format!("{display} is a folder, not a file"),
                    format!("rename or remove the folder {display}, then run again"),
                ),
                (_, Some(40)) => (
                    format!("{display} is a symbolic link that points back to itself"),
                    format!("replace {display} with a file, or point the link at one"),
                ),
                (io::ErrorKind::PermissionDenied, _) => (
                    format!("{display} cannot be read: permission denied"),
                    format!("give yourself read access to {display} (chmod u+r)"),
                ),
                _ => (
                    format!("{display} cannot be read: {}", plain_io(&e)),
                    format!("check {display}, then run again"),
                ),
            };
            return Err(Error::usage(message, hint));
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let byte = e.as_bytes()[valid.len()];
            Err(Error::parse(
                Path::new(display),
                line,
                column,
                format!(
                    "byte 0x{byte:02X} is not UTF-8 text (saved in another encoding, or a binary \
                     file): save it as UTF-8"
                ),
            ))
        }
    }
}

/// An I/O error's description without its `(os error N)` suffix.
fn plain_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A symlinked file is written through to its target, so the link stays a link; a link to a
/// file not created yet (its folder exists) creates that file.
fn real_path(path: &Path, display: &str) -> Result<PathBuf> {
    if let Ok(real) = std::fs::canonicalize(path) {
        return Ok(real);
    }
    let mut current = path.to_path_buf();
    // The kernel's own limit on links followed (ELOOP).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|e| {
                    write_error(
                        e.kind(),
                        format!("cannot read the link {display}: {e}"),
                        "nothing was changed",
                    )
                })?;
                current = parent_of(&current).join(target);
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound && current != path => {
                if parent_of(&current).is_dir() {
                    return Ok(current);
                }
                return Err(write_error(
                    io::ErrorKind::NotFound,
                    format!(
                        "{display} is a symbolic link to {}, in a folder that does not exist",
                        current.display()
                    ),
                    "create that folder, or replace the link with a file; nothing was changed",
                ));
            }
            Err(_) => return Ok(path.to_path_buf()),
        }
    }
    Err(write_error(
        io::ErrorKind::InvalidInput,
        format!("{display} is a symbolic link that points back to itself"),
        "replace the link with a file or point it at one; nothing was changed",
    ))
}

/// Every mount point of this process (Linux `/proc/self/mountinfo`; none elsewhere).
fn mount_points() -> HashSet<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| parse_mountinfo(&text))
        .unwrap_or_default()
}

/// The mount points (fifth field) of a mountinfo table; the kernel escapes space, tab, newline
/// and backslash as three octal digits.
fn parse_mountinfo(text: &str) -> HashSet<PathBuf> {
    text.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| {
            let bytes = field.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let octal = bytes
                    .get(i + 1..i + 4)
                    .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
                match octal {
                    Some(d) => {
                        let value = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                        out.push(u8::try_from(value).unwrap_or(b'?'));
                        i += 4;
                    }
                    None => {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            PathBuf::from(std::ffi::OsString::from_vec(out))
        })
        .collect()
}

/// What is there before anything is written.
struct Original {
    bytes: Vec<u8>,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// One file to change, resolved and checked.
struct Target<'a> {
    change: &'a FileChange,
    /// Where the bytes go: the file itself, or a symlink's target.
    path: PathBuf,
    original: Option<Original>,
    mode: u32,
    /// Only the permission bits change.
    mode_only: bool,
    /// A mount point of its own: written in place, last.
    in_place: bool,
    temp: Option<PathBuf>,
    backup: Option<Backup>,
}

struct Backup {
    path: PathBuf,
    /// A hard link shares the file it keeps: useless once that file is written in place.
    linked: bool,
}

/// A step taken, to undo in reverse order.
enum Done {
    Dir(PathBuf),
    /// The target now holds the new content (or, written in place, maybe part of it).
    Content(usize),
    Mode(usize),
}

fn resolve<'a>(change: &'a FileChange, mounts: &HashSet<PathBuf>) -> Result<Option<Target<'a>>> {
    let action = change.action();
    if action == FileAction::Unchanged {
        return Ok(None);
    }
    let path = real_path(&change.path, &change.display)?;
    let original = match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_file() => {
            return Err(write_error(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", change.display),
                "move it out of the way and run again; nothing was changed",
            ));
        }
        Ok(meta) => {
            let bytes = std::fs::read(&path).map_err(|e| {
                write_error(
                    e.kind(),
                    format!("cannot read {}: {e}", change.display),
                    "nothing was changed",
                )
            })?;
            Some(Original {
                bytes,
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(write_error(
                e.kind(),
                format!("cannot read {}: {e}", change.display),
                "nothing was changed",
            ));
        }
    };
    // Another program may have written the file since it was read: never overwrite that.
    if original.as_ref().map(|o| o.bytes.as_slice()) != change.old.as_deref().map(str::as_bytes) {
        return Err(write_error(
            io::ErrorKind::Other,
            format!("{} changed while tracectl was working", change.display),
            "run the command again; nothing was changed",
        ));
    }
    let mode = change
        .mode
        .or(original.as_ref().map(|o| o.mode))
        .unwrap_or(0o644);
    let in_place = original.is_some() && mounts.contains(&path);
    Ok(Some(Target {
        change,
        path,
        original,
        mode,
        mode_only: action == FileAction::Permissions,
        in_place,
        temp: None,
        backup: None,
    }))
}

fn write_error(kind: io::ErrorKind, message: String, hint: &str) -> Error {
    // An interruption here is a failed write, not Ctrl-C.
    let kind = if kind == io::ErrorKind::Interrupted {
        io::ErrorKind::Other
    } else {
        kind
    };
    Error::Io {
        source: io::Error::new(kind, message),
        hint: Some(hint.to_string()),
    }
}

/// A fresh name beside `path`: `.NAME.tracectl-ROLE-RANDOM`, created by `create`.
fn create_beside(
    path: &Path,
    role: &str,
    mut create: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut attempt = 0;
    loop {
        let candidate = dir.join(format!(
            ".{name}.tracectl-{role}-{:08x}",
            rand::random::<u32>()
        ));
        match create(&candidate) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            other => return other.map(|()| candidate),
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn is_busy(err: &io::Error) -> bool {
    // EBUSY: a mount point; EXDEV: across file systems. Both mean "cannot rename onto it".
    matches!(err.raw_os_error(), Some(16 | 18))
}

/// The apply, over any file system.
pub fn apply_with(
    fs: &mut dyn Fs,
    changes: &[FileChange],
    mounts: &HashSet<PathBuf>,
    interrupted: &dyn Fn() -> bool,
) -> Result<Vec<String>> {
    let mut targets = Vec::new();
    for change in changes {
        if let Some(target) = resolve(change, mounts)? {
            targets.push(target);
        }
    }
    let mut done = Vec::new();
    let outcome = stage(fs, &mut targets, &mut done)
        .map_err(|(i, e)| (i, e, "prepare"))
        .and_then(|()| commit(fs, &mut targets, &mut done).map_err(|(i, e)| (i, e, "write")));
    if outcome.is_ok() && interrupted() {
        let left = undo(fs, &mut targets, done);
        return Err(if left.is_empty() {
            Error::Interrupted
        } else {
            Error::Io {
                source: io::Error::other(format!(
                    "interrupted while writing; undoing the changes failed: {}",
                    left.join("; ")
                )),
                hint: Some(
                    "put those files back by hand (the paths are above), then run again".into(),
                ),
            }
        });
    }
    match outcome {
        Ok(()) => {
            let mut warnings = Vec::new();
            for target in &mut targets {
                if let Some(backup) = target.backup.take()
                    && let Err(e) = fs.remove_file(&backup.path)
                {
                    warnings.push(format!(
                        "the previous {} is left in {} ({e}); delete it",
                        target.change.display,
                        backup.path.display()
                    ));
                }
            }
            Ok(warnings)
        }
        Err((i, err, verb)) => Err(roll_back(fs, &mut targets, done, i, &err, verb)),
    }
}

type StepError = (usize, io::Error);

/// A failure to create a file beside `path`, naming the folder.
fn in_folder(path: &Path, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot write in {}: {err}", parent_of(path).display()),
    )
}

/// Write every new content beside its target and keep every original: nothing the user sees
/// changes yet.
fn stage(fs: &mut dyn Fs, targets: &mut [Target], done: &mut Vec<Done>) -> Result<(), StepError> {
    for (i, target) in targets.iter_mut().enumerate() {
        let fail = |e| (i, e);
        if target.original.is_none() {
            let mut missing = Vec::new();
            let mut probe = parent_of(&target.path);
            while !probe.exists() {
                missing.push(probe.to_path_buf());
                match probe.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => probe = parent,
                    _ => break,
                }
            }
            for dir in missing.into_iter().rev() {
                fs.create_dir(&dir).map_err(fail)?;
                done.push(Done::Dir(dir));
            }
        }
        if target.mode_only {
            continue;
        }
        if let Some(original) = &target.original {
            let linked = !target.in_place
                && create_beside(&target.path, "backup", |p| fs.hard_link(&target.path, p))
                    .map(|path| target.backup = Some(Backup { path, linked: true }))
                    .is_ok();
            if !linked {
                let path = create_beside(&target.path, "backup", |p| {
                    fs.create_file(p, &original.bytes, original.mode)
                })
                .map_err(|e| fail(in_folder(&target.path, e)))?;
                target.backup = Some(Backup {
                    path,
                    linked: false,
                });
            }
        }
        if target.in_place {
            fs.check_writable(&target.path).map_err(fail)?;
            continue;
        }
        let bytes = target.change.new.as_bytes();
        let temp = create_beside(&target.path, "new", |p| {
            fs.create_file(p, bytes, target.mode)
        })
        .map_err(fail)?;
        if let Some(original) = &target.original {
            // Keep the owner when allowed (root editing a user's project); else the file
            // becomes the writer's, as with any editor that saves by rename.
            let _ = fs.set_owner(&temp, original.uid, original.gid);
        }
        target.temp = Some(temp);
    }
    Ok(())
}

/// Swap every staged file in, then write the in-place ones.
fn commit(fs: &mut dyn Fs, targets: &mut [Target], done: &mut Vec<Done>) -> Result<(), StepError> {
    for (i, target) in targets.iter_mut().enumerate() {
        if target.mode_only {
            fs.set_mode(&target.path, target.mode).map_err(|e| (i, e))?;
            done.push(Done::Mode(i));
            continue;
        }
        let Some(temp) = target.temp.clone() else {
            continue;
        };
        match fs.rename(&temp, &target.path) {
            Ok(()) => {
                target.temp = None;
                done.push(Done::Content(i));
            }
            Err(e) if is_busy(&e) && target.original.is_some() => {
                // Not seen as a mount point before: write it in place with the others.
                fs.check_writable(&target.path).map_err(|e| (i, e))?;
                fs.remove_file(&temp).map_err(|e| (i, e))?;
                target.temp = None;
                target.in_place = true;
            }
            Err(e) => return Err((i, e)),
        }
    }
    for (i, target) in targets.iter_mut().enumerate() {
        if !target.in_place || target.mode_only {
            continue;
        }
        let fail = |e| (i, e);
        if target.backup.as_ref().is_some_and(|b| b.linked) {
            // A hard link would change along with the file: keep a copy instead. The file is
            // untouched until the copy exists.
            if let Some(link) = &target.backup {
                fs.remove_file(&link.path).map_err(fail)?;
            }
            target.backup = None;
            let original = target.original.as_ref().map_or(&[][..], |o| &o.bytes);
            let mode = target.original.as_ref().map_or(0o600, |o| o.mode);
            let copy = create_beside(&target.path, "backup", |p| {
                fs.create_file(p, original, mode)
            })
            .map_err(|e| fail(in_folder(&target.path, e)))?;
            target.backup = Some(Backup {
                path: copy,
                linked: false,
            });
        }
        // Counted as done before it starts: a write that fails halfway must be undone too.
        done.push(Done::Content(i));
        fs.overwrite(&target.path, target.change.new.as_bytes())
            .map_err(fail)?;
        if target.original.as_ref().map(|o| o.mode) != Some(target.mode) {
            fs.set_mode(&target.path, target.mode).map_err(fail)?;
        }
    }
    Ok(())
}

/// Undo every step taken, newest first, and say exactly what happened.
fn roll_back(
    fs: &mut dyn Fs,
    targets: &mut [Target],
    done: Vec<Done>,
    failed: usize,
    err: &io::Error,
    verb: &str,
) -> Error {
    let touched = done.iter().any(|d| !matches!(d, Done::Dir(_)));
    let left = undo(fs, targets, done);
    let what = &targets[failed].change.display;
    let first = format!("cannot {verb} {what}: {err}");
    if left.is_empty() {
        let outcome = if touched {
            "every file already written was put back as it was: nothing was changed"
        } else {
            "nothing was changed"
        };
        let hint = match err.kind() {
            io::ErrorKind::PermissionDenied => {
                "check the permissions of the file and its folder (and `lsattr` for an immutable file)"
            }
            _ => "fix the cause and run the command again",
        };
        Error::Io {
            source: io::Error::new(kind_of(err), format!("{first}; {outcome}")),
            hint: Some(hint.to_string()),
        }
    } else {
        Error::Io {
            source: io::Error::new(
                kind_of(err),
                format!(
                    "{first}; undoing the other changes failed too: {}",
                    left.join("; ")
                ),
            ),
            hint: Some("put those files back by hand (the paths are above), then run again".into()),
        }
    }
}

/// Undo every step taken, newest first; what could not be undone, in the user's words.
fn undo(fs: &mut dyn Fs, targets: &mut [Target], done: Vec<Done>) -> Vec<String> {
    let mut left: Vec<String> = Vec::new();
    let mut dirs = Vec::new();
    for step in done.into_iter().rev() {
        match step {
            // Emptied below, once the files staged in them are gone.
            Done::Dir(dir) => dirs.push(dir),
            Done::Mode(i) => {
                let target = &targets[i];
                let old = target.original.as_ref().map_or(0, |o| o.mode);
                if let Err(e) = fs.set_mode(&target.path, old) {
                    left.push(format!(
                        "{} has mode {:o} instead of {old:o} ({e})",
                        target.change.display, target.mode
                    ));
                }
            }
            Done::Content(i) => {
                let target = &mut targets[i];
                let display = &target.change.display;
                match (&target.original, target.in_place) {
                    (None, _) => {
                        if let Err(e) = fs.remove_file(&target.path) {
                            left.push(format!("{display} was created and is still there ({e})"));
                        }
                    }
                    (Some(original), true) => {
                        let restored = fs
                            .overwrite(&target.path, &original.bytes)
                            .and_then(|()| fs.set_mode(&target.path, original.mode));
                        if let Err(e) = restored {
                            let backup = target.backup.take();
                            left.push(format!(
                                "{display} may hold the new content ({e}); its original is in {}",
                                backup.map_or("no copy".into(), |b| b.path.display().to_string())
                            ));
                        }
                    }
                    (Some(_), false) => match target.backup.take() {
                        Some(backup) => {
                            if let Err(e) = fs.rename(&backup.path, &target.path) {
                                left.push(format!(
                                    "{display} holds the new content ({e}); its original is in {}",
                                    backup.path.display()
                                ));
                            }
                        }
                        None => left.push(format!("{display} holds the new content")),
                    },
                }
            }
        }
    }
    for target in targets.iter_mut() {
        if let Some(temp) = target.temp.take()
            && fs.remove_file(&temp).is_err()
        {
            left.push(format!("a temporary file {} is left", temp.display()));
        }
        if let Some(backup) = target.backup.take()
            && fs.remove_file(&backup.path).is_err()
        {
            left.push(format!(
                "a copy of the original {} is left in {}",
                target.change.display,
                backup.path.display()
            ));
        }
    }
    for dir in dirs {
        if fs.remove_dir(&dir).is_err() {
            left.push(format!("the new folder {} is still there", dir.display()));
        }
    }
    left
}

fn kind_of(err: &io::Error) -> io::ErrorKind {
    match err.kind() {
        io::ErrorKind::Interrupted => io::ErrorKind::Other,
        kind => kind,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn diff_shows_added_lines_with_paths() {
        let change = FileChange::new(
            "x".into(),
            "req.txt".into(),
            Some("a\n".into()),
            "a\nb\n".into(),
            None,
        );
        let diff = change.diff();
        assert!(diff.contains("--- a/req.txt"), "{diff}");
        assert!(diff.contains("+++ b/req.txt"), "{diff}");
        assert!(diff.contains("+b"), "{diff}");
        assert_eq!(change.action(), FileAction::Modified);
    }

    /// The real file system, except that the calls numbered in `fail_at` fail and a rename onto
    /// `busy` fails as it does onto a mount point.
    #[derive(Default)]
    struct Faulty {
        calls: usize,
        fail_at: Vec<usize>,
        busy: Option<PathBuf>,
    }

    impl Faulty {
        fn failing(fail_at: &[usize]) -> Self {
            Faulty {
                fail_at: fail_at.to_vec(),
                ..Default::default()
            }
        }
        fn step(&mut self) -> io::Result<()> {
            self.calls += 1;
            if self.fail_at.contains(&self.calls) {
                return Err(io::Error::other("injected fault"));
            }
            Ok(())
        }
    }

    impl Fs for Faulty {
        fn create_dir(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            RealFs.create_dir(path)
        }
        fn create_file(&mut self, path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
            self.step()?;
            RealFs.create_file(path, bytes, mode)
        }
        fn hard_link(&mut self, original: &Path, link: &Path) -> io::Result<()> {
            self.step()?;
            RealFs.hard_link(original, link)
        }
        fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
            self.step()?;
            if self.busy.as_deref() == Some(to) {
                return Err(io::Error::from_raw_os_error(16));
            }
            RealFs.rename(from, to)
        }
        fn check_writable(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            RealFs.check_writable(path)
        }
        fn overwrite(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
            // A write that fails halfway (disk full) leaves part of the new content behind.
            self.calls += 1;
            if self.fail_at.contains(&self.calls) {
                std::fs::write(path, &bytes[..bytes.len() / 2])?;
                return Err(io::Error::from_raw_os_error(28));
            }
            RealFs.overwrite(path, bytes)
        }
        fn set_mode(&mut self, path: &Path, mode: u32) -> io::Result<()> {
            self.step()?;
            RealFs.set_mode(path, mode)
        }
        fn set_owner(&mut self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
            self.step()?;
            RealFs.set_owner(path, uid, gid)
        }
        fn remove_file(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            RealFs.remove_file(path)
        }
        fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            RealFs.remove_dir(path)
        }
    }

    /// Every entry under `root`: folders, and files with their bytes and permission bits.
    fn tree(root: &Path) -> BTreeMap<PathBuf, Option<(Vec<u8>, u32)>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                let rel = entry.path().strip_prefix(root).unwrap().to_path_buf();
                let meta = std::fs::symlink_metadata(entry.path()).unwrap();
                if meta.is_dir() {
                    stack.push(entry.path());
                    out.insert(rel, None);
                } else {
                    let bytes = std::fs::read(entry.path()).unwrap();
                    out.insert(rel, Some((bytes, meta.mode() & 0o7777)));
                }
            }
        }
        out
    }

    /// One file of a generated project.
    #[derive(Debug, Clone)]
    struct Spec {
        old: Option<(String, u32)>,
        new: String,
        nested: bool,
        forced: Option<u32>,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let mode = prop::sample::select(vec![0o600u32, 0o640, 0o644, 0o755]);
        (
            prop::option::of(("[a-z=#\r\n ]{0,20}", mode)),
            "[a-z=#\r\n ]{0,20}",
            any::<bool>(),
            prop::option::of(Just(0o600u32)),
        )
            .prop_map(|(old, new, nested, forced)| Spec {
                old,
                new,
                nested,
                forced,
            })
    }

    fn project(root: &Path, specs: &[Spec]) -> Vec<FileChange> {
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let rel = if spec.nested && spec.old.is_none() {
                    format!("d{i}/e/f{i}")
                } else {
                    format!("f{i}")
                };
                let path = root.join(&rel);
                if let Some((text, mode)) = &spec.old {
                    std::fs::write(&path, text).unwrap();
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))
                        .unwrap();
                }
                let mut change = FileChange::new(
                    path,
                    rel,
                    spec.old.as_ref().map(|(t, _)| t.clone()),
                    spec.new.clone(),
                    spec.old.as_ref().map(|(_, m)| *m),
                );
                change.mode = spec.forced;
                change
            })
            .collect()
    }

    #[test]
    fn unreadable_text_is_explained_in_plain_words() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(
            read_text(&root.join("missing"), "missing")
                .unwrap()
                .is_none()
        );
        std::fs::create_dir(root.join(".env")).unwrap();
        let err = read_text(&root.join(".env"), ".env").unwrap_err();
        assert_eq!(err.to_string(), ".env is a folder, not a file");
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        std::os::unix::fs::symlink("b", root.join("a")).unwrap();
        std::os::unix::fs::symlink("a", root.join("b")).unwrap();
        let err = read_text(&root.join("a"), "a").unwrap_err().to_string();
        assert_eq!(err, "a is a symbolic link that points back to itself");
        std::fs::write(root.join("r.txt"), b"flask\n# caf\xe9 cr\xe8me\n").unwrap();
        let err = read_text(&root.join("r.txt"), "r.txt").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("r.txt:2:6: byte 0xE9 is not UTF-8"),
            "{err}"
        );
        assert!(!err.to_string().contains("os error"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whichever step fails, every file is back byte for byte with its mode, and nothing
        /// (temporary file, kept original, new folder) is left behind; with no failure, every
        /// file holds its new content and nothing else is there.
        #[test]
        fn any_failing_step_leaves_every_file_as_it_was(
            specs in prop::collection::vec(spec(), 1..5),
            fail_at in 1usize..40,
            busy in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().canonicalize().unwrap();
            let changes = project(&root, &specs);
            let before = tree(&root);
            let mut fs = Faulty::failing(&[fail_at]);
            if busy {
                // The first existing file behaves like a bind-mounted one.
                fs.busy = changes.iter().find(|c| c.old.is_some()).map(|c| c.path.clone());
            }
            match apply_with(&mut fs, &changes, &HashSet::new(), &|| false) {
                Err(err) => {
                    let text = err.to_string();
                    prop_assert!(text.contains("nothing was changed"), "{}", text);
                    prop_assert!(text.contains("injected fault") || text.contains("os error 28"), "{}", text);
                    prop_assert_eq!(tree(&root), before);
                }
                Ok(warnings) => {
                    let after = tree(&root);
                    for change in &changes {
                        let (bytes, mode) = after[&PathBuf::from(&change.display)].clone().unwrap();
                        prop_assert_eq!(bytes, change.new.as_bytes());
                        let want = change.mode.or(change.old_mode).unwrap_or(0o644);
                        prop_assert_eq!(mode, want);
                    }
                    let files = after.values().filter(|v| v.is_some()).count();
                    prop_assert_eq!(files, changes.len() + warnings.len(), "{:?}", after.keys());
                }
            }
        }

        /// When undoing fails too, the message names every file not back as it was and where
        /// its original is; "nothing was changed" only when it is true.
        #[test]
        fn a_failing_rollback_is_reported_exactly(
            specs in prop::collection::vec(spec(), 1..4),
            fail_at in 1usize..30,
            also in 1usize..6,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().canonicalize().unwrap();
            let changes = project(&root, &specs);
            let before = tree(&root);
            let mut fs = Faulty::failing(&[fail_at, fail_at + also]);
            let Err(err) = apply_with(&mut fs, &changes, &HashSet::new(), &|| false) else {
                return Ok(());
            };
            let text = err.to_string();
            let after = tree(&root);
            if text.contains("nothing was changed") {
                prop_assert_eq!(after, before);
            } else {
                prop_assert!(text.contains("undoing the other changes failed too"), "{}", text);
                for change in &changes {
                    let rel = PathBuf::from(&change.display);
                    let now = after.get(&rel).cloned().flatten();
                    let was = before.get(&rel).cloned().flatten();
                    if now != was {
                        prop_assert!(text.contains(&format!("{} ", change.display)), "{}: {}", change.display, text);
                    }
                }
                for part in text.split("its original is in ").skip(1) {
                    let path = PathBuf::from(part.split(';').next().unwrap().trim());
                    let kept = std::fs::read(&path).unwrap();
                    prop_assert!(changes.iter().any(|c| c.old.as_deref().map(str::as_bytes) == Some(&kept[..])));
                }
            }
        }
    }

    #[test]
    fn ctrl_c_during_the_apply_puts_every_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let compose = root.join("compose.yaml");
        std::fs::write(&compose, "services: {}\n").unwrap();
        let changes = [
            FileChange::new(
                compose.clone(),
                "compose.yaml".into(),
                Some("services: {}\n".into()),
                "services:\n  a: {}\n".into(),
                Some(0o644),
            ),
            FileChange::new(
                root.join("aws/json/xray.json"),
                "aws/json/xray.json".into(),
                None,
                "{}\n".into(),
                None,
            ),
        ];
        let err = apply_with(&mut RealFs, &changes, &HashSet::new(), &|| true).unwrap_err();
        assert!(matches!(err, Error::Interrupted), "{err}");
        let left: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left,
            ["compose.yaml"],
            "temp files, backups or new folders left"
        );
        assert_eq!(std::fs::read_to_string(&compose).unwrap(), "services: {}\n");
    }

    #[test]
    fn a_file_that_cannot_be_renamed_onto_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let env = root.join(".env");
        std::fs::write(&env, "A=1\n").unwrap();
        std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o644)).unwrap();
        let inode = std::fs::metadata(&env).unwrap().ino();
        let mut env_change = FileChange::new(
            env.clone(),
            ".env".into(),
            Some("A=1\n".into()),
            "A=1\nB=2\n".into(),
            Some(0o644),
        );
        env_change.mode = Some(0o600);
        let other = FileChange::new(root.join("x"), "x".into(), None, "x\n".into(), None);
        let mut fs = Faulty {
            busy: Some(env.clone()),
            ..Default::default()
        };
        apply_with(
            &mut fs,
            &[env_change.clone(), other.clone()],
            &HashSet::new(),
            &|| false,
        )
        .unwrap();
        let meta = std::fs::metadata(&env).unwrap();
        assert_eq!(meta.ino(), inode, "written in place, not replaced");
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&env).unwrap(), "A=1\nB=2\n");
        let names: Vec<_> = tree(&root).into_keys().collect();
        assert_eq!(names, [PathBuf::from(".env"), PathBuf::from("x")]);

        // Known as a mount point up front: written in place without trying a rename.
        std::fs::write(&env, "A=1\n").unwrap();
        std::fs::remove_file(root.join("x")).unwrap();
        let mounts = HashSet::from([env.clone()]);
        apply_with(&mut RealFs, &[env_change, other], &mounts, &|| false).unwrap();
        assert_eq!(std::fs::metadata(&env).unwrap().ino(), inode);
    }

    #[test]
    fn a_failed_undo_names_the_file_and_where_its_original_is() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let changes: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                std::fs::write(root.join(name), "old\n").unwrap();
                FileChange::new(
                    root.join(name),
                    name.into(),
                    Some("old\n".into()),
                    "new\n".into(),
                    Some(0o644),
                )
            })
            .collect();
        // Steps: link, temp, owner for a then b (1-6); rename a (7); rename b (8) fails;
        // putting a's original back (9) fails.
        let err = apply_with(
            &mut Faulty::failing(&[8, 9]),
            &changes,
            &HashSet::new(),
            &|| false,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot write b: injected fault; "),
            "{text}"
        );
        assert!(!text.contains("nothing was changed"), "{text}");
        let kept = text
            .split("a holds the new content (injected fault); its original is in ")
            .nth(1)
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(std::fs::read_to_string(kept.trim()).unwrap(), "old\n");
        assert_eq!(std::fs::read_to_string(root.join("a")).unwrap(), "new\n");
        assert_eq!(std::fs::read_to_string(root.join("b")).unwrap(), "old\n");
        assert!(err.hint().unwrap().contains("by hand"));
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, "edited meanwhile").unwrap();
        let change = FileChange::new(
            path.clone(),
            "a".into(),
            Some("as read".into()),
            "new".into(),
            None,
        );
        let err = apply(&[change]).unwrap_err();
        assert!(err.to_string().contains("a changed while"), "{err}");
        assert!(err.hint().unwrap().contains("nothing was changed"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "edited meanwhile");
    }

    #[test]
    fn mountinfo_mount_points_are_unescaped() {
        let text = "36 35 98:0 /mnt1 /mnt/parent\\040dir rw,noatime master:1 - ext3 /dev/root rw\n\
                    37 35 98:0 /src/.env /work/p/.env rw - ext4 /dev/vda rw\n";
        let mounts = parse_mountinfo(text);
        assert!(mounts.contains(Path::new("/mnt/parent dir")), "{mounts:?}");
        assert!(mounts.contains(Path::new("/work/p/.env")));
    }

    #[test]
    fn apply_writes_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.txt");
        std::fs::write(&ok, "old").unwrap();
        // A file where a folder should be: no permission bit (not even root's) lets this through.
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, "").unwrap();
        let changes = vec![
            FileChange::new(
                ok.clone(),
                "ok.txt".into(),
                Some("old".into()),
                "new".into(),
                Some(0o100644),
            ),
            FileChange::new(
                blocker.join("f"),
                "blocker/f".into(),
                None,
                "x".into(),
                None,
            ),
        ];
        assert!(apply(&changes).is_err());
        assert_eq!(std::fs::read_to_string(&ok).unwrap(), "old");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn apply_sets_the_forced_mode_and_creates_folders() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = FileChange::new(
            dir.path().join(".env"),
            ".env".into(),
            None,
            "A=1\n".into(),
            None,
        );
        env.mode = Some(0o600);
        let rule = FileChange::new(
            dir.path().join("aws/json/xray.json"),
            "aws/json/xray.json".into(),
            None,
            "{}\n".into(),
            None,
        );
        apply(&[env, rule]).unwrap();
        let meta = std::fs::metadata(dir.path().join(".env")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("aws/json/xray.json")).unwrap(),
            "{}\n"
        );
    }
}
