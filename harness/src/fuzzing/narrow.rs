//! What the generator may ask of a set of implementations.
//!
//! Like wasmtime's differential engines narrowing the shared configuration, the fuzzer asks
//! every implementation in the set, once per process, what it can do: for each TLS version and
//! role, one short probe run per step kind and option the generator can produce (a handshake,
//! then that step or under that option). A probe that the implementation answers with `skip`
//! (a missing entry point, a setting it refuses, a capability it lacks) takes that feature out
//! of the generator for the whole set, so executions are not spent on runs that stop at a skip.
//! Anything else the implementation answers, a failure included, is behaviour and stays in.
//! A probe the harness cannot set up (status `error`) takes the feature out too, and says so
//! as a harness problem: a generated run would only repeat that error, never show behaviour.
//!
//! The probes play the same drivers as the suite; the answer depends only on the libraries, so
//! a fuzz session and a later replay with the same `--impl` set generate the same scenarios.

use std::fmt;

use crate::contract::{Implementation, Modes, Role, Tls};
use crate::payload::Content;
use crate::runner::{self, RunStatus};
use crate::scenario::{
    Capacity, ClauseId, ConnectionSpec, Len, RunKey, Scenario, Step, TransportSpec,
};

/// A step kind or option the generator can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// The TLS version and role at all: a handshake with default settings.
    Connect,
    WriteEx,
    WriteNegative,
    WriteAll,
    Read,
    Shutdown,
    Renegotiate,
    KeyUpdate,
    SetModes,
    PeerWrite,
    PeerRenegotiate,
    PeerKeyUpdate,
    PeerNewSessionTicket,
    PeerShutdown,
    PeerFin,
    PeerClose,
    PeerReset,
    PeerFatalAlert,
    InjectMalformed,
    PartialWrite,
    MovingBuffer,
    NoAutoRetry,
    ReleaseBuffers,
    MaxSendFragment,
    Resume,
    Blocking,
}

impl Feature {
    pub const ALL: [Feature; 26] = [
        Feature::Connect,
        Feature::WriteEx,
        Feature::WriteNegative,
        Feature::WriteAll,
        Feature::Read,
        Feature::Shutdown,
        Feature::Renegotiate,
        Feature::KeyUpdate,
        Feature::SetModes,
        Feature::PeerWrite,
        Feature::PeerRenegotiate,
        Feature::PeerKeyUpdate,
        Feature::PeerNewSessionTicket,
        Feature::PeerShutdown,
        Feature::PeerFin,
        Feature::PeerClose,
        Feature::PeerReset,
        Feature::PeerFatalAlert,
        Feature::InjectMalformed,
        Feature::PartialWrite,
        Feature::MovingBuffer,
        Feature::NoAutoRetry,
        Feature::ReleaseBuffers,
        Feature::MaxSendFragment,
        Feature::Resume,
        Feature::Blocking,
    ];

    /// Whether the generator produces this feature under `tls` at all (renegotiation is TLS
    /// 1.2 only, key update and tickets TLS 1.3 only).
    fn applies(self, tls: Tls) -> bool {
        match self {
            Feature::Renegotiate | Feature::PeerRenegotiate => tls == Tls::V12,
            Feature::KeyUpdate | Feature::PeerKeyUpdate | Feature::PeerNewSessionTicket => {
                tls == Tls::V13
            }
            _ => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Feature::Connect => "handshake",
            Feature::WriteEx => "write_ex",
            Feature::WriteNegative => "write_negative",
            Feature::WriteAll => "write_all",
            Feature::Read => "read",
            Feature::Shutdown => "shutdown",
            Feature::Renegotiate => "renegotiate",
            Feature::KeyUpdate => "key_update",
            Feature::SetModes => "set_modes",
            Feature::PeerWrite => "peer_write",
            Feature::PeerRenegotiate => "peer_renegotiate",
            Feature::PeerKeyUpdate => "peer_key_update",
            Feature::PeerNewSessionTicket => "peer_new_session_ticket",
            Feature::PeerShutdown => "peer_shutdown",
            Feature::PeerFin => "peer_fin",
            Feature::PeerClose => "peer_close",
            Feature::PeerReset => "peer_reset",
            Feature::PeerFatalAlert => "peer_fatal_alert",
            Feature::InjectMalformed => "inject_malformed",
            Feature::PartialWrite => "mode partial_write",
            Feature::MovingBuffer => "mode moving_buffer",
            Feature::NoAutoRetry => "mode without auto_retry",
            Feature::ReleaseBuffers => "mode release_buffers",
            Feature::MaxSendFragment => "max_send_fragment",
            Feature::Resume => "resume",
            Feature::Blocking => "blocking transport",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a feature is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The implementation answered `skip`: it cannot do this.
    Skip,
    /// The harness could not set the probe up (run status `error`): a harness gap.
    HarnessError,
}

/// One thing an implementation cannot do, and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lack {
    pub implementation: String,
    pub tls: Tls,
    pub role: Role,
    pub feature: Feature,
    pub why: Why,
    pub reason: String,
}

impl fmt::Display for Lack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.why {
            Why::Skip => "cannot",
            Why::HarnessError => "the harness cannot set up",
        };
        write!(
            f,
            "{} {what} {} (TLS {} {}): {}",
            self.implementation, self.feature, self.tls, self.role, self.reason
        )
    }
}

/// The features some implementation of the set cannot do, per TLS version and role.
#[derive(Clone, Debug, Default)]
pub struct Narrowing {
    lacks: Vec<Lack>,
    cannot: Vec<(Tls, Role, Feature)>,
}

impl Narrowing {
    /// No narrowing: the generator produces everything it can (the seeded tests' mapping).
    pub fn none() -> Narrowing {
        Narrowing::default()
    }

    /// Probes every implementation of `impls` (with `reference` as the peer).
    pub fn probe(impls: &[Box<dyn Implementation>], reference: &dyn Implementation) -> Narrowing {
        let mut n = Narrowing::none();
        for imp in impls {
            for tls in [Tls::V12, Tls::V13] {
                for role in [Role::Client, Role::Server] {
                    for feature in Feature::ALL {
                        if !feature.applies(tls) {
                            continue;
                        }
                        if let Some((why, reason)) =
                            probe_one(imp.as_ref(), reference, tls, role, feature)
                        {
                            n.add(Lack {
                                implementation: imp.info().name,
                                tls,
                                role,
                                feature,
                                why,
                                reason,
                            });
                        }
                        if feature == Feature::Connect && !n.can(tls, role, Feature::Connect) {
                            break;
                        }
                    }
                }
            }
        }
        n
    }

    /// Records that one implementation cannot do `lack.feature`.
    pub fn add(&mut self, lack: Lack) {
        let key = (lack.tls, lack.role, lack.feature);
        if !self.cannot.contains(&key) {
            self.cannot.push(key);
        }
        self.lacks.push(lack);
    }

    /// Whether every implementation of the set can do `feature` under `tls` as `role`.
    pub fn can(&self, tls: Tls, role: Role, feature: Feature) -> bool {
        !self.cannot.contains(&(tls, role, Feature::Connect))
            && !self.cannot.contains(&(tls, role, feature))
    }

    /// What was taken out, one line per implementation and feature (the fuzz target prints it
    /// at start).
    pub fn lacks(&self) -> &[Lack] {
        &self.lacks
    }

    pub fn is_empty(&self) -> bool {
        self.lacks.is_empty()
    }
}

/// The probe run for `feature`; `Some` when the implementation skipped it or the harness could
/// not set it up.
fn probe_one(
    imp: &dyn Implementation,
    reference: &dyn Implementation,
    tls: Tls,
    role: Role,
    feature: Feature,
) -> Option<(Why, String)> {
    let mut modes = Modes {
        auto_retry: true,
        ..Modes::default()
    };
    let mut connection = ConnectionSpec::default();
    let mut transport = TransportSpec {
        capacity: Capacity(1 << 20),
        capacity_to_peer: None,
        capacity_to_impl: None,
        blocking: false,
    };
    let write = Step::Write {
        len: Len(1),
        buf: 0,
        content: Content::Stream,
        expect: None,
        clause: None,
    };
    let step = match feature {
        Feature::Connect => None,
        Feature::WriteEx => Some(Step::WriteEx {
            len: Len(1),
            buf: 0,
            content: Content::Stream,
            expect: None,
            clause: None,
        }),
        Feature::WriteNegative => Some(Step::WriteNegative {
            num: -1,
            expect: None,
            clause: None,
        }),
        Feature::WriteAll => Some(Step::WriteAll {
            len: Len(1),
            buf: 0,
            api: crate::scenario::Api::Write,
            drain: None,
            max_calls: 10,
            expect: None,
            clause: None,
        }),
        Feature::Read => Some(Step::Read {
            len: Len(1),
            expect: None,
            clause: None,
        }),
        Feature::Shutdown => Some(Step::Shutdown {
            expect: None,
            clause: None,
        }),
        Feature::Renegotiate => Some(Step::Renegotiate {
            expect: None,
            clause: None,
        }),
        Feature::KeyUpdate => Some(Step::KeyUpdate {
            requested: true,
            expect: None,
            clause: None,
        }),
        Feature::SetModes => Some(Step::SetModes {
            modes: Modes {
                partial_write: true,
                auto_retry: true,
                ..Modes::default()
            },
            expect: None,
            clause: None,
        }),
        Feature::PeerWrite => Some(Step::PeerWrite { len: Len(1) }),
        Feature::PeerRenegotiate => Some(Step::PeerRenegotiate {}),
        Feature::PeerKeyUpdate => Some(Step::PeerKeyUpdate { requested: true }),
        Feature::PeerNewSessionTicket => Some(Step::PeerNewSessionTicket {}),
        Feature::PeerShutdown => Some(Step::PeerShutdown {}),
        Feature::PeerFin => Some(Step::PeerFin {}),
        Feature::PeerClose => Some(Step::PeerClose {}),
        Feature::PeerReset => Some(Step::PeerReset {}),
        Feature::PeerFatalAlert => Some(Step::PeerFatalAlert {}),
        Feature::InjectMalformed => Some(Step::InjectMalformed {}),
        Feature::PartialWrite => {
            modes.partial_write = true;
            Some(write.clone())
        }
        Feature::MovingBuffer => {
            modes.moving_buffer = true;
            Some(write.clone())
        }
        Feature::NoAutoRetry => {
            modes.auto_retry = false;
            Some(write.clone())
        }
        Feature::ReleaseBuffers => {
            modes.release_buffers = true;
            Some(write.clone())
        }
        Feature::MaxSendFragment => {
            // The generator draws 512 or 4096; the smaller is the one a library may refuse.
            connection.max_send_fragment = Some(512);
            Some(write.clone())
        }
        Feature::Resume => {
            connection.resume = true;
            Some(write.clone())
        }
        Feature::Blocking => {
            transport.blocking = true;
            transport.capacity = Capacity(16384);
            Some(write.clone())
        }
    };
    let mut steps = vec![Step::Handshake {
        expect: None,
        clause: None,
    }];
    steps.extend(step);
    let scenario = Scenario {
        id: "probe".to_string(),
        title: format!("capability probe: {feature}"),
        clauses: vec![ClauseId("W1".to_string())],
        situations: Vec::new(),
        tls: vec![tls],
        modes: vec![modes],
        roles: vec![role],
        transport,
        connection,
        steps,
        generated: true,
        editor_schema: None,
        memory_only: None,
        path: Default::default(),
    };
    let key = RunKey {
        id: scenario.id.clone(),
        tls,
        role,
        modes,
    };
    match runner::run(imp, reference, &scenario, &key).status {
        RunStatus::Skipped { reason, .. } => Some((Why::Skip, reason)),
        RunStatus::Error { message } => Some((Why::HarnessError, message)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lack_takes_out_its_feature_only_where_it_was_found() {
        let mut n = Narrowing::none();
        n.add(Lack {
            implementation: "x".into(),
            tls: Tls::V12,
            role: Role::Client,
            feature: Feature::Renegotiate,
            why: Why::Skip,
            reason: "renegotiation is not available".into(),
        });
        assert!(!n.can(Tls::V12, Role::Client, Feature::Renegotiate));
        assert!(n.can(Tls::V12, Role::Server, Feature::Renegotiate));
        assert!(n.can(Tls::V12, Role::Client, Feature::WriteEx));
        n.add(Lack {
            implementation: "x".into(),
            tls: Tls::V13,
            role: Role::Server,
            feature: Feature::Connect,
            why: Why::HarnessError,
            reason: "no TLS 1.3".into(),
        });
        assert!(!n.can(Tls::V13, Role::Server, Feature::WriteEx));
        assert_eq!(n.lacks().len(), 2);
    }
}
