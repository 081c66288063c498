//! A canvas to draw on in pixels, with the bundled font: a bitmap encoded as PNG, or SVG
//! (the same drawing, as vector elements whose text names only the generic `sans-serif`
//! family, so no font is fetched from anywhere). Charts place things themselves (dates to
//! x, rows to y), so this is all they need from `plotters`.

use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::element::{PathElement, Polygon, Rectangle, Text};
use plotters::prelude::{BitMapBackend, DrawingArea, IntoDrawingArea, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, ShapeStyle, TextStyle};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The font family every chart asks for; it resolves to the bundled DejaVu Sans.
const FAMILY: FontFamily<'static> = FontFamily::SansSerif;

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are ours and checked by the tests; a failure here would show as charts
        // without text, so it is logged rather than hidden.
        for (style, bytes) in [(FontStyle::Normal, REGULAR), (FontStyle::Bold, BOLD)] {
            if plotters::style::register_font(FAMILY.as_str(), style, bytes).is_err() {
                tracing::error!("the bundled chart font could not be read");
            }
        }
    });
}

/// How wide `s` is in the bundled font at `size` px, for layouts worked out before anything
/// is drawn. Falls back to an estimate if the font cannot be read.
pub fn text_width(s: &str, size: f64, bold: bool) -> i32 {
    register_fonts();
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FAMILY, size, style)
        .box_size(s)
        .map(|(w, _)| w as i32)
        .unwrap_or((s.chars().count() as f64 * size * 0.6) as i32)
}

/// A colour as charts name it.
pub type Colour = RGBColor;

pub const WHITE: RGBColor = RGBColor(255, 255, 255);
pub const INK: RGBColor = RGBColor(33, 37, 41);
pub const MUTED: RGBColor = RGBColor(108, 117, 125);
pub const RULE: RGBColor = RGBColor(222, 226, 230);
pub const BAND: RGBColor = RGBColor(246, 247, 249);
pub const GREEN: RGBColor = RGBColor(46, 204, 113);
pub const AMBER: RGBColor = RGBColor(241, 196, 15);
pub const ORANGE: RGBColor = RGBColor(230, 126, 34);
pub const RED: RGBColor = RGBColor(231, 76, 60);
pub const DARK_RED: RGBColor = RGBColor(150, 30, 30);
pub const BLUE: RGBColor = RGBColor(52, 152, 219);
pub const BASELINE: RGBColor = RGBColor(190, 196, 202);
pub const DONE: RGBColor = RGBColor(127, 140, 141);

pub fn rag_colour(r: crate::domain::Rag) -> RGBColor {
    match r {
        crate::domain::Rag::Green => GREEN,
        crate::domain::Rag::Amber => AMBER,
        crate::domain::Rag::Red => RED,
    }
}

/// A lighter shade of `c`, `amount` of the way to white.
pub fn lighter(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Where a text's point is: its left or centre, at its vertical middle.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    Left,
    Centre,
}

/// What a chart is drawn as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

enum Area<'a, 'b> {
    Bitmap(&'a DrawingArea<BitMapBackend<'b>, Shift>),
    Svg(&'a DrawingArea<SVGBackend<'b>, Shift>),
}

/// Runs `$body` with `$a` bound to the pen's drawing area, whichever backend it is on.
macro_rules! on_area {
    ($pen:expr, $a:ident => $body:expr) => {
        match &$pen.area {
            Area::Bitmap($a) => $body,
            Area::Svg($a) => $body,
        }
    };
}

pub struct Pen<'a, 'b> {
    area: Area<'a, 'b>,
}

fn drawing<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e:?}")
}

impl Pen<'_, '_> {
    fn style(size: f64, bold: bool, colour: RGBColor, anchor: Anchor) -> TextStyle<'static> {
        let style = if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let h = match anchor {
            Anchor::Left => HPos::Left,
            Anchor::Centre => HPos::Center,
        };
        FontDesc::new(FAMILY, size, style)
            .color(&colour)
            .pos(Pos::new(h, VPos::Center))
    }

    pub fn rect(
        &self,
        (x0, y0): (i32, i32),
        (x1, y1): (i32, i32),
        colour: RGBColor,
    ) -> anyhow::Result<()> {
        on_area!(self, area => area
            .draw(&Rectangle::new([(x0, y0), (x1, y1)], colour.filled()))
            .map_err(drawing))
    }

    pub fn frame(
        &self,
        (x0, y0): (i32, i32),
        (x1, y1): (i32, i32),
        colour: RGBColor,
        width: u32,
    ) -> anyhow::Result<()> {
        on_area!(self, area => area
            .draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                ShapeStyle::from(&colour).stroke_width(width),
            ))
            .map_err(drawing))
    }

    pub fn line(
        &self,
        points: Vec<(i32, i32)>,
        colour: RGBColor,
        width: u32,
    ) -> anyhow::Result<()> {
        on_area!(self, area => area
            .draw(&PathElement::new(
                points,
                ShapeStyle::from(&colour).stroke_width(width),
            ))
            .map_err(drawing))
    }

    /// A dashed vertical line from `y0` to `y1`.
    pub fn dashed_vertical(
        &self,
        x: i32,
        y0: i32,
        y1: i32,
        colour: RGBColor,
        width: u32,
    ) -> anyhow::Result<()> {
        let mut y = y0;
        while y < y1 {
            self.line(vec![(x, y), (x, (y + 6).min(y1))], colour, width)?;
            y += 10;
        }
        Ok(())
    }

    pub fn polygon(&self, points: Vec<(i32, i32)>, colour: RGBColor) -> anyhow::Result<()> {
        on_area!(self, area => area
            .draw(&Polygon::new(points, colour.filled()))
            .map_err(drawing))
    }

    /// A diamond of half-width `r` centred on `(x, y)`: a milestone.
    pub fn diamond(&self, (x, y): (i32, i32), r: i32, colour: RGBColor) -> anyhow::Result<()> {
        self.polygon(vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)], colour)
    }

    /// The outline of a diamond of half-width `r` centred on `(x, y)`, white inside: a
    /// date promised rather than forecast.
    pub fn hollow_diamond(
        &self,
        (x, y): (i32, i32),
        r: i32,
        colour: RGBColor,
        width: u32,
    ) -> anyhow::Result<()> {
        let corners = vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)];
        self.polygon(corners.clone(), WHITE)?;
        let mut closed = corners;
        closed.push((x, y - r));
        self.line(closed, colour, width)
    }

    /// A warning triangle of half-width `r` standing on `(x, y + r)`.
    pub fn triangle(&self, (x, y): (i32, i32), r: i32, colour: RGBColor) -> anyhow::Result<()> {
        self.polygon(vec![(x, y - r), (x + r, y + r), (x - r, y + r)], colour)
    }

    /// A line through `points`, with an arrowhead at the last one.
    pub fn arrow(
        &self,
        points: Vec<(i32, i32)>,
        colour: RGBColor,
        width: u32,
    ) -> anyhow::Result<()> {
        let n = points.len();
        if n < 2 {
            return Ok(());
        }
        let (tip, tail) = (points[n - 1], points[n - 2]);
        self.line(points, colour, width)?;
        let (dx, dy) = (f64::from(tip.0 - tail.0), f64::from(tip.1 - tail.1));
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let (size, half) = (8.0, 4.0);
        let base = (f64::from(tip.0) - ux * size, f64::from(tip.1) - uy * size);
        let left = (base.0 - uy * half, base.1 + ux * half);
        let right = (base.0 + uy * half, base.1 - ux * half);
        let p = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
        self.polygon(vec![tip, p(left), p(right)], colour)
    }

    pub fn text(
        &self,
        s: &str,
        at: (i32, i32),
        size: f64,
        bold: bool,
        colour: RGBColor,
        anchor: Anchor,
    ) -> anyhow::Result<()> {
        if s.is_empty() {
            return Ok(());
        }
        on_area!(self, area => area
            .draw(&Text::new(
                s.to_owned(),
                at,
                Self::style(size, bold, colour, anchor),
            ))
            .map_err(drawing))
    }

    pub fn text_width(&self, s: &str, size: f64, bold: bool) -> i32 {
        on_area!(self, area => area
            .estimate_text_size(s, &Self::style(size, bold, INK, Anchor::Left))
            .ok())
        .map(|(w, _)| w as i32)
        .unwrap_or((s.chars().count() as f64 * size * 0.6) as i32)
    }

    /// A chart's title: bold 20 px ink from `at`, cut to `max` pixels.
    pub fn title(&self, s: &str, at: (i32, i32), max: i32) -> anyhow::Result<()> {
        self.text(
            &self.fit(s, 20.0, true, max),
            at,
            20.0,
            true,
            INK,
            Anchor::Left,
        )
    }

    /// `s`, cut with `…` to fit `max` pixels.
    pub fn fit(&self, s: &str, size: f64, bold: bool, max: i32) -> String {
        if self.text_width(s, size, bold) <= max {
            return s.to_owned();
        }
        let chars: Vec<char> = s.chars().collect();
        let (mut lo, mut hi) = (0, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let cut: String = chars[..mid].iter().collect::<String>() + "…";
            if self.text_width(&cut, size, bold) <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let kept: String = chars[..lo].iter().collect();
        format!("{}…", kept.trim_end())
    }
}

/// Draws on a white `width` × `height` canvas: a bitmap encoded as PNG, or an SVG document
/// (UTF-8), as `format` says.
pub fn paint(
    format: Format,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Pen<'_, '_>) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<u8>> {
    register_fonts();
    match format {
        Format::Png => {
            let mut pixels = vec![255u8; width as usize * height as usize * 3];
            {
                let area =
                    BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
                draw(&Pen {
                    area: Area::Bitmap(&area),
                })?;
                area.present().map_err(drawing)?;
            }
            encode(width, height, &pixels)
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                // The bitmap starts white; an SVG starts transparent.
                area.fill(&WHITE).map_err(drawing)?;
                draw(&Pen {
                    area: Area::Svg(&area),
                })?;
                area.present().map_err(drawing)?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// RGB pixels as a PNG, compressed for speed: charts are sent once and read soon.
pub fn encode(width: u32, height: u32, rgb: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}
