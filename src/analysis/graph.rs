//! The schedule graph: milestones and projects as nodes; "after" links and dependencies as
//! edges from what must come first to what waits on it. Cycles are refused at insert.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// A path `from →* to` along edges, if there is one (breadth-first, so it is a shortest one).
pub fn path<T: Copy + Eq + Hash>(edges: &[(T, T)], from: T, to: T) -> Option<Vec<T>> {
    path_in(&successors(edges), from, to)
}

/// Each node's successors, for asking [`path_in`] many times of one graph.
pub fn successors<T: Copy + Eq + Hash>(edges: &[(T, T)]) -> HashMap<T, Vec<T>> {
    let mut next: HashMap<T, Vec<T>> = HashMap::new();
    for &(a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    next
}

/// [`path`] over a graph given by its successors.
pub fn path_in<T: Copy + Eq + Hash>(next: &HashMap<T, Vec<T>>, from: T, to: T) -> Option<Vec<T>> {
    let mut parent: HashMap<T, T> = HashMap::new();
    let mut seen: HashSet<T> = HashSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut out = vec![to];
            let mut cur = to;
            while let Some(&p) = parent.get(&cur) {
                out.push(p);
                cur = p;
            }
            out.reverse();
            return Some(out);
        }
        for &m in next.get(&n).into_iter().flatten() {
            if seen.insert(m) {
                parent.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

/// The cycle that adding `from → to` would close, as `[from, to, …, from]`.
pub fn cycle_if_added<T: Copy + Eq + Hash>(edges: &[(T, T)], from: T, to: T) -> Option<Vec<T>> {
    cycle_if_added_in(&successors(edges), from, to)
}

/// [`cycle_if_added`] over a graph given by its successors.
pub fn cycle_if_added_in<T: Copy + Eq + Hash>(
    next: &HashMap<T, Vec<T>>,
    from: T,
    to: T,
) -> Option<Vec<T>> {
    if from == to {
        return Some(vec![from, to]);
    }
    path_in(next, to, from).map(|p| {
        let mut c = vec![from];
        c.extend(p);
        c
    })
}

/// Any cycle in the graph, as `[a, b, …, a]`; iterative depth-first search.
pub fn find_cycle<T: Copy + Eq + Hash + Ord>(edges: &[(T, T)]) -> Option<Vec<T>> {
    let mut next: HashMap<T, Vec<T>> = HashMap::new();
    for &(a, b) in edges {
        next.entry(a).or_default().push(b);
        next.entry(b).or_default();
    }
    let mut nodes: Vec<T> = next.keys().copied().collect();
    nodes.sort();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    let mut mark: HashMap<T, Mark> = HashMap::new();
    for start in nodes {
        if mark.contains_key(&start) {
            continue;
        }
        let mut stack: Vec<(T, usize)> = vec![(start, 0)];
        mark.insert(start, Mark::Active);
        while let Some(&mut (n, ref mut i)) = stack.last_mut() {
            let succ = &next[&n];
            if *i < succ.len() {
                let m = succ[*i];
                *i += 1;
                match mark.get(&m) {
                    Some(Mark::Active) => {
                        let pos = stack
                            .iter()
                            .position(|(x, _)| *x == m)
                            .expect("active nodes are on the stack");
                        let mut cycle: Vec<T> = stack[pos..].iter().map(|(x, _)| *x).collect();
                        cycle.push(m);
                        return Some(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        mark.insert(m, Mark::Active);
                        stack.push((m, 0));
                    }
                }
            } else {
                mark.insert(n, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_back_edge_names_the_cycle() {
        let edges = [(1, 2), (2, 3)];
        assert_eq!(cycle_if_added(&edges, 3, 1), Some(vec![3, 1, 2, 3]));
        assert_eq!(cycle_if_added(&edges, 1, 3), None);
        assert_eq!(cycle_if_added(&edges, 4, 4), Some(vec![4, 4]));
    }

    #[test]
    fn finds_cycles() {
        assert_eq!(find_cycle(&[(1, 2), (2, 3), (3, 4)]), None);
        let c = find_cycle(&[(1, 2), (2, 3), (3, 1), (0, 1)]).unwrap();
        assert_eq!(c.first(), c.last());
        assert_eq!(c.len(), 4);
    }

    proptest::proptest! {
        #[test]
        fn dags_have_no_cycle(edges in proptest::collection::vec((0u8..30, 0u8..30), 0..80)) {
            // Orient every edge low → high: always acyclic.
            let dag: Vec<(u8, u8)> = edges.into_iter().filter(|(a, b)| a != b).map(|(a, b)| (a.min(b), a.max(b))).collect();
            proptest::prop_assert!(find_cycle(&dag).is_none());
            if let Some(&(a, b)) = dag.first() {
                let c = cycle_if_added(&dag, b, a).expect("the reverse edge closes a cycle");
                proptest::prop_assert_eq!(c.first(), c.last());
            }
        }
    }
}
