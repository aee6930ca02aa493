//! The GitHub Action: action.yml, every workflow and the README's example workflows pass
//! action-validator (the published schemas); and the action's own steps, run here the way a
//! runner runs them (tests/support/run_action.py: GITHUB_* files, PATH additions, step outputs),
//! install tracectl from a release archive on disk and run doctor in a workspace.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use crate::doctor::configured;
use crate::peers;

fn validate(file: &Path) -> Output {
    run(Command::new(peers::action_validator()).arg(file))
}

#[track_caller]
fn assert_valid(file: &Path, label: &str) {
    let out = validate(file);
    assert!(
        out.status.success(),
        "{label} fails action-validator:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// The fenced ```yaml blocks of the README marked `<!-- validated workflow -->`.
fn readme_workflows() -> Vec<String> {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("<!-- validated workflow -->\n```yaml\n") {
        let body = &rest[at..];
        let body = &body[body.find("```yaml\n").unwrap() + 8..];
        let end = body.find("\n```").expect("the example's fence is closed");
        blocks.push(body[..=end].to_string());
        rest = &body[end..];
    }
    blocks
}

#[test]
fn the_action_every_workflow_and_the_readme_examples_pass_action_validator() {
    // The judge must be able to say no before its yes means anything.
    let temp = tempfile::tempdir().unwrap();
    let broken = temp.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        shell: bash\n        bogus: 1\n",
    )
    .unwrap();
    assert!(
        !validate(&broken).status.success(),
        "action-validator accepted a bogus key"
    );
    let broken_action = temp.path().join("action.yml");
    std::fs::write(
        &broken_action,
        "name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n",
    )
    .unwrap();
    assert!(
        !validate(&broken_action).status.success(),
        "action-validator accepted a composite run step without a shell"
    );

    assert_valid(&manifest_dir().join("action.yml"), "action.yml");
    let workflows: Vec<PathBuf> = std::fs::read_dir(manifest_dir().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for name in ["ci.yml", "release.yml"] {
        assert!(workflows.iter().any(|w| w.ends_with(name)), "no {name}");
    }
    for workflow in &workflows {
        assert_valid(workflow, &workflow.display().to_string());
    }
    let examples = readme_workflows();
    assert!(
        examples.len() >= 2,
        "the README's marked workflows: {examples:?}"
    );
    assert!(
        examples.iter().any(|e| e.contains("mode: send-test")),
        "an example runs the post-deploy check"
    );
    for (n, example) in examples.iter().enumerate() {
        let file = temp.path().join(format!("readme-{n}.yml"));
        std::fs::write(&file, example).unwrap();
        assert_valid(&file, &format!("README example {n}:\n{example}"));
    }
}

#[test]
fn inputs_never_reach_shell_code_and_every_input_reaches_the_script() {
    let action = std::fs::read_to_string(manifest_dir().join("action.yml")).unwrap();
    let script = std::fs::read_to_string(manifest_dir().join("scripts/action.sh")).unwrap();
    // `${{ inputs.X }}` inside `run:` would paste the input into bash: script injection.
    for line in action
        .lines()
        .filter(|l| l.trim_start().starts_with("run:"))
    {
        assert!(!line.contains("${{"), "an expression in shell code: {line}");
    }
    let inputs_at = action.find("\ninputs:\n").unwrap();
    let outputs_at = action.find("\noutputs:\n").unwrap();
    for line in action[inputs_at..outputs_at].lines() {
        let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) else {
            continue;
        };
        if name.starts_with(' ') {
            continue;
        }
        let var = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        assert!(
            action.contains(&format!("{var}: ${{{{ inputs.{name} }}}}")),
            "input {name} is not passed as {var}"
        );
        assert!(script.contains(&var), "scripts/action.sh ignores {var}");
    }
}

/// A runner's machine: a workspace, RUNNER_TEMP, a HOME, and release archives on disk.
struct Runner {
    _temp: tempfile::TempDir,
    workspace: PathBuf,
    runner_temp: PathBuf,
    home: PathBuf,
    releases: PathBuf,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The release target the action picks on this machine, and RUNNER_ARCH for it.
fn runner_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("ARM64", "aarch64-unknown-linux-musl"),
        _ => ("X64", "x86_64-unknown-linux-musl"),
    }
}

impl Runner {
    fn new() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            let dir = temp.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        };
        Runner {
            workspace: make("work/my repo"),
            runner_temp: make("runner temp"),
            home: make("home"),
            releases: make("releases"),
            _temp: temp,
        }
    }

    /// The built tracectl published for this runner as release VERSION (see [`release`]); a
    /// copy of its own when the test tampers with it.
    fn publish(&mut self, own_copy: bool) -> PathBuf {
        let shared = release();
        if own_copy {
            let dir = self.releases.join(format!("v{VERSION}"));
            std::fs::create_dir_all(&dir).unwrap();
            for entry in std::fs::read_dir(shared.join(format!("v{VERSION}"))).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
        } else {
            self.releases = shared;
        }
        self.releases.join(format!(
            "v{VERSION}/tracectl-v{VERSION}-{}.tar.gz",
            runner_arch().1
        ))
    }

    /// The action run as a runner runs it, with these inputs.
    fn action(&self, inputs: &[(&str, &str)], env: &[(&str, String)]) -> Output {
        let mut cmd = Command::new(peers::python());
        cmd.arg(manifest_dir().join("tests/support/run_action.py"))
            .arg(manifest_dir().join("action.yml"));
        for (k, v) in inputs {
            cmd.arg("--input").arg(format!("{k}={v}"));
        }
        let file = |name: &str| {
            let path = self
                .runner_temp
                .join(format!("_runner_file_commands/{name}"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::File::create(&path).unwrap();
            path
        };
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_ACTION_PATH", manifest_dir())
            .env("GITHUB_ACTION_REPOSITORY", "tracectl/tracectl")
            .env("GITHUB_ACTION_REF", format!("v{VERSION}"))
            .env("GITHUB_REPOSITORY", "acme/cruddur")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_RUN_ID", "1")
            .env("GITHUB_PATH", file("add_path"))
            .env("GITHUB_ENV", file("set_env"))
            .env("GITHUB_STEP_SUMMARY", file("step_summary"))
            .env("GITHUB_STATE", file("save_state"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", runner_arch().0)
            .env("RUNNER_TEMP", &self.runner_temp)
            .env("RUNNER_TOOL_CACHE", self.runner_temp.join("tool cache"))
            .env("TRACECTL_NOW", TODAY)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "TRACECTL_RELEASE_URL",
                format!("file://{}", self.releases.display()),
            )
            .current_dir(&self.workspace);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd)
    }

    /// Put a project into the workspace at `rel`.
    fn project(&self, ctx: &TestContext, rel: &str) {
        std::fs::create_dir_all(self.workspace.join(rel).parent().unwrap()).unwrap();
        let out = run(Command::new("cp")
            .arg("-R")
            .arg(&ctx.root)
            .arg(self.workspace.join(rel)));
        assert_exit(&out, 0);
    }
}

/// A release folder (`vVERSION/ARCHIVE` and its `.sha256`) holding the built tracectl, packed
/// by scripts/package.sh as the release workflow packs it. Made once per build of the binary
/// (test processes share it), from a stripped copy: the debug binary is 250 MB.
fn release() -> PathBuf {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_tracectl"));
    let meta = std::fs::metadata(&binary).unwrap();
    let stamp = meta
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let done = tmp.join(format!("action-release-{stamp}-{}", meta.len()));
    if done.join(format!("v{VERSION}")).is_dir() {
        return done;
    }
    // Releases of earlier builds are 12 MB each and never used again.
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("action-release-")
            && entry.path() != done
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let work = tempfile::tempdir_in(&tmp).unwrap();
    let stripped = work.path().join("tracectl");
    let out = run(Command::new("strip").arg("-o").arg(&stripped).arg(&binary));
    if !out.status.success() {
        std::fs::copy(&binary, &stripped).unwrap();
    }
    let staged = work.path().join("release");
    let out = run(Command::new("bash")
        .arg(manifest_dir().join("scripts/package.sh"))
        .arg(runner_arch().1)
        .arg(&stripped)
        .arg(staged.join(format!("v{VERSION}"))));
    assert_exit(&out, 0);
    // Another test process may have finished first: either folder will do.
    if std::fs::rename(&staged, &done).is_err() {
        assert!(done.join(format!("v{VERSION}")).is_dir());
    }
    done
}

/// The workflow commands (`::error …`) a run printed on stdout.
fn annotations(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(String::from)
        .collect()
}

#[test]
fn the_action_installs_the_checked_archive_and_annotates_a_failing_project_in_a_subfolder() {
    let mut runner = Runner::new();
    runner.publish(false);
    // A checkout: the repository root is where .git is.
    assert_exit(
        &run(Command::new("git")
            .args(["init", "-q"])
            .current_dir(&runner.workspace)),
        0,
    );
    let failing = TestContext::fixture("cruddur");
    runner.project(&failing, "services/back end");
    let out = runner.action(
        &[
            ("working-directory", "services/back end"),
            ("offline", "true"),
        ],
        &[],
    );
    assert_exit(&out, 1);
    let all = annotations(&out);
    assert!(
        all.iter().any(|a| a.starts_with(
            "::error file=services/back end/docker-compose.yml,line=3,title=compose::"
        )),
        "annotations name the file from the workspace root: {all:#?}\n{}",
        stderr(&out)
    );
    assert!(
        all.last()
            .unwrap()
            .starts_with("::notice title=tracectl doctor::"),
        "{all:#?}"
    );
    let installed = runner
        .runner_temp
        .join(format!("tracectl-{VERSION}/bin/tracectl"));
    assert!(installed.is_file(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("steps.run.outputs.exit-code=1"),
        "the exit-code output: {}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("skipped `Build"),
        "the archive matched: no cargo fallback:\n{}",
        stderr(&out)
    );
}

#[test]
fn the_action_passes_a_healthy_project_and_strict_fails_it_on_warnings() {
    let mut runner = Runner::new();
    runner.publish(false);
    runner.project(&configured(), "app");
    let out = runner.action(&[("working-directory", "app"), ("offline", "true")], &[]);
    assert_exit(&out, 0);
    let all = annotations(&out);
    assert!(
        all.iter()
            .any(|a| a.starts_with("::warning title=xray-support::")),
        "a healthy project still warns about the daemon: {all:#?}"
    );
    assert!(!all.iter().any(|a| a.starts_with("::error")), "{all:#?}");
    assert!(
        stderr(&out).contains("steps.run.outputs.exit-code=0"),
        "{}",
        stderr(&out)
    );

    let out = runner.action(
        &[
            ("working-directory", "app"),
            ("offline", "true"),
            ("strict", "TRUE"),
        ],
        &[],
    );
    assert_exit(&out, 1);

    // checks and skip, in the forms people write them; a glob is an id, not a file list.
    let out = runner.action(
        &[
            ("working-directory", "app"),
            ("offline", "true"),
            ("strict", "true"),
            ("checks", "compose,\nenv-file  xray-support"),
            ("skip", "xray-support"),
        ],
        &[],
    );
    let all = annotations(&out);
    assert!(
        !all.iter().any(|a| a.contains("title=xray-support")),
        "{all:#?}"
    );
    let out = runner.action(
        &[
            ("working-directory", "app"),
            ("offline", "true"),
            ("checks", "*"),
        ],
        &[],
    );
    assert_exit(&out, 2);
}

#[test]
fn the_action_refuses_a_missing_folder_and_bad_inputs_without_running_anything() {
    let mut runner = Runner::new();
    runner.publish(false);
    let out = runner.action(&[("working-directory", "does/not exist")], &[]);
    assert_exit(&out, 2);
    assert!(
        stdout(&out).contains(
            "::error title=tracectl action::working-directory 'does/not exist' does not exist"
        ),
        "{}",
        stdout(&out)
    );
    for (input, value) in [("strict", "yes"), ("offline", "1"), ("mode", "deploy")] {
        let out = runner.action(&[(input, value)], &[]);
        assert_exit(&out, 2);
        assert!(
            stdout(&out).contains(&format!("'{value}'")),
            "{input}={value}: {}",
            stdout(&out)
        );
    }
    // Shell text in an input stays an argument.
    let out = runner.action(&[("checks", "compose; touch pwned $(touch pwned2)")], &[]);
    assert_exit(&out, 2);
    assert!(!runner.workspace.join("pwned").exists());
    assert!(!runner.workspace.join("pwned2").exists());
    let out = runner.action(&[("version", "latest; rm -rf /")], &[]);
    assert_exit(&out, 2);
}

#[test]
fn a_download_that_does_not_match_its_checksum_is_not_installed() {
    let mut runner = Runner::new();
    let archive = runner.publish(true);
    let mut bytes = std::fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let out = runner.action(&[("offline", "true")], &[]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("does not match its published SHA-256"),
        "{}",
        stdout(&out)
    );
    assert!(
        !stderr(&out).contains("Build tracectl with cargo")
            && !stdout(&out).contains("title=tracectl doctor"),
        "nothing else ran:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !runner
            .runner_temp
            .join(format!("tracectl-{VERSION}"))
            .exists()
    );
}

#[test]
fn no_archive_for_the_runner_falls_back_to_cargo() {
    let runner = Runner::new();
    // Nothing published: the release has no archive for this runner. The cargo step would
    // build from the action's source; here it must find the binary in its cache folder.
    let cache = runner
        .home
        .join(".cache/tracectl-action")
        .join(VERSION)
        .join("bin");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_tracectl"), cache.join("tracectl")).unwrap();
    runner.project(&configured(), "app");
    let out = runner.action(&[("working-directory", "app"), ("offline", "true")], &[]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        stdout(&out).contains("no release archive"),
        "{}",
        stdout(&out)
    );
    assert!(
        err.contains("skipped `Cache tracectl built from source`"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("from the cache"),
        "the cargo step ran and used the cache:\n{}",
        stdout(&out)
    );
    assert!(
        err.contains(&format!(
            "output tracectl-path={}",
            cache.join("tracectl").display()
        )),
        "{err}"
    );

    // A runner without a release target (32-bit ARM Linux) goes the same way.
    let out = runner.action(
        &[("working-directory", "app"), ("offline", "true")],
        &[("RUNNER_ARCH", "ARM".to_string())],
    );
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("no prebuilt tracectl for Linux/ARM"),
        "{}",
        stdout(&out)
    );
    // tracectl does not build on Windows: say so instead of compiling for minutes.
    let out = runner.action(&[], &[("RUNNER_OS", "Windows".to_string())]);
    assert_exit(&out, 2);
    assert!(stdout(&out).contains("not Windows"), "{}", stdout(&out));
}

#[test]
fn send_test_mode_waits_for_the_trace_and_keys_stay_masked() {
    let mut runner = Runner::new();
    runner.publish(false);
    runner.project(&configured(), "app");
    let key = INGEST_US.to_string();
    let out = runner.action(
        &[
            ("mode", "send-test"),
            ("to", "local"),
            ("wait", "20"),
            ("working-directory", "app"),
        ],
        &[("HONEYCOMB_API_KEY", key.clone())],
    );
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("local"), "{}", stdout(&out));
    assert_no_leak("send-test mode", &out, &[key]);
}

#[test]
fn the_documented_manual_install_checks_the_archive() {
    let mut runner = Runner::new();
    let archive = runner.publish(true);
    let dir = archive.parent().unwrap();
    let name = archive.file_name().unwrap().to_string_lossy().into_owned();
    // What the README tells people to run.
    let out = run(Command::new("sha256sum")
        .args(["-c", &format!("{name}.sha256")])
        .current_dir(dir));
    assert_exit(&out, 0);
    let out = run(Command::new("tar").args(["xzf", &name]).current_dir(dir));
    assert_exit(&out, 0);
    let folder = name.trim_end_matches(".tar.gz");
    let out = run(Command::new(dir.join(folder).join("tracectl")).arg("--version"));
    assert_exit(&out, 0);
    assert!(stdout(&out).starts_with(&format!("tracectl {VERSION} (")));
    for page in [
        "man/tracectl.1",
        "man/tracectl-doctor.1",
        "completions/tracectl.bash",
    ] {
        assert!(
            dir.join(folder).join(page).is_file(),
            "{page} is in the archive"
        );
    }

    // cargo binstall finds the same names: expand Cargo.toml's templates for this target.
    let manifest = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    let template = |key: &str| {
        let line = manifest
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in [package.metadata.binstall]"));
        line.split_once(" = ")
            .unwrap()
            .1
            .trim_matches('"')
            .to_string()
    };
    let expand = |t: String| {
        t.replace("{ repo }", "https://github.com/tracectl/tracectl")
            .replace("{ version }", VERSION)
            .replace("{ name }", "tracectl")
            .replace("{ target }", runner_arch().1)
            .replace("{ archive-suffix }", ".tar.gz")
            .replace("{ bin }", "tracectl")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(template("pkg-fmt"), "tgz");
    assert!(
        expand(template("pkg-url")).ends_with(&format!("/releases/download/v{VERSION}/{name}")),
        "{}",
        template("pkg-url")
    );
    assert!(dir.join(expand(template("bin-dir"))).is_file());

    // The release workflow builds every target the action and the README name.
    let release =
        std::fs::read_to_string(manifest_dir().join(".github/workflows/release.yml")).unwrap();
    let script = std::fs::read_to_string(manifest_dir().join("scripts/action.sh")).unwrap();
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(release.contains(&format!("target: {target}")), "{target}");
        assert!(script.contains(&format!(") echo {target} ;;")), "{target}");
        assert!(readme.contains(target), "{target}");
    }
}

/// Every workflow command a run printed: stdout split where a runner splits it (`\n`, `\r\n`
/// and a bare `\r`), so a forged command after a carriage return counts too.
fn runner_lines(out: &Output) -> Vec<String> {
    stdout(out).split(['\n', '\r']).map(String::from).collect()
}

#[test]
fn send_test_mode_needs_a_real_destination_named_in_to() {
    let mut runner = Runner::new();
    runner.publish(false);
    runner.project(&configured(), "app");
    // A checkout has no .env (it is gitignored): the secrets come from the step's env only.
    std::fs::remove_file(runner.workspace.join("app/.env")).unwrap();
    // A secret that is missing (a fork's pull request, a typo in its name) arrives empty.
    let empty = [("HONEYCOMB_API_KEY", String::new())];
    let out = runner.action(
        &[
            ("mode", "send-test"),
            ("working-directory", "app"),
            ("wait", "5"),
        ],
        &empty,
    );
    assert_exit(&out, 2);
    assert!(
        stdout(&out).lines().any(|l| l.starts_with("::error")
            && l.contains("input to")
            && l.contains("HONEYCOMB_API_KEY")),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("local"), "{}", stdout(&out));
    // Named, but its secret is empty: tracectl says which secret.
    let out = runner.action(
        &[
            ("mode", "send-test"),
            ("working-directory", "app"),
            ("to", "honeycomb"),
            ("wait", "5"),
        ],
        &empty,
    );
    assert_exit(&out, 2);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("::error") && l.contains("HONEYCOMB_API_KEY")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_wait_input_is_whole_seconds_never_a_flag() {
    let mut runner = Runner::new();
    runner.publish(false);
    runner.project(&configured(), "app");
    for wait in [
        "--help",
        "--version",
        "--format=json",
        "-1",
        "5s",
        "1.5",
        "",
        " 5",
    ] {
        let out = runner.action(
            &[
                ("mode", "send-test"),
                ("working-directory", "app"),
                ("to", "local"),
                ("wait", wait),
            ],
            &[],
        );
        assert_exit(&out, 2);
        assert!(
            stdout(&out)
                .lines()
                .any(|l| l.starts_with("::error title=tracectl action::input wait")),
            "wait={wait:?}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn inputs_in_the_action_s_own_errors_cannot_forge_workflow_commands() {
    let mut runner = Runner::new();
    runner.publish(false);
    let forged = "x\n::error file=README.md,line=1,title=forged::pwned 100%0A\r::warning::cr";
    for input in [
        "working-directory",
        "mode",
        "strict",
        "offline",
        "version",
        "wait",
    ] {
        let mut inputs = vec![(input, forged)];
        if input == "wait" {
            inputs.push(("mode", "send-test"));
            inputs.push(("to", "local"));
        }
        let out = runner.action(&inputs, &[]);
        assert_exit(&out, 2);
        let lines = runner_lines(&out);
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("::error file=README.md") || l.starts_with("::warning")),
            "{input}: {lines:#?}"
        );
        let error = lines
            .iter()
            .find(|l| l.starts_with("::error title=tracectl action::"))
            .unwrap_or_else(|| panic!("{input}: {lines:#?}"));
        assert!(
            error.contains(
                "x%0A::error file=README.md,line=1,title=forged::pwned 100%250A%0D::warning::cr"
            ),
            "{input}: {error}"
        );
    }
}

/// Replace the published archive with one made by Python's tarfile from (name, kind, data):
/// kind "file" or "symlink" (data is the link target); and publish its checksum.
fn publish_archive(archive: &Path, members: &[(&str, &str, &str)]) {
    let script = r#"
import io, sys, tarfile
out = sys.argv[1]
members = sys.argv[2:]
tf = tarfile.open(out, "w:gz")
for i in range(0, len(members), 3):
    name, kind, data = members[i:i + 3]
    ti = tarfile.TarInfo(name)
    ti.mode = 0o755
    if kind == "symlink":
        ti.type = tarfile.SYMTYPE
        ti.linkname = data
        tf.addfile(ti)
    else:
        ti.size = len(data.encode())
        tf.addfile(ti, io.BytesIO(data.encode()))
tf.close()
"#;
    let mut cmd = Command::new(peers::python());
    cmd.args(["-c", script]).arg(archive);
    for (name, kind, data) in members {
        cmd.args([name, kind, data]);
    }
    assert_exit(&run(&mut cmd), 0);
    let out = run(Command::new("sha256sum")
        .arg(archive.file_name().unwrap())
        .current_dir(archive.parent().unwrap()));
    assert_exit(&out, 0);
    let mut sum = archive.as_os_str().to_owned();
    sum.push(".sha256");
    std::fs::write(sum, stdout(&out)).unwrap();
}

#[test]
fn an_archive_whose_tracectl_is_a_link_or_that_escapes_its_folder_is_not_installed() {
    let outside = tempfile::tempdir().unwrap();
    let stand_in = outside.path().join("tracectl");
    std::fs::write(
        &stand_in,
        format!("#!/bin/sh\necho 'tracectl {VERSION} (NOT FROM THE ARCHIVE)'\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let folder = format!("tracectl-v{VERSION}-{}", runner_arch().1);
    let binary = format!("{folder}/tracectl");
    let escaping = format!("{folder}/../../escaped");
    let good = std::fs::read_to_string(stand_in.as_path()).unwrap();
    let cases: Vec<Vec<(&str, &str, &str)>> = vec![
        vec![(binary.as_str(), "symlink", stand_in.to_str().unwrap())],
        vec![(binary.as_str(), "symlink", "../../outside")],
        vec![
            (escaping.as_str(), "file", "x"),
            (binary.as_str(), "file", good.as_str()),
        ],
        vec![
            ("/tmp/absolute", "file", "x"),
            (binary.as_str(), "file", good.as_str()),
        ],
    ];
    for members in cases {
        let mut runner = Runner::new();
        let archive = runner.publish(true);
        publish_archive(&archive, &members);
        let out = runner.action(&[("offline", "true")], &[]);
        assert_exit(&out, 1);
        assert!(
            stdout(&out)
                .lines()
                .any(|l| l.starts_with("::error title=tracectl action::")),
            "{members:?}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            !stdout(&out).contains("NOT FROM THE ARCHIVE"),
            "{}",
            stdout(&out)
        );
        let installed = runner
            .runner_temp
            .join(format!("tracectl-{VERSION}/bin/tracectl"));
        assert!(
            installed.symlink_metadata().is_err(),
            "{members:?}: {installed:?} was installed"
        );
        assert!(!runner.runner_temp.join("escaped").exists());
    }
    // Not an archive at all, published with its matching checksum: tar fails, the job stops.
    let mut runner = Runner::new();
    let archive = runner.publish(true);
    std::fs::write(&archive, b"\x1f\x8b not gzip after all").unwrap();
    let out = run(Command::new("sha256sum")
        .arg(archive.file_name().unwrap())
        .current_dir(archive.parent().unwrap()));
    let mut sum = archive.as_os_str().to_owned();
    sum.push(".sha256");
    std::fs::write(sum, stdout(&out)).unwrap();
    let out = runner.action(&[("offline", "true")], &[]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("::error title=tracectl action::")
                && l.contains("could not be read")),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn an_archive_published_without_its_checksum_stops_the_job() {
    let mut runner = Runner::new();
    let archive = runner.publish(true);
    let mut sum = archive.as_os_str().to_owned();
    sum.push(".sha256");
    std::fs::remove_file(sum).unwrap();
    let out = runner.action(&[("offline", "true")], &[]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("::error title=tracectl action::") && l.contains(".sha256")),
        "{}",
        stdout(&out)
    );
    assert!(
        !stderr(&out).contains("fallback=true") && !stdout(&out).contains("building it with cargo"),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn a_working_directory_without_a_compose_file_fails_the_job() {
    let mut runner = Runner::new();
    runner.publish(false);
    runner.project(&TestContext::fixture("cruddur"), "backend");
    // The default working-directory, `.`: the compose file is in backend/.
    let out = runner.action(&[("offline", "true")], &[]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("::error title=compose::") && l.contains("working-directory")),
        "{}",
        stdout(&out)
    );
    // Checks that need no compose file, asked for by name, still run alone.
    let out = runner.action(
        &[("offline", "true"), ("checks", "honeycomb-key, aws-region")],
        &[],
    );
    assert_exit(&out, 0);
    // A project check asked for by name needs the compose file.
    let out = runner.action(&[("offline", "true"), ("checks", "requirements")], &[]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("::error title=compose::")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_typo_in_checks_or_skip_is_an_annotation() {
    let mut runner = Runner::new();
    runner.publish(false);
    runner.project(&configured(), "app");
    for input in [("checks", "compse"), ("skip", "xray_daemon")] {
        let out = runner.action(
            &[("working-directory", "app"), ("offline", "true"), input],
            &[],
        );
        assert_exit(&out, 2);
        let all = annotations(&out);
        assert!(
            all.iter()
                .any(|a| a.starts_with("::error title=tracectl::") && a.contains(input.1)),
            "{input:?}: {all:#?}"
        );
    }
}
