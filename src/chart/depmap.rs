//! The dependency map: projects (and outside providers) as nodes filled by health, and
//! dependencies as edges from provider to consumer, coloured by the worst state among them.
//! The same map as Graphviz DOT and as a Mermaid flowchart, for documents and wikis.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::canvas::{self, lighter, paint, Anchor};
use crate::analysis::Analysed;
use crate::domain::{DepState, Endpoint, Rag};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Project,
    /// A milestone that belongs to no project.
    Milestone,
    /// A provider outside the program: a legal review, a vendor.
    External,
}

#[derive(Debug, Clone, Serialize)]
pub struct MapNode {
    /// The key (`api`), or `ext-…` for an outside provider.
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
    /// The project's computed health.
    pub health: Option<Rag>,
}

/// One dependency on an edge.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeDep {
    pub number: i64,
    pub what: String,
    pub state: DepState,
    /// When it arrives, if after it is needed (a conflict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrives_late: Option<chrono::NaiveDate>,
}

/// Every dependency from one provider to one consumer.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Node indexes: provider → consumer.
    pub from: usize,
    pub to: usize,
    pub deps: Vec<EdgeDep>,
}

impl Edge {
    /// The state that colours the edge: blocked, then at-risk (a conflict counts as at
    /// risk), then open, then delivered.
    pub fn state(&self) -> DepState {
        let rank = |s: DepState| match s {
            DepState::Blocked => 3,
            DepState::AtRisk => 2,
            DepState::Open => 1,
            DepState::Delivered | DepState::Cancelled => 0,
        };
        self.deps
            .iter()
            .map(|d| match (d.state, d.arrives_late) {
                (DepState::Open, Some(_)) => DepState::AtRisk,
                (s, _) => s,
            })
            .max_by_key(|s| rank(*s))
            .unwrap_or(DepState::Open)
    }

    /// `#3 Auth endpoints (blocked); #5 …`
    pub fn label(&self) -> String {
        self.deps
            .iter()
            .map(|d| {
                let what = cut(&d.what, 40);
                match d.arrives_late {
                    Some(a) => format!("#{} {what} ({}, arrives {a})", d.number, d.state.as_str()),
                    None => format!("#{} {what} ({})", d.number, d.state.as_str()),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DepMap {
    pub program: String,
    pub title: String,
    pub nodes: Vec<MapNode>,
    pub edges: Vec<Edge>,
}

fn state_hex(s: DepState) -> &'static str {
    match s {
        DepState::Blocked => "#e74c3c",
        DepState::AtRisk => "#e67e22",
        DepState::Open => "#3498db",
        DepState::Delivered => "#2ecc71",
        DepState::Cancelled => "#95a5a6",
    }
}

fn state_colour(s: DepState) -> canvas::Colour {
    match s {
        DepState::Blocked => canvas::RED,
        DepState::AtRisk => canvas::ORANGE,
        DepState::Open => canvas::BLUE,
        DepState::Delivered => canvas::GREEN,
        DepState::Cancelled => canvas::MUTED,
    }
}

fn health_hex(h: Option<Rag>) -> &'static str {
    match h {
        Some(Rag::Green) => "#d5f5e3",
        Some(Rag::Amber) => "#fcf3cf",
        Some(Rag::Red) => "#fadbd8",
        None => "#eceff1",
    }
}

impl DepMap {
    /// The map of a program. Every active project is a node, connected or not; removed
    /// projects, milestones without a project and outside providers appear when a
    /// dependency names them. A dependency inside one project is not a cross-team edge and
    /// is left out.
    pub fn of(a: &Analysed<'_>) -> Self {
        let s = a.snap;
        let mut nodes: Vec<MapNode> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut add = |nodes: &mut Vec<MapNode>, node: MapNode| -> usize {
            *index.entry(node.id.clone()).or_insert_with(|| {
                nodes.push(node);
                nodes.len() - 1
            })
        };
        for p in s.active_projects() {
            add(
                &mut nodes,
                MapNode {
                    id: p.key.as_str().to_owned(),
                    label: p.name.as_str().to_owned(),
                    kind: NodeKind::Project,
                    health: a.health.project(p.id).map(|h| h.health.rag),
                },
            );
        }
        let mut node_of = |nodes: &mut Vec<MapNode>, e: &Endpoint| -> Option<usize> {
            let node = match (e, s.project_of(e)) {
                (_, Some(p)) => {
                    let p = s.project(p)?;
                    MapNode {
                        id: p.key.as_str().to_owned(),
                        label: p.name.as_str().to_owned(),
                        kind: NodeKind::Project,
                        health: a.health.project(p.id).map(|h| h.health.rag),
                    }
                }
                (Endpoint::Milestone(m), None) => {
                    let m = s.milestone(*m)?;
                    MapNode {
                        id: m.key.as_str().to_owned(),
                        label: m.title.as_str().to_owned(),
                        kind: NodeKind::Milestone,
                        health: None,
                    }
                }
                (Endpoint::External(name), None) => MapNode {
                    id: format!("ext-{}", slug(name)),
                    label: name.clone(),
                    kind: NodeKind::External,
                    health: None,
                },
                (Endpoint::Project(_), None) => return None,
            };
            Some(add(nodes, node))
        };
        let mut edges: Vec<Edge> = Vec::new();
        let mut edge_ix: HashMap<(usize, usize), usize> = HashMap::new();
        // A cancelled dependency is history, not part of the map.
        for (di, d) in s.deps.iter().enumerate() {
            if d.state == DepState::Cancelled {
                continue;
            }
            let (Some(from), Some(to)) =
                (node_of(&mut nodes, &d.from), node_of(&mut nodes, &d.needs))
            else {
                continue;
            };
            if from == to {
                continue;
            }
            let e = *edge_ix.entry((from, to)).or_insert_with(|| {
                edges.push(Edge {
                    from,
                    to,
                    deps: vec![],
                });
                edges.len() - 1
            });
            edges[e].deps.push(EdgeDep {
                number: d.number,
                what: d.what.as_str().to_owned(),
                state: d.state,
                arrives_late: a.forecasts.arrival(di).filter(|at| *at > d.need_by),
            });
        }
        edges.sort_by_key(|e| (e.from, e.to));
        Self {
            program: s.program.key.as_str().to_owned(),
            title: s.program.name.as_str().to_owned(),
            nodes,
            edges,
        }
    }

    /// Graphviz DOT: `dot -Tsvg atlas.dot > atlas.svg`.
    pub fn dot(&self) -> String {
        let q = |s: &str| {
            let escaped = s
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', " ");
            format!("\"{escaped}\"")
        };
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", q(&self.program));
        let _ = writeln!(
            out,
            "  label={};",
            q(&format!("{}: dependencies", self.title))
        );
        out.push_str("  labelloc=t;\n  rankdir=LR;\n");
        out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"DejaVu Sans\"];\n");
        out.push_str("  edge [fontname=\"DejaVu Sans\", fontsize=10];\n");
        for n in &self.nodes {
            let style = match n.kind {
                NodeKind::External => ", style=\"rounded,dashed,filled\"",
                NodeKind::Milestone => ", shape=diamond",
                NodeKind::Project => "",
            };
            let _ = writeln!(
                out,
                "  {} [label={}, fillcolor=\"{}\"{style}];",
                q(&n.id),
                q(&n.label),
                health_hex(n.health)
            );
        }
        for e in &self.edges {
            let state = e.state();
            let width = if state == DepState::Blocked {
                ", penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {} -> {} [label={}, color=\"{}\", fontcolor=\"{}\"{width}];",
                q(&self.nodes[e.from].id),
                q(&self.nodes[e.to].id),
                q(&e.label()),
                state_hex(state),
                state_hex(state)
            );
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart, for Markdown that renders it (GitHub, GitLab, many wikis).
    pub fn mermaid(&self) -> String {
        let id = |s: &str| s.replace('-', "_");
        // Mermaid reads `#…;` as an entity, so `#` itself is written as one first. `%` and
        // `'` are entities too, so a title can never open a `%%{init: …}%%` directive or a
        // comment.
        let text = |s: &str| {
            s.replace('#', "#35;")
                .replace('%', "#37;")
                .replace('\'', "#39;")
                .replace('&', "#amp;")
                .replace('"', "#quot;")
                .replace('<', "#lt;")
                .replace('>', "#gt;")
                .replace('\n', " ")
        };
        let mut out = String::from("flowchart LR\n");
        for n in &self.nodes {
            let (open, close) = match n.kind {
                NodeKind::Project => ("(\"", "\")"),
                NodeKind::Milestone => ("{\"", "\"}"),
                NodeKind::External => ("[/\"", "\"/]"),
            };
            let _ = writeln!(out, "  {}{open}{}{close}", id(&n.id), text(&n.label));
        }
        for e in &self.edges {
            let arrow = if e.state() == DepState::Blocked {
                "==>"
            } else {
                "-->"
            };
            let _ = writeln!(
                out,
                "  {} {arrow}|\"{}\"| {}",
                id(&self.nodes[e.from].id),
                text(&e.label()),
                id(&self.nodes[e.to].id)
            );
        }
        for (k, fill) in [
            ("green", Some(Rag::Green)),
            ("amber", Some(Rag::Amber)),
            ("red", Some(Rag::Red)),
            ("none", None),
        ] {
            let _ = writeln!(
                out,
                "  classDef {k} fill:{},stroke:#6c757d",
                health_hex(fill)
            );
        }
        for n in &self.nodes {
            let class = n.health.map(|h| h.as_str()).unwrap_or("none");
            let _ = writeln!(out, "  class {} {class}", id(&n.id));
        }
        for (i, e) in self.edges.iter().enumerate() {
            let _ = writeln!(
                out,
                "  linkStyle {i} stroke:{},color:{}",
                state_hex(e.state()),
                state_hex(e.state())
            );
        }
        out
    }

    /// Columns by how far downstream a node is: providers left, consumers right. A cycle
    /// between projects (possible: teams can depend on each other for different things) is
    /// broken at its lowest-numbered node. Linear in nodes + edges.
    fn layers(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut out: Vec<Vec<usize>> = vec![vec![]; n];
        for e in &self.edges {
            indegree[e.to] += 1;
            out[e.from].push(e.to);
        }
        let mut layer = vec![0usize; n];
        let mut done = vec![false; n];
        let mut queue: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut next_stuck = 0;
        let mut head = 0;
        let mut processed = 0;
        while processed < n {
            if head == queue.len() {
                // Everything queued is done: the rest sits on cycles.
                while done[next_stuck] {
                    next_stuck += 1;
                }
                queue.push(next_stuck);
            }
            let v = queue[head];
            head += 1;
            if done[v] {
                continue;
            }
            done[v] = true;
            processed += 1;
            for &w in &out[v] {
                if done[w] {
                    continue;
                }
                layer[w] = layer[w].max(layer[v] + 1);
                indegree[w] = indegree[w].saturating_sub(1);
                if indegree[w] == 0 {
                    queue.push(w);
                }
            }
        }
        layer
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let kept: String = s.chars().take(max - 1).collect();
    format!("{}…", kept.trim_end())
}

/// `Legal review` → `legal-review`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

const WIDTH: u32 = 1400;
const TOP: i32 = 90;
const NODE_W: i32 = 200;
const NODE_H: i32 = 34;
const GAP: i32 = 16;
const FOOT: i32 = 50;
/// More nodes than this and the picture stops being readable.
pub const MAX_NODES: usize = 60;

pub fn render(a: &Analysed<'_>) -> anyhow::Result<Vec<u8>> {
    let mut map = DepMap::of(a);
    let total = map.nodes.len();
    if total > MAX_NODES {
        map = busiest(&map, MAX_NODES);
    }
    let layers = map.layers();
    let columns = layers.iter().max().map_or(1, |m| m + 1);
    let mut per_column: Vec<Vec<usize>> = vec![vec![]; columns];
    for (i, &l) in layers.iter().enumerate() {
        per_column[l].push(i);
    }
    let tallest = per_column.iter().map(Vec::len).max().unwrap_or(1).max(1) as i32;
    let height = (TOP + tallest * (NODE_H + GAP) + FOOT) as u32;
    let step = if columns > 1 {
        (WIDTH as i32 - 40 - NODE_W) / (columns as i32 - 1)
    } else {
        0
    };
    let mut at = vec![(0, 0); map.nodes.len()];
    for (c, nodes) in per_column.iter().enumerate() {
        for (k, &i) in nodes.iter().enumerate() {
            at[i] = (20 + step * c as i32, TOP + k as i32 * (NODE_H + GAP));
        }
    }
    let title = format!("{}: dependencies", map.title);
    paint(WIDTH, height, |pen| {
        pen.title(&title, (20, 28), 1300)?;
        let open = map
            .edges
            .iter()
            .flat_map(|e| &e.deps)
            .filter(|d| d.state != DepState::Delivered)
            .count();
        pen.text(
            &format!(
                "{} teams and providers, {} dependencies ({open} not delivered); arrows run from provider to consumer",
                map.nodes.len(),
                map.edges.iter().map(|e| e.deps.len()).sum::<usize>()
            ),
            (20, 54),
            13.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )?;
        for e in &map.edges {
            let ((fx, fy), (tx, ty)) = (at[e.from], at[e.to]);
            let (x0, y0) = (fx + NODE_W, fy + NODE_H / 2);
            let (x1, y1) = (tx, ty + NODE_H / 2);
            let state = e.state();
            let width = if state == DepState::Blocked { 3 } else { 2 };
            let colour = if state == DepState::Delivered {
                lighter(canvas::GREEN, 0.3)
            } else {
                state_colour(state)
            };
            pen.arrow(
                vec![(x0, y0), (x0 + 14, y0), (x1 - 14, y1), (x1, y1)],
                colour,
                width,
            )?;
            if e.deps.len() > 1 {
                let (mx, my) = ((x0 + x1) / 2, (y0 + y1) / 2);
                pen.rect((mx - 10, my - 8), (mx + 10, my + 8), canvas::WHITE)?;
                pen.text(
                    &e.deps.len().to_string(),
                    (mx, my),
                    11.0,
                    true,
                    colour,
                    Anchor::Centre,
                )?;
            }
        }
        for (i, n) in map.nodes.iter().enumerate() {
            let (x, y) = at[i];
            let fill = match n.health {
                Some(r) => lighter(canvas::rag_colour(r), 0.6),
                None => canvas::BAND,
            };
            pen.rect((x, y), (x + NODE_W, y + NODE_H), fill)?;
            let border = if n.kind == NodeKind::External {
                canvas::MUTED
            } else {
                canvas::INK
            };
            pen.frame((x, y), (x + NODE_W, y + NODE_H), border, 1)?;
            pen.text(
                &pen.fit(&n.label, 12.0, true, NODE_W - 12),
                (x + 6, y + NODE_H / 2),
                12.0,
                true,
                canvas::INK,
                Anchor::Left,
            )?;
        }
        let y = height as i32 - FOOT / 2;
        let mut x = 20;
        for state in DepState::ALL {
            pen.line(vec![(x, y), (x + 24, y)], state_colour(*state), 3)?;
            pen.text(
                state.as_str(),
                (x + 30, y),
                12.0,
                false,
                canvas::INK,
                Anchor::Left,
            )?;
            x += 40 + pen.text_width(state.as_str(), 12.0, false) + 16;
        }
        let note = if total > map.nodes.len() {
            format!(
                "Showing {} of {total}: the most entangled first. `path map {} --format dot` has them all.",
                map.nodes.len(),
                map.program
            )
        } else {
            "Boxes are filled by health: green, amber, red; grey outside the program.".to_owned()
        };
        pen.text(
            &pen.fit(&note, 12.0, false, WIDTH as i32 - x - 30),
            (x + 10, y),
            12.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )
    })
}

/// The `limit` nodes with the most undelivered dependencies (blocked ones count double),
/// and the edges between them.
fn busiest(map: &DepMap, limit: usize) -> DepMap {
    let mut weight = vec![0usize; map.nodes.len()];
    for e in &map.edges {
        let w: usize = e
            .deps
            .iter()
            .map(|d| match d.state {
                DepState::Blocked => 2,
                DepState::Delivered => 0,
                _ => 1,
            })
            .sum();
        weight[e.from] += w;
        weight[e.to] += w;
    }
    let mut order: Vec<usize> = (0..map.nodes.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(weight[i]), i));
    order.truncate(limit);
    order.sort_unstable();
    let new_ix: HashMap<usize, usize> = order.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    DepMap {
        program: map.program.clone(),
        title: map.title.clone(),
        nodes: order.iter().map(|&i| map.nodes[i].clone()).collect(),
        edges: map
            .edges
            .iter()
            .filter_map(|e| {
                Some(Edge {
                    from: *new_ix.get(&e.from)?,
                    to: *new_ix.get(&e.to)?,
                    deps: e.deps.clone(),
                })
            })
            .collect(),
    }
}
