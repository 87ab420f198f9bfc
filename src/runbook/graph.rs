//! The step dependency graph: cycles, execution waves and ancestry. Every walk here is
//! iterative with explicit stacks and queues, because a runbook may hold a 10,000-step chain
//! and a recursive walk would overflow the stack long before that.

use std::collections::VecDeque;

/// Steps as nodes `0..n` (file order); `deps[i]` are the steps `i` runs after.
pub(crate) struct Graph {
    pub(crate) deps: Vec<Vec<usize>>,
}

impl Graph {
    pub(crate) fn new(deps: Vec<Vec<usize>>) -> Self {
        Graph { deps }
    }

    fn len(&self) -> usize {
        self.deps.len()
    }

    /// One cycle per strongly connected component of more than one step, as the path
    /// `[a, b, c]` meaning a runs after b, b after c, c after a. Each starts at its earliest
    /// step in file order; cycles are listed in the order of those steps. Self-loops are not
    /// reported here (they are their own diagnostic).
    pub(crate) fn cycles(&self) -> Vec<Vec<usize>> {
        let mut in_component = vec![false; self.len()];
        let mut cycles: Vec<Vec<usize>> = self
            .strongly_connected_components()
            .into_iter()
            .map(|component| {
                component.iter().for_each(|&v| in_component[v] = true);
                let start = *component.iter().min().expect("components are not empty");
                let cycle = self.cycle_through(start, &in_component);
                component.iter().for_each(|&v| in_component[v] = false);
                cycle
            })
            .collect();
        cycles.sort_by_key(|c| c[0]);
        cycles
    }

    /// Shortest cycle from `start` back to itself inside one component (breadth first).
    fn cycle_through(&self, start: usize, in_component: &[bool]) -> Vec<usize> {
        let mut parent: Vec<usize> = vec![usize::MAX; self.len()];
        let mut queue = VecDeque::from([start]);
        parent[start] = start;
        while let Some(v) = queue.pop_front() {
            for &w in &self.deps[v] {
                if !in_component[w] {
                    continue;
                }
                if w == start {
                    let mut path = vec![v];
                    let mut at = v;
                    while at != start {
                        at = parent[at];
                        path.push(at);
                    }
                    path.reverse();
                    return path;
                }
                if parent[w] == usize::MAX {
                    parent[w] = v;
                    queue.push_back(w);
                }
            }
        }
        vec![start]
    }

    /// Tarjan's algorithm with an explicit call stack; components of one node are dropped.
    fn strongly_connected_components(&self) -> Vec<Vec<usize>> {
        const UNSEEN: usize = usize::MAX;
        let n = self.len();
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut calls: Vec<(usize, usize)> = Vec::new();
        let mut next = 0;
        let mut components = Vec::new();
        for root in 0..n {
            if index[root] != UNSEEN {
                continue;
            }
            index[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on_stack[root] = true;
            calls.push((root, 0));
            while let Some(&(v, edge)) = calls.last() {
                if let Some(&w) = self.deps[v].get(edge) {
                    calls.last_mut().expect("just read").1 += 1;
                    if index[w] == UNSEEN {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        calls.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        components.push(component);
                    }
                }
            }
        }
        components
    }

    /// Steps grouped into waves: a step's wave is one more than the latest wave of the steps it
    /// runs after. Each wave is in file order. Steps on a cycle (never ready) form a last wave,
    /// so that a plan of an unchecked graph still names every step.
    pub(crate) fn waves(&self) -> Vec<Vec<usize>> {
        let n = self.len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut waiting: Vec<usize> = vec![0; n];
        for (v, deps) in self.deps.iter().enumerate() {
            for &d in deps {
                dependents[d].push(v);
                waiting[v] += 1;
            }
        }
        let mut level = vec![0usize; n];
        let mut ready: VecDeque<usize> = (0..n).filter(|&v| waiting[v] == 0).collect();
        let mut placed = vec![false; n];
        while let Some(v) = ready.pop_front() {
            placed[v] = true;
            for &w in &dependents[v] {
                level[w] = level[w].max(level[v] + 1);
                waiting[w] -= 1;
                if waiting[w] == 0 {
                    ready.push_back(w);
                }
            }
        }
        let depth = (0..n)
            .filter(|&v| placed[v])
            .map(|v| level[v] + 1)
            .max()
            .unwrap_or(0);
        let mut waves: Vec<Vec<usize>> = vec![Vec::new(); depth];
        for v in 0..n {
            if placed[v] {
                waves[level[v]].push(v);
            }
        }
        let stuck: Vec<usize> = (0..n).filter(|&v| !placed[v]).collect();
        if !stuck.is_empty() {
            waves.push(stuck);
        }
        waves
    }

    /// Each step's wave (0-based), or `None` when the graph has a cycle.
    pub(crate) fn levels(&self) -> Option<Vec<usize>> {
        let waves = self.waves();
        let mut level = vec![0; self.len()];
        for (i, wave) in waves.iter().enumerate() {
            for &v in wave {
                level[v] = i;
            }
        }
        // A stuck last wave holds steps on a cycle: its "level" would be meaningless.
        let stuck = waves.last().is_some_and(|w| {
            w.iter()
                .any(|&v| self.deps[v].iter().any(|&d| level[d] >= level[v]))
        });
        (!stuck).then_some(level)
    }
}

/// Answers "does step `of` (transitively) run after step `candidate`?" many times cheaply.
///
/// A step can only be reached from `of` through steps in later waves than `candidate`'s, so
/// the search skips everything at or before that wave: references usually name a near
/// ancestor, and the search stays near too, instead of walking every ancestor of every step
/// (quadratic on a 10,000-step runbook). Without levels (a cyclic graph) it walks everything.
pub(crate) struct Ancestry<'g> {
    graph: &'g Graph,
    level: Option<Vec<usize>>,
    seen: Vec<bool>,
    touched: Vec<usize>,
    stack: Vec<usize>,
}

impl<'g> Ancestry<'g> {
    pub(crate) fn new(graph: &'g Graph) -> Self {
        Ancestry {
            graph,
            level: graph.levels(),
            seen: vec![false; graph.len()],
            touched: Vec::new(),
            stack: Vec::new(),
        }
    }

    pub(crate) fn is_ancestor(&mut self, of: usize, candidate: usize) -> bool {
        let floor = self.level.as_ref().map(|l| l[candidate]);
        let mut found = false;
        self.stack.clear();
        self.stack.push(of);
        while let Some(v) = self.stack.pop() {
            for &d in &self.graph.deps[v] {
                if d == candidate {
                    found = true;
                    break;
                }
                let prune = match (&self.level, floor) {
                    (Some(level), Some(floor)) => level[d] <= floor,
                    _ => false,
                };
                if !prune && !self.seen[d] {
                    self.seen[d] = true;
                    self.touched.push(d);
                    self.stack.push(d);
                }
            }
            if found {
                break;
            }
        }
        for v in self.touched.drain(..) {
            self.seen[v] = false;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_cycle_once() {
        // 0 -> 1 -> 2 -> 0, 3 -> 4 -> 3, 5 -> 0
        let g = Graph::new(vec![vec![1], vec![2], vec![0], vec![4], vec![3], vec![0]]);
        assert_eq!(g.cycles(), vec![vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn waves_follow_dependencies() {
        let g = Graph::new(vec![vec![], vec![0], vec![0], vec![1, 2], vec![]]);
        assert_eq!(g.waves(), vec![vec![0, 4], vec![1, 2], vec![3]]);
    }

    #[test]
    fn ancestry_agrees_with_a_full_walk() {
        // 0 <- 1 <- 3, 0 <- 2, 4 alone, 5 <- 3 and 4
        let g = Graph::new(vec![vec![], vec![0], vec![0], vec![1], vec![], vec![3, 4]]);
        let mut a = Ancestry::new(&g);
        let expected = [
            (5, 0, true),
            (5, 1, true),
            (5, 2, false),
            (5, 4, true),
            (3, 0, true),
            (2, 1, false),
            (0, 5, false),
            (4, 4, false),
        ];
        for (of, candidate, answer) in expected {
            assert_eq!(
                a.is_ancestor(of, candidate),
                answer,
                "{of} after {candidate}"
            );
        }
        let cyclic = Graph::new(vec![vec![1], vec![0], vec![1]]);
        assert!(cyclic.levels().is_none());
        let mut a = Ancestry::new(&cyclic);
        assert!(a.is_ancestor(2, 0));
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let n = 200_000;
        let mut deps: Vec<Vec<usize>> = (0..n)
            .map(|i| if i == 0 { vec![] } else { vec![i - 1] })
            .collect();
        let g = Graph::new(deps.clone());
        assert!(g.cycles().is_empty());
        assert_eq!(g.waves().len(), n);
        deps[0].push(n - 1);
        let g = Graph::new(deps);
        assert_eq!(g.cycles()[0].len(), n);
    }
}
