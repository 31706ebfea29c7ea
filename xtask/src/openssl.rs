//! `cargo xtask openssl build VERSION [--jobs N]`: a shared OpenSSL built from the sources the
//! `openssl-src` crate carries, installed into `target/openssl-VERSION/` (`lib64/libssl.so.N`
//! and `lib64/libcrypto.so.N`, N the release's shared-library version: 3 for 3.x, 4 for 4.x;
//! `bin/openssl`, headers), for `--impl libssl:PATH@label`.
//! `cargo xtask openssl list`: the builds there are, with the path to pass.
//!
//! The sources come from cargo's registry cache (`~/.cargo/registry/src/*/openssl-src-*+VERSION/`);
//! when the wanted version is not there, a throw-away manifest under `target/openssl-fetch/`
//! depending on `openssl-src` is `cargo fetch`ed (crates.io carries 3.x as `300.MINOR.*` and 4.x
//! as `400.MINOR.*`). Nothing else is downloaded. VERSION is `3.6.3` (exactly that release) or
//! `3.6` (the newest 3.6.x the registry gives).
//!
//! The crate's tree is copied to `target/openssl-VERSION/src/` with a stand-in for the one
//! script a shared build needs that the crate leaves out (`util/mkdef.pl`: the linker version
//! scripts, written from the ordinals files the crate does carry).
//! The build is out of tree (`target/openssl-VERSION/build/`), `shared no-module no-legacy
//! no-tests` (the crate's trimmed tree lacks what the loadable provider modules are generated
//! from; the default and base providers are built into libcrypto either way), with a run path
//! to its own `lib64/` so `libssl.so.N` finds the `libcrypto.so.N` beside it rather than the
//! system's (the harness also loads that one first, in a link namespace of its own).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::cargo::{project_root, target_dir};

pub fn run(args: &[String]) -> ExitCode {
    match args.first().map(String::as_str) {
        Some("build") => build(&args[1..]),
        Some("list") => list(),
        _ => usage("expected `build VERSION [--jobs N]` or `list`"),
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "xtask openssl: {problem}\n\n\
         usage: cargo xtask openssl build VERSION [--jobs N]   e.g. 3.6.3, 3.6, 4.0\n       \
         cargo xtask openssl list"
    );
    ExitCode::from(2)
}

fn build(args: &[String]) -> ExitCode {
    let mut version = None;
    let mut jobs: u32 = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--jobs" => match it.next().and_then(|v| v.parse().ok()) {
                Some(j) if j >= 1 => jobs = j,
                _ => return usage("--jobs needs a number >= 1"),
            },
            v if version.is_none() && parse_version(v).is_some() => version = Some(v.to_string()),
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    let Some(wanted) = version else {
        return usage("which version? (MAJOR.MINOR or MAJOR.MINOR.PATCH)");
    };
    let source = match find_source(&wanted) {
        Some(s) => s,
        None => match fetch(&wanted) {
            Ok(()) => match find_source(&wanted) {
                Some(s) => s,
                None => {
                    eprintln!(
                        "xtask openssl: crates.io has no openssl-src carrying OpenSSL {wanted} \
                         (the newest of that line was fetched; see `cargo info openssl-src`)"
                    );
                    return ExitCode::from(2);
                }
            },
            Err(e) => {
                eprintln!("xtask openssl: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let exact = source.version;
    let prefix = target_dir().join(format!("openssl-{exact}"));
    let libdir = prefix.join("lib64");
    if let Some(libssl) = installed_libssl(&libdir) {
        eprintln!(
            "xtask openssl: OpenSSL {exact} is already built: {}\n  \
             (remove {} to build it again)",
            libssl.display(),
            prefix.display()
        );
        print_use(&exact, &libssl);
        return ExitCode::SUCCESS;
    }
    let build_dir = prefix.join("build");
    let tree = prefix.join("src");
    if let Err(e) =
        std::fs::create_dir_all(&build_dir).and_then(|()| prepare_tree(&source.dir, &tree))
    {
        eprintln!("xtask openssl: cannot prepare {}: {e}", prefix.display());
        return ExitCode::from(2);
    }
    eprintln!(
        "xtask openssl: building OpenSSL {exact} from {} into {} (make -j{jobs}; this takes minutes)",
        source.dir.display(),
        prefix.display()
    );
    let mut configure = Command::new("perl");
    configure
        .current_dir(&build_dir)
        .arg(tree.join("Configure"))
        .args(["shared", "no-tests", "--libdir=lib64"])
        // 3.x: no loadable provider modules (1.1.1 has no providers and refuses these).
        .args(if exact.starts_with("1.") {
            &[][..]
        } else {
            &["no-module", "no-legacy"][..]
        })
        .arg(format!("--prefix={}", prefix.display()))
        .arg(format!("--openssldir={}", prefix.join("ssl").display()))
        .arg(format!("-Wl,-rpath,{}", libdir.display()));
    if let Some(target) = configure_target() {
        configure.arg(target);
    }
    let steps = [
        configure,
        // 1.1.1 has no build_sw target: its default target builds the same (no tests).
        make(
            &build_dir,
            &[
                &format!("-j{jobs}"),
                if exact.starts_with("1.") {
                    "all"
                } else {
                    "build_sw"
                },
            ],
        ),
        make(&build_dir, &["install_sw"]),
    ];
    for mut step in steps {
        match step.status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("xtask openssl: {step:?} failed ({s})");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("xtask openssl: cannot run {step:?}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(libssl) = installed_libssl(&libdir) else {
        eprintln!(
            "xtask openssl: the build finished but {} has no libssl.so.N with its libcrypto",
            libdir.display()
        );
        return ExitCode::from(2);
    };
    eprintln!("xtask openssl: built {}", libssl.display());
    print_use(&exact, &libssl);
    ExitCode::SUCCESS
}

/// The installed `libssl.so.N` in `libdir` (with its `libcrypto.so.N`), if there is one.
pub fn installed_libssl(libdir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(libdir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.strip_prefix("libssl.so.")
                // 3.x / 4.x: libssl.so.3, libssl.so.4; 1.1.1: libssl.so.1.1.
                .is_some_and(|n| {
                    n.starts_with(|c: char| c.is_ascii_digit())
                        && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                })
        })
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            libdir
                .join(name.replacen("libssl", "libcrypto", 1))
                .exists()
        })
        .collect();
    found.sort();
    found.pop()
}

/// The crate's tree, copied to `tree` (once), plus the one build script a shared build needs
/// that the crate leaves out (`util/mkdef.pl`, which writes the linker version scripts).
fn prepare_tree(from: &Path, tree: &Path) -> std::io::Result<()> {
    if !tree.join("Configure").exists() {
        let partial = tree.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        copy_dir(from, &partial)?;
        std::fs::rename(&partial, tree)?;
    }
    let mkdef = tree.join("util").join("mkdef.pl");
    if !mkdef.exists() {
        std::fs::write(mkdef, MKDEF)?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// A stand-in for OpenSSL's `util/mkdef.pl` (not in the crate), for the ELF platforms only:
/// the GNU ld version script of a library from its ordinals file (`util/libcrypto.num`), one
/// `OPENSSL_x.y.z` node per version, each inheriting the previous, every symbol the file says
/// exists (the linker ignores names a build does not define: disabled features, other
/// platforms), everything else local. The same symbol versions OpenSSL's script gives.
const MKDEF: &str = r#"#! /usr/bin/env perl
# Written by `cargo xtask openssl build` (the openssl-src crate does not ship util/mkdef.pl).
use strict;
use warnings;
my $ordinals;
while (@ARGV) {
    my $a = shift @ARGV;
    if ($a eq '--ordinals') { $ordinals = shift @ARGV; }
    elsif ($a =~ /^--ordinals=(.*)$/) { $ordinals = $1; }
    elsif ($a =~ /^--(version|type|name|OS)$/) { shift @ARGV; }
}
die "mkdef.pl: --ordinals FILE is required\n" unless defined $ordinals;
open my $in, '<', $ordinals or die "mkdef.pl: $ordinals: $!\n";
my %by_version;
while (my $line = <$in>) {
    next if $line =~ /^\s*(#|$)/;
    my ($name, $num, $version, $info) = split /\s+/, $line;
    next unless defined $info && $info =~ /^EXIST:/;
    push @{$by_version{$version}}, $name;
}
my @versions = sort {
    my @a = split /_/, $a; my @b = split /_/, $b;
    ($a[0] <=> $b[0]) || ($a[1] <=> $b[1]) || ($a[2] <=> $b[2])
} keys %by_version;
my $prev = '';
for my $i (0 .. $#versions) {
    my $v = $versions[$i];
    (my $node = "OPENSSL_$v") =~ tr/_/./;
    $node =~ s/^OPENSSL\./OPENSSL_/;
    print "$node {\n    global:\n";
    my %seen;
    print "        $_;\n" for grep { !$seen{$_}++ } sort @{$by_version{$v}};
    print "    local: *;\n" if $i == $#versions;
    print "}$prev;\n";
    $prev = " $node";
}
"#;

fn print_use(version: &str, libssl: &Path) {
    let root = project_root();
    let shown = libssl.strip_prefix(&root).unwrap_or(libssl);
    println!(
        "cargo xtask conformance --impl openssl --impl libssl:{}@openssl-{version}",
        shown.display()
    );
}

fn make(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("make");
    cmd.current_dir(dir).args(args);
    cmd
}

/// OpenSSL's name for this platform when `Configure` could guess wrong (it guesses well on
/// Linux; naming it keeps the build independent of `config`'s probing).
fn configure_target() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("linux-x86_64"),
        ("linux", "aarch64") => Some("linux-aarch64"),
        _ => None,
    }
}

/// `3.6` or `3.6.3` → (3, 6, Some(3)); 1.1.1 releases carry a letter (`1.1.1w`), which a
/// request may give or leave out (`1.1.1` takes the newest letter): (1, 1, Some(1)).
fn parse_version(v: &str) -> Option<(u32, u32, Option<u32>)> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = match parts.next() {
        Some(p) if major == 1 => Some(
            p.trim_end_matches(|c: char| c.is_ascii_lowercase())
                .parse()
                .ok()?,
        ),
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() || !(major >= 3 || (major, minor) == (1, 1)) {
        return None;
    }
    Some((major, minor, patch))
}

/// The openssl-src crate line that carries an OpenSSL line: 1.1.1 → 111, 3.6 → 300.6,
/// 4.0 → 400.0.
fn crate_line(major: u32, minor: u32) -> String {
    if major == 1 {
        "111".to_string()
    } else {
        format!("{}.{minor}", major * 100)
    }
}

struct Source {
    /// The `openssl/` directory inside the crate.
    dir: PathBuf,
    /// The OpenSSL version it carries, `3.6.3`.
    version: String,
}

/// The newest unpacked `openssl-src-*+VERSION*` that matches (a `3.6` request takes any 3.6.x).
fn find_source(wanted: &str) -> Option<Source> {
    let (major, minor, patch) = parse_version(wanted)?;
    let mut best: Option<((u32, u32, u32), Source)> = None;
    for index in crate::cargo::registry_dirs() {
        let Ok(entries) = std::fs::read_dir(&index) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix("openssl-src-") else {
                continue;
            };
            let Some((_, carried)) = rest.split_once('+') else {
                continue;
            };
            let Some((ma, mi, Some(pa))) = parse_version(carried) else {
                continue;
            };
            if ma != major || mi != minor || patch.is_some_and(|p| p != pa) {
                continue;
            }
            let dir = entry.path().join("openssl");
            if !dir.join("Configure").exists() {
                continue;
            }
            let newer = match &best {
                Some((v, _)) => *v < (ma, mi, pa),
                None => true,
            };
            // Among 1.1.1 releases the same numbers differ by their letter.
            let newer = newer
                || best
                    .as_ref()
                    .is_some_and(|(v, s)| *v == (ma, mi, pa) && s.version.as_str() < carried);
            if newer {
                best = Some((
                    (ma, mi, pa),
                    Source {
                        dir,
                        version: carried.to_string(),
                    },
                ));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// `cargo fetch` of the openssl-src line carrying `wanted` (OpenSSL 3.6 → `~300.6`, 4.0 →
/// `~400.0`, 1.1.1 → `~111`).
fn fetch(wanted: &str) -> Result<(), String> {
    let (major, minor, _) = parse_version(wanted).ok_or("bad version")?;
    crate::cargo::fetch_crate(
        "openssl build",
        "openssl-src",
        &format!("~{}", crate_line(major, minor)),
    )
}

/// The builds under `target/openssl-*/`.
fn list() -> ExitCode {
    let target = target_dir();
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&target) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(version) = name.strip_prefix("openssl-") {
                if let Some(libssl) = installed_libssl(&entry.path().join("lib64")) {
                    found.push((version.to_string(), libssl));
                }
            }
        }
    }
    found.sort();
    if found.is_empty() {
        eprintln!("xtask openssl: nothing built yet (cargo xtask openssl build VERSION)");
    }
    for (version, libssl) in found {
        print_use(&version, &libssl);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::{parse_version, MKDEF};

    /// The stand-in mkdef.pl writes a version script: one node per version (dotted, oldest
    /// first, each inheriting the previous), existing symbols only, everything else local.
    #[test]
    fn mkdef_writes_a_version_script() {
        let dir = std::env::temp_dir().join(format!("xtask-mkdef-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (script, num) = (dir.join("mkdef.pl"), dir.join("libx.num"));
        std::fs::write(&script, MKDEF).unwrap();
        std::fs::write(
            &num,
            "SSL_b   2\t3_2_0\tEXIST::FUNCTION:\n\
             SSL_a   1\t3_0_0\tEXIST::FUNCTION:\n\
             SSL_c   3\t3_10_0\tEXIST:!VMS:FUNCTION:\n\
             SSL_gone 4\t3_0_0\tNOEXIST::FUNCTION:\n",
        )
        .unwrap();
        let out = std::process::Command::new("perl")
            .arg(&script)
            .args(["--version", "3.6.3", "--type", "lib", "--ordinals"])
            .arg(&num)
            .args(["--name", "libx", "--OS", "linux"])
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(out) = out else {
            eprintln!("skipped: no perl");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "OPENSSL_3.0.0 {\n    global:\n        SSL_a;\n};\n\
             OPENSSL_3.2.0 {\n    global:\n        SSL_b;\n} OPENSSL_3.0.0;\n\
             OPENSSL_3.10.0 {\n    global:\n        SSL_c;\n    local: *;\n} OPENSSL_3.2.0;\n"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("3.6.3"), Some((3, 6, Some(3))));
        assert_eq!(parse_version("4.0"), Some((4, 0, None)));
        assert_eq!(parse_version("1.1.1"), Some((1, 1, Some(1))));
        assert_eq!(parse_version("1.1.1w"), Some((1, 1, Some(1))));
        assert_eq!(parse_version("1.0.2"), None);
        assert_eq!(super::crate_line(1, 1), "111");
        assert_eq!(super::crate_line(3, 6), "300.6");
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version("3.6.3.1"), None);
        assert_eq!(parse_version("x.6"), None);
    }
}
