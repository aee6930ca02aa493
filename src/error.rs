//! The one error type: every failure carries a message, an optional hint and an exit status.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How the process ends; the numbers are part of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked.
    Success = 0,
    /// A check or a send failed, or the work could not be carried out.
    Failure = 1,
    /// The command line or an input file was wrong.
    Usage = 2,
    /// The user pressed Ctrl-C.
    Interrupted = 130,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something impossible or leaves out a required value.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    /// A file the user wrote cannot be parsed; `line` and `column` are 1-based.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// A file parses but does not hold what tracectl needs.
    #[error("{}: {message}", path.display())]
    Project {
        path: PathBuf,
        message: String,
        hint: Option<String>,
    },

    /// Reading or writing a file failed; fs-err puts the path in the message.
    #[error("{source}")]
    Io {
        source: std::io::Error,
        hint: Option<String>,
    },

    #[error("interrupted")]
    Interrupted,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn project(
        path: &Path,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> Self {
        Error::Project {
            path: path.to_path_buf(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn parse(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        Error::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } | Error::Project { hint, .. } | Error::Io { hint, .. } => {
                hint.clone()
            }
            Error::Parse { .. } => {
                Some("fix the file at that position; tracectl wrote nothing".to_string())
            }
            Error::Interrupted => None,
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Usage { .. } | Error::Parse { .. } | Error::Project { .. } => ExitStatus::Usage,
            Error::Io { .. } => ExitStatus::Failure,
            Error::Interrupted => ExitStatus::Interrupted,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::Interrupted {
            return Error::Interrupted;
        }
        let hint = match source.kind() {
            std::io::ErrorKind::PermissionDenied => {
                Some("check the file and folder permissions; nothing was changed".to_string())
            }
            std::io::ErrorKind::NotFound => Some("check the path, or pass -C DIR".to_string()),
            _ => None,
        };
        Error::Io { source, hint }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_file_line_and_column() {
        let err = Error::parse(Path::new("compose.yaml"), 3, 7, "unclosed quote");
        assert_eq!(err.to_string(), "compose.yaml:3:7: unclosed quote");
        assert_eq!(err.exit_status(), ExitStatus::Usage);
    }

    #[test]
    fn interrupted_io_becomes_exit_130() {
        let err = Error::from(std::io::Error::from(std::io::ErrorKind::Interrupted));
        assert_eq!(err.exit_status() as u8, 130);
    }

    #[test]
    fn permission_denied_has_a_hint_and_fails() {
        let err = Error::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(err.hint().unwrap().contains("permissions"));
        assert_eq!(err.exit_status(), ExitStatus::Failure);
    }
}
