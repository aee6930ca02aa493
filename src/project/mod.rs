//! The user's project: finding its files, and reading and losslessly editing them.

pub mod app;
pub mod collector;
pub mod compose;
pub mod dotenv;
pub mod gitignore;
pub mod model;
pub mod requirements;
pub mod start;
pub mod write;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use compose::Compose;

/// The compose specification's lookup order.
pub const COMPOSE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// A file's text that must exist, read as [`write::read_text`] reads every project file.
pub fn read_text(path: &Path) -> Result<String> {
    write::read_text(path, &path.display().to_string())?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        )
        .into()
    })
}

fn compose_in(dir: &Path) -> Option<PathBuf> {
    COMPOSE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

pub fn find_compose(dir: &Path, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(file) = explicit {
        let path = dir.join(file);
        if path.is_dir() {
            // A folder names the project: take its compose file as Compose itself would.
            return compose_in(&path).ok_or_else(|| {
                Error::usage(
                    format!(
                        "--compose-file {} is a folder, and it holds no compose file",
                        path.display()
                    ),
                    format!(
                        "looked for {} in it; pass the compose file itself, or -C DIR to run in the project folder",
                        COMPOSE_NAMES.join(", ")
                    ),
                )
            });
        }
        if !path.is_file() {
            return Err(Error::usage(
                format!("compose file {} does not exist", path.display()),
                "check --compose-file, or use -C DIR to run in the project folder".to_string(),
            ));
        }
        return Ok(path);
    }
    compose_in(dir).ok_or_else(|| {
        Error::usage(
            format!("no compose file in {}", dir.display()),
            format!(
                "looked for {}; pass --compose-file FILE or -C DIR",
                COMPOSE_NAMES.join(", ")
            ),
        )
    })
}

/// A service that could be the backend: it is built from a folder holding a Python app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub service: String,
    pub context: PathBuf,
    pub flask: bool,
}

fn mentions_flask(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("from flask")
            || t.contains("import flask")
            || t.lines().any(|l| l.trim_start().starts_with("flask"))
    })
}

/// Services built from a folder with a requirements.txt or a Flask app.
pub fn backend_candidates(compose: &Compose, base: &Path) -> Vec<Candidate> {
    compose
        .service_names()
        .into_iter()
        .filter_map(|service| {
            let context = base.join(compose.build_context(&service)?);
            let requirements = context.join("requirements.txt");
            let flask = mentions_flask(&requirements) || mentions_flask(&context.join("app.py"));
            (flask || requirements.is_file()).then_some(Candidate {
                service,
                context,
                flask,
            })
        })
        .collect()
}

/// The one obvious backend: the only candidate, or the only Flask one among several.
pub fn pick_backend(candidates: &[Candidate]) -> Option<&Candidate> {
    match candidates {
        [one] => Some(one),
        _ => {
            let mut flask = candidates.iter().filter(|c| c.flask);
            match (flask.next(), flask.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        }
    }
}

/// The project's files as tracectl finds them: the compose file, the backend service and its
/// build folder, and the env file.
pub struct Layout {
    pub dir: PathBuf,
    pub compose: Compose,
    pub service: String,
    pub context: Option<PathBuf>,
    pub env_path: PathBuf,
}

impl Layout {
    /// Find the compose file, parse it and pick the backend: `service` when given, else the one
    /// obvious candidate, else whatever `choose` picks among the candidates' names (`None`: fail
    /// listing them).
    pub fn discover(
        dir: &Path,
        compose_file: Option<&Path>,
        service: Option<&str>,
        env_file: Option<&Path>,
        choose: impl FnOnce(&[String]) -> Result<Option<usize>>,
    ) -> Result<Layout> {
        let compose_path = find_compose(dir, compose_file)?;
        let project_dir = compose_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.to_path_buf());
        let compose = Compose::read(&compose_path)?;
        let (service, context) = match service {
            Some(name) => {
                if !compose.has_service(name) {
                    return Err(Error::usage(
                        format!("{} has no service '{name}'", compose_path.display()),
                        format!(
                            "services there: {}",
                            compose::names_hint(&compose.service_names())
                        ),
                    ));
                }
                (
                    name.to_string(),
                    compose.build_context(name).map(|c| project_dir.join(c)),
                )
            }
            None => {
                let candidates = backend_candidates(&compose, &project_dir);
                let names: Vec<String> = candidates.iter().map(|c| c.service.clone()).collect();
                let picked = match pick_backend(&candidates) {
                    Some(c) => c.clone(),
                    None if candidates.is_empty() => {
                        return Err(Error::usage(
                            format!(
                                "no service in {} is built from a Python app folder",
                                compose_path.display()
                            ),
                            format!(
                                "pass --service NAME (services there: {})",
                                compose::names_hint(&compose.service_names())
                            ),
                        ));
                    }
                    None => match choose(&names)? {
                        Some(i) if i < candidates.len() => candidates[i].clone(),
                        _ => {
                            return Err(Error::usage(
                                format!(
                                    "several services could be the backend: {}",
                                    names.join(", ")
                                ),
                                format!("pass --service {}", names[0]),
                            ));
                        }
                    },
                };
                (picked.service, Some(picked.context))
            }
        };
        let env_path = match env_file {
            Some(file) => dir.join(file),
            None => project_dir.join(".env"),
        };
        Ok(Layout {
            dir: project_dir,
            compose,
            service,
            context,
            env_path,
        })
    }

    /// requirements.txt in the backend's build folder, when that folder exists.
    pub fn requirements(&self) -> Option<PathBuf> {
        self.context
            .as_ref()
            .filter(|c| c.is_dir())
            .map(|c| c.join("requirements.txt"))
    }
}

/// A path as the user should see it: relative to the project folder when inside it.
pub fn display(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(service: &str, flask: bool) -> Candidate {
        Candidate {
            service: service.into(),
            context: service.into(),
            flask,
        }
    }

    #[test]
    fn picks_the_only_flask_service() {
        assert_eq!(pick_backend(&[cand("a", false)]).unwrap().service, "a");
        assert_eq!(
            pick_backend(&[cand("a", false), cand("b", true)])
                .unwrap()
                .service,
            "b"
        );
        assert!(pick_backend(&[cand("a", true), cand("b", true)]).is_none());
        assert!(pick_backend(&[]).is_none());
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_naming_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yml");
        std::fs::write(&path, b"a: 1\n# caf\xc3\xa9 \xff\n").unwrap();
        let err = read_text(&path).unwrap_err();
        // The column counts characters, as an editor does: `# café ` is seven.
        assert_eq!(
            err.to_string(),
            format!(
                "{}:2:8: byte 0xFF is not UTF-8 text (saved in another encoding, or a binary file): save it as UTF-8",
                path.display()
            )
        );
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        std::fs::write(&path, "\u{feff}a: 1\n").unwrap();
        assert_eq!(read_text(&path).unwrap(), "\u{feff}a: 1\n");
    }

    #[test]
    fn a_folder_given_as_the_compose_file_is_searched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        let err = find_compose(dir.path(), Some(Path::new("app"))).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        std::fs::write(dir.path().join("app/compose.yaml"), "services: {}\n").unwrap();
        assert_eq!(
            find_compose(dir.path(), Some(Path::new("app"))).unwrap(),
            dir.path().join("app/compose.yaml")
        );
    }

    #[test]
    fn compose_lookup_follows_the_spec_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), "services: {}\n").unwrap();
        std::fs::write(dir.path().join("compose.yml"), "services: {}\n").unwrap();
        assert_eq!(
            find_compose(dir.path(), None).unwrap(),
            dir.path().join("compose.yml")
        );
        let err = find_compose(dir.path(), Some(Path::new("nope.yml"))).unwrap_err();
        assert!(err.to_string().contains("nope.yml"));
        let empty = tempfile::tempdir().unwrap();
        assert!(
            find_compose(empty.path(), None)
                .unwrap_err()
                .hint()
                .unwrap()
                .contains("--compose-file")
        );
    }
}
