//! Bounds and papercuts: date ranges that make sense, credentials and `method` never taken as
//! parameters, a clear message for a broken environment variable.

use crate::friendly::sandbox;
use crate::support::{Env, Mock};

#[test]
fn cdr_ranges_are_bounded_and_long_ones_asked_about() {
    let env = sandbox();
    for (args, says) in [
        (vec!["cdr", "export", "--from", "1999-12-31"], "before 2000"),
        (vec!["cdr", "--from", "0201-01-01"], "before 2000"),
        (
            vec!["cdr", "export", "--to", "2999-01-01"],
            "after next year",
        ),
    ] {
        let out = env.run(&args);
        out.code(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("Nothing was sent"), "{}", out.stderr);
    }
    // 28 windows: asked first; without a terminal, refused with how to allow it.
    let long = ["--from", "2019-01-01", "--to", "2025-12-31"];
    let mut args = vec!["cdr", "export"];
    args.extend(long);
    let out = env.run(&args);
    out.code(2);
    assert!(
        out.stderr.contains("28 getCDR calls") && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    args.push("--yes");
    let out = env.run(&args);
    out.code(0);
    assert!(out.stdout.starts_with("date,"), "{}", out.stderr);
    // 24 windows or fewer: no question.
    env.run(&[
        "cdr",
        "export",
        "--from",
        "2020-01-01",
        "--to",
        "2025-12-31",
    ])
    .code(0);
}

#[test]
fn call_refuses_credentials_and_method_in_any_spelling() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, "pw-123456");
    for bad in [
        "api_password=x",
        "api.password=x",
        "API_USERNAME=x",
        "Api-Username=x",
        "method[]=getBalance",
        "METHOD=x",
    ] {
        let out = env.run(&["call", "getBalance", bad, "advanced=1"]);
        out.code(2);
        let key = bad.split('=').next().unwrap();
        assert!(
            out.stderr.contains(&format!("`{key}`")) && out.stderr.contains("Nothing was sent"),
            "{bad}: {}",
            out.stderr
        );
    }
    assert_eq!(mock.count(), 0, "nothing reached the server");
    env.run(&["call", "getBalance", "advanced=1"]).code(0);
}

#[cfg(unix)]
#[test]
fn a_secret_that_is_not_utf8_gets_its_own_message() {
    use std::os::unix::ffi::OsStrExt;
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, "unused");
    let out = env
        .cmd(&["getBalance"])
        .env(
            "VOIPMS_API_PASSWORD",
            std::ffi::OsStr::from_bytes(b"S3cr\xffet-pass"),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("VOIPMS_API_PASSWORD") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("S3cr") && !stderr.contains("is not set"),
        "{stderr}"
    );
    assert_eq!(mock.count(), 0);
}

#[test]
fn relative_dates_after_the_option_name_and_bare_flags() {
    let env = sandbox();
    // `--date-from -3d`, as `voipms help getCDR` advertises, not only `--date-from=-3d`.
    let out = env.run(&[
        "getCDR",
        "--date-from",
        "-3d",
        "--date-to",
        "today",
        "--timezone",
        "-5",
        "--answered",
        "--dry-run",
    ]);
    out.code(0);
    assert!(out.stdout.contains("date_from="), "{}", out.stdout);
    assert!(!out.stdout.contains("date_from=-3d"), "{}", out.stdout);
    // A bare flag parameter is on; an explicit value still works.
    let out = env.run(&["getBalance", "--advanced", "--dry-run"]);
    out.code(0);
    assert!(out.stdout.contains("advanced=1"), "{}", out.stdout);
    let out = env.run(&["getBalance", "--advanced", "0", "--dry-run"]);
    out.code(0);
    assert!(out.stdout.contains("advanced=0"), "{}", out.stdout);
}

#[test]
fn mms_text_after_media_is_the_text() {
    let env = sandbox();
    let out = env.run(&[
        "mms",
        "send",
        "--did",
        "5551234567",
        "--dst",
        "5559876543",
        "--media",
        "https://example.com/a.png",
        "hello there",
        "--dry-run",
    ]);
    out.code(0);
    assert!(
        out.stdout.contains("message=\"hello there\"") && !out.stdout.contains("media2"),
        "{}",
        out.stdout
    );
}

#[test]
fn bare_voipms_prints_help_on_stdout_and_succeeds() {
    let out = Env::new().run(&[]);
    out.code(0);
    assert!(
        out.stdout.contains("Usage: voipms") && out.stderr.is_empty(),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
}
