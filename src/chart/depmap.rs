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
const MARGIN: i32 = 20;
const TOP: i32 = 90;
const NODE_W: i32 = 200;
const NODE_H: i32 = 34;
/// Between two boxes of a column: room for a label on an edge that passes between them.
const GAP: i32 = 24;
/// Between a box and an edge that passes through its column.
const LANE_GAP: i32 = 12;
/// Between two edges that pass through the same column.
const LANE_STEP: i32 = 8;
const FOOT: i32 = 50;
const LABEL_SIZE: f64 = 11.0;
const LABEL_H: i32 = 15;
/// Room kept clear at each side of a channel, so a bend never sits on a box's edge or on an
/// arrowhead.
const CHANNEL_PAD: i32 = 12;
/// The widest spacing of parallel vertical runs in a channel.
const TRACK_STEP: f64 = 12.0;
/// More nodes than this and the picture stops being readable.
pub const MAX_NODES: usize = 60;

/// A rectangle in pixels, its edges included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    fn grown(self, by: i32) -> Rect {
        Rect {
            x0: self.x0 - by,
            y0: self.y0 - by,
            x1: self.x1 + by,
            y1: self.y1 + by,
        }
    }

    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 <= o.x1 && o.x0 <= self.x1 && self.y0 <= o.y1 && o.y0 <= self.y1
    }

    /// Whether the axis-parallel segment from `a` to `b` touches the rectangle, its edges
    /// included.
    pub fn touched_by(&self, a: (i32, i32), b: (i32, i32)) -> bool {
        a.0.min(b.0) <= self.x1
            && a.0.max(b.0) >= self.x0
            && a.1.min(b.1) <= self.y1
            && a.1.max(b.1) >= self.y0
    }

    /// Whether the axis-parallel segment from `a` to `b` runs inside the rectangle, not
    /// merely to its edge.
    pub fn entered_by(&self, a: (i32, i32), b: (i32, i32)) -> bool {
        a.0.min(b.0) < self.x1
            && a.0.max(b.0) > self.x0
            && a.1.min(b.1) < self.y1
            && a.1.max(b.1) > self.y0
    }
}

/// One edge as drawn: its route around the boxes, its style and its label.
#[derive(Debug, Clone)]
pub struct Route {
    /// Index into the map's edges.
    pub edge: usize,
    /// Horizontal and vertical runs from the provider's box to the consumer's; the
    /// arrowhead is at the last point.
    pub points: Vec<(i32, i32)>,
    pub state: DepState,
    /// Blocked, at risk or arriving late: drawn over the others, thicker.
    pub warning: bool,
    pub colour: canvas::Colour,
    pub width: u32,
    /// `#3 blocked, #5`.
    pub label: String,
    /// Where the label sits, on a white ground.
    pub label_at: Rect,
}

/// The map placed on the picture: a box per node and a route per edge, in the order they
/// are painted. Worked out before anything is drawn, so its geometry can be checked.
#[derive(Debug, Clone)]
pub struct MapLayout {
    pub width: u32,
    pub height: u32,
    /// One per node, in the map's order.
    pub boxes: Vec<Rect>,
    /// In paint order: the warnings last, so nothing covers them.
    pub routes: Vec<Route>,
}

/// How bad a dependency is, for the order of a label's parts.
fn severity(d: &EdgeDep) -> u8 {
    match (d.state, d.arrives_late) {
        (DepState::Blocked, _) => 3,
        (_, Some(_)) => 2,
        (DepState::AtRisk, None) => 1,
        _ => 0,
    }
}

/// The short word a label carries for a dependency that needs attention.
fn word(d: &EdgeDep) -> Option<&'static str> {
    match severity(d) {
        3 => Some("blocked"),
        2 => Some("late"),
        1 => Some("at risk"),
        _ => None,
    }
}

impl Edge {
    /// What the picture writes on the edge: `#3 blocked, #5`, the worst first, at most
    /// three named.
    pub fn short_label(&self) -> String {
        let mut deps: Vec<&EdgeDep> = self.deps.iter().collect();
        deps.sort_by_key(|d| (std::cmp::Reverse(severity(d)), d.number));
        let mut out = deps
            .iter()
            .take(3)
            .map(|d| match word(d) {
                Some(w) => format!("#{} {w}", d.number),
                None => format!("#{}", d.number),
            })
            .collect::<Vec<_>>()
            .join(", ");
        if deps.len() > 3 {
            let _ = write!(out, " +{}", deps.len() - 3);
        }
        out
    }

    /// Blocked, at risk, or arriving after it is needed.
    pub fn is_warning(&self) -> bool {
        matches!(self.state(), DepState::Blocked | DepState::AtRisk)
    }
}

/// Colour and width by state: the warning colours, thicker, for blocked and at-risk (a late
/// arrival counts as at risk).
fn route_style(state: DepState) -> (canvas::Colour, u32) {
    match state {
        DepState::Blocked => (canvas::RED, 3),
        DepState::AtRisk => (canvas::ORANGE, 3),
        DepState::Open => (canvas::BLUE, 2),
        DepState::Delivered => (lighter(canvas::GREEN, 0.3), 2),
        DepState::Cancelled => (canvas::MUTED, 1),
    }
}

impl DepMap {
    /// Each node's column, providers left and consumers right, and which edges run against
    /// that flow. A cycle between projects (possible: teams can depend on each other for
    /// different things) is broken at its lowest-numbered node; an edge that closes a cycle
    /// is laid out backwards, so every edge spans at least one column. Linear in nodes +
    /// edges.
    fn ranks(&self) -> (Vec<usize>, Vec<bool>) {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut out: Vec<Vec<usize>> = vec![vec![]; n];
        for e in &self.edges {
            indegree[e.to] += 1;
            out[e.from].push(e.to);
        }
        let mut order = Vec::with_capacity(n);
        let mut done = vec![false; n];
        let mut queue: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut next_stuck = 0;
        let mut head = 0;
        while order.len() < n {
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
            order.push(v);
            for &w in &out[v] {
                if !done[w] {
                    indegree[w] = indegree[w].saturating_sub(1);
                    if indegree[w] == 0 {
                        queue.push(w);
                    }
                }
            }
        }
        let mut place = vec![0usize; n];
        for (k, &v) in order.iter().enumerate() {
            place[v] = k;
        }
        // Every edge oriented from earlier to later in that order: no cycle is left.
        let reversed: Vec<bool> = self
            .edges
            .iter()
            .map(|e| place[e.to] < place[e.from])
            .collect();
        let mut preds: Vec<Vec<usize>> = vec![vec![]; n];
        let mut succs: Vec<Vec<usize>> = vec![vec![]; n];
        for (e, &back) in self.edges.iter().zip(&reversed) {
            let (a, b) = if back { (e.to, e.from) } else { (e.from, e.to) };
            preds[b].push(a);
            succs[a].push(b);
        }
        let mut layer = vec![0usize; n];
        for &v in &order {
            layer[v] = preds[v].iter().map(|&u| layer[u] + 1).max().unwrap_or(0);
        }
        // A provider nobody feeds sits just left of its nearest consumer, so its edges
        // need not cross columns of boxes.
        for &v in order.iter().rev() {
            if preds[v].is_empty() {
                if let Some(nearest) = succs[v].iter().map(|&w| layer[w]).min() {
                    layer[v] = nearest - 1;
                }
            }
        }
        (layer, reversed)
    }
}

/// Orders each column's items (boxes and edges passing through) by the mean place of their
/// neighbours in the next column, sweeping down and up a few times: fewer crossings.
fn order_columns(columns: &mut [Vec<usize>], up: &[Vec<usize>], down: &[Vec<usize>]) {
    let mut pos = vec![0.0f64; up.len()];
    for col in columns.iter() {
        for (k, &it) in col.iter().enumerate() {
            pos[it] = k as f64;
        }
    }
    let sort = |col: &mut Vec<usize>, near: &[Vec<usize>], pos: &mut [f64]| {
        let mut keyed: Vec<(f64, f64, usize)> = col
            .iter()
            .map(|&it| {
                let key = if near[it].is_empty() {
                    pos[it]
                } else {
                    near[it].iter().map(|&o| pos[o]).sum::<f64>() / near[it].len() as f64
                };
                (key, pos[it], it)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (k, (_, _, it)) in keyed.into_iter().enumerate() {
            col[k] = it;
            pos[it] = k as f64;
        }
    };
    let n = columns.len();
    for _ in 0..4 {
        for col in columns.iter_mut().skip(1) {
            sort(col, up, &mut pos);
        }
        for col in columns[..n.saturating_sub(1)].iter_mut().rev() {
            sort(col, down, &mut pos);
        }
    }
}

/// `points` without repeats, and without the middle of three points on one line.
fn simplify(points: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(points.len());
    for p in points {
        if out.last() == Some(&p) {
            continue;
        }
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            if (a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1) {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// Places of a `w` × `h` label along a route, the best first: on long horizontal runs near
/// their middle, then flush with either end, on the line or just beside it; then along
/// vertical runs. Never over the arrowhead.
fn label_spots(points: &[(i32, i32)], w: i32, h: i32) -> Vec<Rect> {
    let Some(&tip) = points.last() else {
        return vec![];
    };
    let head = Rect {
        x0: tip.0 - 10,
        y0: tip.1 - 6,
        x1: tip.0 + 10,
        y1: tip.1 + 6,
    };
    type Point = (i32, i32);
    let mut runs: Vec<(usize, Point, Point)> = points
        .windows(2)
        .enumerate()
        .map(|(k, p)| (k, p[0], p[1]))
        .collect();
    let length = |a: Point, b: Point| (a.0 - b.0).abs() + (a.1 - b.1).abs();
    runs.sort_by_key(|&(k, a, b)| (a.0 == b.0, std::cmp::Reverse(length(a, b)), k));
    let at = |cx: i32, cy: i32| Rect {
        x0: cx - w / 2,
        y0: cy - h / 2,
        x1: cx - w / 2 + w,
        y1: cy - h / 2 + h,
    };
    let mut out = Vec::new();
    for (_, a, b) in runs {
        let vertical = a.0 == b.0;
        let (along, half) = if vertical { (h, w) } else { (w, h) };
        let (lo, hi) = if vertical {
            (a.1.min(b.1), a.1.max(b.1))
        } else {
            (a.0.min(b.0), a.0.max(b.0))
        };
        let mut centres: Vec<i32> = [0.5, 0.3, 0.7, 0.15, 0.85]
            .iter()
            .map(|t| lo + (f64::from(hi - lo) * t).round() as i32)
            .collect();
        centres.extend([lo + along / 2 + 4, hi - along / 2 - 4]);
        let beside: &[i32] = if vertical {
            &[0, half / 2 + 3, -(half / 2 + 3), half / 4, -(half / 4)]
        } else {
            &[0, -(half / 2 + 3), half / 2 + 3]
        };
        for &c in &centres {
            for &d in beside {
                let spot = if vertical {
                    at(a.0 + d, c)
                } else {
                    at(c, a.1 + d)
                };
                if !spot.overlaps(&head) {
                    out.push(spot);
                }
            }
        }
    }
    if out.is_empty() {
        if let (Some(a), Some(b)) = (points.first(), points.get(1)) {
            out.push(at((a.0 + b.0) / 2, (a.1 + b.1) / 2));
        }
    }
    out
}

/// The map laid out with the bundled font's measures.
pub fn layout(map: &DepMap) -> MapLayout {
    layout_with(map, &|s, bold| canvas::text_width(s, LABEL_SIZE, bold))
}

/// A layered layout: a column per rank, each box in its column, and every edge that skips
/// columns given a lane of its own through each column between, so it passes between boxes
/// and never over one. Vertical runs go in the channels between columns, each on a track
/// of its own. Labels go where they cover no box and no other label.
fn layout_with(map: &DepMap, measure: &dyn Fn(&str, bool) -> i32) -> MapLayout {
    let n = map.nodes.len();
    let (layer, reversed) = map.ranks();
    let columns = layer.iter().max().map_or(1, |m| m + 1);
    // Items 0..n are the boxes; after them, one lane per column an edge passes through.
    let mut item_col: Vec<usize> = layer.clone();
    let mut is_lane = vec![false; n];
    let chains: Vec<Vec<usize>> = map
        .edges
        .iter()
        .zip(&reversed)
        .map(|(e, &back)| {
            let (a, b) = if back { (e.to, e.from) } else { (e.from, e.to) };
            let mut chain = vec![a];
            for c in layer[a] + 1..layer[b] {
                item_col.push(c);
                is_lane.push(true);
                chain.push(item_col.len() - 1);
            }
            chain.push(b);
            chain
        })
        .collect();
    let items = item_col.len();
    let mut up: Vec<Vec<usize>> = vec![vec![]; items];
    let mut down: Vec<Vec<usize>> = vec![vec![]; items];
    for chain in &chains {
        for w in chain.windows(2) {
            down[w[0]].push(w[1]);
            up[w[1]].push(w[0]);
        }
    }
    let mut per_column: Vec<Vec<usize>> = vec![vec![]; columns];
    for (it, &c) in item_col.iter().enumerate() {
        per_column[c].push(it);
    }
    order_columns(&mut per_column, &up, &down);

    // Down each column: a box's top, or a lane's line; each column centred on the tallest.
    let mut y_of = vec![0i32; items];
    let mut heights = vec![0i32; columns];
    for (c, col) in per_column.iter().enumerate() {
        let mut y = 0;
        let mut prev: Option<bool> = None;
        for &it in col {
            y += match (prev, is_lane[it]) {
                (None, _) => 0,
                (Some(false), false) => GAP,
                (Some(true), true) => LANE_STEP,
                _ => LANE_GAP,
            };
            y_of[it] = y;
            if !is_lane[it] {
                y += NODE_H;
            }
            prev = Some(is_lane[it]);
        }
        heights[c] = y;
    }
    let tallest = heights.iter().copied().max().unwrap_or(0).max(NODE_H);
    for (c, col) in per_column.iter().enumerate() {
        let offset = TOP + (tallest - heights[c]) / 2;
        for &it in col {
            y_of[it] += offset;
        }
    }
    let height = TOP + tallest + FOOT;

    // Across: boxes narrow when there are many columns, so the channels between stay open.
    let avail = WIDTH as i32 - 2 * MARGIN;
    let node_w = NODE_W.min((f64::from(avail) / columns as f64 * 0.62) as i32);
    let pitch = if columns > 1 {
        (avail - node_w) / (columns as i32 - 1)
    } else {
        0
    };
    let col_x = |c: usize| MARGIN + pitch * c as i32;
    let boxes: Vec<Rect> = (0..n)
        .map(|i| Rect {
            x0: col_x(layer[i]),
            y0: y_of[i],
            x1: col_x(layer[i]) + node_w,
            y1: y_of[i] + NODE_H,
        })
        .collect();

    // Where each edge leaves and enters its boxes: spread along the side, in the order of
    // where they go next, so they do not cross at the box.
    let centre = |it: usize| {
        if is_lane[it] {
            y_of[it]
        } else {
            y_of[it] + NODE_H / 2
        }
    };
    let mut leaving: Vec<Vec<usize>> = vec![vec![]; n];
    let mut entering: Vec<Vec<usize>> = vec![vec![]; n];
    for (e, chain) in chains.iter().enumerate() {
        leaving[chain[0]].push(e);
        entering[chain[chain.len() - 1]].push(e);
    }
    let mut port_out = vec![0i32; chains.len()];
    let mut port_in = vec![0i32; chains.len()];
    let spread = |edges: &[usize], top: i32, ports: &mut [i32]| {
        let k = edges.len() as i32;
        for (j, &e) in edges.iter().enumerate() {
            ports[e] = top + (NODE_H * (j as i32 + 1) / (k + 1)).clamp(1, NODE_H - 1);
        }
    };
    for v in 0..n {
        leaving[v].sort_by_key(|&e| (centre(chains[e][1]), e));
        spread(&leaving[v], y_of[v], &mut port_out);
        entering[v].sort_by_key(|&e| (centre(chains[e][chains[e].len() - 2]), e));
        spread(&entering[v], y_of[v], &mut port_in);
    }

    // Each hop from one column to the next that changes height gets a vertical track in
    // the channel. Going down, the one that starts highest takes the rightmost track; going
    // up, the one that starts lowest: runs of one direction then never cross each other.
    let hop_ys = |e: usize, k: usize| {
        let last = chains[e].len() - 1;
        let y0 = if k == 0 {
            port_out[e]
        } else {
            y_of[chains[e][k]]
        };
        let y1 = if k + 1 == last {
            port_in[e]
        } else {
            y_of[chains[e][k + 1]]
        };
        (y0, y1)
    };
    let mut bends: Vec<Vec<(usize, usize)>> = vec![vec![]; columns];
    for (e, chain) in chains.iter().enumerate() {
        for k in 0..chain.len() - 1 {
            let (y0, y1) = hop_ys(e, k);
            if y0 != y1 {
                bends[item_col[chain[k]]].push((e, k));
            }
        }
    }
    let mut track: HashMap<(usize, usize), i32> = HashMap::new();
    for (c, list) in bends.iter_mut().enumerate() {
        list.sort_by_key(|&(e, k)| {
            let (y0, y1) = hop_ys(e, k);
            let rising = y1 < y0;
            (rising, if rising { -y0 } else { y0 }, e)
        });
        let (left, right) = (col_x(c) + node_w, col_x(c + 1));
        let (lo, hi) = (left + CHANNEL_PAD, right - CHANNEL_PAD);
        let m = list.len();
        let mid = f64::from(left + right) / 2.0;
        let step = if hi > lo {
            (f64::from(hi - lo) / m as f64).min(TRACK_STEP)
        } else {
            0.0
        };
        for (j, &hop) in list.iter().enumerate() {
            let x = mid + ((m as f64 - 1.0) / 2.0 - j as f64) * step;
            track.insert(hop, (x.round() as i32).clamp(left + 1, right - 1));
        }
    }

    let mut routes: Vec<Route> = chains
        .iter()
        .enumerate()
        .map(|(e, chain)| {
            let last = chain.len() - 1;
            let mut points = vec![(col_x(layer[chain[0]]) + node_w, port_out[e])];
            for k in 0..last {
                let (y0, y1) = hop_ys(e, k);
                if let Some(&x) = track.get(&(e, k)) {
                    points.push((x, y0));
                    points.push((x, y1));
                }
                let next = col_x(item_col[chain[k + 1]]);
                points.push((next, y1));
                if k + 1 < last {
                    points.push((next + node_w, y1));
                }
            }
            let mut points = simplify(points);
            if reversed[e] {
                points.reverse();
            }
            let edge = &map.edges[e];
            let state = edge.state();
            let (colour, width) = route_style(state);
            Route {
                edge: e,
                points,
                state,
                warning: edge.is_warning(),
                colour,
                width,
                label: edge.short_label(),
                label_at: Rect {
                    x0: 0,
                    y0: 0,
                    x1: 0,
                    y1: 0,
                },
            }
        })
        .collect();
    let rank = |r: &Route| match r.state {
        DepState::Blocked => 2,
        DepState::AtRisk => 1,
        _ => 0,
    };
    routes.sort_by_key(|r| (rank(r), r.edge));

    // Labels, the warnings first so they get the clearest places.
    let bounds = Rect {
        x0: 2,
        y0: TOP - 12,
        x1: WIDTH as i32 - 2,
        y1: height - FOOT + 4,
    };
    let mut placed: Vec<Rect> = Vec::with_capacity(routes.len());
    for r in routes.iter_mut().rev() {
        let w = measure(&r.label, r.warning) + 8;
        let spots = label_spots(&r.points, w, LABEL_H);
        let clear_of_boxes = |s: &Rect| !boxes.iter().any(|b| b.grown(2).overlaps(s));
        let inside = |s: &Rect| {
            s.x0 >= bounds.x0 && s.x1 <= bounds.x1 && s.y0 >= bounds.y0 && s.y1 <= bounds.y1
        };
        let best = spots
            .iter()
            .find(|s| inside(s) && clear_of_boxes(s) && !placed.iter().any(|p| p.overlaps(s)))
            .or_else(|| spots.iter().find(|s| inside(s) && clear_of_boxes(s)))
            .or_else(|| spots.iter().find(|s| clear_of_boxes(s)))
            .or(spots.first())
            .copied();
        if let Some(spot) = best {
            r.label_at = spot;
            placed.push(spot.grown(1));
        }
    }
    MapLayout {
        width: WIDTH,
        height: height as u32,
        boxes,
        routes,
    }
}

/// The map the picture shows, and how many nodes the whole map has: past [`MAX_NODES`],
/// only the most entangled.
pub fn pictured(a: &Analysed<'_>) -> (DepMap, usize) {
    let map = DepMap::of(a);
    let total = map.nodes.len();
    if total > MAX_NODES {
        (busiest(&map, MAX_NODES), total)
    } else {
        (map, total)
    }
}

pub fn render(a: &Analysed<'_>, format: canvas::Format) -> anyhow::Result<Vec<u8>> {
    let (map, total) = pictured(a);
    let plan = layout(&map);
    let title = format!("{}: dependencies", map.title);
    paint(format, plan.width, plan.height, |pen| {
        pen.title(&title, (MARGIN, 28), 1300)?;
        let open = map
            .edges
            .iter()
            .flat_map(|e| &e.deps)
            .filter(|d| d.state != DepState::Delivered)
            .count();
        pen.text(
            &format!(
                "{} teams and providers, {} dependencies ({open} not delivered); arrows run from provider to consumer, labelled by dependency number",
                map.nodes.len(),
                map.edges.iter().map(|e| e.deps.len()).sum::<usize>()
            ),
            (MARGIN, 54),
            13.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )?;
        for (n, b) in map.nodes.iter().zip(&plan.boxes) {
            let fill = match n.health {
                Some(r) => lighter(canvas::rag_colour(r), 0.6),
                None => canvas::BAND,
            };
            pen.rect((b.x0, b.y0), (b.x1, b.y1), fill)?;
            let border = if n.kind == NodeKind::External {
                canvas::MUTED
            } else {
                canvas::INK
            };
            pen.frame((b.x0, b.y0), (b.x1, b.y1), border, 1)?;
            pen.text(
                &pen.fit(&n.label, 12.0, true, b.x1 - b.x0 - 12),
                (b.x0 + 6, (b.y0 + b.y1) / 2),
                12.0,
                true,
                canvas::INK,
                Anchor::Left,
            )?;
        }
        // Routes in order, the warnings last; then the labels over every line.
        for r in &plan.routes {
            pen.arrow(r.points.clone(), r.colour, r.width)?;
        }
        for r in &plan.routes {
            let at = r.label_at;
            pen.rect((at.x0, at.y0), (at.x1, at.y1), canvas::WHITE)?;
            pen.frame((at.x0, at.y0), (at.x1, at.y1), lighter(r.colour, 0.4), 1)?;
            pen.text(
                &r.label,
                ((at.x0 + at.x1) / 2, (at.y0 + at.y1) / 2),
                LABEL_SIZE,
                r.warning,
                if r.warning { r.colour } else { canvas::INK },
                Anchor::Centre,
            )?;
        }
        let y = plan.height as i32 - FOOT / 2;
        let mut x = MARGIN;
        for state in DepState::ALL {
            let (colour, width) = route_style(*state);
            pen.line(vec![(x, y), (x + 24, y)], colour, width.max(2))?;
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
            "Boxes are filled by health: green, amber, red; grey outside the program. Blocked and late ones are drawn over the rest.".to_owned()
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn node(id: &str) -> MapNode {
        MapNode {
            id: id.to_owned(),
            label: format!("Team {id}"),
            kind: NodeKind::Project,
            health: Some(Rag::Green),
        }
    }

    fn dep(number: i64, state: DepState) -> EdgeDep {
        EdgeDep {
            number,
            what: format!("deliverable {number}"),
            state,
            arrives_late: None,
        }
    }

    fn late(number: i64) -> EdgeDep {
        EdgeDep {
            arrives_late: NaiveDate::from_ymd_opt(2027, 1, 4),
            ..dep(number, DepState::Open)
        }
    }

    fn map_of(nodes: usize, edges: Vec<(usize, usize, Vec<EdgeDep>)>) -> DepMap {
        DepMap {
            program: "atlas".into(),
            title: "Atlas".into(),
            nodes: (0..nodes).map(|i| node(&format!("n{i}"))).collect(),
            edges: edges
                .into_iter()
                .map(|(from, to, deps)| Edge { from, to, deps })
                .collect(),
        }
    }

    /// Seven pixels a character: close enough to the font, and the same on every machine.
    fn measure(s: &str, _bold: bool) -> i32 {
        7 * s.chars().count() as i32
    }

    fn on_border(b: &Rect, (x, y): (i32, i32)) -> bool {
        let inside_x = (b.x0..=b.x1).contains(&x);
        let inside_y = (b.y0..=b.y1).contains(&y);
        ((x == b.x0 || x == b.x1) && inside_y) || ((y == b.y0 || y == b.y1) && inside_x)
    }

    /// What a trustworthy map must hold: boxes apart; every route made of horizontal and
    /// vertical runs from its provider's box edge to its consumer's, the arrow pointing in;
    /// no run inside any box, and none touching a box that is not one of its ends; labels
    /// clear of every box.
    fn check(map: &DepMap, l: &MapLayout) -> Result<(), String> {
        for (i, a) in l.boxes.iter().enumerate() {
            for b in &l.boxes[i + 1..] {
                if a.overlaps(b) {
                    return Err(format!("boxes {a:?} and {b:?} overlap"));
                }
            }
        }
        if l.routes.len() != map.edges.len() {
            return Err("an edge has no route".into());
        }
        for r in &l.routes {
            let e = &map.edges[r.edge];
            let (from, to) = (&l.boxes[e.from], &l.boxes[e.to]);
            let p = &r.points;
            if p.len() < 2 {
                return Err(format!("{}: {p:?} is not a route", r.label));
            }
            if !on_border(from, p[0]) || !on_border(to, p[p.len() - 1]) {
                return Err(format!(
                    "{}: {p:?} does not join {from:?} to {to:?}",
                    r.label
                ));
            }
            let (tip, tail) = (p[p.len() - 1], p[p.len() - 2]);
            if to.touched_by(tail, tail) {
                return Err(format!("{}: the arrow comes from inside {to:?}", r.label));
            }
            if tip == tail {
                return Err(format!("{}: a run of no length at the tip", r.label));
            }
            for w in p.windows(2) {
                let (a, b) = (w[0], w[1]);
                if a.0 != b.0 && a.1 != b.1 {
                    return Err(format!("{}: {a:?}→{b:?} is diagonal", r.label));
                }
                for (i, bx) in l.boxes.iter().enumerate() {
                    if bx.entered_by(a, b) {
                        return Err(format!("{}: {a:?}→{b:?} runs through box {i}", r.label));
                    }
                    if i != e.from && i != e.to && bx.touched_by(a, b) {
                        return Err(format!("{}: {a:?}→{b:?} touches box {i}", r.label));
                    }
                }
            }
            if let Some(i) = l.boxes.iter().position(|b| b.overlaps(&r.label_at)) {
                return Err(format!("{}: the label covers box {i}", r.label));
            }
        }
        Ok(())
    }

    #[test]
    fn edges_that_skip_columns_pass_between_the_boxes_they_skip() {
        // 0 → 1 → 2 → 3 in a line, with 0 → 3 and 0 → 2 skipping the boxes between, and
        // more boxes in the middle columns to pass between.
        let map = map_of(
            7,
            vec![
                (0, 1, vec![dep(1, DepState::Open)]),
                (1, 2, vec![dep(2, DepState::Open)]),
                (2, 3, vec![dep(3, DepState::Open)]),
                (0, 3, vec![dep(4, DepState::Blocked)]),
                (0, 2, vec![late(5)]),
                (4, 5, vec![dep(6, DepState::Delivered)]),
                (5, 6, vec![dep(7, DepState::Open)]),
                (4, 6, vec![dep(8, DepState::AtRisk)]),
            ],
        );
        let l = layout_with(&map, &measure);
        check(&map, &l).unwrap();
        // The boxes skipped sit in the columns between: a straight line would cross them,
        // so the long routes bend (more than the three runs of a plain elbow).
        let long = l.routes.iter().find(|r| r.edge == 3).unwrap();
        assert!(l.boxes[1].x0 > l.boxes[0].x1 && l.boxes[2].x1 < l.boxes[3].x0);
        assert!(long.points.len() >= 4, "{:?}", long.points);
    }

    #[test]
    fn cycles_are_laid_out_with_their_closing_edge_backwards() {
        let map = map_of(
            4,
            vec![
                (0, 1, vec![dep(1, DepState::Open)]),
                (1, 2, vec![dep(2, DepState::Open)]),
                (2, 0, vec![dep(3, DepState::Blocked)]),
                (1, 0, vec![dep(4, DepState::Open)]),
                (3, 2, vec![dep(5, DepState::Open)]),
            ],
        );
        let l = layout_with(&map, &measure);
        check(&map, &l).unwrap();
        // Every edge spans columns: none is drawn inside one column.
        for r in &l.routes {
            let e = &map.edges[r.edge];
            assert_ne!(l.boxes[e.from].x0, l.boxes[e.to].x0, "{}", r.label);
        }
    }

    #[test]
    fn every_edge_is_labelled_with_its_numbers_and_the_state_that_needs_attention() {
        let map = map_of(
            3,
            vec![
                (
                    0,
                    1,
                    vec![dep(3, DepState::Blocked), dep(9, DepState::Open)],
                ),
                (1, 2, vec![late(4)]),
                (0, 2, vec![dep(5, DepState::Open)]),
                (
                    2,
                    1,
                    vec![
                        dep(6, DepState::Delivered),
                        dep(7, DepState::AtRisk),
                        dep(8, DepState::Open),
                        dep(10, DepState::Open),
                    ],
                ),
            ],
        );
        let l = layout_with(&map, &measure);
        let label = |edge: usize| {
            l.routes
                .iter()
                .find(|r| r.edge == edge)
                .map(|r| r.label.clone())
                .unwrap()
        };
        assert_eq!(label(0), "#3 blocked, #9");
        assert_eq!(label(1), "#4 late");
        assert_eq!(label(2), "#5");
        assert_eq!(label(3), "#7 at risk, #6, #8 +1");
        // Placed clear of the boxes and of each other.
        for (i, a) in l.routes.iter().enumerate() {
            assert!(a.label_at.x1 - a.label_at.x0 >= measure(&a.label, true));
            for b in &l.routes[i + 1..] {
                assert!(!a.label_at.overlaps(&b.label_at), "{a:?} {b:?}");
            }
        }
        check(&map, &l).unwrap();
    }

    #[test]
    fn blocked_and_late_edges_are_painted_last_and_thicker() {
        let map = map_of(
            4,
            vec![
                (0, 1, vec![dep(1, DepState::Blocked)]),
                (0, 2, vec![late(2)]),
                (1, 3, vec![dep(3, DepState::Open)]),
                (2, 3, vec![dep(4, DepState::Delivered)]),
                (0, 3, vec![dep(5, DepState::Open)]),
            ],
        );
        let l = layout_with(&map, &measure);
        let order: Vec<DepState> = l.routes.iter().map(|r| r.state).collect();
        let first_warning = l.routes.iter().position(|r| r.warning).unwrap();
        assert!(
            l.routes[first_warning..].iter().all(|r| r.warning),
            "{order:?}"
        );
        assert_eq!(l.routes.last().unwrap().state, DepState::Blocked);
        let widest_calm = l
            .routes
            .iter()
            .filter(|r| !r.warning)
            .map(|r| r.width)
            .max();
        for r in l.routes.iter().filter(|r| r.warning) {
            assert!(Some(r.width) > widest_calm, "{}: {}", r.label, r.width);
            assert!(r.colour == canvas::RED || r.colour == canvas::ORANGE);
        }
        let late_route = l.routes.iter().find(|r| r.edge == 1).unwrap();
        assert_eq!(
            (late_route.state, late_route.colour),
            (DepState::AtRisk, canvas::ORANGE)
        );
    }

    #[test]
    fn the_demo_like_map_with_an_outside_provider_draws() {
        // Boxes without edges, an outside provider, and one edge: the picture still lays out.
        let mut map = map_of(3, vec![(0, 1, vec![dep(1, DepState::Open)])]);
        map.nodes.push(MapNode {
            id: "ext-legal".into(),
            label: "Legal review".into(),
            kind: NodeKind::External,
            health: None,
        });
        map.edges.push(Edge {
            from: 3,
            to: 2,
            deps: vec![late(2)],
        });
        let l = layout_with(&map, &measure);
        check(&map, &l).unwrap();
        assert_eq!(l.width, WIDTH);
        assert!(l
            .boxes
            .iter()
            .all(|b| b.x1 <= WIDTH as i32 && b.y1 < l.height as i32));
        assert!(l.routes.iter().all(|r| r.label_at.y1 < l.height as i32));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]
        #[test]
        fn no_route_crosses_a_box_on_any_map(
            nodes in 1usize..14,
            edges in proptest::collection::vec((0usize..14, 0usize..14, 0u8..5), 0..40),
        ) {
            let mut seen = std::collections::HashSet::new();
            let edges: Vec<(usize, usize, Vec<EdgeDep>)> = edges
                .into_iter()
                .map(|(a, b, s)| (a % nodes, b % nodes, s))
                .filter(|(a, b, _)| a != b && seen.insert((*a, *b)))
                .enumerate()
                .map(|(i, (a, b, s))| {
                    let number = i as i64 + 1;
                    let d = match s {
                        0 => dep(number, DepState::Blocked),
                        1 => late(number),
                        2 => dep(number, DepState::AtRisk),
                        3 => dep(number, DepState::Delivered),
                        _ => dep(number, DepState::Open),
                    };
                    (a, b, vec![d])
                })
                .collect();
            let map = map_of(nodes, edges);
            let l = layout_with(&map, &measure);
            if let Err(why) = check(&map, &l) {
                // Past six columns the channels are narrower than a label: only the routes
                // are held to it there.
                let columns: std::collections::HashSet<i32> =
                    l.boxes.iter().map(|b| b.x0).collect();
                let labels_only = why.contains("the label covers") && columns.len() > 6;
                proptest::prop_assert!(labels_only, "{}", why);
            }
            let first_warning = l.routes.iter().position(|r| r.warning).unwrap_or(l.routes.len());
            proptest::prop_assert!(l.routes[first_warning..].iter().all(|r| r.warning));
        }
    }
}
