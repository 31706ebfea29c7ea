//! A typed pattern over scenario steps: which ops, which field values. Known-divergence entries
//! use it to say where a behaviour occurs ("a write of length 0", "a set_modes that turns on
//! partial_write") without matching the text of a step's one-line form. Every op and field a
//! pattern names is checked against the scenario model when the file loads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::Modes;
use crate::payload::Content;
use crate::scenario::{Api, Capacity, Len, Step};

/// Steps of some ops (any op when `names` is empty) whose fields have the values in `args`
/// (an array field must contain every element listed; any other field must equal the value)
/// and whose optional fields in `set` are set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepPattern {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
}

/// Fields every op may carry that describe the script, not the step: never matched.
const NOT_MATCHED: [&str; 2] = ["expect", "clause"];

/// One step of every op, each optional field unset: the op names and fields a pattern may use
/// come from these (serialized), so the table cannot drift from the model. The match in
/// [`every_op_has_a_sample`] has no wildcard: a new op does not compile until it is listed here.
pub fn samples() -> Vec<Step> {
    let len = Len(1);
    vec![
        Step::Handshake {
            expect: None,
            clause: None,
        },
        Step::Write {
            len,
            buf: 0,
            content: Content::default(),
            expect: None,
            clause: None,
        },
        Step::WriteEx {
            len,
            buf: 0,
            content: Content::default(),
            expect: None,
            clause: None,
        },
        Step::WriteNegative {
            num: -1,
            expect: None,
            clause: None,
        },
        Step::WriteAll {
            len,
            buf: 0,
            api: Api::default(),
            drain: None,
            max_calls: 1,
            expect: None,
            clause: None,
        },
        Step::WriteStream {
            total: 1,
            chunk: len,
            api: Api::default(),
            drain: None,
            expect: None,
            clause: None,
        },
        Step::Read {
            len,
            expect: None,
            clause: None,
        },
        Step::Shutdown {
            expect: None,
            clause: None,
        },
        Step::KeyUpdate {
            requested: true,
            expect: None,
            clause: None,
        },
        Step::Renegotiate {
            expect: None,
            clause: None,
        },
        Step::WriteEarly {
            len,
            buf: 0,
            expect: None,
            clause: None,
        },
        Step::ReadEarly {
            len,
            expect: None,
            clause: None,
        },
        Step::NewSessionTicket {
            expect: None,
            clause: None,
        },
        Step::ErrorAgain {
            expect: None,
            clause: None,
        },
        Step::DirtyErrorQueue {},
        Step::SetModes {
            modes: Modes::default(),
            expect: None,
            clause: None,
        },
        Step::PeerRead { len: None },
        Step::PeerStopReading {},
        Step::PeerResumeReading {},
        Step::PeerWrite { len },
        Step::PeerShutdown {},
        Step::PeerFin {},
        Step::PeerClose {},
        Step::PeerReset {},
        Step::PeerRenegotiate {},
        Step::PeerKeyUpdate { requested: true },
        Step::PeerNewSessionTicket {},
        Step::PeerWriteEarly { len },
        Step::PeerFatalAlert {},
        Step::InjectMalformed {},
        Step::InjectRecord {
            content_type: 23,
            version: crate::scenario::RecordVersion::default(),
            payload: None,
            len: None,
        },
        Step::PeerEmptyRecord {},
        Step::PeerWarningAlert { description: None },
        Step::PeerWriteSplit { len, first: len },
        Step::Transport {
            capacity_to_peer: None::<Capacity>,
            capacity_to_impl: None,
            blocking: None,
            trickle: None,
            zero_writes: None,
        },
    ]
}

/// Compile-time guard for [`samples`]: add the new op there too.
#[allow(dead_code)]
fn every_op_has_a_sample(step: &Step) {
    match step {
        Step::Handshake { .. }
        | Step::Write { .. }
        | Step::WriteEx { .. }
        | Step::WriteNegative { .. }
        | Step::WriteAll { .. }
        | Step::WriteStream { .. }
        | Step::Read { .. }
        | Step::Shutdown { .. }
        | Step::KeyUpdate { .. }
        | Step::Renegotiate { .. }
        | Step::WriteEarly { .. }
        | Step::ReadEarly { .. }
        | Step::NewSessionTicket { .. }
        | Step::ErrorAgain { .. }
        | Step::DirtyErrorQueue {}
        | Step::SetModes { .. }
        | Step::PeerRead { .. }
        | Step::PeerStopReading {}
        | Step::PeerResumeReading {}
        | Step::PeerWrite { .. }
        | Step::PeerShutdown {}
        | Step::PeerFin {}
        | Step::PeerClose {}
        | Step::PeerReset {}
        | Step::PeerRenegotiate {}
        | Step::PeerKeyUpdate { .. }
        | Step::PeerNewSessionTicket {}
        | Step::PeerWriteEarly { .. }
        | Step::PeerFatalAlert {}
        | Step::InjectMalformed {}
        | Step::InjectRecord { .. }
        | Step::PeerEmptyRecord {}
        | Step::PeerWarningAlert { .. }
        | Step::PeerWriteSplit { .. }
        | Step::Transport { .. } => {}
    }
}

fn object(step: &Step) -> serde_json::Map<String, Value> {
    match serde_json::to_value(step) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// Every op's name and the fields a pattern may name, from [`samples`].
pub fn ops() -> Vec<(String, Vec<String>)> {
    samples()
        .iter()
        .map(|s| {
            let map = object(s);
            let name = map
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let fields = map
                .keys()
                .filter(|k| *k != "op" && !NOT_MATCHED.contains(&k.as_str()))
                .cloned()
                .collect();
            (name, fields)
        })
        .collect()
}

impl StepPattern {
    /// Checks the pattern against the scenario model: known op names, fields each named op
    /// (or, without names, some op) has, values of the field's type.
    pub fn check(&self) -> Result<(), String> {
        let ops = ops();
        if let Some(n) = self
            .names
            .iter()
            .find(|n| !ops.iter().any(|(name, _)| name == *n))
        {
            let all: Vec<&str> = ops.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!("unknown op {n:?} (known: {})", all.join(", ")));
        }
        let named: Vec<&(String, Vec<String>)> = ops
            .iter()
            .filter(|(n, _)| self.names.is_empty() || self.names.contains(n))
            .collect();
        for field in self.args.keys().chain(&self.set) {
            let has = |fields: &Vec<String>| fields.contains(field);
            let ok = if self.names.is_empty() {
                named.iter().any(|(_, f)| has(f))
            } else {
                named.iter().all(|(_, f)| has(f))
            };
            if !ok {
                let whose = if self.names.is_empty() {
                    "any op".to_string()
                } else {
                    self.names.join(", ")
                };
                return Err(format!("{whose} has no field {field:?}"));
            }
        }
        // Values: each op's sample with the pattern's values must still load as that op (an
        // array field's listed elements are tried as the whole array).
        for sample in samples() {
            let mut map = object(&sample);
            let name = map
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !(self.names.is_empty() || self.names.contains(&name)) {
                continue;
            }
            let mut any = false;
            for (k, v) in &self.args {
                if map.contains_key(k) {
                    map.insert(k.clone(), v.clone());
                    any = true;
                }
            }
            if any {
                if let Err(e) = serde_json::from_value::<Step>(Value::Object(map)) {
                    return Err(format!("a value does not fit op {name}: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Whether `step` is of the pattern.
    pub fn matches(&self, step: &Step) -> bool {
        let map = object(step);
        let name = map.get("op").and_then(Value::as_str).unwrap_or("");
        (self.names.is_empty() || self.names.iter().any(|n| n == name))
            && self.args.iter().all(|(k, want)| match (map.get(k), want) {
                (Some(Value::Array(have)), Value::Array(want)) => {
                    want.iter().all(|w| have.contains(w))
                }
                (Some(have), want) => have == want,
                (None, _) => false,
            })
            && self
                .set
                .iter()
                .all(|k| map.get(k).is_some_and(|v| !v.is_null()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(json: &str) -> StepPattern {
        serde_json::from_str(json).unwrap()
    }

    fn step(json: &str) -> Step {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_op_of_the_model_is_in_the_table() {
        // serde names every variant when refusing an unknown one: the table must list them all.
        let err = serde_json::from_str::<Step>(r#"{"op":"no_such_op"}"#)
            .unwrap_err()
            .to_string();
        let listed: Vec<String> = ops().into_iter().map(|(n, _)| n).collect();
        let expected: Vec<&str> = err
            .split("expected one of ")
            .nth(1)
            .unwrap()
            .split(" at line")
            .next()
            .unwrap()
            .split(", ")
            .map(|s| s.trim_matches('`'))
            .collect();
        assert_eq!(listed, expected);
        let write = ops().into_iter().find(|(n, _)| n == "write").unwrap().1;
        assert_eq!(write, ["buf", "content", "len"]);
    }

    #[test]
    fn patterns_match_ops_values_array_elements_and_set_fields() {
        let zero = pattern(r#"{"names":["write","write_ex"],"args":{"len":0}}"#);
        assert!(zero.matches(&step(r#"{"op":"write","len":0}"#)));
        assert!(zero.matches(&step(r#"{"op":"write_ex","len":0,"buf":1}"#)));
        assert!(!zero.matches(&step(r#"{"op":"write","len":10}"#)));
        assert!(!zero.matches(&step(r#"{"op":"write_all","len":0}"#)));
        let partial = pattern(r#"{"names":["set_modes"],"args":{"modes":["partial_write"]}}"#);
        assert!(partial.matches(&step(
            r#"{"op":"set_modes","modes":["partial_write","auto_retry"]}"#
        )));
        assert!(!partial.matches(&step(r#"{"op":"set_modes","modes":["auto_retry"]}"#)));
        let zero_writes = pattern(r#"{"names":["transport"],"set":["zero_writes"]}"#);
        assert!(zero_writes.matches(&step(r#"{"op":"transport","zero_writes":2}"#)));
        assert!(!zero_writes.matches(&step(r#"{"op":"transport","blocking":true}"#)));
        assert!(StepPattern::default().matches(&step(r#"{"op":"peer_fin"}"#)));
    }

    #[test]
    fn unknown_ops_fields_and_ill_typed_values_are_refused() {
        let check = |json: &str| pattern(json).check();
        assert!(check(r#"{"names":["write"],"args":{"len":0}}"#).is_ok());
        assert!(check(r#"{"args":{"requested":true}}"#).is_ok());
        assert!(check(r#"{"names":["wirte"]}"#)
            .unwrap_err()
            .starts_with("unknown op \"wirte\" (known: handshake, write,"));
        assert_eq!(
            check(r#"{"names":["write","shutdown"],"args":{"len":0}}"#).unwrap_err(),
            "write, shutdown has no field \"len\""
        );
        assert_eq!(
            check(r#"{"args":{"lenght":0}}"#).unwrap_err(),
            "any op has no field \"lenght\""
        );
        assert!(check(r#"{"names":["write"],"args":{"len":"zero"}}"#)
            .unwrap_err()
            .starts_with("a value does not fit op write:"));
        assert!(check(r#"{"names":["write"],"args":{"expect":"ok"}}"#).is_err());
        assert!(serde_json::from_str::<StepPattern>(r#"{"name":["write"]}"#).is_err());
    }
}
