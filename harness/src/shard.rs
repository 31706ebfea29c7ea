//! Sharded runs (`conformance --shard I/N`): which runs a shard plays, and what its report
//! records so that [`crate::merge`] can join the shards into the report of the whole run.
//!
//! Run `p` of the selection (in suite order: scenario files sorted, then each scenario's runs in
//! its own order) belongs to shard `p mod N + 1`. Dealing the runs out in turn, rather than in
//! blocks, spreads the heavy scenarios (which sit together) over the shards. Every run is in
//! exactly one shard, and the union of the N shards is the whole selection. With both
//! transports a run's memory and TCP plays are in the same shard.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `--shard I/N`: the I-th of N shards, 1 ≤ I ≤ N.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardSpec {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

/// The most shards a suite is split into.
pub const MAX_SHARDS: usize = 10_000;

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardSpec, String> {
        let usage = "give I/N, the I-th of N shards with 1 <= I <= N (e.g. 1/3)";
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a shard: {usage}"))?;
        let number = |t: &str, what: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("{s:?}: {what} {t:?} is not a whole number; {usage}"))
        };
        let (index, count) = (number(i, "shard")?, number(n, "count")?);
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "{s:?}: the count must be between 1 and {MAX_SHARDS}; {usage}"
            ));
        }
        if index == 0 || index > count {
            return Err(format!(
                "{s:?}: there is no shard {index} of {count}; {usage}"
            ));
        }
        Ok(ShardSpec { index, count })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    /// Whether run `position` of the selection (0-based, suite order) is in this shard.
    pub fn holds(&self, position: usize) -> bool {
        position % self.count + 1 == self.index
    }

    /// The runs of `runs` (the whole selection, in suite order) that this shard plays.
    pub fn select<T: Clone>(&self, runs: &[T]) -> Vec<T> {
        runs.iter()
            .enumerate()
            .filter(|(p, _)| self.holds(*p))
            .map(|(_, r)| r.clone())
            .collect()
    }
}

/// The `shard` record of a shard's report: which shard it is and what the whole run's report
/// needs from it besides its runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// 1-based.
    pub index: usize,
    pub count: usize,
    /// The names of every run of the whole selection (all shards), in suite order: what
    /// `merge` orders the runs by, and checks the shards against.
    pub suite: Vec<String>,
    /// A digest of the scenario files and the known-divergence file the shard played with:
    /// shards of one suite have the same.
    pub digest: String,
    /// Per known-divergence entry, in the file's order: how many differences and violations
    /// it explained in this shard.
    pub known_uses: Vec<usize>,
    /// The entries this shard would call stale: in scope here, explaining nothing here. The
    /// whole run calls an entry stale when some shard lists it and no shard used it.
    pub unused_known: Vec<UnusedKnown>,
    /// The warnings about one run (it agrees although an entry expects a difference), with
    /// the run: `merge` puts them in the runs' order.
    pub run_warnings: Vec<RunWarning>,
}

/// A warning about one run of a shard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunWarning {
    /// The run's name, as in the report's runs.
    pub run: String,
    /// The warning, as in the report's `warnings`.
    pub warning: String,
}

/// A known-divergence entry that explained nothing in a shard it concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnusedKnown {
    /// Its position in the known-divergence file.
    pub entry: usize,
    /// Its id.
    #[serde(default)]
    pub id: String,
    /// The implementations it concerned there (about them, or written against them).
    #[serde(default)]
    pub implementations: Vec<String>,
    /// The warning the report gives when it is stale.
    pub warning: String,
}

/// What the suite needs to know to write a shard's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardPlan {
    pub spec: ShardSpec,
    /// As [`ShardRecord::suite`].
    pub suite: Vec<String>,
    /// As [`ShardRecord::digest`].
    pub digest: String,
}

/// A stable digest of byte strings (64-bit FNV-1a over each part and its length), as hex: the
/// same inputs give the same digest on every machine and build.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for p in parts {
        eat(&(p.len() as u64).to_le_bytes());
        eat(p);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_say_why() {
        assert_eq!(
            "2/3".parse::<ShardSpec>(),
            Ok(ShardSpec { index: 2, count: 3 })
        );
        assert_eq!("1/1".parse::<ShardSpec>().unwrap().to_string(), "1/1");
        for (bad, why) in [
            ("0/0", "the count must be between 1 and"),
            ("3/2", "there is no shard 3 of 2"),
            ("0/2", "there is no shard 0 of 2"),
            ("x", "is not a shard"),
            ("a/2", "shard \"a\" is not a whole number"),
            ("1/-2", "count \"-2\" is not a whole number"),
            ("1/99999", "between 1 and 10000"),
        ] {
            let err = bad.parse::<ShardSpec>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn every_run_is_in_exactly_one_shard() {
        let runs: Vec<usize> = (0..11).collect();
        for n in 1..=13 {
            let mut seen = Vec::new();
            for i in 1..=n {
                seen.extend(ShardSpec { index: i, count: n }.select(&runs));
            }
            seen.sort_unstable();
            assert_eq!(seen, runs, "{n} shards");
        }
        assert_eq!(
            ShardSpec { index: 2, count: 3 }.select(&runs),
            vec![1, 4, 7, 10]
        );
    }

    #[test]
    fn the_digest_is_stable_and_sees_boundaries() {
        assert_eq!(digest([b"ab".as_slice()]), digest([b"ab".as_slice()]));
        assert_ne!(
            digest([b"ab".as_slice(), b"c"]),
            digest([b"a".as_slice(), b"bc"])
        );
        assert_eq!(digest(std::iter::empty()), "cbf29ce484222325");
    }
}
