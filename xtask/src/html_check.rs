//! `cargo xtask html-check [PATH]`: renders the HTML report (default
//! `reports/conformance.html`) in a real browser and checks what the browser made of it.
//!
//! The browser is Debian's headless Chromium (`/usr/bin/chromium`, installed with apt-get when
//! missing). It writes two screenshots beside the page (`conformance.png` as the page opens,
//! `conformance-open.png` with one comparison opened through `#open=RUN`) and dumps the DOM
//! after the page's script ran, which is checked: one matrix row per run, verdicts on rows and
//! cells, a distinct computed background colour per verdict, and the comparison opened by the
//! fragment showing its first-difference row. Not part of `.ci/run` (it installs a browser).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cargo::project_root;

const CHROMIUM: &str = "/usr/bin/chromium";
const VERDICTS: [&str; 5] = ["agree", "diverge", "known", "skip", "error"];
const WINDOW: (u32, u32) = (1400, 1000);
/// Longest a single Chromium invocation may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Why the check could not pass.
enum Failure {
    /// The check could not run (no page, no browser): exit 2.
    Setup(String),
    /// The browser shows something wrong: exit 1.
    Check(Vec<String>),
}

pub fn run(args: &[String]) -> ExitCode {
    let page = match args {
        [] => project_root().join("reports").join("conformance.html"),
        [p] if !p.starts_with('-') => PathBuf::from(p),
        _ => {
            eprintln!("usage: cargo xtask html-check [PATH]   (default: reports/conformance.html)");
            return ExitCode::from(2);
        }
    };
    match check(&page) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Setup(e)) => {
            eprintln!("xtask html-check: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Check(problems)) => {
            for p in &problems {
                eprintln!("xtask html-check: {p}");
            }
            eprintln!(
                "xtask html-check: {} problem(s) in {} as Chromium renders it",
                problems.len(),
                page.display()
            );
            ExitCode::from(1)
        }
    }
}

fn check(page: &Path) -> Result<(), Failure> {
    let html = std::fs::read_to_string(page).map_err(|e| {
        Failure::Setup(format!(
            "cannot read {}: {e}; write it first with `cargo xtask conformance --html {0}` (or `cargo xtask report reports/conformance.json --html {0}`)",
            page.display()
        ))
    })?;
    let mut problems = Vec::new();
    for scheme in ["http://", "https://"] {
        if html.contains(scheme) {
            problems.push(format!(
                "the page refers to {scheme}...: it must be self-contained"
            ));
        }
    }
    let (target, differs) = pick_run(&html).ok_or_else(|| {
        Failure::Check(vec![
            "the page has no matrix row (tr.run[data-run]); is it an sslwrite report page?".into(),
        ])
    })?;

    ensure_chromium()?;
    let version = chromium(&["--version"])?;
    println!("xtask: {}", String::from_utf8_lossy(&version).trim());
    let abs = page
        .canonicalize()
        .map_err(|e| Failure::Setup(format!("cannot resolve {}: {e}", page.display())))?;
    let url = format!("file://{}", percent_encode(&abs.to_string_lossy(), true));
    let opened_url = format!("{url}#open={}", percent_encode(&target, false));

    let shot = abs.with_extension("png");
    let open_shot = abs.with_file_name(format!(
        "{}-open.png",
        abs.file_stem()
            .map_or("page".into(), |s| s.to_string_lossy())
    ));
    let size = format!("--window-size={},{}", WINDOW.0, WINDOW.1);
    for (png, address) in [(&shot, &url), (&open_shot, &opened_url)] {
        let _ = std::fs::remove_file(png);
        let arg = format!("--screenshot={}", png.display());
        chromium(&[&arg, &size, address])?;
        match png_size(png) {
            Ok(wh) if wh == WINDOW => println!("xtask: screenshot {}", png.display()),
            Ok((w, h)) => problems.push(format!(
                "{}: {w}x{h} pixels, expected {}x{}",
                png.display(),
                WINDOW.0,
                WINDOW.1
            )),
            Err(e) => problems.push(format!("{}: {e}", png.display())),
        }
    }

    let dom = chromium(&["--dump-dom", &size, &opened_url])?;
    let dom = String::from_utf8_lossy(&dom);
    check_dom(&dom, &target, differs, &mut problems);
    if !problems.is_empty() {
        return Err(Failure::Check(problems));
    }
    println!(
        "xtask: {} passes in Chromium: matrix, verdict colours, and {target} opened by #open= with its first difference{}",
        page.display(),
        if differs { "" } else { " (none: no run differs)" }
    );
    Ok(())
}

/// The run to open: the first that differs (so it has a first-difference row), else the first.
fn pick_run(html: &str) -> Option<(String, bool)> {
    let rows: Vec<Tag> = tags(html, "tr").filter(|t| t.has_class("run")).collect();
    let differing = rows
        .iter()
        .find(|t| matches!(t.attr("data-verdict"), Some("diverge" | "known")));
    match differing {
        Some(t) => Some((t.attr("data-run")?.to_string(), true)),
        None => Some((rows.first()?.attr("data-run")?.to_string(), false)),
    }
}

fn check_dom(dom: &str, target: &str, differs: bool, problems: &mut Vec<String>) {
    let Some(matrix) = tags(dom, "table").find(|t| t.attr("id") == Some("matrix")) else {
        problems.push("no table#matrix in the rendered page".into());
        return;
    };
    let rows: Vec<Tag> = tags(dom, "tr").filter(|t| t.has_class("run")).collect();
    let expected: Option<usize> = matrix.attr("data-runs").and_then(|n| n.parse().ok());
    if expected != Some(rows.len()) || rows.is_empty() {
        problems.push(format!(
            "the matrix has {} run rows; its data-runs says {:?}",
            rows.len(),
            matrix.attr("data-runs")
        ));
    }
    for r in &rows {
        if !r
            .attr("data-verdict")
            .is_some_and(|v| VERDICTS.contains(&v))
        {
            problems.push(format!(
                "row {:?} has data-verdict {:?}",
                r.attr("data-run"),
                r.attr("data-verdict")
            ));
        }
    }
    let cells: Vec<Tag> = tags(dom, "td").filter(|t| t.has_class("cell")).collect();
    let per_row = cells.len() / rows.len().max(1);
    if per_row == 0 || per_row * rows.len() != cells.len() {
        problems.push(format!(
            "{} implementation cells for {} rows: not a full matrix",
            cells.len(),
            rows.len()
        ));
    }
    let mut verdicts: Vec<&str> = Vec::new();
    for c in &cells {
        match c.attr("data-verdict").filter(|v| VERDICTS.contains(v)) {
            Some(v) if !verdicts.contains(&v) => verdicts.push(v),
            Some(_) => {}
            None => problems.push(format!(
                "a cell of implementation {:?} has data-verdict {:?}",
                c.attr("data-impl"),
                c.attr("data-verdict")
            )),
        }
    }

    // Colours: what the browser computed, recorded by the page's script.
    let colours: Vec<(&str, &str)> = matrix
        .attr("data-colours")
        .unwrap_or_default()
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    if colours.is_empty() {
        problems.push("table#matrix has no data-colours: the page's script did not run".into());
    }
    for v in &verdicts {
        match colours.iter().find(|(k, _)| k == v) {
            None => problems.push(format!("no computed colour for verdict {v}")),
            Some((_, c)) if c.is_empty() || *c == "rgba(0, 0, 0, 0)" || *c == "transparent" => {
                problems.push(format!("cells with verdict {v} have no background ({c})"))
            }
            Some(_) => {}
        }
    }
    let mut distinct: Vec<&str> = colours.iter().map(|(_, c)| *c).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != colours.len() {
        problems.push(format!(
            "two verdicts share a colour: {}",
            matrix.attr("data-colours").unwrap_or_default()
        ));
    }
    println!(
        "xtask: {} rows, {} cells; computed colours: {}",
        rows.len(),
        cells.len(),
        matrix.attr("data-colours").unwrap_or_default()
    );

    // The comparison the fragment opened.
    let body = tags(dom, "body").next();
    if body.as_ref().and_then(|b| b.attr("data-opened")) != Some(target) {
        problems.push(format!(
            "#open={target} did not open it (body data-opened = {:?})",
            body.as_ref().and_then(|b| b.attr("data-opened"))
        ));
    }
    let open: Vec<Tag> = tags(dom, "details")
        .filter(|t| t.has_attr("open"))
        .collect();
    if open.len() != 1 || open[0].attr("data-run") != Some(target) {
        problems.push(format!(
            "expected exactly the comparison of {target} open, found open: {:?}",
            open.iter().map(|t| t.attr("data-run")).collect::<Vec<_>>()
        ));
        return;
    }
    let start = open[0].at;
    let section = &dom[start
        ..dom[start..]
            .find("</details>")
            .map_or(dom.len(), |e| start + e)];
    let first_diff: Vec<Tag> = tags(section, "tr")
        .filter(|t| t.has_class("first-diff"))
        .collect();
    if differs && !first_diff.iter().any(|t| t.has_class("focus")) {
        problems.push(format!(
            "the opened comparison of {target} shows no highlighted first-diff row ({} first-diff rows, none focused)",
            first_diff.len()
        ));
    }
    let detail_id = open[0]
        .attr("id")
        .and_then(|id| id.strip_prefix("cmp-"))
        .map(|i| format!("detail-{i}"));
    let shown = tags(dom, "tr")
        .find(|t| t.attr("id") == detail_id.as_deref())
        .is_some_and(|t| t.has_class("shown"));
    if !shown {
        problems.push(format!(
            "the row holding the comparison of {target} is not shown"
        ));
    }
    if !rows
        .iter()
        .any(|r| r.attr("data-run") == Some(target) && r.has_class("target"))
    {
        problems.push(format!(
            "the matrix row of {target} is not marked as the target"
        ));
    }
}

/// An opening tag: where it starts and its attributes (values unescaped).
struct Tag {
    at: usize,
    attrs: Vec<(String, Option<String>)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }
    fn has_attr(&self, name: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n == name)
    }
    fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }
}

/// Every opening `<name ...>` tag in `html`, in order.
fn tags(html: &str, name: &str) -> std::vec::IntoIter<Tag> {
    let open = format!("<{name}");
    let found: Vec<Tag> = html
        .match_indices(open.as_str())
        .filter_map(|(at, _)| {
            let rest = &html[at + open.len()..];
            if !rest.starts_with([' ', '>', '\n', '\t', '/']) {
                return None;
            }
            Some(Tag {
                at,
                attrs: parse_attrs(rest),
            })
        })
        .collect();
    found.into_iter()
}

/// Attributes up to the closing `>` (quoted values may contain `>`).
fn parse_attrs(s: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] as char).is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' || b[i] == b'/' {
            return out;
        }
        let start = i;
        while i < b.len() && !b"= \t\n>/".contains(&b[i]) {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            let quote = b.get(i).copied().filter(|q| *q == b'"' || *q == b'\'');
            let (vstart, end) = match quote {
                Some(q) => {
                    let vs = i + 1;
                    let len = s[vs..].bytes().position(|c| c == q).unwrap_or(s.len() - vs);
                    (vs, vs + len)
                }
                None => {
                    let len = s[i..]
                        .bytes()
                        .position(|c| c == b'>' || (c as char).is_ascii_whitespace())
                        .unwrap_or(s.len() - i);
                    (i, i + len)
                }
            };
            out.push((name, Some(unescape(&s[vstart..end]))));
            i = end + usize::from(quote.is_some());
        } else {
            out.push((name, None));
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Percent-encodes like `encodeURIComponent` (keeping `/` when `path` is set).
fn percent_encode(s: &str, path: bool) -> String {
    let mut out = String::new();
    for c in s.bytes() {
        if c.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&c) || (path && c == b'/') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Installs Debian's chromium with apt-get when `/usr/bin/chromium` is missing, saying so.
fn ensure_chromium() -> Result<(), Failure> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    println!("xtask: {CHROMIUM} is missing; installing Debian's chromium package with apt-get");
    let steps: [&[&str]; 2] = [
        &["apt-get", "update"],
        &[
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "fonts-dejavu-core",
        ],
    ];
    for argv in steps {
        println!("xtask: running {}", argv.join(" "));
        let status = Command::new(argv[0])
            .args(&argv[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| {
                Failure::Setup(format!(
                    "cannot run {}: {e}; install Chromium yourself ({CHROMIUM}) and run again",
                    argv[0]
                ))
            })?;
        if !status.success() {
            return Err(Failure::Setup(format!(
                "`{}` failed ({status}); install Chromium yourself (Debian: apt-get install chromium; needs root) and run again",
                argv.join(" ")
            )));
        }
    }
    if !Path::new(CHROMIUM).exists() {
        return Err(Failure::Setup(format!(
            "apt-get installed chromium but {CHROMIUM} is still missing"
        )));
    }
    Ok(())
}

/// Runs headless Chromium with a fresh profile and `args`; its standard output.
fn chromium(args: &[&str]) -> Result<Vec<u8>, Failure> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let profile =
        std::env::temp_dir().join(format!("sslwrite-chromium-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&profile)
        .map_err(|e| Failure::Setup(format!("cannot create {}: {e}", profile.display())))?;
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let result = run_with_timeout(cmd, TIMEOUT);
    let _ = std::fs::remove_dir_all(&profile);
    let (status, stdout, stderr) = result.map_err(Failure::Setup)?;
    if !status.success() {
        return Err(Failure::Setup(format!(
            "{CHROMIUM} {} failed ({status}):\n{}",
            args.join(" "),
            String::from_utf8_lossy(&stderr)
        )));
    }
    Ok(stdout)
}

type Finished = (std::process::ExitStatus, Vec<u8>, Vec<u8>);

/// Runs `cmd`, reading its output on threads; kills it (by its own pid) after `limit`.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<Finished, String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {CHROMIUM}: {e}"))?;
    let reader = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{CHROMIUM} did not finish within {} s; killed it",
                    limit.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for {CHROMIUM}: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok((status, stdout, stderr))
}

/// Width and height of a PNG file, from its IHDR chunk.
fn png_size(path: &Path) -> Result<(u32, u32), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("no screenshot: {e}"))?;
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return Err("not a PNG file".into());
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Ok((be(16), be(20)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_attributes_are_read_as_chromium_serializes_them() {
        let dom = r#"<table id="matrix" data-runs="2"><tr class="run target" data-run="a/b&amp;c" data-verdict="known"><td class="cell" data-verdict="known">x</td></tr><tr class="run" data-run="z"></tr><details class="comparison" data-run="a/b&amp;c" open=""><tr class="step first-diff focus"></tr></details>"#;
        let rows: Vec<Tag> = tags(dom, "tr").filter(|t| t.has_class("run")).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].attr("data-run"), Some("a/b&c"));
        assert!(rows[0].has_class("target") && !rows[1].has_class("target"));
        let d = tags(dom, "details").next().unwrap();
        assert!(d.has_attr("open"));
        assert_eq!(tags(dom, "td").count(), 1);
        assert_eq!(tags(dom, "t").count(), 0, "a prefix is not a tag");
    }

    #[test]
    fn the_dom_check_finds_what_is_missing() {
        let good = r#"<body data-opened="r1"><table id="matrix" data-runs="1" data-colours="agree=rgb(1, 2, 3);known=rgb(4, 5, 6)"><tr class="run target" data-run="r1" data-verdict="known"><td class="cell" data-verdict="agree"></td><td class="cell" data-verdict="known"></td></tr><tr class="detail shown" id="detail-0"><td><details class="comparison" id="cmp-0" data-run="r1" open=""><table><tr class="step first-diff focus"></tr></table></details></td></tr></table></body>"#;
        let mut problems = Vec::new();
        check_dom(good, "r1", true, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");

        let bad = good
            .replace(" open=\"\"", "")
            .replace("known=rgb(4, 5, 6)", "known=rgb(1, 2, 3)")
            .replace("data-runs=\"1\"", "data-runs=\"2\"");
        let mut problems = Vec::new();
        check_dom(&bad, "r1", true, &mut problems);
        let all = problems.join("\n");
        assert!(
            all.contains("1 run rows; its data-runs says Some(\"2\")"),
            "{all}"
        );
        assert!(all.contains("share a colour"), "{all}");
        assert!(
            all.contains("expected exactly the comparison of r1 open"),
            "{all}"
        );
    }

    #[test]
    fn the_run_to_open_is_the_first_that_differs() {
        let html = r#"<tr class="run" data-run="a" data-verdict="agree"><tr class="run" data-run="b" data-verdict="known">"#;
        assert_eq!(pick_run(html), Some(("b".to_string(), true)));
        let html = r#"<tr class="run" data-run="a" data-verdict="agree">"#;
        assert_eq!(pick_run(html), Some(("a".to_string(), false)));
        assert_eq!(pick_run("<p>"), None);
        assert_eq!(percent_encode("a/b+c", false), "a%2Fb%2Bc");
        assert_eq!(percent_encode("/x y/z", true), "/x%20y/z");
    }
}
