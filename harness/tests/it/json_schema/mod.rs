//! A small JSON Schema (draft 2020-12) validator for the schemas this project publishes
//! (reports/schema-v2.json, scenarios/schema.json), shared by the tests that keep each schema in
//! step with its Rust types.
//!
//! Keywords: type, enum, const, required, properties, additionalProperties, items, minItems,
//! maxItems, uniqueItems, minimum, maximum, pattern, anyOf, oneOf, $ref into $defs; annotations
//! ($schema, $id, title, description, $comment, default, examples). Any other keyword in a
//! schema is an error, so a schema cannot outgrow what is checked. `pattern` takes a subset of
//! ECMA-262 regular expressions (see [`Pattern`]); a pattern outside it is an error too.
//!
//! Besides errors, validation records which declared properties some value had (`seen`), so a
//! test can tell a declared field that nothing shows (dropped from the Rust types?).

use std::collections::BTreeSet;

use serde_json::{json, Value};

pub struct Validator<'a> {
    root: &'a Value,
    /// Declared properties (`schema location/properties/name`) some value had.
    pub seen: BTreeSet<String>,
}

const ANNOTATIONS: [&str; 7] = [
    "$schema",
    "$id",
    "title",
    "description",
    "$comment",
    "default",
    "examples",
];

const KEYWORDS: [&str; 16] = [
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "pattern",
    "anyOf",
    "oneOf",
    "$ref",
];

impl<'a> Validator<'a> {
    pub fn new(root: &'a Value) -> Validator<'a> {
        Validator {
            root,
            seen: BTreeSet::new(),
        }
    }

    /// Checks `value` (at JSON pointer `at`) against `schema` (at schema location `loc`).
    pub fn check(
        &mut self,
        schema: &Value,
        loc: &str,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(obj) = schema.as_object() else {
            errors.push(format!("{loc}: a schema must be an object"));
            return;
        };
        for key in obj.keys() {
            let known = ANNOTATIONS.contains(&key.as_str())
                || (key == "$defs" && loc == "#")
                || KEYWORDS.contains(&key.as_str());
            if !known {
                errors.push(format!(
                    "{loc}: keyword {key:?} is not supported by this validator"
                ));
            }
        }
        if let Some(r) = obj.get("$ref") {
            let r = r.as_str().unwrap_or_default();
            match r
                .strip_prefix("#/$defs/")
                .and_then(|n| self.root["$defs"].get(n))
            {
                Some(target) => self.check(target, r, value, at, errors),
                None => errors.push(format!("{loc}: unresolvable $ref {r:?}")),
            }
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(options) = obj.get(key) else {
                continue;
            };
            let Some(options) = options.as_array() else {
                errors.push(format!("{loc}: {key} must be a list"));
                continue;
            };
            // Each alternative on its own: only a matching one's fields count as seen.
            let mut matching = Vec::new();
            let mut reasons = Vec::new();
            for (i, option) in options.iter().enumerate() {
                let mut sub = Validator::new(self.root);
                let mut errs = Vec::new();
                sub.check(option, &format!("{loc}/{key}/{i}"), value, at, &mut errs);
                if errs.is_empty() {
                    matching.push(sub.seen);
                } else {
                    reasons.push(errs);
                }
            }
            match (matching.len(), exactly_one) {
                (0, _) => {
                    // The alternative with the fewest errors says most (a step with a known
                    // `op` and a wrong field).
                    let best = reasons.iter().min_by_key(|e| e.len());
                    errors.push(format!(
                        "{at}: matches none of the {} alternatives of {loc}/{key}{}",
                        options.len(),
                        best.map_or(String::new(), |e| format!(" (closest: {})", e.join("; ")))
                    ));
                }
                (1, _) | (_, false) => {
                    for seen in matching {
                        self.seen.extend(seen);
                    }
                }
                (n, true) => errors.push(format!(
                    "{at}: matches {n} of the alternatives of {loc}/oneOf, not exactly one"
                )),
            }
        }
        if let Some(t) = obj.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let fits = types.iter().any(|t| match *t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => false,
            });
            if !fits {
                errors.push(format!("{at}: {value} is not of type {t}"));
                return;
            }
        }
        if let Some(Value::Array(options)) = obj.get("enum") {
            if !options.contains(value) {
                errors.push(format!("{at}: {value} is not one of {options:?}"));
            }
        }
        if let Some(c) = obj.get("const") {
            if c != value {
                errors.push(format!("{at}: {value} is not {c}"));
            }
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = obj.get("minimum").and_then(Value::as_f64) {
                if n < min {
                    errors.push(format!("{at}: {n} is below {min}"));
                }
            }
            if let Some(max) = obj.get("maximum").and_then(Value::as_f64) {
                if n > max {
                    errors.push(format!("{at}: {n} is above {max}"));
                }
            }
        }
        if let (Some(p), Value::String(s)) = (obj.get("pattern"), value) {
            match p.as_str().map(Pattern::parse) {
                Some(Ok(pattern)) => {
                    if !pattern.is_match(s) {
                        errors.push(format!("{at}: {value} does not match the pattern {p}"));
                    }
                }
                Some(Err(e)) => errors.push(format!("{loc}/pattern: {e}")),
                None => errors.push(format!("{loc}/pattern: not a string")),
            }
        }
        if let Value::Array(items) = value {
            if let Some(min) = obj.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    errors.push(format!("{at}: fewer than {min} items"));
                }
            }
            if let Some(max) = obj.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    errors.push(format!("{at}: more than {max} items"));
                }
            }
            if obj.get("uniqueItems") == Some(&json!(true)) {
                for (i, x) in items.iter().enumerate() {
                    if items[..i].contains(x) {
                        errors.push(format!("{at}/{i}: {x} is listed twice"));
                    }
                }
            }
            if let Some(item) = obj.get("items") {
                for (i, v) in items.iter().enumerate() {
                    self.check(
                        item,
                        &format!("{loc}/items"),
                        v,
                        &format!("{at}/{i}"),
                        errors,
                    );
                }
            }
        }
        let describes_objects = obj.get("type") == Some(&json!("object"))
            || obj.contains_key("properties")
            || obj.contains_key("additionalProperties");
        if let (Value::Object(fields), true) = (value, describes_objects) {
            if let Some(Value::Array(required)) = obj.get("required") {
                for r in required.iter().filter_map(Value::as_str) {
                    if !fields.contains_key(r) {
                        errors.push(format!("{at}: required field {r:?} is missing"));
                    }
                }
            }
            let empty = serde_json::Map::new();
            let props = obj
                .get("properties")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            for (k, v) in fields {
                match props.get(k) {
                    Some(p) => {
                        let ploc = format!("{loc}/properties/{k}");
                        self.seen.insert(ploc.clone());
                        self.check(p, &ploc, v, &format!("{at}/{k}"), errors);
                    }
                    None => match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{at}: field {k:?} is not in the schema"))
                        }
                        Some(extra @ Value::Object(_)) => self.check(
                            extra,
                            &format!("{loc}/additionalProperties"),
                            v,
                            &format!("{at}/{k}"),
                            errors,
                        ),
                        _ => errors.push(format!(
                            "{loc}: object schema without additionalProperties (every object must say)"
                        )),
                    },
                }
            }
        }
    }

    /// Every property the schema declares, as `schema location/properties/name`.
    pub fn declared(schema: &Value, loc: &str, out: &mut BTreeSet<String>) {
        let Some(obj) = schema.as_object() else {
            return;
        };
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (k, v) in props {
                let ploc = format!("{loc}/properties/{k}");
                out.insert(ploc.clone());
                Self::declared(v, &ploc, out);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(v) = obj.get(key) {
                Self::declared(v, &format!("{loc}/{key}"), out);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(options)) = obj.get(key) {
                for (i, v) in options.iter().enumerate() {
                    Self::declared(v, &format!("{loc}/{key}/{i}"), out);
                }
            }
        }
        if let Some(Value::Object(defs)) = obj.get("$defs") {
            for (k, v) in defs {
                Self::declared(v, &format!("#/$defs/{k}"), out);
            }
        }
    }
}

/// Checks `value` against the whole of `schema`: the errors, and the declared properties seen.
pub fn validate(schema: &Value, value: &Value) -> (Vec<String>, BTreeSet<String>) {
    let mut v = Validator::new(schema);
    let mut errors = Vec::new();
    v.check(schema, "#", value, "", &mut errors);
    (errors, v.seen)
}

/// Objects (`"type": "object"`) that do not say whether they allow other fields.
pub fn open_objects(schema: &Value) -> Vec<String> {
    fn walk(v: &Value, loc: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if o.get("type") == Some(&json!("object"))
                    && !o.contains_key("additionalProperties")
                {
                    out.push(loc.to_string());
                }
                for (k, x) in o {
                    walk(x, &format!("{loc}/{k}"), out);
                }
            }
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, &format!("{loc}/{i}"), out)),
            _ => {}
        }
    }
    let mut open = Vec::new();
    walk(schema, "#", &mut open);
    open
}

/// A regular expression of the subset `pattern` uses here: literal characters, `\` escapes of
/// punctuation, `.`, bracket classes (`[a-z0-9-]`, `[^...]`, ranges), the quantifiers `*`, `+`
/// and `?`, the anchors `^` and `$` at the ends, and one level of alternation in a group at the
/// top (`^(a|b)\(.*\)$`). Anything else is refused, never guessed at. Matching is a search, as
/// in JSON Schema (unanchored unless `^`/`$` say otherwise).
pub struct Pattern {
    anchored_start: bool,
    anchored_end: bool,
    /// Alternatives of the top-level group (one when there is none), each a sequence; `before`
    /// and `after` surround the group.
    before: Vec<Piece>,
    group: Vec<Vec<Piece>>,
    after: Vec<Piece>,
}

#[derive(Clone)]
enum Atom {
    Char(char),
    Any,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Clone)]
struct Piece {
    atom: Atom,
    min: usize,
    max: usize,
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => c != '\n',
            Atom::Class { negated, ranges } => {
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
            }
        }
    }
}

impl Pattern {
    pub fn parse(p: &str) -> Result<Pattern, String> {
        let mut s = p;
        let anchored_start = s.starts_with('^');
        if anchored_start {
            s = &s[1..];
        }
        let anchored_end = s.ends_with('$') && !s.ends_with("\\$");
        if anchored_end {
            s = &s[..s.len() - 1];
        }
        let (before, group, after) = match s.find('(').filter(|i| !s[..*i].ends_with('\\')) {
            Some(open) => {
                let close = s[open..]
                    .find(')')
                    .map(|j| open + j)
                    .ok_or_else(|| format!("pattern {p:?}: unclosed group"))?;
                let inner = &s[open + 1..close];
                let group = inner
                    .split('|')
                    .map(Self::sequence)
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    Self::sequence(&s[..open])?,
                    group,
                    Self::sequence(&s[close + 1..])?,
                )
            }
            None => (Self::sequence(s)?, vec![Vec::new()], Vec::new()),
        };
        Ok(Pattern {
            anchored_start,
            anchored_end,
            before,
            group,
            after,
        })
    }

    fn sequence(s: &str) -> Result<Vec<Piece>, String> {
        let mut out = Vec::new();
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let atom = match chars[i] {
                '\\' => {
                    i += 1;
                    match chars.get(i) {
                        Some(c) if c.is_ascii_punctuation() => Atom::Char(*c),
                        other => return Err(format!("unsupported escape \\{other:?} in {s:?}")),
                    }
                }
                '.' => Atom::Any,
                '[' => {
                    i += 1;
                    let negated = chars.get(i) == Some(&'^');
                    if negated {
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    while i < chars.len() && chars[i] != ']' {
                        let mut c = chars[i];
                        if c == '\\' {
                            i += 1;
                            c = *chars
                                .get(i)
                                .filter(|c| c.is_ascii_punctuation())
                                .ok_or_else(|| format!("unsupported escape in class in {s:?}"))?;
                        }
                        if chars.get(i + 1) == Some(&'-')
                            && chars.get(i + 2).is_some_and(|c| *c != ']')
                        {
                            ranges.push((c, chars[i + 2]));
                            i += 3;
                        } else {
                            ranges.push((c, c));
                            i += 1;
                        }
                    }
                    if i >= chars.len() {
                        return Err(format!("unclosed class in {s:?}"));
                    }
                    Atom::Class { negated, ranges }
                }
                c @ ('(' | ')' | '|' | '{' | '}' | '^' | '$' | '*' | '+' | '?') => {
                    return Err(format!("unsupported {c:?} in {s:?}"))
                }
                c => Atom::Char(c),
            };
            i += 1;
            let (min, max) = match chars.get(i) {
                Some('*') => (0, usize::MAX),
                Some('+') => (1, usize::MAX),
                Some('?') => (0, 1),
                _ => (1, 1),
            };
            if max != 1 || min != 1 {
                i += 1;
            }
            out.push(Piece { atom, min, max });
        }
        Ok(out)
    }

    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let starts: Vec<usize> = if self.anchored_start {
            vec![0]
        } else {
            (0..=chars.len()).collect()
        };
        self.group.iter().any(|alt| {
            let seq: Vec<Piece> = self
                .before
                .iter()
                .chain(alt)
                .chain(&self.after)
                .cloned()
                .collect();
            starts
                .iter()
                .any(|&s| Self::run(&seq, &chars[s..], self.anchored_end))
        })
    }

    /// Backtracking match of `seq` at the start of `text`.
    fn run(seq: &[Piece], text: &[char], to_end: bool) -> bool {
        let Some((p, rest)) = seq.split_first() else {
            return !to_end || text.is_empty();
        };
        let most = text
            .iter()
            .take(p.max)
            .take_while(|c| p.atom.matches(**c))
            .count();
        (p.min..=most)
            .rev()
            .any(|n| Self::run(rest, &text[n..], to_end))
    }
}

#[test]
fn patterns_match_as_ecma_regular_expressions_do() {
    let cases: [(&str, &str, bool); 14] = [
        ("^[a-z0-9-]+$", "rt-x-1", true),
        ("^[a-z0-9-]+$", "Rt", false),
        ("^[a-z0-9-]+$", "", false),
        ("^ok\\([+]?[0-9]+\\)$", "ok(16384)", true),
        ("^ok\\([+]?[0-9]+\\)$", "ok(+5)", true),
        ("^ok\\([+]?[0-9]+\\)$", "ok()", false),
        ("^ok\\([+]?[0-9]+\\)$", "ok(1)x", false),
        (
            "^(ssl|skip|crash)\\(.*\\)$",
            "ssl(protocol is shutdown)",
            true,
        ),
        ("^(ssl|skip|crash)\\(.*\\)$", "crash()", true),
        ("^(ssl|skip|crash)\\(.*\\)$", "ssl(x", false),
        ("^(ssl|skip|crash)\\(.*\\)$", "sslx(y)", false),
        ("[^ \t\r\n]", "  why ", true),
        ("[^ \t\r\n]", " \t", false),
        ("^[^\u{0}-\u{1f}\u{7f}-\u{9f}]*$", "AES128-SHA\u{0}x", false),
    ];
    for (p, text, want) in cases {
        assert_eq!(
            Pattern::parse(p).unwrap().is_match(text),
            want,
            "{p:?} on {text:?}"
        );
    }
    for unsupported in ["a{2}", "\\d+", "(a)(b)", "[a-z"] {
        assert!(Pattern::parse(unsupported).is_err(), "{unsupported}");
    }
}
