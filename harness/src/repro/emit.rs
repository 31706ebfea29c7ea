//! The generated part of a reproducer: the header (build and run line, what the run is, what
//! the generator leaves out), the run's configuration and one C statement per step.

use std::fmt::Write as _;

use super::{Refusal, RUNTIME_C};
use crate::certs::KeyType;
use crate::contract::{Modes, Role, Tls};
use crate::payload::Content;
use crate::runner::conn_config;
use crate::scenario::{Api, RunKey, Scenario, Step};
use crate::sessions::SessionPool;

/// A run that can be expressed, with its C statements.
pub struct Emitter<'a> {
    scenario: &'a Scenario,
    key: &'a RunKey,
    statements: Vec<String>,
}

/// A C string literal of `s` (printable ASCII kept, everything else escaped).
fn c_str(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'?' => out.push_str("\\?"), // no trigraphs
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}

/// A C array literal of `bytes` (at least one): `(const unsigned char[]){0x68, 0x65}`.
fn c_bytes(bytes: &[u8]) -> String {
    let items: Vec<String> = bytes.iter().map(|b| format!("{b:#04x}")).collect();
    format!("(const unsigned char[]){{{}}}", items.join(", "))
}

/// A server certificate's key type as the C runtime names it.
fn key_type(k: KeyType) -> &'static str {
    match k {
        KeyType::Ed25519 => "KEY_ED25519",
        KeyType::P256 => "KEY_P256",
        KeyType::Rsa2048 => "KEY_RSA2048",
    }
}

/// An optional text as a C string literal, or NULL.
fn c_str_or_null(s: Option<&str>) -> String {
    s.map_or_else(|| "NULL".to_string(), c_str)
}

fn api(a: Api) -> &'static str {
    match a {
        Api::Write => "API_WRITE",
        Api::WriteEx => "API_WRITE_EX",
    }
}

fn content(c: Content) -> &'static str {
    match c {
        Content::Stream => "STREAM",
        Content::Other => "OTHER",
    }
}

/// The four mode flags as the fields of a `struct modes`.
fn mode_fields(m: Modes) -> String {
    format!(
        ".partial_write = {}, .moving_buffer = {}, .auto_retry = {}, .release_buffers = {}",
        u8::from(m.partial_write),
        u8::from(m.moving_buffer),
        u8::from(m.auto_retry),
        u8::from(m.release_buffers)
    )
}

fn or_none<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-1".to_string(), |x| x.to_string())
}

/// The C statement that plays step `i`, or why there is none.
fn statement(i: usize, step: &Step) -> Result<String, Refusal> {
    let op = c_str(&step.short());
    let call = match step {
        Step::Handshake { .. } => format!("do_handshake(r, {i}, {op})"),
        Step::Write {
            len,
            buf,
            content: c,
            ..
        } => format!(
            "do_write(r, {i}, {op}, API_WRITE, {buf}, {}, {})",
            len.0,
            content(*c)
        ),
        Step::WriteEx {
            len,
            buf,
            content: c,
            ..
        } => format!(
            "do_write(r, {i}, {op}, API_WRITE_EX, {buf}, {}, {})",
            len.0,
            content(*c)
        ),
        Step::WriteNegative { num, .. } => format!("do_write_negative(r, {i}, {op}, {num})"),
        Step::WriteAll {
            len,
            buf,
            api: a,
            drain,
            max_calls,
            ..
        } => format!(
            "do_write_all(r, {i}, {op}, {}, {buf}, {}, {}, {max_calls})",
            api(*a),
            len.0,
            or_none(drain.map(|d| d.0))
        ),
        Step::WriteStream {
            total,
            chunk,
            api: a,
            drain,
            ..
        } => format!(
            "do_write_stream(r, {i}, {op}, {}, {total}ULL, {}, {})",
            api(*a),
            chunk.0,
            or_none(drain.map(|d| d.0))
        ),
        Step::Read { len, .. } => format!("do_read(r, {i}, {op}, {})", len.0),
        Step::Shutdown { .. } => format!("do_shutdown(r, {i}, {op})"),
        Step::KeyUpdate { requested, .. } => {
            format!("do_key_update(r, {i}, {op}, {})", u8::from(*requested))
        }
        Step::Renegotiate { .. } => format!("do_renegotiate(r, {i}, {op})"),
        Step::NewSessionTicket { .. } => format!("do_new_session_ticket(r, {i}, {op})"),
        Step::ErrorAgain { .. } => format!("do_error_again(r, {i}, {op})"),
        Step::DirtyErrorQueue {} => format!("do_dirty_error_queue(r, {i}, {op})"),
        Step::SetModes { modes: m, .. } => format!(
            "do_set_modes(r, {i}, {op}, (struct modes){{{}}})",
            mode_fields(*m)
        ),
        Step::WriteEarly { len, buf, .. } => {
            format!("do_write_early(r, {i}, {op}, {buf}, {})", len.0)
        }
        Step::ReadEarly { len, .. } => format!("do_read_early(r, {i}, {op}, {})", len.0),
        Step::PeerWriteEarly { len } => format!("do_peer_write_early(r, {i}, {op}, {})", len.0),
        Step::PeerRead { len } => {
            format!("do_peer_read(r, {i}, {op}, {})", or_none(len.map(|l| l.0)))
        }
        Step::PeerStopReading {} => "do_peer_reading(r, 0)".to_string(),
        Step::PeerResumeReading {} => "do_peer_reading(r, 1)".to_string(),
        Step::PeerWrite { len } => format!("do_peer_write(r, {i}, {op}, {})", len.0),
        Step::PeerShutdown {} => format!("do_peer_shutdown(r, {i}, {op})"),
        Step::PeerFin {} => "do_peer_fin(r)".to_string(),
        Step::PeerClose {} => "do_peer_close(r)".to_string(),
        Step::PeerReset {} => "do_peer_reset(r)".to_string(),
        Step::PeerRenegotiate {} => format!("do_peer_renegotiate(r, {i}, {op})"),
        Step::PeerKeyUpdate { requested } => {
            format!("do_peer_key_update(r, {i}, {op}, {})", u8::from(*requested))
        }
        Step::PeerNewSessionTicket {} => format!("do_peer_new_session_ticket(r, {i}, {op})"),
        Step::PeerFatalAlert {} => format!("do_peer_fatal_alert(r, {i}, {op})"),
        Step::InjectMalformed {} => "do_inject_malformed(r)".to_string(),
        Step::InjectRecord {
            content_type,
            version,
            payload,
            len,
        } => {
            let (bytes, n) = match payload {
                Some(p) if !p.0.is_empty() => (c_bytes(&p.0), p.0.len()),
                Some(_) => ("NULL".to_string(), 0),
                None => ("NULL".to_string(), usize::from(len.unwrap_or(0))),
            };
            format!(
                "do_inject_record(r, {content_type}, {:#06x}, {bytes}, {n})",
                version.0
            )
        }
        Step::PeerWriteSplit { len, first } => format!(
            "do_peer_write_split(r, {i}, {op}, {}, {})",
            len.get(),
            first.get()
        ),
        Step::Transport {
            capacity_to_peer,
            capacity_to_impl,
            blocking,
            trickle,
            zero_writes,
        } => format!(
            "do_transport(r, {}, {}, {}, {}, {})",
            or_none(capacity_to_peer.map(|c| c.0)),
            or_none(capacity_to_impl.map(|c| c.0)),
            or_none(blocking.map(u8::from)),
            or_none(trickle.map(|t| t.0)),
            or_none(*zero_writes)
        ),
        Step::PeerEmptyRecord {} => format!("do_peer_empty_record(r, {i}, {op})"),
        Step::PeerWarningAlert { description } => format!(
            "do_peer_warning_alert(r, {i}, {op}, {})",
            description.unwrap_or(crate::record::USER_CANCELED)
        ),
        // A kind added to the model after this generator is refused until it is taught to
        // emit it (today every kind is above, hence the allow).
        #[allow(unreachable_patterns)]
        other => {
            return Err(Refusal::Step {
                index: i,
                op: other.short(),
                why: "the reproducer's generator does not know this step kind",
            })
        }
    };
    Ok(format!("    STEP({call});"))
}

/// Buffer slot sizes as the runner allocates them: each numbered slot at the largest write
/// from it, then `write_stream`'s; at least one byte each.
fn slot_sizes(s: &Scenario) -> Vec<u64> {
    let mut sizes: Vec<u64> = Vec::new();
    for step in &s.steps {
        if let Step::Write { len, buf, .. }
        | Step::WriteEx { len, buf, .. }
        | Step::WriteAll { len, buf, .. }
        | Step::WriteEarly { len, buf, .. } = step
        {
            let b = usize::from(*buf);
            if sizes.len() <= b {
                sizes.resize(b + 1, 0);
            }
            sizes[b] = sizes[b].max(len.0);
        }
    }
    let stream = s
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::WriteStream { chunk, .. } => Some(chunk.0),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    sizes.push(stream);
    sizes.into_iter().map(|n| n.max(1)).collect()
}

/// The `connection`, `connection.peer` and `transport` fields the generator expresses.
const CONNECTION_FIELDS: [&str; 11] = [
    "max_send_fragment",
    "set_state",
    "no_renegotiation",
    "allow_client_renegotiation",
    "cipher",
    "no_encrypt_then_mac",
    "max_fragment_length",
    "block_padding",
    "early_data",
    "resume",
    "peer",
];
const PEER_FIELDS: [&str; 5] = [
    "refuse_client_renegotiation",
    "tls13_tickets",
    "key",
    "cipher",
    "groups",
];
const TRANSPORT_FIELDS: [&str; 4] = [
    "capacity",
    "capacity_to_peer",
    "capacity_to_impl",
    "blocking",
];

/// The first field of `section` (as serde writes it) that is not among `known` and differs
/// from its default: an option added to the model after the generator.
fn unknown_field<T: serde::Serialize + Default>(
    section: &'static str,
    value: &T,
    known: &[&str],
) -> Result<(), Refusal> {
    let (Ok(serde_json::Value::Object(now)), Ok(serde_json::Value::Object(default))) = (
        serde_json::to_value(value),
        serde_json::to_value(T::default()),
    ) else {
        return Ok(());
    };
    match now
        .iter()
        .find(|(k, v)| !known.contains(&k.as_str()) && default.get(*k) != Some(*v))
    {
        Some((field, _)) => Err(Refusal::Field {
            section,
            field: field.clone(),
        }),
        None => Ok(()),
    }
}

impl<'a> Emitter<'a> {
    /// The statements of run `key`, or why it cannot be expressed.
    pub fn new(scenario: &'a Scenario, key: &'a RunKey) -> Result<Emitter<'a>, Refusal> {
        unknown_field("connection", &scenario.connection, &CONNECTION_FIELDS)?;
        unknown_field("transport", &scenario.transport, &TRANSPORT_FIELDS)?;
        unknown_field("connection.peer", &scenario.connection.peer, &PEER_FIELDS)?;
        let statements = scenario
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| statement(i, s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Emitter {
            scenario,
            key,
            statements,
        })
    }

    fn header(&self, observed: Option<(&str, &[String])>) -> String {
        let s = self.scenario;
        let k = self.key;
        let mut h = String::new();
        let _ = writeln!(h, "/* sslwrite reproducer: {k}");
        let _ = writeln!(h, " *");
        let _ = writeln!(h, " *   cc repro.c -lssl -lcrypto && ./a.out");
        let _ = writeln!(h, " *");
        let _ = writeln!(
            h,
            " * Another libssl: cc -I PREFIX/include repro.c -L PREFIX/lib64 -Wl,-rpath,PREFIX/lib64 -lssl -lcrypto"
        );
        let _ = writeln!(h, " *");
        let file = s
            .path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        let _ = writeln!(h, " * Scenario {} ({file}): {}", s.id, s.title);
        let clauses: Vec<String> = s.clauses.iter().map(ToString::to_string).collect();
        let _ = writeln!(h, " * Clauses: {}", clauses.join(", "));
        let role = match k.role {
            Role::Client => "client",
            Role::Server => "server",
        };
        let tls = match k.tls {
            Tls::V12 => "1.2",
            Tls::V13 => "1.3",
        };
        let _ = writeln!(
            h,
            " * Run: TLS {tls}; the implementation under test is the {role}, modes {}; the peer is",
            k.modes
        );
        let _ = writeln!(
            h,
            " * the other role of the same libssl (partial writes, moving buffer, auto retry)."
        );
        let _ = writeln!(h, " *");
        let _ = writeln!(
            h,
            " * It prints one line per step of the implementation under test, STEP OP OUTCOME ret=RET,"
        );
        let _ = writeln!(
            h,
            " * in the harness's vocabulary (ok(n), want_read, want_write, zero_return, syscall,"
        );
        let _ = writeln!(
            h,
            " * ssl(reason), deadlock), then how the run ended and what the peer's application read."
        );
        if let Some((who, lines)) = observed {
            let _ = writeln!(h, " *");
            let _ = writeln!(h, " * What the harness observed ({who}):");
            for l in lines {
                let _ = writeln!(h, " *   {}", l.replace("*/", "* /"));
            }
        }
        let _ = writeln!(h, " *");
        let _ = writeln!(
            h,
            " * Generated by `cargo xtask repro {k}`. Not expressed (such runs are refused): the TCP"
        );
        let _ = writeln!(
            h,
            " * transport, and step kinds or options the generator does not know (added to the"
        );
        let _ = writeln!(h, " * harness after it).");
        let _ = writeln!(h, " */");
        h
    }

    fn config(&self) -> String {
        let s = self.scenario;
        let cfg = conn_config(s, self.key);
        let t = &s.transport;
        let cap = |one: Option<crate::scenario::Capacity>| one.unwrap_or(t.capacity).0;
        let sizes: Vec<String> = slot_sizes(s).iter().map(u64::to_string).collect();
        let mut c = String::new();
        let _ = writeln!(
            c,
            "static const size_t SLOT_SIZES[] = {{{}}};",
            sizes.join(", ")
        );
        let _ = writeln!(c);
        let _ = writeln!(c, "static const struct run_config CONFIG = {{");
        let _ = writeln!(c, "    .conn = {{");
        let _ = writeln!(
            c,
            "        .role = {},",
            match cfg.role {
                Role::Client => "CLIENT",
                Role::Server => "SERVER",
            }
        );
        let _ = writeln!(
            c,
            "        .tls = {},",
            match cfg.tls {
                Tls::V12 => "TLS12",
                Tls::V13 => "TLS13",
            }
        );
        let _ = writeln!(c, "        .modes = {{{}}},", mode_fields(cfg.modes));
        let _ = writeln!(
            c,
            "        .max_send_fragment = {},",
            cfg.max_send_fragment.unwrap_or(0)
        );
        let _ = writeln!(c, "        .set_state = {},", u8::from(cfg.set_state));
        let _ = writeln!(
            c,
            "        .no_renegotiation = {},",
            u8::from(cfg.no_renegotiation)
        );
        let _ = writeln!(
            c,
            "        .allow_client_renegotiation = {},",
            u8::from(cfg.allow_client_renegotiation)
        );
        let _ = writeln!(
            c,
            "        .cipher = {},",
            c_str_or_null(cfg.cipher.as_deref())
        );
        let _ = writeln!(
            c,
            "        .no_encrypt_then_mac = {},",
            u8::from(cfg.no_encrypt_then_mac)
        );
        let _ = writeln!(
            c,
            "        .max_fragment_length = {},",
            cfg.max_fragment_length.unwrap_or(0)
        );
        let _ = writeln!(
            c,
            "        .block_padding = {},",
            cfg.block_padding.unwrap_or(0)
        );
        let _ = writeln!(
            c,
            "        .tls13_tickets = {},",
            or_none(cfg.tls13_tickets)
        );
        let _ = writeln!(c, "        .early_data = {},", u8::from(cfg.early_data));
        let _ = writeln!(c, "        .resume = {},", u8::from(cfg.resume));
        let _ = writeln!(
            c,
            "        .groups = {},",
            c_str_or_null(cfg.groups.as_deref())
        );
        let _ = writeln!(c, "        .key = {},", key_type(cfg.key));
        let _ = writeln!(c, "    }},");
        let p = &s.connection.peer;
        let _ = writeln!(c, "    .peer = {{");
        let _ = writeln!(
            c,
            "        .refuse_client_renegotiation = {},",
            u8::from(p.refuse_client_renegotiation)
        );
        let _ = writeln!(c, "        .tls13_tickets = {},", or_none(p.tls13_tickets));
        let _ = writeln!(c, "        .key = {},", key_type(p.key));
        let _ = writeln!(
            c,
            "        .cipher = {},",
            c_str_or_null(p.cipher.as_deref())
        );
        let _ = writeln!(
            c,
            "        .groups = {},",
            c_str_or_null(p.groups.as_deref())
        );
        let _ = writeln!(c, "    }},");
        let _ = writeln!(c, "    .capacity_to_peer = {},", cap(t.capacity_to_peer));
        let _ = writeln!(c, "    .capacity_to_impl = {},", cap(t.capacity_to_impl));
        let _ = writeln!(c, "    .blocking = {},", u8::from(t.blocking));
        let _ = writeln!(
            c,
            "    .first_tls13_tickets = {},",
            SessionPool::TLS13_TICKETS
        );
        let _ = writeln!(c, "    .nslots = {},", sizes.len());
        let _ = writeln!(c, "    .slot_sizes = SLOT_SIZES,");
        let _ = writeln!(c, "}};");
        c
    }

    /// The whole file.
    pub fn file(&self, observed: Option<(&str, &[String])>) -> String {
        let mut f = self.header(observed);
        f.push('\n');
        f.push_str(RUNTIME_C);
        f.push_str("\n/* ----- This run ---------------------------------------------------------------------------- */\n\n");
        f.push_str(&self.config());
        f.push_str("\n/* The steps, in order; 1 when the run ended early (a deadlock). */\n");
        f.push_str("static int play(struct run *r)\n{\n");
        for (stmt, step) in self.statements.iter().zip(&self.scenario.steps) {
            let mut v = serde_json::to_value(step).unwrap_or_default();
            crate::scenario::strip_nulls(&mut v);
            let json = v.to_string();
            let _ = writeln!(f, "    /* {} */", json.replace("*/", "* /"));
            f.push_str(stmt);
            f.push('\n');
        }
        f.push_str(
            "    return 0;\n}\n\nint main(void)\n{\n    return repro_main(&CONFIG, play);\n}\n",
        );
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_option_the_generator_does_not_know_is_refused_unless_it_has_its_default() {
        #[derive(serde::Serialize, Default)]
        struct Later {
            cipher: Option<String>,
            key_type: Option<String>,
        }
        let plain = Later::default();
        assert_eq!(
            unknown_field("connection", &plain, &CONNECTION_FIELDS),
            Ok(())
        );
        let set = Later {
            key_type: Some("rsa".into()),
            cipher: Some("X".into()),
        };
        let e = unknown_field("connection", &set, &CONNECTION_FIELDS).unwrap_err();
        assert_eq!(
            e.to_string(),
            "connection.key_type is not expressed: the reproducer's generator does not know this option"
        );
        // Every field of today's model is known, whatever its value.
        let all: crate::scenario::ConnectionSpec = serde_json::from_str(
            r#"{"max_send_fragment": 512, "set_state": false, "no_renegotiation": true,
                "allow_client_renegotiation": true, "cipher": "X", "no_encrypt_then_mac": true,
                "max_fragment_length": 512, "block_padding": 16, "early_data": true, "resume": true,
                "peer": {"refuse_client_renegotiation": true, "tls13_tickets": 3, "key": "p256",
                    "cipher": "Y", "groups": "X25519"}}"#,
        )
        .unwrap();
        assert_eq!(
            unknown_field("connection", &all, &CONNECTION_FIELDS),
            Ok(())
        );
        assert_eq!(
            unknown_field("connection.peer", &all.peer, &PEER_FIELDS),
            Ok(())
        );
        let later = Later {
            key_type: Some("rsa".into()),
            cipher: None,
        };
        assert_eq!(
            unknown_field("connection.peer", &later, &PEER_FIELDS)
                .unwrap_err()
                .to_string(),
            "connection.peer.key_type is not expressed: the reproducer's generator does not know this option"
        );
        let t: crate::scenario::TransportSpec = serde_json::from_str(
            r#"{"capacity": 1, "capacity_to_peer": 2, "capacity_to_impl": 3, "blocking": true}"#,
        )
        .unwrap();
        assert_eq!(unknown_field("transport", &t, &TRANSPORT_FIELDS), Ok(()));
    }

    #[test]
    fn c_strings_escape_quotes_backslashes_and_bytes_outside_ascii() {
        assert_eq!(c_str(r#"a"b\c?"#), r#""a\"b\\c\?""#);
        assert_eq!(c_str("é"), "\"\\303\\251\"");
    }
}
