//! Build facts for `tracectl --version` and `tracectl version`: the git commit and a build date
//! that does not change from one build of the same commit to the next.
//!
//! - commit: `.cargo_vcs_info.json` (what `cargo package` records, so a crates.io tarball knows
//!   its commit), else `git rev-parse HEAD` when this crate is the top of its own git checkout
//!   (a tarball unpacked inside someone else's repository must not claim their commit), else
//!   "unknown".
//! - date: `SOURCE_DATE_EPOCH` when set (reproducible-builds.org), else the commit's committer
//!   date, else "unknown". Never the time of the build.
//!
//! It reruns only when HEAD moves (HEAD, its reflog, the branch's ref, packed-refs) or those
//! variables change, not on every build.
//!
//! It also chooses link options for Linux builds against glibc; see [`link_options`].

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());

    let vcs_info = manifest.join(".cargo_vcs_info.json");
    let packaged = std::fs::read_to_string(&vcs_info)
        .ok()
        .and_then(|text| sha1_in_vcs_info(&text));
    if vcs_info.exists() {
        println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    }
    let git = if packaged.is_none() {
        git_facts(&manifest)
    } else {
        None
    };
    let commit = packaged
        .or_else(|| git.as_ref().map(|g| g.commit.clone()))
        .unwrap_or_else(|| "unknown".into());

    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok());
    let (date, date_source) = match (epoch, git.as_ref().and_then(|g| g.commit_time)) {
        (Some(secs), _) => (utc_date(secs), "SOURCE_DATE_EPOCH"),
        (None, Some(secs)) => (utc_date(secs), "commit"),
        (None, None) => ("unknown".to_string(), "unknown"),
    };

    let short = if commit.len() >= 12 && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        commit[..12].to_string()
    } else {
        commit.clone()
    };
    println!("cargo:rustc-env=TRACECTL_COMMIT={commit}");
    println!("cargo:rustc-env=TRACECTL_COMMIT_SHORT={short}");
    println!("cargo:rustc-env=TRACECTL_BUILD_DATE={date}");
    println!("cargo:rustc-env=TRACECTL_BUILD_DATE_SOURCE={date_source}");
    println!(
        "cargo:rustc-env=TRACECTL_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".into())
    );
    println!(
        "cargo:rustc-env=TRACECTL_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into())
    );
    link_options();
}

/// Link options for Linux builds against glibc, each measured with `scripts/bench.sh`:
///
/// - libgcc's unwinder (`libgcc_eh.a`) is linked in, so `libgcc_s.so.1` is not loaded: its
///   constructor probes the CPU with `cpuid`, which traps to the hypervisor on a virtual machine
///   and cost about a tenth of `tracectl --version`'s run time there.
/// - The executable's relative relocations are packed (DT_RELR): 0.37 MB less to load and
///   apply. Only for a build for this machine whose glibc reads them (2.36 and later): an older
///   loader refuses such a binary.
///
/// Each is given only if a small C program links with it, by the linker rustc will use (the
/// configured one, else `cc`) and the link arguments in RUSTFLAGS (`-fuse-ld=gold`, say: gold
/// knows no `-z pack-relative-relocs` and fails the link). This script must never fail a build.
fn link_options() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    let (linker, link_args) = linker_and_link_args();
    let probe = Probe::new(linker, link_args);
    let unwinder = "-Wl,--whole-archive,-lgcc_eh,--no-whole-archive";
    if probe.links(unwinder) {
        println!("cargo:rustc-link-arg={unwinder}");
    }
    let native = var("TARGET") == var("HOST");
    let glibc = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| glibc_version(&text));
    let relr = "-Wl,-z,pack-relative-relocs";
    if native && glibc.is_some_and(|version| version >= (2, 36)) && probe.links(relr) {
        println!("cargo:rustc-link-arg-bins={relr}");
    }
}

/// The linker rustc runs for the target (`-C linker` in RUSTFLAGS, else the one cargo is
/// configured with, else `cc`: rustc does not read `CC`) and the `-C link-arg(s)` in RUSTFLAGS.
fn linker_and_link_args() -> (String, Vec<String>) {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let mut flags = flags.split('\x1f').filter(|f| !f.is_empty());
    let mut linker = std::env::var("RUSTC_LINKER").ok().filter(|l| !l.is_empty());
    let mut args = Vec::new();
    while let Some(flag) = flags.next() {
        let codegen = match flag.strip_prefix("-C") {
            Some("") => flags.next().unwrap_or_default(),
            Some(rest) => rest,
            None => flag.strip_prefix("--codegen=").unwrap_or_default(),
        };
        if let Some(value) = codegen.strip_prefix("linker=") {
            linker = Some(value.to_string());
        } else if let Some(value) = codegen.strip_prefix("link-arg=") {
            args.push(value.to_string());
        } else if let Some(value) = codegen.strip_prefix("link-args=") {
            args.extend(value.split_whitespace().map(String::from));
        }
    }
    (linker.unwrap_or_else(|| "cc".into()), args)
}

/// Links a position-independent C program, as rustc links an executable, to learn which options
/// the linker takes.
struct Probe {
    linker: String,
    link_args: Vec<String>,
    dir: PathBuf,
}

impl Probe {
    fn new(linker: String, link_args: Vec<String>) -> Self {
        let dir = match std::env::var_os("OUT_DIR") {
            Some(out) => PathBuf::from(out).join("link-probe"),
            None => {
                std::env::temp_dir().join(format!("tracectl-link-probe-{}", std::process::id()))
            }
        };
        Probe {
            linker,
            link_args,
            dir,
        }
    }

    fn links(&self, option: &str) -> bool {
        let source = self.dir.join("probe.c");
        if std::fs::create_dir_all(&self.dir).is_err()
            || std::fs::write(&source, "int main(void) { return 0; }\n").is_err()
        {
            return false;
        }
        let linked = Command::new(&self.linker)
            .args(["-fPIE", "-pie"])
            .arg(&source)
            .arg("-o")
            .arg(self.dir.join("probe"))
            .args(&self.link_args)
            .arg(option)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if std::env::var_os("OUT_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        linked
    }
}

/// `(2, 36)` from `getconf GNU_LIBC_VERSION`'s "glibc 2.36".
fn glibc_version(text: &str) -> Option<(u32, u32)> {
    let version = text.trim().strip_prefix("glibc ")?;
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit());
    Some((major, minor.parse().ok()?))
}

/// `{"git": {"sha1": "…"}}` without a JSON parser: the build script has no dependencies.
fn sha1_in_vcs_info(text: &str) -> Option<String> {
    let after = &text[text.find("\"sha1\"")? + 6..];
    let start = after.find('"')? + 1;
    let len = after[start..].find('"')?;
    let sha = &after[start..start + len];
    (sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_string())
}

struct GitFacts {
    commit: String,
    commit_time: Option<i64>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn git_facts(manifest: &Path) -> Option<GitFacts> {
    let top = git(manifest, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), manifest) {
        return None;
    }
    let commit = git(manifest, &["rev-parse", "--verify", "HEAD^{commit}"])?;
    let commit_time =
        git(manifest, &["log", "-1", "--format=%ct", "HEAD"]).and_then(|t| t.parse::<i64>().ok());
    watch_head(manifest);
    Some(GitFacts {
        commit,
        commit_time,
    })
}

/// Rerun when HEAD moves: HEAD itself (checkout), its reflog (commit, reset, rebase), the
/// branch's loose ref and packed-refs. Only files that exist: cargo reruns a build script on
/// every build when a watched path is missing. Worktrees keep HEAD apart from the shared refs.
fn watch_head(manifest: &Path) {
    let absolute = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { manifest.join(p) }
    };
    let Some(git_dir) = git(manifest, &["rev-parse", "--git-dir"]).map(absolute) else {
        return;
    };
    let common = git(manifest, &["rev-parse", "--git-common-dir"])
        .map(absolute)
        .unwrap_or_else(|| git_dir.clone());
    let mut watched = vec![
        git_dir.join("HEAD"),
        git_dir.join("logs/HEAD"),
        common.join("packed-refs"),
    ];
    if let Some(branch) = git(manifest, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(common.join(&branch));
        watched.push(git_dir.join(&branch));
    }
    for path in watched.into_iter().filter(|p| p.is_file()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time, by the civil-from-days algorithm (Howard Hinnant).
fn utc_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
