//! `cargo xtask awslc build [--jobs N]`: AWS-LC's shared `libssl.so` and `libcrypto.so`, built
//! with CMake from the source the `aws-lc-sys` crate carries (crates.io; `cargo fetch`ed into
//! cargo's cache by a throw-away manifest under `target/aws-lc-fetch/` when it is not there),
//! installed into `target/aws-lc-VERSION/` with a run path to its own `lib/`, for
//! `--impl libssl:target/aws-lc-VERSION/lib/libssl.so@aws-lc-VERSION`. Minutes; not in CI.
//! CMake comes from Debian (`apt-get install cmake`) when it is missing. The build needs
//! neither Go nor Perl (`DISABLE_GO`, `DISABLE_PERL`: the crate carries the generated sources).
//! `cargo xtask libs` lists the result.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::cargo::{project_root, target_dir};

pub fn run(args: &[String]) -> ExitCode {
    let mut jobs: u32 = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("build") => {}
        _ => return usage("expected `build [--jobs N]`"),
    }
    while let Some(a) = it.next() {
        match a.as_str() {
            "--jobs" => match it.next().and_then(|v| v.parse().ok()) {
                Some(j) if j >= 1 => jobs = j,
                _ => return usage("--jobs needs a number >= 1"),
            },
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    match build(jobs) {
        Ok(lib) => {
            let shown = lib
                .strip_prefix(project_root())
                .unwrap_or(&lib)
                .to_path_buf();
            let label = shown
                .parent()
                .and_then(Path::parent)
                .and_then(Path::file_name)
                .map_or("aws-lc".into(), |n| n.to_string_lossy().into_owned());
            println!(
                "cargo xtask conformance --impl openssl --impl libssl:{}@{label}",
                shown.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask awslc: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("xtask awslc: {problem}\n\nusage: cargo xtask awslc build [--jobs N]");
    ExitCode::from(2)
}

/// The installed `lib/libssl.so` of a prefix, with its `libcrypto.so` beside it.
pub fn installed_libssl(prefix: &Path) -> Option<PathBuf> {
    let lib = prefix.join("lib");
    let ssl = lib.join("libssl.so");
    (ssl.exists() && lib.join("libcrypto.so").exists()).then_some(ssl)
}

fn build(jobs: u32) -> Result<PathBuf, String> {
    ensure_cmake()?;
    let (source, version) = match find_source() {
        Some(s) => s,
        None => {
            fetch()?;
            find_source().ok_or(
                "cargo fetched aws-lc-sys, but its aws-lc/ tree is not in the registry cache",
            )?
        }
    };
    let prefix = target_dir().join(format!("aws-lc-{version}"));
    if let Some(lib) = installed_libssl(&prefix) {
        eprintln!(
            "xtask awslc: AWS-LC {version} is already built: {} (remove {} to build it again)",
            lib.display(),
            prefix.display()
        );
        return Ok(lib);
    }
    let build_dir = prefix.join("build");
    std::fs::create_dir_all(&build_dir)
        .map_err(|e| format!("cannot create {}: {e}", build_dir.display()))?;
    eprintln!(
        "xtask awslc: building AWS-LC {version} from {} into {} (this takes minutes)",
        source.display(),
        prefix.display()
    );
    let mut configure = Command::new("cmake");
    configure
        .arg("-S")
        .arg(&source)
        .arg("-B")
        .arg(&build_dir)
        .args([
            "-DBUILD_SHARED_LIBS=ON",
            "-DBUILD_TESTING=OFF",
            "-DBUILD_TOOL=OFF",
            "-DDISABLE_GO=ON",
            "-DDISABLE_PERL=ON",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DCMAKE_INSTALL_LIBDIR=lib",
        ])
        .arg(format!("-DCMAKE_INSTALL_PREFIX={}", prefix.display()))
        .arg(format!(
            "-DCMAKE_INSTALL_RPATH={}",
            prefix.join("lib").display()
        ));
    let mut compile = Command::new("cmake");
    compile
        .arg("--build")
        .arg(&build_dir)
        .arg(format!("-j{jobs}"));
    let mut install = Command::new("cmake");
    install.arg("--install").arg(&build_dir);
    for mut step in [configure, compile, install] {
        let status = step
            .status()
            .map_err(|e| format!("cannot run {step:?}: {e}"))?;
        if !status.success() {
            return Err(format!("{step:?} failed ({status})"));
        }
    }
    installed_libssl(&prefix).ok_or_else(|| {
        format!(
            "the build finished but {} has no libssl.so with its libcrypto.so",
            prefix.join("lib").display()
        )
    })
}

fn ensure_cmake() -> Result<(), String> {
    if Command::new("cmake").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("xtask awslc: cmake is missing; installing Debian's cmake with apt-get");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "--no-install-recommends", "cmake"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e} (install cmake yourself)"))?;
        if !status.success() {
            return Err(format!(
                "apt-get {} failed ({status}); install cmake yourself",
                args.join(" ")
            ));
        }
    }
    Ok(())
}

/// The newest unpacked `aws-lc-sys-*` with an `aws-lc/` tree, and the AWS-LC version it
/// carries (`AWSLC_VERSION_NUMBER_STRING` in its `include/openssl/base.h`).
fn find_source() -> Option<(PathBuf, String)> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    for index in std::fs::read_dir(home.join("registry").join("src"))
        .ok()?
        .flatten()
    {
        for entry in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(v) = name.strip_prefix("aws-lc-sys-") else {
                continue;
            };
            let Ok(nums) = v
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
            else {
                continue;
            };
            let tree = entry.path().join("aws-lc");
            if tree.join("CMakeLists.txt").exists() && best.as_ref().is_none_or(|(b, _)| *b < nums)
            {
                best = Some((nums, tree));
            }
        }
    }
    let (_, tree) = best?;
    let version = carried_version(&tree).unwrap_or_else(|| "unknown".into());
    Some((tree, version))
}

fn carried_version(tree: &Path) -> Option<String> {
    for header in ["include/openssl/base.h", "include/openssl/opensslv.h"] {
        let text = std::fs::read_to_string(tree.join(header)).unwrap_or_default();
        for line in text.lines() {
            if let Some(rest) = line
                .trim()
                .strip_prefix("#define AWSLC_VERSION_NUMBER_STRING")
            {
                return Some(rest.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

fn fetch() -> Result<(), String> {
    crate::cargo::fetch_crate("awslc build", "aws-lc-sys", "0")
}
