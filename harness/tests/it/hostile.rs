//! The hostile corpus (harness/tests/hostile/, see its README): every bad scenario file is
//! refused with a message naming the file, the line and column where the problem has a place,
//! and the problem; the command line refuses the folder with exit 2 and writes no report; a
//! million steps and deep nesting are refused without being held; links and FIFOs are not
//! followed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sslwrite::project_root;
use sslwrite::scenario::{load_dir, Scenario, MAX_FILE_BYTES};

fn corpus() -> PathBuf {
    project_root().join("harness/tests/hostile")
}

/// File → the loader's message, with the corpus folder written as `hostile`.
const EXPECTED: [(&str, &str); 20] = [
    ("deeply-nested.json", "hostile/deeply-nested.json:6:779: recursion limit exceeded"),
    ("duplicate-id-b.json", "hostile/duplicate-id-b.json: duplicate scenario id \"dup-id\" (also in hostile/duplicate-id-a.json)"),
    ("duplicate-key.json", "hostile/duplicate-key.json:3:6: duplicate field `id`"),
    ("duplicate-tls.json", "hostile/duplicate-tls.json:5:30: \"1.3\" is listed twice: each entry is a run of its own"),
    ("early-data-and-resume.json", "hostile/early-data-and-resume.json: scenario \"early-data-and-resume\": connection.early_data and connection.resume cannot both be set: an early-data run resumes the ticket its own first connection got"),
    ("huge-capacity.json", "hostile/huge-capacity.json:5:42: capacity 1099511627776 is larger than the limit of 1073741824 bytes"),
    ("huge-padding.json", "hostile/huge-padding.json:6:40: block_padding 20000 is outside 1..=16384 (a record holds at most 16384 bytes)"),
    ("huge-length.json", "hostile/huge-length.json:8:3: step 1: length 1099511627776 is larger than the limit of 16777216 bytes"),
    ("many-buffers.json", "hostile/many-buffers.json: scenario \"many-buffers\": its write buffers add up to 83886080 bytes (the largest write of each buf slot); the limit is 67108864"),
    ("memory-only-empty.json", "hostile/memory-only-empty.json: scenario \"memory-only-empty\": memory_only needs a reason (why TCP cannot run it)"),
    ("negative-size.json", "hostile/negative-size.json:8:3: step 1: invalid value: integer `-5`, expected u64"),
    ("not-utf8.json", "hostile/not-utf8.json:3:16: not UTF-8 text (invalid byte 0xe9 at offset 37)"),
    ("nul-cipher.json", "hostile/nul-cipher.json:6:47: \"AES128-SHA\\0x\" holds the control character '\\0'; it is passed to the library as a C string"),
    ("too-many-steps.json", "hostile/too-many-steps.json:10003:1: more than 10000 steps; the limit is 10000"),
    ("truncated.json", "hostile/truncated.json:7:29: EOF while parsing an object"),
    ("unknown-clause.json", "hostile/unknown-clause.json:4:26: unknown clause \"W99\": clauses are W1..W15 and invariants I1..I4"),
    ("unknown-field.json", "hostile/unknown-field.json:7:3: step 0: unknown field `lenght`, expected one of `len`, `buf`, `content`, `expect`, `clause`"),
    ("unknown-top-field.json", "hostile/unknown-top-field.json:5:11: unknown field `command`, expected one of `id`, `title`, `clauses`, `situations`, `tls`, `modes`, `roles`, `transport`, `connection`, `steps`, `memory_only`, `generated`, `$schema`"),
    ("wrong-type-steps.json", "hostile/wrong-type-steps.json:5:11: invalid type: map, expected a list of at most 10000 steps"),
    ("wrong-type.json", "hostile/wrong-type.json:7:3: step 0: invalid type: string \"many\", expected u64"),
];

fn shown(message: &str) -> String {
    message.replace(&corpus().display().to_string(), "hostile")
}

#[test]
fn every_file_of_the_corpus_is_refused_with_its_message() {
    let errors = load_dir(&corpus()).expect_err("nothing in the corpus loads");
    let got: BTreeMap<String, String> = errors
        .iter()
        .map(|e| {
            let file = e.path.file_name().unwrap().to_string_lossy().into_owned();
            (file, shown(&e.to_string()))
        })
        .collect();
    let want: BTreeMap<String, String> = EXPECTED
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, want);
    // Every file of the folder is covered (the first of the duplicate ids is valid alone).
    for e in std::fs::read_dir(corpus()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && name != "duplicate-id-a.json" {
            assert!(want.contains_key(&name), "{name} has no expected message");
        }
    }
}

#[test]
fn each_file_is_refused_by_the_parser_alone_too() {
    for (file, _) in EXPECTED {
        if file.starts_with("duplicate-id") {
            continue;
        }
        let path = corpus().join(file);
        let bytes = std::fs::read(&path).unwrap();
        let e = Scenario::parse(&path, &bytes).expect_err(file);
        assert!(
            shown(&e.to_string()).starts_with(&format!("hostile/{file}")),
            "{e}"
        );
    }
}

#[test]
fn the_command_line_refuses_the_folder_and_writes_no_report() {
    let json = std::env::temp_dir().join(format!("sslwrite-hostile-{}.json", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(["conformance", "--scenarios"])
        .arg(corpus())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = shown(&String::from_utf8_lossy(&o.stderr));
    for (_, message) in EXPECTED {
        assert!(
            err.contains(&format!("error: {message}\n")),
            "{message} not in:\n{err}"
        );
    }
    assert!(
        err.contains("20 scenario file(s) could not be used"),
        "{err}"
    );
    assert!(!json.exists(), "no report for a refused folder");
}

/// A million steps: refused by its size before it is read; given to the parser as text anyway,
/// refused at step 10 001 (the steps are never all held).
#[test]
fn a_million_steps() {
    let mut text = String::from(r#"{"id": "million", "title": "t", "clauses": ["W1"], "steps": ["#);
    for i in 0..1_000_000 {
        text.push_str(if i == 0 {
            "{\"op\":\"shutdown\"}"
        } else {
            ",\n{\"op\":\"shutdown\"}"
        });
    }
    text.push_str("]}\n");
    assert!(text.len() as u64 > MAX_FILE_BYTES);
    let dir = std::env::temp_dir().join(format!("sslwrite-million-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("million.json");
    std::fs::write(&file, &text).unwrap();
    let errors = load_dir(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        format!(
            "{}: file is {} bytes; scenario files are limited to {MAX_FILE_BYTES}",
            file.display(),
            text.len()
        )
    );
    let e = Scenario::parse(Path::new("million.json"), text.as_bytes()).unwrap_err();
    assert!(
        e.to_string().contains("scenario files are limited to"),
        "{e}"
    );
    // Under the size limit, the step limit still stops the parser at step 10 001.
    let cut: String = text.lines().take(200_000).collect::<Vec<_>>().join("\n") + "]}";
    let e = Scenario::parse(Path::new("cut.json"), cut.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cut.json:10002:1: more than 10000 steps; the limit is 10000"
    );
}

/// A symbolic link and a FIFO named like scenarios: refused, not followed, not waited on.
#[test]
fn links_and_fifos_are_not_followed() {
    let dir = std::env::temp_dir().join(format!("sslwrite-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("outside.json")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub").join("loop")).unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.join("pipe.json"))
        .status()
        .unwrap();
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let _ = tx.send(load_dir(&d).map(|_| ()).unwrap_err());
    });
    let errors = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the loader does not block on a FIFO or loop through a link");
    std::fs::remove_dir_all(&dir).unwrap();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(text.len(), 3, "{text:?}");
    assert!(text[0].ends_with("outside.json: is a symbolic link; scenario files and folders must be real files inside the scenario folder"), "{text:?}");
    assert!(
        text[1].ends_with("pipe.json: not a regular file"),
        "{text:?}"
    );
    assert!(text[2].ends_with("sub/loop: is a symbolic link; scenario files and folders must be real files inside the scenario folder"), "{text:?}");
}
