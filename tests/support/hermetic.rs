//! Test binaries start with none of the machine's tracing or cloud settings: a developer who exports
//! AWS_REGION or OTEL_SERVICE_NAME, and every child process a test starts, sees the same run as CI.

/// Variable prefixes that change what tracectl or a peer (OTel SDK, moto, boto) does.
pub const AMBIENT_PREFIXES: [&str; 4] = ["HONEYCOMB_", "AWS_", "OTEL_", "GITPOD_"];

/// Before `main`, while the test binary has one thread, drop every ambient setting.
#[ctor::ctor(unsafe)]
fn clear_ambient_environment() {
    let names: Vec<std::ffi::OsString> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| {
            let name = name.to_string_lossy();
            AMBIENT_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .collect();
    for name in names {
        // SAFETY: constructors run before main, when no other thread can read the environment.
        unsafe { std::env::remove_var(name) };
    }
}

#[test]
fn the_environment_holds_no_ambient_settings() {
    let leaked: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .filter(|name| AMBIENT_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    assert!(
        leaked.is_empty(),
        "ambient settings leaked into tests: {leaked:?}"
    );
}
