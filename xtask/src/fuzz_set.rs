//! The implementation set of a fuzz session (`cargo xtask fuzz … --impl NAME …`): the same
//! `--impl` arguments as `conformance`, passed to the fuzz target in `SSLWRITE_FUZZ_IMPL`,
//! and the folder its artifacts go to, which records the set so that `cargo xtask replay`
//! regenerates the same scenarios from them.

use std::path::{Path, PathBuf};

/// The environment variable the fuzz targets read (sslwrite::fuzzing::oracle::IMPL_ENV).
pub const IMPL_ENV: &str = "SSLWRITE_FUZZ_IMPL";
/// The file in an artifacts folder that lists the set, one `--impl` argument per line.
pub const SET_FILE: &str = "impls";

/// A library named by a spec that is not on this machine.
pub struct Absent {
    pub spec: String,
    pub path: PathBuf,
}

/// `libssl:PATH[@label]` or `wolfssl:PATH[@label]`: the kind, the path and the label.
fn split(spec: &str) -> Option<(&str, &str, Option<&str>)> {
    let (kind, rest) = spec.split_once(':')?;
    if kind != "libssl" && kind != "wolfssl" {
        return None;
    }
    Some(match rest.rsplit_once('@') {
        Some((path, label)) => (kind, path, Some(label)),
        None => (kind, rest, None),
    })
}

/// The specs with relative library paths made absolute (the target runs in another folder),
/// or the first library that is not there. A bare soname (no `/`) is left to the loader.
pub fn resolve(specs: &[String]) -> Result<Vec<String>, Absent> {
    let cwd = std::env::current_dir().unwrap_or_default();
    specs
        .iter()
        .map(|spec| {
            let Some((kind, path, label)) = split(spec) else {
                return Ok(spec.clone());
            };
            if !path.contains('/') {
                return Ok(spec.clone());
            }
            let abs = if Path::new(path).is_absolute() {
                PathBuf::from(path)
            } else {
                cwd.join(path)
            };
            if !abs.exists() {
                return Err(Absent {
                    spec: spec.clone(),
                    path: abs,
                });
            }
            Ok(match label {
                Some(l) => format!("{kind}:{}@{l}", abs.display()),
                None => format!("{kind}:{}", abs.display()),
            })
        })
        .collect()
}

/// A folder name for the set: the labels (or names) joined by `+`, file-name safe.
pub fn slug(specs: &[String]) -> String {
    specs
        .iter()
        .map(|spec| {
            let name = match split(spec) {
                Some((_, _, Some(label))) => label.to_string(),
                Some((kind, path, None)) => format!(
                    "{kind}-{}",
                    Path::new(path)
                        .file_name()
                        .map_or(path.into(), |f| f.to_string_lossy())
                ),
                None => spec.clone(),
            };
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// The set recorded next to an artifact (`impls` in its folder), if there is one.
pub fn recorded_for(artifact: &Path) -> Option<Vec<String>> {
    let file = artifact.parent()?.join(SET_FILE);
    let text = std::fs::read_to_string(file).ok()?;
    let specs: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    (!specs.is_empty()).then_some(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_name_the_set_by_labels() {
        let specs = vec![
            "openssl".to_string(),
            "libssl:/x/libssl.so.4@openssl-4.0.3".to_string(),
            "wolfssl:/usr/lib/libwolfssl.so.35".to_string(),
        ];
        assert_eq!(
            slug(&specs),
            "openssl+openssl-4.0.3+wolfssl-libwolfssl.so.35"
        );
    }

    #[test]
    fn absent_libraries_are_named() {
        let specs = vec!["libssl:/nonexistent/libssl.so@x".to_string()];
        let Err(a) = resolve(&specs) else {
            panic!("an absent library resolved")
        };
        assert_eq!(a.path, PathBuf::from("/nonexistent/libssl.so"));
        assert_eq!(
            resolve(&["rustls".to_string()]).ok(),
            Some(vec!["rustls".to_string()])
        );
    }
}
