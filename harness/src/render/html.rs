//! One self-contained HTML page (inline CSS and JavaScript, no network, no external asset): the
//! matrix of scenario runs × implementations coloured by verdict, grouped by each scenario's
//! first clause; clicking a cell opens the run's step-by-step comparison (both implementations'
//! calls side by side, the first difference highlighted, the peer's received bytes, the wire
//! records, violations, known reasons and notes).
//!
//! Stable hooks for tests and the browser check (`cargo xtask html-check`):
//! - `table#matrix[data-runs=N]`, one `tr.run[data-run][data-verdict]` per run, implementation
//!   cells `td.cell[data-impl][data-verdict][data-status]`, `td.verdict[data-verdict]`;
//! - one `details.comparison[data-run]` per run, in `tr.detail`; its rows `tr.step[data-step]`,
//!   the first difference's row with class `first-diff`;
//! - the fragment `#open=RUN` (RUN percent-encoded) opens and highlights that comparison; the
//!   script then marks the row `target` and sets `data-opened` on `body`;
//! - after load the script records the cells' computed background colours per verdict in
//!   `table#matrix[data-colours]` (`agree=rgb(...);known=rgb(...)`).

use std::collections::BTreeMap;

use super::{
    calls_summary, cell_verdict, describe_difference, describe_violation, difference_reason,
    escape_xml as e, names, step_rows, violations,
};
use crate::contract::Outcome;
use crate::diff::Verdict;
use crate::report::{status_label, ClauseVerdict, Report, RunReport};
use crate::runner::{RunStatus, StepRecord, Timing, Trace};
use crate::wire::WireRecord;

const STYLE: &str = r#"
:root { --agree:#d6efd9; --diverge:#f6b8b8; --known:#fbe3a1; --skip:#dde3ea; --error:#e2c6f2;
  --note:#d5e5f8; --ink:#1d2330; --muted:#5d6675; --line:#d9dde3; --focus:#c62828; }
* { box-sizing: border-box; }
html, body { height: 100%; }
body { display: flex; flex-direction: column; overflow: hidden; margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  background: #f7f8fa; }
header, main { padding: 12px 24px; }
header { flex: none; background: #fff; border-bottom: 1px solid var(--line); }
main { flex: 1; overflow: auto; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 18px 0 8px; }
.badge { font-size: 13px; padding: 2px 8px; border-radius: 10px; vertical-align: middle; }
.badge.passed { background: var(--agree); } .badge.failed { background: var(--diverge); }
.incomplete { background: var(--known); padding: 4px 8px; border-radius: 4px; }
.meta { color: var(--muted); margin: 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef0f3; font-weight: 600; }
.summary { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.filters button { font: inherit; border: 1px solid var(--line); border-radius: 4px; padding: 3px 10px;
  margin: 0 4px 4px 0; cursor: pointer; }
.filters button.on { outline: 2px solid var(--ink); }
.filters button[data-verdict="all"] { background: #fff; }
[data-verdict="agree"] { background: var(--agree); }
[data-verdict="diverge"] { background: var(--diverge); }
[data-verdict="known"] { background: var(--known); }
[data-verdict="skip"] { background: var(--skip); }
[data-verdict="error"] { background: var(--error); }
#matrix { width: 100%; }
#matrix thead th { position: sticky; top: -12px; z-index: 1; }
#matrix tr.run, #matrix tbody.group { scroll-margin-top: calc(var(--sticky-head, 3.5em) + 4px); }
.legend { color: var(--muted); max-width: 620px; }
#matrix td.diff .reason { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; }
#matrix tr.run > td.name { background: #fff; }
#matrix tr.run > td.diff { background: #fff; color: var(--muted); max-width: 560px; }
#matrix td.cell { text-align: center; white-space: nowrap; min-width: 84px; }
#matrix td.cell a, #matrix td.name a { color: inherit; text-decoration: none; display: block; }
#matrix td.cell a:hover, #matrix td.name a:hover { text-decoration: underline; }
#matrix td.verdict { font-weight: 600; text-align: center; }
#matrix tr.run.target > td { box-shadow: inset 0 2px 0 var(--focus), inset 0 -2px 0 var(--focus); }
#matrix tbody.group > tr.group-head > th { background: #e3e7ee; font-size: 13px; }
.title { color: var(--muted); font-size: 12px; }
.reason { color: #6b5200; }
tr.detail { display: none; }
tr.detail.shown { display: table-row; }
tr.detail > td { background: #fbfcfd; padding: 10px 14px; }
details.comparison > summary { cursor: pointer; font-weight: 600; margin-bottom: 6px; }
.comparison table { margin: 6px 0 10px; }
.comparison .steps td.outcome { font-weight: 600; }
.comparison .steps td.differs { background: var(--diverge); }
.comparison .steps td.noted { background: var(--note); }
.comparison tr.first-diff > td { background: #ffe0e0; }
.comparison tr.first-diff > td:first-child { box-shadow: inset 4px 0 0 var(--focus); }
.comparison tr.first-diff.focus > td:first-child::after { content: " ◀ first difference"; color: var(--focus);
  font-weight: 600; white-space: nowrap; }
.comparison .sub { display: block; color: var(--muted); font-size: 11px; font-weight: 400; }
.comparison .broken { color: var(--focus); }
.comparison th.impl { text-align: center; }
.comparison ul { margin: 4px 0 8px; padding-left: 20px; }
.violation.unexplained { color: var(--focus); font-weight: 600; }
.findings li.note { background: var(--note); border-radius: 3px; padding: 0 4px; }
.wire { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; }
.hidden { display: none !important; }
#behaviour-matrix td.obs { white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
#behaviour-matrix td.obs.g0 { background: #eef3fb; } #behaviour-matrix td.obs.g1 { background: #fde7d4; }
#behaviour-matrix td.obs.g2 { background: #e6f4e1; } #behaviour-matrix td.obs.g3 { background: #efe3f7; }
#behaviour-matrix td.reason { color: #6b5200; }
#behaviour-matrix th small { font-weight: 400; color: var(--muted); }
ol.reasons li { max-width: 900px; color: #6b5200; }
"#;

const SCRIPT: &str = r#"
(function () {
  var VERDICTS = ['all', 'agree', 'diverge', 'known', 'skip', 'error'];
  // What the address says: #filter=VERDICT&open=RUN (each optional, values percent-encoded).
  var state = { filter: 'all', open: null };
  function q(sel, attr, value) {
    return document.querySelector(sel + '[' + attr + '="' + CSS.escape(value) + '"]');
  }
  // Rows scrolled to stop below the sticky header, however tall it is.
  function stickyHead() {
    var m = document.getElementById('matrix');
    var head = m && m.querySelector('thead');
    if (head) m.style.setProperty('--sticky-head', Math.ceil(head.getBoundingClientRect().height) + 'px');
  }
  function runs(n) { return n + ' run' + (n === 1 ? '' : 's'); }
  function filter(want) {
    if (VERDICTS.indexOf(want) < 0) want = 'all';
    state.filter = want;
    document.querySelectorAll('.filters button').forEach(function (x) {
      x.classList.toggle('on', x.getAttribute('data-verdict') === want);
    });
    document.querySelectorAll('#matrix tbody.group').forEach(function (g) {
      var shown = 0;
      g.querySelectorAll('tr.run').forEach(function (r) {
        var show = want === 'all' || r.getAttribute('data-verdict') === want;
        r.classList.toggle('hidden', !show);
        var det = r.nextElementSibling;
        if (det && det.classList.contains('detail')) det.classList.toggle('hidden', !show);
        if (show) shown++;
      });
      var c = g.querySelector('.count');
      if (c) {
        var total = +c.getAttribute('data-total');
        c.textContent = shown === total ? runs(total) : shown + ' of ' + runs(total);
      }
      g.classList.toggle('hidden', shown === 0);
    });
    // The address says what is shown: a comparison the filter hides is closed.
    var opened = state.open && q('tr.run', 'data-run', state.open);
    if (opened && opened.classList.contains('hidden')) close(state.open);
  }
  function writeHash() {
    var parts = [];
    if (state.filter !== 'all') parts.push('filter=' + encodeURIComponent(state.filter));
    if (state.open) parts.push('open=' + encodeURIComponent(state.open));
    history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search);
  }
  function open(run, scroll) {
    var d = q('details.comparison', 'data-run', run);
    if (!d) return false;
    var row = q('tr.run', 'data-run', run);
    if (row && row.classList.contains('hidden')) filter('all');
    d.open = true;
    d.closest('tr.detail').classList.add('shown');
    document.querySelectorAll('tr.run.target').forEach(function (r) { r.classList.remove('target'); });
    if (row) row.classList.add('target');
    d.querySelectorAll('tr.first-diff').forEach(function (r) { r.classList.add('focus'); });
    document.body.setAttribute('data-opened', run);
    state.open = run;
    if (scroll) {
      stickyHead();
      (row || d).scrollIntoView({ block: 'start' });
    }
    return true;
  }
  function close(run) {
    var d = q('details.comparison', 'data-run', run);
    if (!d) return;
    d.open = false;
    d.closest('tr.detail').classList.remove('shown');
    if (state.open === run) state.open = null;
  }
  // On load the address is the whole state; a later change of it (a link to #open=RUN) keeps
  // the filter it does not name.
  function fromHash(initial) {
    var want = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i <= 0) return;
      try { want[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); } catch (e) { /* not ours */ }
    });
    // An anchor (#group-W2, #reason-1) says nothing about the state.
    var stated = 'filter' in want || 'open' in want;
    if (!initial && !stated) return;
    filter(want.filter || (initial ? 'all' : state.filter));
    if (want.open) open(want.open, true);
    if (stated) writeHash();
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target.closest('a.open');
    if (a) {
      ev.preventDefault();
      var run = a.closest('tr.run').getAttribute('data-run');
      var d = q('details.comparison', 'data-run', run);
      if (d && d.open && d.closest('tr.detail').classList.contains('shown')) {
        close(run);
      } else {
        open(run, false);
      }
      writeHash();
      return;
    }
    var b = ev.target.closest('.filters button');
    if (b) {
      filter(b.getAttribute('data-verdict'));
      writeHash();
    }
  });
  document.querySelectorAll('details.comparison').forEach(function (d) {
    d.addEventListener('toggle', function () {
      if (d.open) return;
      d.closest('tr.detail').classList.remove('shown');
      if (state.open === d.getAttribute('data-run')) {
        state.open = null;
        writeHash();
      }
    });
  });
  window.addEventListener('hashchange', function () { fromHash(false); });
  window.addEventListener('resize', stickyHead);
  stickyHead();
  fromHash(true);
  var colours = {};
  document.querySelectorAll('#matrix td.cell').forEach(function (c) {
    var v = c.getAttribute('data-verdict');
    if (!(v in colours)) colours[v] = getComputedStyle(c).backgroundColor;
  });
  document.getElementById('matrix').setAttribute('data-colours',
    Object.keys(colours).sort().map(function (k) { return k + '=' + colours[k]; }).join(';'));
})();
"#;

/// The page for `report`.
pub fn render(report: &Report) -> String {
    let names = names(report);
    let passed = report.summary.passed;
    let mut out = String::with_capacity(1 << 20);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sslwrite conformance: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        if passed { "passed" } else { "failed" }
    ));
    header(report, passed, &mut out);
    out.push_str("<main>\n");
    summary(report, &names, &mut out);
    behaviour_matrix(report, &mut out);
    super::aspects::html(report, &mut out);
    matrix(report, &names, &mut out);
    out.push_str("</main>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

fn header(report: &Report, passed: bool, out: &mut String) {
    let impls: Vec<String> = report
        .implementations
        .iter()
        .map(|i| format!("<b>{}</b> ({})", e(&i.name), e(&i.version)))
        .collect();
    out.push_str(&format!(
        "<header>\n<h1>sslwrite conformance <span class=\"badge {0}\">{0}</span></h1>\n\
         <p class=\"meta\">{1} runs · reference first: {2} · {3} {4} on {5}, started {8}, took {6:.1} s · schema_version {7}</p>\n{9}</header>\n",
        if passed { "passed" } else { "failed" },
        report.summary.runs,
        impls.join(" vs "),
        e(&report.harness.name),
        e(&report.harness.version),
        e(&report.host),
        report.duration_ms as f64 / 1000.0,
        report.schema_version,
        utc(report.started_unix),
        if report.complete {
            ""
        } else {
            "<p class=\"incomplete\" id=\"incomplete\"><b>Incomplete</b>: the harness was stopped (SIGINT/SIGTERM) before every run finished; these are the runs that did.</p>\n"
        },
    ));
}

fn summary(report: &Report, names: &[&str], out: &mut String) {
    out.push_str("<section class=\"summary\">\n<div>\n<h2>Verdicts</h2>\n<div class=\"filters\">");
    out.push_str(&format!(
        "<button type=\"button\" class=\"on\" data-verdict=\"all\">all {}</button>",
        report.summary.runs
    ));
    for v in Verdict::ALL {
        let n = report
            .summary
            .verdicts
            .get(v.as_str())
            .copied()
            .unwrap_or(0);
        out.push_str(&format!(
            "<button type=\"button\" data-verdict=\"{0}\" data-count=\"{n}\">{0} {n}</button>",
            v.as_str()
        ));
    }
    out.push_str("</div>\n<table id=\"impls\"><tr><th>implementation</th><th>version</th><th>unexpected violations</th><th>known violations</th></tr>\n");
    for i in &report.implementations {
        let get = |m: &BTreeMap<String, usize>| m.get(&i.name).copied().unwrap_or(0);
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            e(&i.name),
            e(&i.version),
            get(&report.summary.unexpected_violations),
            get(&report.summary.known_violations)
        ));
    }
    out.push_str("</table>\n");
    out.push_str(
        "<p class=\"legend\">Each run is one scenario under one TLS version, role and mode set. \
         A cell says how that implementation's run went (ok, violation, skip, deadlock, error); its \
         colour is the implementation's verdict: agree, diverge (a difference or violation with no \
         known reason), known (all explained in scenarios/known-divergences.json), skip, error. \
         Click a cell or a run to open its step-by-step comparison; the first difference is marked. \
         The buttons above show one verdict only.</p>\n",
    );
    if !report.warnings.is_empty() {
        out.push_str("<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
        for w in &report.warnings {
            out.push_str(&format!("<li>{}</li>\n", e(w)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(
        "</div>\n<div>\n<h2>Clauses</h2>\n<table id=\"clauses\"><tr><th>clause</th><th>runs checked</th>",
    );
    for n in names {
        out.push_str(&format!("<th>{}</th>", e(n)));
    }
    out.push_str("</tr>\n");
    for clause in crate::scenario::CLAUSES {
        let Some(view) = report.clauses.get(clause) else {
            continue;
        };
        out.push_str(&format!(
            "<tr data-clause=\"{clause}\"><td><a href=\"#group-{clause}\">{clause}</a></td><td>{}</td>",
            view.runs.len()
        ));
        for n in names {
            // Coloured as the run verdicts are: a known violation is `known`, never red.
            let (text, verdict) = match view.implementations.get(*n) {
                Some(st) => (
                    st.label(),
                    match st.verdict {
                        ClauseVerdict::Conforms => "agree",
                        ClauseVerdict::Violates => "diverge",
                        ClauseVerdict::Known => "known",
                        ClauseVerdict::RecordedOnly | ClauseVerdict::NotExercised => "skip",
                    },
                ),
                None => ("-".to_string(), "skip"),
            };
            out.push_str(&format!("<td data-verdict=\"{verdict}\">{text}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</div>\n</section>\n");
}

/// The behaviour matrix ([`super::matrix`]): `section#behaviours`, `table#behaviour-matrix`
/// with `data-rows` (shown) and `data-total`, one `tr.behaviour[data-run][data-step]` per row,
/// cells `td.obs[data-impls][data-group]` (the group's index in the row; `g0`.. colour them).
fn behaviour_matrix(report: &Report, out: &mut String) {
    let v = super::matrix::view(report, super::matrix::MAX_ROWS_HTML);
    out.push_str(&format!(
        "<section id=\"behaviours\">\n<h2>Behaviour matrix ({})</h2>\n",
        v.total
    ));
    if v.rows.is_empty() {
        out.push_str("<p class=\"legend\">At every step every implementation observed the same.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"legend\">One row per step (or run end) where the implementations do not all \
         agree, every pair compared, not only against the reference. Cells of one colour in a row \
         observed the same; adjacent columns of one family that behave alike in every row are \
         folded into one. Click a run for its step-by-step comparison.</p>\n",
    );
    out.push_str(&format!(
        "<table id=\"behaviour-matrix\" data-rows=\"{}\" data-total=\"{}\">\n<thead><tr><th>run</th><th>step</th><th>op</th>",
        v.rows.len(),
        v.total
    ));
    for c in &v.columns {
        let names: Vec<&str> = c.members.iter().map(|i| i.name.as_str()).collect();
        out.push_str(&format!(
            "<th data-impls=\"{}\" title=\"{}\">{}{}</th>",
            e(&names.join(" ")),
            e(&c.members
                .iter()
                .map(|i| i.version.as_str())
                .collect::<Vec<_>>()
                .join("; ")),
            e(&c.header()),
            if c.members.len() > 1 {
                format!("<br><small>{}</small>", e(&c.folded_names()))
            } else {
                String::new()
            }
        ));
    }
    out.push_str("<th>reason</th></tr></thead>\n<tbody>\n");
    for r in &v.rows {
        let href = format!("#open={}", percent_encode(&r.run.run));
        out.push_str(&format!(
            "<tr class=\"behaviour\" data-run=\"{0}\" data-step=\"{1}\"><td><a href=\"{2}\"><code>{0}</code></a></td><td>{1}</td><td><code>{3}</code></td>",
            e(&r.run.run),
            e(&r.step()),
            e(&href),
            e(&r.op())
        ));
        for (k, (cell, g)) in r.cells.iter().zip(&r.groups).enumerate() {
            let names: Vec<&str> = v.columns[k]
                .members
                .iter()
                .map(|i| i.name.as_str())
                .collect();
            let group = g.map_or(String::new(), |g| format!(" g{}", g.min(3)));
            out.push_str(&format!(
                "<td class=\"obs{group}\" data-impls=\"{}\" data-group=\"{}\">{}</td>",
                e(&names.join(" ")),
                g.map_or(String::new(), |g| g.to_string()),
                e(cell)
            ));
        }
        let refs: Vec<String> = r
            .reasons
            .iter()
            .map(|i| {
                format!(
                    "<a href=\"#reason-{0}\" title=\"{1}\">[{0}]</a>",
                    i + 1,
                    e(v.reasons[*i])
                )
            })
            .collect();
        out.push_str(&format!(
            "<td class=\"reason\">{}</td></tr>\n",
            refs.join(" ")
        ));
    }
    out.push_str("</tbody>\n</table>\n");
    if v.omitted() > 0 {
        out.push_str(&format!(
            "<p class=\"meta\" id=\"behaviours-omitted\">… and {} more row(s) (all of them: <code>matrix</code> of each run in the JSON report).</p>\n",
            v.omitted()
        ));
    }
    if !v.reasons.is_empty() {
        out.push_str("<ol class=\"reasons\">\n");
        for (i, reason) in v.reasons.iter().enumerate() {
            out.push_str(&format!("<li id=\"reason-{}\">{}</li>\n", i + 1, e(reason)));
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

/// A clause's runs in the matrix: the clause, and each run with its index in the report.
type Group<'a> = (String, Vec<(usize, &'a RunReport)>);

fn matrix(report: &Report, names: &[&str], out: &mut String) {
    let columns = names.len() + 3;
    out.push_str(&format!(
        "<h2>Runs</h2>\n<table id=\"matrix\" data-runs=\"{}\">\n<thead><tr><th>run</th>",
        report.scenarios.len()
    ));
    for n in names {
        // Name and version number: the columns of a version matrix differ by the second.
        let version = report
            .implementations
            .iter()
            .find(|i| i.name == *n)
            .map_or("", |i| crate::report::short_version(&i.version));
        out.push_str(&format!(
            "<th>{}<br><small>{}</small></th>",
            e(n),
            e(version)
        ));
    }
    out.push_str("<th>verdict</th><th>first difference</th></tr></thead>\n");
    let mut groups: BTreeMap<usize, Group> = BTreeMap::new();
    for (i, run) in report.scenarios.iter().enumerate() {
        let clause = run.clauses.first().map_or("other", String::as_str);
        let order = crate::scenario::CLAUSES
            .iter()
            .position(|c| *c == clause)
            .unwrap_or(usize::MAX);
        groups
            .entry(order)
            .or_insert_with(|| (clause.to_string(), Vec::new()))
            .1
            .push((i, run));
    }
    for (clause, runs) in groups.values() {
        out.push_str(&format!(
            "<tbody class=\"group\" id=\"group-{0}\" data-clause=\"{0}\">\n\
             <tr class=\"group-head\"><th colspan=\"{columns}\">{0} · <span class=\"count\" data-total=\"{1}\">{1} run{2}</span> citing it first</th></tr>\n",
            e(clause),
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        ));
        for (i, run) in runs {
            run_row(names, *i, run, out);
            out.push_str(&format!(
                "<tr class=\"detail\" id=\"detail-{i}\"><td colspan=\"{columns}\">"
            ));
            comparison(names, *i, run, out);
            out.push_str("</td></tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
}

fn run_row(names: &[&str], i: usize, run: &RunReport, out: &mut String) {
    let href = format!("#open={}", percent_encode(&run.run));
    out.push_str(&format!(
        "<tr class=\"run\" id=\"run-{i}\" data-run=\"{0}\" data-id=\"{1}\" data-verdict=\"{2}\">\
         <td class=\"name\"><a class=\"open\" href=\"{3}\"><code>{0}</code></a><div class=\"title\">{4}</div></td>",
        e(&run.run),
        e(&run.id),
        run.verdict.as_str(),
        e(&href),
        e(&run.title)
    ));
    for n in names {
        match (cell_verdict(run, n), run.results.get(*n)) {
            (Some(v), Some(t)) => out.push_str(&format!(
                "<td class=\"cell\" data-impl=\"{0}\" data-verdict=\"{1}\" data-status=\"{2}\" title=\"{0}: {1}\">\
                 <a class=\"open\" href=\"{3}\">{2}</a></td>",
                e(n),
                v.as_str(),
                status_label(t),
                e(&href)
            )),
            _ => out.push_str(&format!(
                "<td class=\"cell missing\" data-impl=\"{}\">-</td>",
                e(n)
            )),
        }
    }
    out.push_str(&format!(
        "<td class=\"verdict\" data-verdict=\"{0}\">{0}</td><td class=\"diff\">",
        run.verdict.as_str()
    ));
    for d in &run.differences {
        out.push_str(&format!(
            "<div class=\"mono\">{}</div>",
            e(&describe_difference(d))
        ));
        if let Some(k) = difference_reason(run, &d.implementation) {
            out.push_str(&format!(
                "<div class=\"reason\" title=\"{1}\">known ({0}): {1}</div>",
                e(&k.clause),
                e(&k.reason)
            ));
        }
    }
    out.push_str("</td></tr>\n");
}

fn comparison(names: &[&str], i: usize, run: &RunReport, out: &mut String) {
    out.push_str(&format!(
        "<details class=\"comparison\" id=\"cmp-{i}\" data-run=\"{}\">\n<summary>{} — step by step</summary>\n",
        e(&run.run),
        e(&run.run)
    ));
    out.push_str(&format!(
        "<p class=\"meta\">{} · <code>{}</code> · TLS {} · {} · modes {} · clauses {} · situations {}</p>\n",
        e(&run.title),
        e(&run.file),
        run.tls,
        run.role,
        e(&run.modes.to_string()),
        e(&run.clauses.join(", ")),
        e(&run.situations.join(", "))
    ));
    if let Some(cmd) = crate::repro::offered(run) {
        out.push_str(&format!(
            "<p class=\"repro\">A C reproducer of this run (both ends on the libssl it is built against): <code>{}</code></p>\n",
            e(&cmd)
        ));
    }
    if !run.differences.is_empty() {
        out.push_str("<ul class=\"differences\">");
        for d in &run.differences {
            let reason = difference_reason(run, &d.implementation).map_or(
                " <b>(no known reason)</b>".to_string(),
                |k| {
                    format!(
                        " <span class=\"reason\">— known, {}: {}</span>",
                        e(&k.clause),
                        e(&k.reason)
                    )
                },
            );
            out.push_str(&format!(
                "<li>first difference: <span class=\"mono\">{}</span>{reason}</li>",
                e(&describe_difference(d))
            ));
        }
        out.push_str("</ul>\n");
    }
    steps_table(run, names, out);
    endings_table(run, names, out);
    wire(run, names, out);
    let mut items = Vec::new();
    for n in names {
        for (v, k) in violations(run, n) {
            items.push(match k {
                Some(k) => format!(
                    "<li class=\"violation known\">{}: {} <span class=\"reason\">— known: {}</span></li>",
                    e(n),
                    e(&describe_violation(v)),
                    e(&k.reason)
                ),
                None => format!(
                    "<li class=\"violation unexplained\">{}: {} (no known reason)</li>",
                    e(n),
                    e(&describe_violation(v))
                ),
            });
        }
        if let Some(t) = run.results.get(*n) {
            match &t.status {
                RunStatus::Skipped { step, reason } => items.push(format!(
                    "<li>{} skipped{}: {}</li>",
                    e(n),
                    step.map_or(String::new(), |s| format!(" at step {s}")),
                    e(reason)
                )),
                RunStatus::Error { message } => {
                    items.push(format!("<li>{} error: {}</li>", e(n), e(message)))
                }
                RunStatus::Deadlock { step } => {
                    items.push(format!("<li>{} deadlocked at step {step}</li>", e(n)))
                }
                RunStatus::Crash {
                    step,
                    message,
                    stderr,
                    ..
                } => items.push(format!(
                    "<li>{} crashed{}: {}{}</li>",
                    e(n),
                    step.map_or(" during set-up".into(), |s| format!(" at step {s}")),
                    e(message),
                    stderr.as_ref().map_or(String::new(), |t| format!(
                        "<pre class=\"stderr\">{}</pre>",
                        e(t)
                    ))
                )),
                RunStatus::Timeout { step, message, .. } => items.push(format!(
                    "<li>{} timed out{}: {}</li>",
                    e(n),
                    step.map_or(" during set-up".into(), |s| format!(" at step {s}")),
                    e(message)
                )),
                RunStatus::Completed => {}
            }
        }
    }
    for note in &run.notes {
        items.push(format!("<li class=\"note\">note: {}</li>", e(note)));
    }
    if !items.is_empty() {
        out.push_str(&format!("<ul class=\"findings\">{}</ul>\n", items.concat()));
    }
    out.push_str("</details>");
}

fn steps_table(run: &RunReport, names: &[&str], out: &mut String) {
    out.push_str("<table class=\"steps\"><thead><tr><th rowspan=\"2\">step</th><th rowspan=\"2\">actor</th><th rowspan=\"2\">op</th>");
    for n in names {
        out.push_str(&format!(
            "<th class=\"impl\" colspan=\"4\" data-impl=\"{0}\">{0}</th>",
            e(n)
        ));
    }
    out.push_str("</tr><tr>");
    for _ in names {
        out.push_str("<th>outcome</th><th>ret</th><th>errors</th><th>bytes</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in step_rows(run, names) {
        let reference = row.records.first().copied().flatten();
        let actor = row
            .records
            .iter()
            .flatten()
            .next()
            .map_or("", |r| actor_name(r));
        out.push_str(&format!(
            "<tr class=\"step{}\" data-step=\"{}\"><td>{}</td><td>{actor}</td><td><code>{}</code></td>",
            if row.first_diff { " first-diff" } else { "" },
            row.index,
            row.index,
            e(row.op)
        ));
        for (k, rec) in row.records.iter().enumerate() {
            let differs = if k == 0 {
                Differs::default()
            } else {
                differs(reference, *rec)
            };
            step_cells(*rec, differs, out);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn actor_name(r: &StepRecord) -> &'static str {
    match r.actor {
        crate::runner::Actor::Impl => "impl",
        crate::runner::Actor::Peer => "peer",
        crate::runner::Actor::Transport => "transport",
    }
}

/// Which parts of a record differ from the reference's at the same step. `outcome` and `bytes`
/// are what the diff counts (`diff::compare_with`: the outcome class; the `ok(n)` count and the
/// bytes moved of calls on the implementation, reads' counts excepted); `noted`: the outcome
/// differs in what the diff does not count (an `ssl(reason)`'s wording, a read's or a peer
/// step's count: the run's notes), `bytes_noted`: a peer step's bytes. Noted cells are painted
/// in their own colour, never in the first difference's red.
#[derive(Clone, Copy, Default)]
struct Differs {
    outcome: bool,
    noted: bool,
    bytes: bool,
    bytes_noted: bool,
}

fn differs(reference: Option<&StepRecord>, other: Option<&StepRecord>) -> Differs {
    match (reference, other) {
        (Some(a), Some(b)) => {
            let on_impl = a.actor == crate::runner::Actor::Impl;
            let counted = on_impl && !a.op.starts_with("read ");
            let (x, y) = (
                a.call.as_ref().map(|c| &c.outcome),
                b.call.as_ref().map(|c| &c.outcome),
            );
            // Counts either side marked timing-dependent are not compared (the diff notes them).
            let timed = [a, b].iter().any(|r| r.timing.is_some_and(|t| t.counts()));
            let same = match (x, y) {
                (Some(Outcome::Ok(m)), Some(Outcome::Ok(n))) => !counted || timed || m == n,
                (Some(m), Some(n)) => m.class() == n.class(),
                (None, None) => true,
                _ => false,
            };
            let bytes = a.bytes != b.bytes;
            Differs {
                outcome: !same,
                noted: same && x != y,
                bytes: bytes && on_impl && !timed,
                bytes_noted: bytes && (!on_impl || timed),
            }
        }
        (None, None) => Differs::default(),
        _ => Differs {
            outcome: true,
            noted: false,
            bytes: true,
            bytes_noted: false,
        },
    }
}

fn step_cells(rec: Option<&StepRecord>, differs: Differs, out: &mut String) {
    let Some(r) = rec else {
        out.push_str(
            "<td class=\"outcome\" colspan=\"4\"><span class=\"sub\">not reached</span></td>",
        );
        return;
    };
    let mark = |counted: bool, noted: bool| match (counted, noted) {
        (true, _) => " differs",
        (false, true) => " noted",
        (false, false) => "",
    };
    let outcome_class = mark(differs.outcome, differs.noted);
    let mut outcome = r
        .call
        .as_ref()
        .map_or("-".to_string(), |c| e(&c.outcome.to_string()));
    if r.calls.len() > 1 {
        outcome.push_str(&format!(
            "<span class=\"sub\">{} calls: {}</span>",
            r.calls.len(),
            e(&calls_summary(&r.calls))
        ));
    }
    if let Some(x) = &r.expect {
        let (mark, cls) = match r.conforms {
            Some(false) => ("✗", "sub broken"),
            Some(true) => ("✓", "sub"),
            None => ("", "sub"),
        };
        outcome.push_str(&format!(
            "<span class=\"{cls}\">expect {} {mark}</span>",
            e(x)
        ));
    }
    let ret = r.call.as_ref().map_or("".to_string(), |c| {
        let mut ret = match c.written {
            Some(w) => format!("{} <span class=\"sub\">written {w}</span>", c.ret),
            None => c.ret.to_string(),
        };
        if let Some(w10) = crate::impls::ssl_abi::w10_disagreement(c) {
            ret.push_str(&format!(
                "<span class=\"sub broken\">W10: {}</span>",
                e(&w10)
            ));
        }
        ret
    });
    let errors = r
        .call
        .as_ref()
        .map_or(String::new(), |c| e(&c.errors.join("; ")));
    let mut bytes = r.bytes.map_or(String::new(), |b| b.to_string());
    if let Some(t) = r.timing {
        // Where the marked values are shown: the bytes, or a write loop's calls.
        let sub = format!("<span class=\"sub\">{}</span>", e(&t.suffix()));
        if t.counts() || (t.cause == crate::runner::TimingCause::Follows && r.bytes.is_some()) {
            bytes.push_str(&sub);
        } else if r.calls.len() > 1 {
            outcome.push_str(&sub);
        }
    }
    out.push_str(&format!(
        "<td class=\"outcome mono{}\">{outcome}</td><td class=\"mono\">{ret}</td>\
         <td class=\"mono\">{errors}</td><td class=\"mono{}\">{bytes}</td>",
        outcome_class,
        mark(differs.bytes, differs.bytes_noted)
    ));
}

/// A row of the run-end table: the report field (for the first-difference mark), the label,
/// and how to show an implementation's value.
type EndRow = (&'static str, &'static str, fn(&Trace) -> String);

fn endings_table(run: &RunReport, names: &[&str], out: &mut String) {
    out.push_str("<table class=\"endings\"><tr><th>run end</th>");
    for n in names {
        out.push_str(&format!("<th data-impl=\"{0}\">{0}</th>", e(n)));
    }
    out.push_str("</tr>\n");
    let rows: [EndRow; 7] = [
        ("status", "status", |t| status_label(t).to_string()),
        ("peer_end", "peer's connection ended", |t| {
            t.peer_end.as_ref().map_or("-".into(), |o| o.to_string())
        }),
        ("confirmed", "bytes confirmed written", |t| {
            t.delivery.confirmed.to_string()
        }),
        ("peer_received", "bytes the peer received", |t| {
            t.delivery.received.to_string()
        }),
        ("missing", "confirmed, never received", |t| {
            t.delivery.missing.to_string()
        }),
        ("unconfirmed", "received, never confirmed", |t| {
            t.delivery.unconfirmed.to_string()
        }),
        ("first_mismatch", "first differing byte", |t| {
            t.delivery.first_mismatch.map_or("-".into(), |m| {
                format!(
                    "offset {}: expected {:#04x}, received {:#04x}",
                    m.offset, m.expected, m.received
                )
            })
        }),
    ];
    for (field, label, f) in rows {
        let first = run
            .differences
            .iter()
            .any(|d| d.step.is_none() && d.field == field);
        out.push_str(&format!(
            "<tr class=\"end{}\" data-field=\"{field}\"><td>{label}</td>",
            if first { " first-diff" } else { "" }
        ));
        // The totals the trace's marker covers.
        let timed = ["peer_end", "confirmed", "peer_received", "unconfirmed"].contains(&field);
        for n in names {
            let v = run.results.get(*n).map_or("-".to_string(), |t| {
                Timing::show(t.timing.filter(|_| timed), f(t))
            });
            out.push_str(&format!("<td class=\"mono\">{}</td>", e(&v)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// A record's content type by name.
fn content_type(t: u8) -> String {
    match t {
        WireRecord::CHANGE_CIPHER_SPEC => "ccs".into(),
        WireRecord::ALERT => "alert".into(),
        WireRecord::HANDSHAKE => "handshake".into(),
        WireRecord::APPLICATION_DATA => "app".into(),
        other => format!("type {other}"),
    }
}

/// Records run-length encoded (`app 16384 ×61`), at most `limit` groups shown.
fn records(list: &[WireRecord], limit: usize) -> String {
    let mut groups: Vec<(WireRecord, usize)> = Vec::new();
    for r in list {
        match groups.last_mut() {
            Some((last, n)) if last == r => *n += 1,
            _ => groups.push((*r, 1)),
        }
    }
    let mut parts: Vec<String> = groups
        .iter()
        .take(limit)
        .map(|(r, n)| {
            let times = if *n > 1 {
                format!(" ×{n}")
            } else {
                String::new()
            };
            format!("{} {}{times}", content_type(r.content_type()), r.len())
        })
        .collect();
    if groups.len() > limit {
        parts.push(format!("… {} more groups", groups.len() - limit));
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

fn wire(run: &RunReport, names: &[&str], out: &mut String) {
    out.push_str("<div class=\"wire\">");
    for n in names {
        let Some(t) = run.results.get(*n) else {
            continue;
        };
        let w = &t.wire;
        let unlisted = if w.unlisted > 0 {
            format!(" ({} records not listed)", w.unlisted)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "<b>{0} → peer</b><span class=\"mono\" data-impl=\"{0}\" data-direction=\"to_peer\">{1} bytes: {2}{unlisted}</span>\
             <b>peer → {0}</b><span class=\"mono\" data-impl=\"{0}\" data-direction=\"to_impl\">{3} bytes: {4}</span>",
            e(n),
            w.to_peer_bytes,
            e(&records(&w.to_peer, 40)),
            w.to_impl_bytes,
            e(&records(&w.to_impl, 40))
        ));
    }
    out.push_str("</div>\n");
}

/// Percent-encodes everything but unreserved characters, as JavaScript's
/// `encodeURIComponent` does for ASCII.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (civil-from-days, proleptic Gregorian).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn an_interrupted_run_says_it_is_incomplete() {
        let mut r = fixture::report();
        assert!(!render(&r).contains("id=\"incomplete\""));
        r.complete = false;
        let html = render(&r);
        assert!(
            html.contains("<p class=\"incomplete\" id=\"incomplete\"><b>Incomplete</b>"),
            "{html}"
        );
    }

    #[test]
    fn self_contained_no_network_reference() {
        let html = render(&fixture::report());
        assert!(!html.contains("http://"), "no http:// reference");
        assert!(!html.contains("https://"), "no https:// reference");
        for external in ["<link", "src=", "@import", "url("] {
            assert!(!html.contains(external), "no external asset ({external})");
        }
        assert!(html.contains("<style>") && html.contains("<script>"));
    }

    #[test]
    fn each_comparison_offers_the_c_reproducer_of_its_run() {
        let html = render(&fixture::report());
        assert_eq!(html.matches("<p class=\"repro\">").count(), 4);
        assert!(html.contains(
            "<code>cargo xtask repro zero/tls1.3/client/auto_retry -o repro.c</code></p>"
        ));
    }

    #[test]
    fn one_row_per_run_and_one_cell_per_implementation() {
        let r = fixture::report();
        let html = render(&r);
        assert!(html.contains("<table id=\"matrix\" data-runs=\"4\">"));
        assert_eq!(html.matches("<tr class=\"run\"").count(), 4);
        assert_eq!(html.matches("<td class=\"cell\"").count(), 8);
        assert_eq!(html.matches("<details class=\"comparison\"").count(), 4);
        assert!(html.contains(
            "data-run=\"shutdown/tls1.3/client/auto_retry\" data-id=\"shutdown\" data-verdict=\"diverge\""
        ));
        assert!(html
            .contains("data-impl=\"rustls\" data-verdict=\"diverge\" data-status=\"violation\""));
        assert!(html.contains("data-impl=\"rustls\" data-verdict=\"known\" data-status=\"ok\""));
        assert!(html.contains("data-impl=\"rustls\" data-verdict=\"skip\" data-status=\"skip\""));
        assert!(html.contains("href=\"#open=shutdown%2Ftls1.3%2Fclient%2Fauto_retry\""));
    }

    #[test]
    fn the_behaviour_matrix_has_its_rows_groups_and_reasons_escaped() {
        let mut r = fixture::report();
        r.scenarios[2].known[0].reason = "zero <script>alert(1)</script> & \"q\"".into();
        r.implementations[1].version = "rustls 0.23<img>".into();
        let html = render(&r);
        assert!(
            html.contains("<table id=\"behaviour-matrix\" data-rows=\"5\" data-total=\"5\">"),
            "{html}"
        );
        assert!(html.contains("<th data-impls=\"rustls\" title=\"rustls 0.23&lt;img&gt;\">rustls 0.23&lt;img&gt;</th>"));
        let start = html
            .find("<tr class=\"behaviour\" data-run=\"zero/tls1.3/client/auto_retry\" data-step=\"1\">")
            .expect("the row of the zero run's step 1");
        let row = &html[start..start + html[start..].find("</tr>").unwrap()];
        assert!(
            row.contains("<td class=\"obs g0\" data-impls=\"openssl\" data-group=\"0\">syscall [ret=-1]</td><td class=\"obs g1\" data-impls=\"rustls\" data-group=\"1\">ok(0) [ret=-1]</td>"),
            "{row}"
        );
        assert!(row.contains("<a href=\"#reason-1\" title=\"zero &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;\">[1]</a>"), "{row}");
        assert!(html.contains("<li id=\"reason-1\">zero &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</li>"));
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("data-run=\"agrees/tls1.3/client/auto_retry\" data-step"));
        let section = &html[html.find("<section id=\"behaviours\">").unwrap()..];
        let section = &section[..section.find("</section>").unwrap()];
        assert!(
            !section.contains("<details") && !section.contains("class=\"open"),
            "nothing the page's script or html-check counts: {section}"
        );
    }

    #[test]
    fn the_first_difference_row_is_marked_and_the_values_escaped() {
        let html = render(&fixture::report());
        let start = html
            .find("<details class=\"comparison\" id=\"cmp-1\"")
            .unwrap();
        let end = start + html[start..].find("</details>").unwrap();
        let cmp = &html[start..end];
        assert_eq!(cmp.matches("first-diff").count(), 1, "{cmp}");
        let row_start = cmp
            .find("<tr class=\"step first-diff\" data-step=\"1\">")
            .unwrap();
        let row = &cmp[row_start..row_start + cmp[row_start..].find("</tr>").unwrap()];
        assert!(
            row.contains("ssl(protocol is shutdown)") && row.contains("ok(100)"),
            "{row}"
        );
        assert_eq!(
            row.matches("differs").count(),
            1,
            "only the outcome differs: {row}"
        );
        assert!(cmp.contains("&lt;never&gt; read &amp; lost"), "{cmp}");
        assert!(!cmp.contains("<never>"));
        let end_rows = cmp.matches("class=\"end first-diff\"").count();
        assert_eq!(end_rows, 0);
    }

    #[test]
    fn reworded_errors_are_not_marked_as_differences() {
        let a = fixture::step(1, "write", Outcome::Ssl("protocol is shutdown".into()));
        let b = fixture::step(1, "write", Outcome::Ssl("closed".into()));
        let c = fixture::step(1, "write", Outcome::Ok(100));
        let d = differs(Some(&a), Some(&b));
        assert!(d.noted && !d.outcome && !d.bytes);
        let d = differs(Some(&a), Some(&c));
        assert!(d.outcome && !d.noted);
        let (ok5, ok6) = (
            fixture::step(1, "write", Outcome::Ok(5)),
            fixture::step(1, "write", Outcome::Ok(6)),
        );
        assert!(differs(Some(&ok5), Some(&ok6)).outcome, "ok counts count");
    }

    #[test]
    fn a_run_level_first_difference_marks_its_run_end_row() {
        let mut r = fixture::report();
        r.scenarios[0].differences.push(crate::diff::Difference {
            implementation: "rustls".into(),
            reference: "openssl".into(),
            step: None,
            field: "peer_received".into(),
            reference_value: "100".into(),
            value: "0".into(),
        });
        let html = render(&r);
        let start = html.find("id=\"cmp-0\"").unwrap();
        let cmp = &html[start..start + html[start..].find("</details>").unwrap()];
        assert!(
            cmp.contains("<tr class=\"end first-diff\" data-field=\"peer_received\">"),
            "{cmp}"
        );
        assert!(!cmp.contains("step first-diff"));
    }

    #[test]
    fn runs_are_grouped_by_their_first_clause_in_clause_order() {
        let mut r = fixture::report();
        r.scenarios[3].clauses = vec!["W2".into(), "W6".into()];
        let html = render(&r);
        let w2 = html.find("id=\"group-W2\"").unwrap();
        let w6 = html.find("id=\"group-W6\"").unwrap();
        assert!(w2 < w6);
        assert!(html
            .contains("W6 · <span class=\"count\" data-total=\"3\">3 runs</span> citing it first"));
        assert!(html
            .contains("W2 · <span class=\"count\" data-total=\"1\">1 run</span> citing it first"));
    }

    /// A custom property's value in [`STYLE`] (`--note` → `#d5e5f8`).
    fn colour(name: &str) -> &'static str {
        let at = STYLE
            .find(&format!("{name}:"))
            .expect("the property is set")
            + name.len()
            + 1;
        let end = at + STYLE[at..].find([';', ' ', '}']).unwrap();
        &STYLE[at..end]
    }

    #[test]
    fn notes_are_painted_in_a_colour_of_their_own() {
        let mut r = fixture::report();
        // The agreeing run: rustls words its error otherwise (a note), reads a different count
        // (not compared) and the peer read another count (not compared).
        let rustls = r.scenarios[0].results.get_mut("rustls").unwrap();
        rustls.steps[1].call.as_mut().unwrap().outcome = Outcome::Ssl("closed".into());
        rustls
            .steps
            .push(fixture::step(2, "read len=100", Outcome::Ok(5)));
        let mut peer = fixture::step(3, "peer_read", Outcome::Ok(7));
        peer.bytes = Some(7);
        rustls.steps.push(peer);
        let openssl = r.scenarios[0].results.get_mut("openssl").unwrap();
        openssl.steps[1].call.as_mut().unwrap().outcome =
            Outcome::Ssl("protocol is shutdown".into());
        openssl
            .steps
            .push(fixture::step(2, "read len=100", Outcome::Ok(9)));
        let mut peer = fixture::step(3, "peer_read", Outcome::Ok(8));
        peer.bytes = Some(8);
        openssl.steps.push(peer);
        r.scenarios[0].notes.push(
            "step 1: rustls says ssl(closed) where openssl says ssl(protocol is shutdown)".into(),
        );
        let html = render(&r);
        let start = html.find("id=\"cmp-0\"").unwrap();
        let cmp = &html[start..start + html[start..].find("</details>").unwrap()];
        assert!(
            !cmp.contains("differs"),
            "nothing here is a difference: {cmp}"
        );
        assert!(
            cmp.contains("<td class=\"outcome mono noted\">ssl(closed)</td>"),
            "{cmp}"
        );
        assert!(
            cmp.contains("<td class=\"outcome mono noted\">ok(5)</td>"),
            "{cmp}"
        );
        assert!(
            cmp.contains("<td class=\"outcome mono noted\">ok(7)</td><td class=\"mono\">-1</td><td class=\"mono\"></td><td class=\"mono noted\">7</td>"),
            "{cmp}"
        );
        assert!(cmp.contains("<li class=\"note\">note: step 1: rustls says ssl(closed)"));
        assert!(STYLE.contains(".comparison .steps td.noted { background: var(--note); }"));
        assert!(STYLE.contains(".findings li.note { background: var(--note);"));
        assert!(STYLE.contains(".comparison tr.first-diff > td { background: #ffe0e0; }"));
        assert!(STYLE.contains(".comparison .steps td.differs { background: var(--diverge); }"));
        assert_eq!(colour("--note"), "#d5e5f8");
        for red in [colour("--diverge"), "#ffe0e0", colour("--focus")] {
            assert_ne!(colour("--note"), red);
        }
        // A write's count is a difference, and stays red.
        let (a, b) = (
            fixture::step(1, "write len=100", Outcome::Ok(5)),
            fixture::step(1, "write len=100", Outcome::Ok(6)),
        );
        let d = differs(Some(&a), Some(&b));
        assert!(d.outcome && !d.noted);
    }

    #[test]
    fn an_opened_run_scrolls_below_the_sticky_header() {
        assert!(STYLE.contains("#matrix thead th { position: sticky; top: -12px; z-index: 1; }"));
        assert!(STYLE.contains(
            "#matrix tr.run, #matrix tbody.group { scroll-margin-top: calc(var(--sticky-head, 3.5em) + 4px); }"
        ));
        assert!(SCRIPT.contains(
            "if (head) m.style.setProperty('--sticky-head', Math.ceil(head.getBoundingClientRect().height) + 'px');"
        ));
        // Measured before the scroll, at load and when the window changes.
        let scroll = SCRIPT
            .find("(row || d).scrollIntoView({ block: 'start' });")
            .unwrap();
        let measure = SCRIPT[..scroll].rfind("stickyHead();").unwrap();
        assert!(SCRIPT[measure..scroll]
            .trim_start_matches("stickyHead();")
            .trim()
            .is_empty());
        assert!(SCRIPT.contains(
            "window.addEventListener('resize', stickyHead);\n  stickyHead();\n  fromHash(true);"
        ));
    }

    #[test]
    fn the_filter_counts_the_groups_and_lives_in_the_address() {
        let html = render(&fixture::report());
        assert!(html.contains(
            "<tr class=\"group-head\"><th colspan=\"5\">W6 · <span class=\"count\" data-total=\"4\">4 runs</span> citing it first</th></tr>"
        ), "{html}");
        for piece in [
            // Counts follow the filter.
            "var c = g.querySelector('.count');",
            "c.textContent = shown === total ? runs(total) : shown + ' of ' + runs(total);",
            "g.classList.toggle('hidden', shown === 0);",
            // The filter and the opened run make the address, and come back from it.
            "if (state.filter !== 'all') parts.push('filter=' + encodeURIComponent(state.filter));",
            "if (state.open) parts.push('open=' + encodeURIComponent(state.open));",
            "history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search);",
            "filter(want.filter || (initial ? 'all' : state.filter));",
            "if (want.open) open(want.open, true);",
            "filter(b.getAttribute('data-verdict'));\n      writeHash();",
            "window.addEventListener('hashchange', function () { fromHash(false); });",
            // A run the filter hides is shown when it is opened, and closed when it is hidden.
            "if (row && row.classList.contains('hidden')) filter('all');",
            "if (opened && opened.classList.contains('hidden')) close(state.open);",
        ] {
            assert!(SCRIPT.contains(piece), "{piece}");
        }
        // `#open=RUN` alone (what `xtask html-check` loads) still opens the run.
        assert!(SCRIPT.contains("location.hash.replace(/^#/, '').split('&')"));
        for v in Verdict::ALL {
            assert!(
                SCRIPT.contains(&format!("'{}'", v.as_str())),
                "the filter knows {v:?}"
            );
            assert!(html.contains(&format!(
                "<button type=\"button\" data-verdict=\"{}\"",
                v.as_str()
            )));
        }
    }

    #[test]
    fn wire_records_are_run_length_encoded_and_capped() {
        let list = [WireRecord(23, 16384); 5]
            .into_iter()
            .chain([WireRecord(21, 2)])
            .collect::<Vec<_>>();
        assert_eq!(records(&list, 10), "app 16384 ×5, alert 2");
        assert_eq!(records(&list, 1), "app 16384 ×5, … 1 more groups");
        assert_eq!(records(&[], 1), "none");
    }

    #[test]
    fn dates_and_fragments() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(percent_encode("a/b+c d"), "a%2Fb%2Bc%20d");
    }
}
