//! The simplifications the minimizer tries besides dropping steps, as edits of the scenario's
//! JSON (the form the loader checks and the file keeps), so that every field of the model is
//! covered without a list kept by hand:
//!
//! - in `connection` and `transport`, each member set back to its default (no resumption, no
//!   early data, no option; a non-blocking transport of the default capacity);
//! - the run's mode set without one of its flags, or without all;
//! - in each step, each member removed (an optional one: `drain`, `expect`, `clause`, a
//!   transport step's setting) or set to its default (`content`, `api`), a number shrunk toward
//!   0 (a length, a capacity, `max_calls`, `buf`, `zero_writes`; a negative `num` toward -1), a
//!   `true` made `false`, a list without one of its items.
//!
//! An edit that makes an invalid scenario is dropped by the loader's checks, one that changes
//! nothing once the file is read back is not tried.

use serde_json::Value;

/// One change: the member at a JSON pointer replaced, or removed (back to its default).
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub path: String,
    pub value: Option<Value>,
    /// A removal that counts only when the member is gone once the file is read back (an
    /// optional one): a number the loader would put back at its default, which may be
    /// larger (`max_calls`), is shrunk instead.
    pub must_vanish: bool,
}

impl Edit {
    fn set(path: String, value: Value) -> Edit {
        Edit {
            path,
            value: Some(value),
            must_vanish: false,
        }
    }

    fn remove(path: String, must_vanish: bool) -> Edit {
        Edit {
            path,
            value: None,
            must_vanish,
        }
    }
}

/// `v` with `edits` applied (each at a pointer that exists in `v`; others are ignored).
pub fn apply(v: &Value, edits: &[&Edit]) -> Value {
    let mut out = v.clone();
    for e in edits {
        let Some((parent, last)) = e.path.rsplit_once('/') else {
            continue;
        };
        let Some(target) = out.pointer_mut(parent) else {
            continue;
        };
        match (target, &e.value) {
            (Value::Object(map), Some(x)) => {
                map.insert(last.to_string(), x.clone());
            }
            (Value::Object(map), None) => {
                map.remove(last);
            }
            (Value::Array(items), value) => {
                if let Ok(i) = last.parse::<usize>() {
                    match value {
                        Some(x) if i < items.len() => items[i] = x.clone(),
                        None if i < items.len() => {
                            items.remove(i);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Slots of the run's configuration: one per member of `connection` and `transport` (back
/// to its default), and the run's mode set (all flags off first, then each flag off).
pub fn config_slots(v: &Value) -> Vec<Vec<Edit>> {
    let mut slots = Vec::new();
    for region in ["connection", "transport"] {
        if let Some(Value::Object(map)) = v.get(region) {
            for k in map.keys() {
                slots.push(vec![Edit::remove(format!("/{region}/{k}"), false)]);
            }
        }
    }
    if let Some(Value::Array(flags)) = v.pointer("/modes/0") {
        if !flags.is_empty() {
            let mut edits = vec![Edit::set("/modes/0".into(), Value::Array(Vec::new()))];
            if flags.len() > 1 {
                for i in 0..flags.len() {
                    let mut fewer = flags.clone();
                    fewer.remove(i);
                    edits.push(Edit::set("/modes/0".into(), Value::Array(fewer)));
                }
            }
            slots.push(edits);
        }
    }
    slots
}

/// Slots of the steps: one per member of each step but its `op`, its edits in preference
/// order (removed first, then the smallest value first).
pub fn step_slots(v: &Value) -> Vec<Vec<Edit>> {
    let mut slots = Vec::new();
    let Some(Value::Array(steps)) = v.get("steps") else {
        return slots;
    };
    for (i, step) in steps.iter().enumerate() {
        let Value::Object(map) = step else { continue };
        for (k, val) in map.iter().filter(|(k, _)| *k != "op") {
            let path = format!("/steps/{i}/{k}");
            let mut edits = vec![Edit::remove(path.clone(), val.is_number())];
            edits.extend(smaller(val).into_iter().map(|x| Edit::set(path.clone(), x)));
            slots.push(edits);
        }
    }
    slots
}

/// Simpler values than `v`, smallest first: a number toward 0 (0, 1, a quarter, a half), a
/// negative one toward -1, `true` as `false`, a list without one of its items.
fn smaller(v: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    if let Some(n) = v.as_u64() {
        for x in [0, 1, n / 4, n / 2] {
            if x < n && !out.contains(&Value::from(x)) {
                out.push(Value::from(x));
            }
        }
    } else if let Some(n) = v.as_i64().filter(|n| *n < 0) {
        for x in [-1, n / 4, n / 2] {
            if x > n && !out.contains(&Value::from(x)) {
                out.push(Value::from(x));
            }
        }
    } else if v == &Value::Bool(true) {
        out.push(Value::Bool(false));
    } else if let Value::Array(items) = v {
        if items.len() > 1 {
            for i in 0..items.len() {
                let mut fewer = items.clone();
                fewer.remove(i);
                out.push(Value::Array(fewer));
            }
        }
    }
    out
}

/// `v` with its step list replaced by the steps at `keep` (indices into `steps`).
pub fn with_steps(v: &Value, steps: &[Value], keep: &[usize]) -> Value {
    let mut out = v.clone();
    if let Value::Object(map) = &mut out {
        let kept: Vec<Value> = keep.iter().map(|&i| steps[i].clone()).collect();
        map.insert("steps".into(), Value::Array(kept));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edits_set_and_remove_members_and_items() {
        let v = json!({"steps": [{"op": "write", "len": 100}, {"op": "peer_read", "len": 5}],
                       "modes": [["auto_retry", "partial_write"]]});
        let a = Edit::set("/steps/0/len".into(), json!(1));
        let b = Edit::remove("/steps/1/len".into(), true);
        let got = apply(&v, &[&a, &b]);
        assert_eq!(
            got["steps"],
            json!([{"op": "write", "len": 1}, {"op": "peer_read"}])
        );
        let c = Edit::remove("/modes/0".into(), false);
        assert_eq!(apply(&v, &[&c])["modes"], json!([]));
        assert_eq!(apply(&v, &[&Edit::remove("/no/such".into(), false)]), v);
    }

    #[test]
    fn numbers_shrink_toward_zero_and_minus_one() {
        assert_eq!(
            smaller(&json!(100)),
            vec![json!(0), json!(1), json!(25), json!(50)]
        );
        assert_eq!(smaller(&json!(2)), vec![json!(0), json!(1)]);
        assert_eq!(smaller(&json!(0)), Vec::<Value>::new());
        assert_eq!(smaller(&json!(-8)), vec![json!(-1), json!(-2), json!(-4)]);
        assert_eq!(smaller(&json!(true)), vec![json!(false)]);
        assert_eq!(
            smaller(&json!(["a", "b"])),
            vec![json!(["b"]), json!(["a"])]
        );
    }

    #[test]
    fn slots_cover_config_modes_and_step_members() {
        let v = json!({"connection": {"resume": true}, "transport": {"capacity": 60},
                       "modes": [["auto_retry", "partial_write"]],
                       "steps": [{"op": "write_all", "len": 8, "max_calls": 3}]});
        let config = config_slots(&v);
        let paths: Vec<&str> = config.iter().map(|s| s[0].path.as_str()).collect();
        assert_eq!(
            paths,
            ["/connection/resume", "/transport/capacity", "/modes/0"]
        );
        assert_eq!(config[2].len(), 3, "all off, then each flag off");
        let steps = step_slots(&v);
        assert_eq!(steps.len(), 2);
        assert!(steps
            .iter()
            .all(|s| s[0].value.is_none() && s[0].must_vanish));
    }
}
