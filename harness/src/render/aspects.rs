//! The queue and wire differences ([`crate::aspects`]) of a report, apart from the outcome
//! divergences: a few terminal lines (`--verbose`, `--explain`), a Markdown section, an HTML
//! section. Each lists at most [`MAX_ROWS`] (the JSON has every kept one).

use super::escape_xml as e;
use super::markdown::cell;
use crate::aspects::AspectDifference;
use crate::report::{Report, RunReport};

/// Rows shown by each renderer.
pub const MAX_ROWS: usize = 300;

/// Every listed aspect difference of the report, with its run.
fn rows(report: &Report) -> impl Iterator<Item = (&RunReport, &AspectDifference)> {
    report
        .scenarios
        .iter()
        .flat_map(|r| r.aspects.iter().map(move |a| (r, a)))
}

/// The one-line count: `queue and wire: 3 queue, 1 wire difference(s) (2 unexplained)`.
/// Empty when there are none.
pub fn headline(report: &Report) -> String {
    let c = &report.summary.aspects;
    if c.queue + c.wire + c.omitted == 0 {
        return String::new();
    }
    let omitted = if c.omitted > 0 {
        format!(", {} more not listed", c.omitted)
    } else {
        String::new()
    };
    format!(
        "queue and wire: {} queue, {} wire difference(s), {} unexplained{omitted} (they never change a verdict; --strict-aspects fails on unexplained ones)\n",
        c.queue, c.wire, c.unexplained
    )
}

/// The terminal lines: the headline, then one line per difference (`--verbose`).
pub fn text(report: &Report, limit: usize) -> String {
    let mut out = headline(report);
    let total = rows(report).count();
    for (r, a) in rows(report).take(limit) {
        out.push_str(&format!("  {}  {}\n", r.run, a.line()));
    }
    if total > limit {
        out.push_str(&format!(
            "  ... and {} more (all of them: `aspects` of each run in the JSON report)\n",
            total - limit
        ));
    }
    out
}

/// One run's differences (`--explain`), one line each.
pub fn run_lines(run: &RunReport) -> String {
    let mut out = String::new();
    for a in &run.aspects {
        out.push_str(&format!("  aspect: {}\n", a.line()));
    }
    if run.aspects_omitted > 0 {
        out.push_str(&format!("  aspect: ... and {} more\n", run.aspects_omitted));
    }
    out
}

/// The Markdown section (`### Queue and wire (N)`); empty when there are none.
pub fn markdown(report: &Report) -> String {
    let total = rows(report).count();
    if total == 0 {
        return String::new();
    }
    let mut out = format!(
        "### Queue and wire ({total})\n\n\
         Where an implementation's error queue or what it sent on the wire differs from the \
         reference's (never a verdict; `--strict-aspects` fails on unexplained ones).\n\n\
         | run | implementation | kind | step | reference | value | known entry |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for (r, a) in rows(report).take(MAX_ROWS) {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            r.run,
            cell(&a.implementation),
            a.kind.as_str(),
            a.step.map_or("run".to_string(), |s| s.to_string()),
            cell(&a.reference_value),
            cell(&a.value),
            a.entry.as_deref().map_or("**none**".to_string(), cell)
        ));
    }
    out.push('\n');
    if total > MAX_ROWS {
        out.push_str(&format!(
            "… and {} more (all of them: `aspects` of each run in the JSON report).\n\n",
            total - MAX_ROWS
        ));
    }
    out
}

/// The HTML section `section#aspects` with `table#aspect-differences`, one
/// `tr[data-kind][data-known]` per difference; nothing when there are none.
pub fn html(report: &Report, out: &mut String) {
    let total = rows(report).count();
    if total == 0 {
        return;
    }
    out.push_str(&format!(
        "<section id=\"aspects\">\n<h2>Queue and wire ({total})</h2>\n\
         <p class=\"legend\">Where an implementation's error queue or what it sent on the wire \
         differs from the reference's. They never change a verdict.</p>\n\
         <table id=\"aspect-differences\"><tr><th>run</th><th>implementation</th><th>kind</th>\
         <th>step</th><th>reference</th><th>value</th><th>known entry</th></tr>\n"
    ));
    for (r, a) in rows(report).take(MAX_ROWS) {
        out.push_str(&format!(
            "<tr data-kind=\"{}\" data-known=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            a.kind.as_str(),
            a.entry.is_some(),
            e(&r.run),
            e(&a.implementation),
            a.kind.as_str(),
            a.step.map_or("run".to_string(), |s| s.to_string()),
            e(&a.reference_value),
            e(&a.value),
            a.entry.as_deref().map_or("none".to_string(), e)
        ));
    }
    out.push_str("</table>\n");
    if total > MAX_ROWS {
        out.push_str(&format!(
            "<p class=\"legend\">… and {} more (the JSON report has them).</p>\n",
            total - MAX_ROWS
        ));
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aspects::{Aspect, AspectKind};
    use crate::render::fixture;

    fn with_aspects() -> Report {
        let mut r = fixture::report();
        r.scenarios[0].aspects = vec![
            AspectDifference {
                kind: AspectKind::Queue,
                aspect: Aspect::Reasons,
                implementation: "rustls".into(),
                reference: "openssl".into(),
                step: Some(2),
                reference_value: "(empty)".into(),
                value: "<b>stale</b> | x".into(),
                entry: None,
                describes: None,
            },
            AspectDifference {
                kind: AspectKind::Wire,
                aspect: Aspect::Alerts,
                implementation: "rustls".into(),
                reference: "openssl".into(),
                step: None,
                reference_value: "alerts=0".into(),
                value: "alerts=1".into(),
                entry: Some("a/rustls/alert".into()),
                describes: None,
            },
        ];
        r.summary.aspects = crate::report::AspectCounts::of(&r.scenarios);
        r
    }

    #[test]
    fn nothing_is_shown_without_aspect_differences() {
        let r = fixture::report();
        assert_eq!(headline(&r), "");
        assert_eq!(markdown(&r), "");
        let mut html_out = String::new();
        html(&r, &mut html_out);
        assert_eq!(html_out, "");
    }

    #[test]
    fn each_renderer_lists_them_apart_escaped_with_their_entry() {
        let r = with_aspects();
        assert_eq!(
            (
                r.summary.aspects.queue,
                r.summary.aspects.wire,
                r.summary.aspects.unexplained
            ),
            (1, 1, 1)
        );
        let t = text(&r, 10);
        assert!(t.starts_with("queue and wire: 1 queue, 1 wire difference(s), 1 unexplained (they never change a verdict"), "{t}");
        assert!(
            t.contains("  agrees/tls1.3/client/auto_retry  rustls step 2 queue: openssl (empty) vs <b>stale</b> | x\n"),
            "{t}"
        );
        assert!(
            t.contains("rustls wire: openssl alerts=0 vs alerts=1 [known: a/rustls/alert]\n"),
            "{t}"
        );
        assert!(text(&r, 1).contains("  ... and 1 more"), "{t}");
        let md = markdown(&r);
        assert!(md.starts_with("### Queue and wire (2)\n"), "{md}");
        assert!(
            md.contains("| `agrees/tls1.3/client/auto_retry` | rustls | queue | 2 | (empty) | &lt;b&gt;stale&lt;/b&gt; \\| x | **none** |\n"),
            "{md}"
        );
        assert!(
            md.contains("| wire | run | alerts=0 | alerts=1 | a/rustls/alert |"),
            "{md}"
        );
        let mut h = String::new();
        html(&r, &mut h);
        assert!(h.contains("<section id=\"aspects\">"), "{h}");
        assert!(
            h.contains("<tr data-kind=\"queue\" data-known=\"false\">"),
            "{h}"
        );
        assert!(h.contains("&lt;b&gt;stale&lt;/b&gt;"), "{h}");
        assert!(!h.contains("<b>stale"), "{h}");
        assert_eq!(
            run_lines(&r.scenarios[0]).lines().count(),
            2,
            "one line per difference"
        );
    }
}
