//! The delta-debugging core (Zeller and Hildebrandt's ddmin), over the indices of a list and a
//! batch predicate: each round offers the subsets of one granularity, then their complements,
//! in preference order, and the predicate says which one (if any) still shows the failure.
//! The result is 1-minimal when the predicate never stopped: no single item can be dropped.

/// What the predicate says of a batch of candidate subsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The candidate at this position (the first that holds, in the order offered).
    Holds(usize),
    /// None of them holds.
    Nothing,
    /// The budget is spent: stop with what holds so far.
    Stop,
}

/// The indices `0..n` cut down to a subset for which `test` holds, assuming the whole set
/// does. `test` gets candidate subsets (sorted indices) in preference order. Subsets of one
/// item are offered last as complements (the empty set never is).
pub fn ddmin(n: usize, test: &mut dyn FnMut(&[Vec<usize>]) -> Answer) -> Vec<usize> {
    let mut current: Vec<usize> = (0..n).collect();
    let mut granularity = 2usize;
    while current.len() >= 2 {
        let chunks = split(&current, granularity);
        let mut candidates = chunks.clone();
        // With two chunks each one's complement is the other: already offered.
        if chunks.len() > 2 {
            for i in 0..chunks.len() {
                let complement: Vec<usize> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().copied())
                    .collect();
                candidates.push(complement);
            }
        }
        match test(&candidates) {
            Answer::Stop => break,
            Answer::Holds(i) => {
                current = candidates.swap_remove(i);
                granularity = if i < chunks.len() {
                    2
                } else {
                    (granularity - 1).max(2)
                };
            }
            Answer::Nothing => {
                if granularity >= current.len() {
                    break;
                }
                granularity = (granularity * 2).min(current.len());
            }
        }
    }
    current
}

/// `items` cut into `parts` consecutive chunks of nearly equal size (none empty).
fn split(items: &[usize], parts: usize) -> Vec<Vec<usize>> {
    let parts = parts.clamp(1, items.len().max(1));
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 0..parts {
        let end = (k + 1) * items.len() / parts;
        out.push(items[start..end].to_vec());
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A predicate over sets: the first candidate containing every item of `needed`.
    fn containing<'a>(
        needed: &[usize],
        tested: &'a mut usize,
    ) -> impl FnMut(&[Vec<usize>]) -> Answer + 'a {
        let needed = needed.to_vec();
        move |cands: &[Vec<usize>]| {
            *tested += cands.len();
            match cands
                .iter()
                .position(|c| needed.iter().all(|n| c.contains(n)))
            {
                Some(i) => Answer::Holds(i),
                None => Answer::Nothing,
            }
        }
    }

    #[test]
    fn one_needed_item_of_twelve_is_found() {
        let mut tested = 0;
        let got = ddmin(12, &mut containing(&[7], &mut tested));
        assert_eq!(got, vec![7]);
        assert!(tested <= 40, "{tested} candidates");
    }

    #[test]
    fn two_items_far_apart_are_both_kept() {
        let mut tested = 0;
        let got = ddmin(24, &mut containing(&[2, 19], &mut tested));
        assert_eq!(got, vec![2, 19]);
    }

    #[test]
    fn the_result_is_one_minimal_for_an_interaction() {
        // Holds when the set has 3 and one of 5 or 6: the result keeps 3 and exactly one.
        let mut test = |cands: &[Vec<usize>]| match cands
            .iter()
            .position(|c| c.contains(&3) && (c.contains(&5) || c.contains(&6)))
        {
            Some(i) => Answer::Holds(i),
            None => Answer::Nothing,
        };
        let got = ddmin(8, &mut test);
        assert!(got == vec![3, 5] || got == vec![3, 6], "{got:?}");
    }

    #[test]
    fn a_stop_keeps_what_held_last() {
        let mut calls = 0;
        let mut test = |cands: &[Vec<usize>]| {
            calls += 1;
            if calls > 1 {
                return Answer::Stop;
            }
            match cands.iter().position(|c| c.contains(&0)) {
                Some(i) => Answer::Holds(i),
                None => Answer::Nothing,
            }
        };
        assert_eq!(ddmin(10, &mut test), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn nothing_to_drop_from_one_item_and_split_covers_all() {
        let mut test = |_: &[Vec<usize>]| -> Answer { panic!("nothing to test") };
        assert_eq!(ddmin(1, &mut test), vec![0]);
        let items: Vec<usize> = (0..7).collect();
        let parts = split(&items, 3);
        assert_eq!(parts, vec![vec![0, 1], vec![2, 3], vec![4, 5, 6]]);
        assert_eq!(split(&items, 10).len(), 7);
    }
}
