//! Turns fuzzer bytes into a *valid* scenario: a write sequence that means something.
//!
//! The generator tracks the connection's state as it goes (TLS version, whether a write is
//! pending and with which arguments, whether either side has closed) so that it emits retries
//! with the same arguments, renegotiation only under TLS 1.2, KeyUpdate only under TLS 1.3,
//! and closing actions towards the end. The result is an ordinary [`Scenario`]: the runner plays
//! it like any file, and `cargo xtask replay` writes it out as one.

use arbitrary::{Result, Unstructured};

use super::narrow::{Feature, Narrowing};
use crate::contract::{Modes, Role, Tls};
use crate::payload::Content;
use crate::scenario::{
    Api, Capacity, ClauseId, ConnectionSpec, Len, RunKey, Scenario, Step, TransportSpec,
};

/// A generated scenario and the one run of it to play.
#[derive(Clone, Debug)]
pub struct Generated {
    pub scenario: Scenario,
    pub key: RunKey,
}

impl Generated {
    /// The run as known entries see it: in memory, with the generated script.
    pub fn scope(&self) -> crate::known::Scope<'_> {
        crate::known::Scope::new(
            &self.key,
            crate::transport::TransportKind::Memory,
            &self.scenario.steps,
        )
    }
}

/// Write sizes that sit on the interesting boundaries (records, capacities), plus any. Most
/// stay within a few records: an execution's cost is mostly the bytes it moves.
const SIZES: [u64; 11] = [
    0, 1, 100, 1000, 4096, 16383, 16384, 16385, 20000, 32768, 40000,
];
/// The rare large write (several records, beyond a 64 KiB buffer).
const LARGE: u64 = 100_000;
const CAPACITIES: [u64; 7] = [1, 60, 4096, 16384, 20000, 40000, 1 << 20];
/// A blocking transport models a socket, whose kernel buffers hold at least a few KiB: with a
/// few bytes both ways, two peers that both write first wait on each other for ever (scenario
/// io-blocking-* and the known entry for it cover that case on purpose).
const BLOCKING_CAPACITIES: [u64; 5] = [4096, 16384, 20000, 40000, 1 << 20];
/// Most steps one input may produce: keeps one execution short.
const MAX_STEPS: u32 = 24;

/// The id every generated scenario carries (known-divergence entries for the fuzzer match it).
pub const FUZZ_ID: &str = "fuzz";

struct State<'a> {
    tls: Tls,
    role: Role,
    narrowing: &'a Narrowing,
    blocking: bool,
    /// Arguments of the last write that asked for a retry.
    pending: Option<(u64, u8, Api, Content)>,
    closed: bool,
    clauses: Vec<&'static str>,
}

impl State<'_> {
    fn can(&self, f: Feature) -> bool {
        self.narrowing.can(self.tls, self.role, f)
    }

    fn cite(&mut self, c: &'static str) {
        if !self.clauses.contains(&c) {
            self.clauses.push(c);
        }
    }
}

fn size(u: &mut Unstructured) -> Result<u64> {
    match u.int_in_range(0..=15u8)? {
        0 => Ok(LARGE),
        1 | 2 => u.int_in_range(0..=50_000),
        _ => Ok(*u.choose(&SIZES)?),
    }
}

fn len(n: u64) -> Len {
    Len(n.min(crate::scenario::MAX_LEN))
}

/// Modes drawn from the bytes, with the ones the set cannot do left at their defaults (the
/// same bytes are drawn either way, so the rest of an input decodes as it would unnarrowed).
fn modes(u: &mut Unstructured, n: &Narrowing, tls: Tls, role: Role) -> Result<Modes> {
    let can = |f| n.can(tls, role, f);
    let partial_write: bool = u.arbitrary()?;
    let moving_buffer = u.ratio(1, 3)?;
    let auto_retry = !u.ratio(1, 4)?;
    let release_buffers = u.ratio(1, 8)?;
    Ok(Modes {
        partial_write: partial_write && can(Feature::PartialWrite),
        moving_buffer: moving_buffer && can(Feature::MovingBuffer),
        auto_retry: auto_retry || !can(Feature::NoAutoRetry),
        release_buffers: release_buffers && can(Feature::ReleaseBuffers),
    })
}

/// Builds a scenario from the fuzzer's bytes, with every feature the generator knows.
pub fn generate(u: &mut Unstructured) -> Result<Generated> {
    generate_for(u, &Narrowing::none())
}

/// The TLS version and role nearest to the drawn ones that every implementation of the set
/// can connect with: the other role, then the other version.
fn connectable(n: &Narrowing, tls: Tls, role: Role) -> Option<(Tls, Role)> {
    let other_role = match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let other_tls = match tls {
        Tls::V12 => Tls::V13,
        Tls::V13 => Tls::V12,
    };
    [
        (tls, role),
        (tls, other_role),
        (other_tls, role),
        (other_tls, other_role),
    ]
    .into_iter()
    .find(|&(t, r)| n.can(t, r, Feature::Connect))
}

/// Builds a scenario from the fuzzer's bytes, producing only what every implementation of the
/// set can do (see [`Narrowing`]): a feature the set lacks is replaced by its nearest
/// neighbour (`write_ex` by `write`, `key_update` by the peer's, an option by its default).
pub fn generate_for(u: &mut Unstructured, narrowing: &Narrowing) -> Result<Generated> {
    let tls = if u.arbitrary()? { Tls::V13 } else { Tls::V12 };
    let role = if u.ratio(1, 3)? {
        Role::Server
    } else {
        Role::Client
    };
    let (tls, role) = connectable(narrowing, tls, role).ok_or(arbitrary::Error::IncorrectFormat)?;
    let run_modes = modes(u, narrowing, tls, role)?;
    let blocking = u.ratio(1, 10)? && narrowing.can(tls, role, Feature::Blocking);
    let capacity = if blocking {
        *u.choose(&BLOCKING_CAPACITIES)?
    } else {
        *u.choose(&CAPACITIES)?
    };
    let max_send_fragment = if u.ratio(1, 8)? {
        Some(*u.choose(&[512u16, 4096])?)
    } else {
        None
    }
    .filter(|_| narrowing.can(tls, role, Feature::MaxSendFragment));
    let mut st = State {
        tls,
        role,
        narrowing,
        blocking,
        pending: None,
        closed: false,
        clauses: vec!["W1"],
    };
    if blocking {
        st.cite("W3");
    }
    if max_send_fragment.is_some() {
        st.cite("W13");
    }
    let mut steps = Vec::new();
    if u.ratio(4, 5)? {
        steps.push(Step::Handshake {
            expect: None,
            clause: None,
        });
    } else {
        st.cite("W2");
    }
    let n = u.int_in_range(1..=MAX_STEPS)?;
    for _ in 0..n {
        if u.is_empty() {
            break;
        }
        let drawn = step(u, &mut st)?;
        steps.push(fit(&st, drawn));
    }
    if steps.is_empty() {
        steps.push(Step::Handshake {
            expect: None,
            clause: None,
        });
    }
    // Most inputs resume a session: an abbreviated handshake costs a tenth (TLS 1.2) or a
    // half (TLS 1.3) of a full one, and the fuzzer's session pool reuses sessions across
    // executions. Drawn last, so the rest of an input decodes as it did before.
    let resume = u.ratio(7, 8)? && narrowing.can(tls, role, Feature::Resume);
    let clauses = st
        .clauses
        .iter()
        .map(|c| ClauseId((*c).to_string()))
        .collect();
    let scenario = Scenario {
        id: FUZZ_ID.to_string(),
        title: "generated write sequence".to_string(),
        clauses,
        situations: Vec::new(),
        tls: vec![tls],
        modes: vec![run_modes],
        roles: vec![role],
        transport: TransportSpec {
            capacity: Capacity(capacity),
            capacity_to_peer: None,
            capacity_to_impl: None,
            blocking,
        },
        connection: ConnectionSpec {
            max_send_fragment,
            resume,
            ..ConnectionSpec::default()
        },
        steps,
        generated: true,
        editor_schema: None,
        memory_only: None,
        path: Default::default(),
    };
    let key = RunKey {
        id: FUZZ_ID.to_string(),
        tls,
        role,
        modes: run_modes,
    };
    Ok(Generated { scenario, key })
}

fn write_step(api: Api, n: u64, buf: u8, content: Content) -> Step {
    match api {
        Api::Write => Step::Write {
            len: len(n),
            buf,
            content,
            expect: None,
            clause: None,
        },
        Api::WriteEx => Step::WriteEx {
            len: len(n),
            buf,
            content,
            expect: None,
            clause: None,
        },
    }
}

fn step(u: &mut Unstructured, st: &mut State) -> Result<Step> {
    // A pending write is retried most of the time, as the contract tells callers to.
    if let Some((n, buf, api, content)) = st.pending {
        if u.ratio(2, 3)? {
            if !u.ratio(1, 2)? {
                // Let the peer drain first, then retry.
                return Ok(Step::PeerRead {
                    len: if u.arbitrary()? {
                        None
                    } else {
                        Some(len(size(u)?.max(1)))
                    },
                });
            }
            st.cite("W6");
            let (n, buf) = match u.int_in_range(0..=9)? {
                0 => (n / 2, buf),        // shorter (RT-2)
                1 => (n, 1 - buf.min(1)), // another buffer (RT-3)
                2 => (n + 1000, buf),     // longer (RT-5)
                _ => (n, buf),            // the same arguments (RT-1)
            };
            st.pending = None;
            // The same bytes: changing them between retries is the caller breaking W6 (RT-4
            // covers that in a scenario), not something to blame an implementation for.
            return Ok(write_step(api, n, buf, content));
        }
    }
    let choice = u.int_in_range(0..=99)?;
    Ok(match choice {
        0..=29 => {
            let n = size(u)?;
            if n == 0 {
                st.cite("W9");
            }
            let api = if u.arbitrary()? || !st.can(Feature::WriteEx) {
                Api::Write
            } else {
                Api::WriteEx
            };
            let buf = u8::from(u.ratio(1, 4)?);
            // Always the stream's bytes: a write that changes the bytes of a pending one is
            // the caller breaking W6 (scenario rt-moving-other-bytes covers it), and would
            // make I1 blame the implementation for the caller's mistake.
            let content = Content::Stream;
            st.cite("W4");
            st.pending = (n > 0 && !st.closed).then_some((n, buf, api, content));
            write_step(api, n, buf, content)
        }
        30..=39 => {
            st.cite("W6");
            st.pending = None;
            Step::WriteAll {
                len: len(size(u)?),
                buf: 0,
                api: if u.arbitrary()? || !st.can(Feature::WriteEx) {
                    Api::Write
                } else {
                    Api::WriteEx
                },
                drain: if u.arbitrary()? {
                    None
                } else {
                    Some(len(u.int_in_range(1..=20_000)?))
                },
                max_calls: 2000,
                expect: None,
                clause: None,
            }
        }
        40..=54 => Step::PeerRead {
            len: if u.arbitrary()? {
                None
            } else {
                Some(len(size(u)?.max(1)))
            },
        },
        55..=59 => Step::Read {
            len: len(u.int_in_range(1..=20_000)?),
            expect: None,
            clause: None,
        },
        60..=63 => Step::PeerWrite {
            len: len(u.int_in_range(1..=20_000)?),
        },
        64..=69 => Step::Transport {
            capacity_to_peer: Some(Capacity(if st.blocking {
                *u.choose(&BLOCKING_CAPACITIES)?
            } else {
                *u.choose(&CAPACITIES)?
            })),
            capacity_to_impl: None,
            blocking: None,
            trickle: if u.ratio(1, 4)? {
                Some(len(u.int_in_range(0..=3)?))
            } else {
                None
            },
            zero_writes: if u.ratio(1, 8)? { Some(1) } else { None },
        },
        70..=73 => {
            st.cite("W15");
            Step::SetModes {
                modes: modes(u, st.narrowing, st.tls, st.role)?,
                expect: None,
                clause: None,
            }
        }
        74..=81 => {
            st.cite("W5");
            match (st.tls, u.int_in_range(0..=3)?) {
                (Tls::V12, 0) => Step::Renegotiate {
                    expect: None,
                    clause: None,
                },
                (Tls::V12, _) => Step::PeerRenegotiate {},
                (Tls::V13, 0) => Step::KeyUpdate {
                    requested: u.arbitrary()?,
                    expect: None,
                    clause: None,
                },
                (Tls::V13, 1) => Step::PeerNewSessionTicket {},
                (Tls::V13, _) => Step::PeerKeyUpdate {
                    requested: u.arbitrary()?,
                },
            }
        }
        82..=84 => {
            st.cite("W10");
            Step::WriteNegative {
                num: -i32::from(u.int_in_range(1u16..=1000)?),
                expect: None,
                clause: None,
            }
        }
        _ => {
            st.cite("W11");
            st.closed = true;
            match u.int_in_range(0..=6)? {
                0 => Step::Shutdown {
                    expect: None,
                    clause: None,
                },
                1 => Step::PeerShutdown {},
                2 => Step::PeerFin {},
                3 => Step::PeerClose {},
                4 => Step::PeerReset {},
                5 => {
                    st.cite("W12");
                    Step::PeerFatalAlert {}
                }
                _ => {
                    st.cite("W12");
                    Step::InjectMalformed {}
                }
            }
        }
    })
}

/// The drawn step, or its nearest neighbour where the set cannot do it: the other party's
/// version of the same event, else a close of another kind, else a peer read (which every
/// implementation can be put through and which changes nothing by itself).
fn fit(st: &State, step: Step) -> Step {
    let neutral = || Step::PeerRead { len: None };
    let either = |own: Feature, theirs: Feature, a: Step, b: Step| {
        if st.can(own) {
            a
        } else if st.can(theirs) {
            b
        } else {
            neutral()
        }
    };
    match step {
        Step::WriteNegative { .. } if !st.can(Feature::WriteNegative) => neutral(),
        Step::WriteAll { .. } if !st.can(Feature::WriteAll) => neutral(),
        Step::Read { .. } if !st.can(Feature::Read) => neutral(),
        Step::PeerWrite { .. } if !st.can(Feature::PeerWrite) => neutral(),
        Step::SetModes { .. } if !st.can(Feature::SetModes) => neutral(),
        Step::PeerNewSessionTicket {} if !st.can(Feature::PeerNewSessionTicket) => neutral(),
        Step::Renegotiate { .. } => either(
            Feature::Renegotiate,
            Feature::PeerRenegotiate,
            step,
            Step::PeerRenegotiate {},
        ),
        Step::PeerRenegotiate {} => either(
            Feature::PeerRenegotiate,
            Feature::Renegotiate,
            step,
            Step::Renegotiate {
                expect: None,
                clause: None,
            },
        ),
        Step::KeyUpdate { requested, .. } => either(
            Feature::KeyUpdate,
            Feature::PeerKeyUpdate,
            step,
            Step::PeerKeyUpdate { requested },
        ),
        Step::PeerKeyUpdate { requested } => either(
            Feature::PeerKeyUpdate,
            Feature::KeyUpdate,
            step,
            Step::KeyUpdate {
                requested,
                expect: None,
                clause: None,
            },
        ),
        Step::Shutdown { .. }
        | Step::PeerShutdown {}
        | Step::PeerFin {}
        | Step::PeerClose {}
        | Step::PeerReset {}
        | Step::PeerFatalAlert {}
        | Step::InjectMalformed {}
            if !st.can(closing_feature(&step)) =>
        {
            [
                (Feature::PeerClose, Step::PeerClose {}),
                (Feature::PeerFin, Step::PeerFin {}),
            ]
            .into_iter()
            .find(|(f, _)| st.can(*f))
            .map_or_else(neutral, |(_, s)| s)
        }
        other => other,
    }
}

fn closing_feature(step: &Step) -> Feature {
    match step {
        Step::Shutdown { .. } => Feature::Shutdown,
        Step::PeerShutdown {} => Feature::PeerShutdown,
        Step::PeerFin {} => Feature::PeerFin,
        Step::PeerClose {} => Feature::PeerClose,
        Step::PeerReset {} => Feature::PeerReset,
        Step::PeerFatalAlert {} => Feature::PeerFatalAlert,
        _ => Feature::InjectMalformed,
    }
}

/// Deterministic pseudo-random bytes for seeded loops (tests, corpus seeds, benchmarks).
pub fn seed_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 8);
    let mut x = seed;
    while out.len() < n {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a set lacks is never generated, in any TLS version and role, and the same bytes
    /// still make a scenario.
    #[test]
    fn a_narrowed_generator_never_produces_what_the_set_lacks() {
        use crate::fuzzing::narrow::{Lack, Why};
        let mut n = Narrowing::none();
        let lacks = [
            Feature::WriteEx,
            Feature::SetModes,
            Feature::MaxSendFragment,
            Feature::Renegotiate,
            Feature::KeyUpdate,
            Feature::WriteNegative,
            Feature::PartialWrite,
        ];
        for tls in [Tls::V12, Tls::V13] {
            for role in [Role::Client, Role::Server] {
                for feature in lacks {
                    n.add(Lack {
                        implementation: "x".into(),
                        tls,
                        role,
                        feature,
                        why: Why::Skip,
                        reason: "test".into(),
                    });
                }
            }
        }
        // TLS 1.3 servers cannot connect at all: every input becomes another role or version.
        n.add(Lack {
            implementation: "x".into(),
            tls: Tls::V13,
            role: Role::Server,
            feature: Feature::Connect,
            why: Why::Skip,
            reason: "test".into(),
        });
        let (mut made, mut unnarrowed_had) = (0, 0);
        for seed in 0..400 {
            let bytes = seed_bytes(seed, 512);
            let plain = generate(&mut Unstructured::new(&bytes)).expect("enough bytes");
            let g = generate_for(&mut Unstructured::new(&bytes), &n).expect("enough bytes");
            made += 1;
            let forbidden = |s: &Scenario| {
                s.steps.iter().any(|st| {
                    matches!(
                        st,
                        Step::WriteEx { .. }
                            | Step::SetModes { .. }
                            | Step::Renegotiate { .. }
                            | Step::KeyUpdate { .. }
                            | Step::WriteNegative { .. }
                            | Step::WriteAll {
                                api: Api::WriteEx,
                                ..
                            }
                    )
                }) || s.connection.max_send_fragment.is_some()
                    || s.modes.iter().any(|m| m.partial_write)
            };
            if forbidden(&plain.scenario) {
                unnarrowed_had += 1;
            }
            assert!(
                !forbidden(&g.scenario),
                "seed {seed}: {}",
                g.scenario.to_json()
            );
            assert!(
                !(g.key.tls == Tls::V13 && g.key.role == Role::Server),
                "seed {seed}: a TLS 1.3 server run"
            );
        }
        assert_eq!(made, 400);
        assert!(
            unnarrowed_had > 300,
            "the unnarrowed generator makes them: {unnarrowed_had}"
        );
    }

    #[test]
    fn generated_scenarios_are_valid_files() {
        for seed in 0..300 {
            let bytes = seed_bytes(seed, 512);
            let g = generate(&mut Unstructured::new(&bytes)).expect("enough bytes");
            let text = g.scenario.to_json();
            let back = Scenario::parse(std::path::Path::new("gen.json"), text.as_bytes())
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            assert_eq!(back.steps, g.scenario.steps, "seed {seed} round-trips");
        }
    }
}
