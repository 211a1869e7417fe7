//! Output is honest: a write that fails fails the run (exit 8) with a clear message, a closed
//! pipe stays quiet, and `--out` writes through FIFOs, devices and symbolic links while replacing
//! only regular files (atomically).

use std::io::Read;

use crate::friendly::sandbox;

const BIN: &str = env!("CARGO_BIN_EXE_voipms");

#[test]
fn a_full_disk_fails_the_run() {
    let env = sandbox();
    let out = env.shell(&format!("'{BIN}' cdr export --from -200d > /dev/full"));
    assert_eq!(out.code, 8, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot write to standard output") && out.stderr.contains("incomplete"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("exported"), "{}", out.stderr);
    // Any command's output, not only exports.
    let out = env.shell(&format!("'{BIN}' list > /dev/full"));
    assert_eq!(out.code, 8, "{}", out.stderr);
    let out = env.run(&["cdr", "export", "--from", "-200d", "--out", "/dev/full"]);
    out.code(8);
    assert!(out.stderr.contains("/dev/full"), "{}", out.stderr);
    assert!(!out.stderr.contains("exported"), "{}", out.stderr);
    // /dev/full is still a device.
    assert!(!std::fs::metadata("/dev/full").unwrap().is_file());
}

#[test]
fn a_closed_pipe_stays_quiet() {
    let env = sandbox();
    let out = env.shell(&format!(
        "( '{BIN}' cdr export --from -200d; echo \"rc=$?\" >&2 ) | head -1"
    ));
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("date,"), "{}", out.stdout);
    assert!(out.stderr.contains("rc=0"), "{}", out.stderr);
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn out_writes_through_fifos_and_links_and_replaces_regular_files() {
    let env = sandbox();
    // A FIFO: a reader gets the data and the FIFO stays a FIFO.
    let fifo = env.dir.join("calls.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            std::fs::File::open(&fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    let out = env.run(&[
        "cdr",
        "export",
        "--from",
        "-200d",
        "--out",
        fifo.to_str().unwrap(),
    ]);
    out.code(0);
    // Checked before joining: a FIFO replaced by a file would leave the reader waiting forever.
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was replaced"
    );
    let got = reader.join().unwrap();
    assert!(got.starts_with("date,callerid"), "{got}");
    assert!(got.lines().count() > 10, "{got}");
    assert!(!env.dir.join("calls.fifo.part").exists());

    // A symbolic link: its target gets the data, the link stays.
    let real = env.dir.join("real.csv");
    std::fs::write(&real, "old\n").unwrap();
    let link = env.dir.join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    env.run(&[
        "cdr",
        "export",
        "--from",
        "-200d",
        "--out",
        link.to_str().unwrap(),
    ])
    .code(0);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let csv = std::fs::read_to_string(&real).unwrap();
    assert!(csv.starts_with("date,callerid"), "{csv}");

    // A regular file is replaced whole; a failed export leaves it as it was.
    let out = env.run(&[
        "cdr",
        "export",
        "--from",
        "-200d",
        "--status",
        "nope",
        "--out",
        real.to_str().unwrap(),
    ]);
    out.code(2);
    assert_eq!(std::fs::read_to_string(&real).unwrap(), csv);
}
