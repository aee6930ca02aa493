//! Plan, then apply: every edit is computed first, then all files are written atomically.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;

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

/// Write every changed file. Each is first written to a temporary file beside it; only when all
/// of them are ready are they renamed into place, so a failure leaves every file as it was.
pub fn apply(changes: &[FileChange]) -> Result<()> {
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let staged = stage(changes, &mut created_dirs);
    let staged = match staged {
        Ok(staged) => staged,
        Err(err) => {
            for dir in created_dirs.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(err);
        }
    };
    for (change, temp) in staged {
        match temp {
            Some(temp) => {
                let target = real_path(&change.path);
                temp.persist(&target).map_err(|e| {
                    std::io::Error::new(
                        e.error.kind(),
                        format!("failed to replace {}: {}", target.display(), e.error),
                    )
                })?;
            }
            None => {
                if let Some(mode) = change.mode {
                    fs_err::set_permissions(&change.path, std::fs::Permissions::from_mode(mode))?;
                }
            }
        }
    }
    Ok(())
}

/// A symlinked file is written through to its target, so the link stays a link.
fn real_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

type Staged<'a> = Vec<(&'a FileChange, Option<tempfile::NamedTempFile>)>;

fn stage<'a>(changes: &'a [FileChange], created_dirs: &mut Vec<PathBuf>) -> Result<Staged<'a>> {
    let mut staged = Vec::new();
    for change in changes {
        match change.action() {
            FileAction::Unchanged => continue,
            FileAction::Permissions => {
                staged.push((change, None));
                continue;
            }
            FileAction::Created | FileAction::Modified => {}
        }
        let target = real_path(&change.path);
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut missing = Vec::new();
        let mut probe = dir;
        while !probe.exists() {
            missing.push(probe.to_path_buf());
            match probe.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => probe = parent,
                _ => break,
            }
        }
        for new_dir in missing.into_iter().rev() {
            fs_err::create_dir(&new_dir)?;
            created_dirs.push(new_dir);
        }
        let mut temp = tempfile::Builder::new()
            .prefix(".tracectl-")
            .tempfile_in(dir)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot write in {}: {e}", dir.display()))
            })?;
        temp.write_all(change.new.as_bytes())?;
        temp.as_file().sync_all()?;
        let mode = change
            .mode
            .or(change.old_mode.map(|m| m & 0o7777))
            .unwrap_or(0o644);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
        staged.push((change, Some(temp)));
    }
    Ok(staged)
}

#[cfg(test)]
mod tests {
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
