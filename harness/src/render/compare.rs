//! Markdown of the comparison of two reports (`sslwrite compare OLD NEW --markdown PATH`): the
//! outcome, the counts, then one table per kind of change. Every text from the reports goes
//! through [`cell`].

use super::baseline::{Change, Comparison, Key};
use super::markdown::cell;
use crate::diff::Verdict;

/// Most rows per table; the counts in the headings are always complete.
pub const MARKDOWN_LIMIT: usize = 200;

/// The comparison as Markdown; `new` names the newer report (the older one is
/// [`Comparison::baseline`]).
pub fn render(c: &Comparison, new: &str) -> String {
    let mut out = format!(
        "## sslwrite compare: {}\n\n{} against {}: {} regressed, {} fixed, {} changed, {} changed outcome(s), {} new run(s), {} gone run(s).\n\n",
        if c.regressed() {
            "❌ regressed"
        } else {
            "✅ no regression"
        },
        cell(new),
        cell(&c.baseline),
        c.regressions.len(),
        c.fixed.len(),
        c.changed.len(),
        c.changed_outcomes.len(),
        c.new_runs.len(),
        c.removed_runs.len()
    );
    changes(&mut out, "Regressed", &c.regressions);
    changes(&mut out, "Fixed", &c.fixed);
    changes(&mut out, "Changed", &c.changed);
    if !c.changed_outcomes.is_empty() {
        out.push_str(&format!(
            "### Changed outcomes ({})\n\n| run | implementation | step | op | before | now |\n|---|---|---:|---|---|---|\n",
            c.changed_outcomes.len()
        ));
        for o in c.changed_outcomes.iter().take(MARKDOWN_LIMIT) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                cell(&o.key.run),
                cell(&o.key.implementation),
                o.step,
                cell(&o.op),
                cell(&o.before),
                cell(&o.after)
            ));
        }
        more(&mut out, c.changed_outcomes.len());
    }
    keys(&mut out, "New runs", &c.new_runs);
    keys(&mut out, "Gone runs", &c.removed_runs);
    out
}

fn more(out: &mut String, n: usize) {
    if n > MARKDOWN_LIMIT {
        out.push_str(&format!(
            "\n… and {} more (`sslwrite compare` in a terminal lists the counts; the JSON reports have them all).\n",
            n - MARKDOWN_LIMIT
        ));
    }
    out.push('\n');
}

fn changes(out: &mut String, title: &str, list: &[Change]) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!(
        "### {title} ({})\n\n| run | implementation | before | now | what |\n|---|---|---|---|---|\n",
        list.len()
    ));
    for c in list.iter().take(MARKDOWN_LIMIT) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&c.key.run),
            cell(&c.key.implementation),
            c.before.map_or("new", Verdict::as_str),
            c.after.as_str(),
            cell(&c.why)
        ));
    }
    more(out, list.len());
}

fn keys(out: &mut String, title: &str, list: &[Key]) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!(
        "### {title} ({})\n\n| run | implementation |\n|---|---|\n",
        list.len()
    ));
    for k in list.iter().take(MARKDOWN_LIMIT) {
        out.push_str(&format!(
            "| {} | {} |\n",
            cell(&k.run),
            cell(&k.implementation)
        ));
    }
    more(out, list.len());
}

#[cfg(test)]
mod tests {
    use super::super::{baseline, fixture};
    use super::*;

    #[test]
    fn identical_reports_say_no_regression_and_list_nothing() {
        let r = fixture::report();
        let md = render(&baseline::compare(&r, &r, "old.json"), "new.json");
        assert_eq!(
            md,
            "## sslwrite compare: ✅ no regression\n\nnew.json against old.json: 0 regressed, 0 fixed, 0 changed, 0 changed outcome(s), 0 new run(s), 0 gone run(s).\n\n"
        );
    }

    #[test]
    fn a_regression_is_a_row_with_its_text_escaped() {
        let base = fixture::report();
        let mut now = base.clone();
        now.scenarios[2].known.clear();
        now.scenarios[2].verdict = Verdict::Diverge;
        now.scenarios[2].differences[0].value = "a | *b*".into();
        let md = render(&baseline::compare(&base, &now, "old.json"), "new.json");
        assert!(
            md.starts_with("## sslwrite compare: ❌ regressed\n"),
            "{md}"
        );
        assert!(
            md.contains("### Regressed (1)\n\n| run | implementation | before | now | what |\n|---|---|---|---|---|\n| zero/tls1.3/client/auto\\_retry | rustls | known | diverge | step 1 outcome: openssl syscall, rustls a \\| \\*b\\* |\n"),
            "{md}"
        );
    }
}
