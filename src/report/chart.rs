//! SVG charts of the HTML report, drawn with plotters' SVG backend (which escapes its text).
//!
//! The indicator chart is a horizontal bar per row: the estimated rate (score as a percentage
//! of the points), a whisker for its 95 % confidence interval, and a dashed vertical line at
//! each level's threshold as a percentage of the scale, so a reader sees which indicators sit
//! below the line a level needs and how sure each estimate is.

use plotters::prelude::*;

/// One bar: a label, the estimate and its 95 % interval, all in percent.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// Drawn darker: the total.
    pub strong: bool,
}

/// A threshold line: its label and position in percent.
#[derive(Debug, Clone)]
pub struct Threshold {
    pub label: String,
    pub at: f64,
}

const BAR: RGBColor = RGBColor(0x4a, 0x78, 0xb0);
const STRONG: RGBColor = RGBColor(0x1f, 0x3b, 0x63);
const LINE: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

/// Draws the bars as an SVG document (a string starting with `<svg`); `title` heads it.
/// Values are clamped to 0–100 for drawing only.
pub fn bars(title: &str, bars: &[Bar], thresholds: &[Threshold]) -> String {
    let n = bars.len().max(1) as i32;
    let height = 90 + 26 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        // Drawing into a string cannot fail for I/O reasons; a layout failure would leave
        // the chart empty, which the table beside it still covers.
        let _ = draw(&root, title, bars, thresholds, n);
        let _ = root.present();
    }
    svg
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    bars: &[Bar],
    thresholds: &[Threshold],
    n: i32,
) -> Result<(), Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(230)
        .build_cartesian_2d(0f64..100f64, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(11)
        .light_line_style(TRANSPARENT)
        .x_desc("%")
        .y_labels(n as usize)
        .y_label_formatter(&|v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 12))
        .draw()?;
    // Row 0 is at the bottom; the first bar goes on top, under a free row for the
    // threshold labels.
    let row = |k: usize| n - 1 - k as i32;
    chart.draw_series(bars.iter().enumerate().map(|(k, b)| {
        let r = row(k);
        let v = b.value.clamp(0.0, 100.0);
        let mut rect = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(r)),
                (v, SegmentValue::Exact(r + 1)),
            ],
            if b.strong { STRONG } else { BAR }.mix(0.85).filled(),
        );
        rect.set_margin(3, 3, 0, 0);
        rect
    }))?;
    chart.draw_series(
        bars.iter()
            .enumerate()
            .filter(|(_, b)| b.high > b.low)
            .map(|(k, b)| {
                ErrorBar::new_horizontal(
                    SegmentValue::CenterOf(row(k)),
                    b.low.clamp(0.0, 100.0),
                    b.value.clamp(0.0, 100.0),
                    b.high.clamp(0.0, 100.0),
                    BLACK.stroke_width(2),
                    8,
                )
            }),
    )?;
    for (k, t) in thresholds.iter().enumerate() {
        let x = t.at.clamp(0.0, 100.0);
        chart.draw_series(DashedLineSeries::new(
            [(x, SegmentValue::Exact(0)), (x, SegmentValue::Exact(n))],
            5,
            4,
            LINE.stroke_width(1),
        ))?;
        // Neighbouring labels alternate between two heights so that close thresholds
        // (90 and 95) stay readable.
        let dy = if k % 2 == 0 { -24 } else { -12 };
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, SegmentValue::Exact(n)))
                + Text::new(
                    t.label.clone(),
                    (3, dy),
                    ("sans-serif", 11).into_font().color(&LINE),
                ),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_svg_with_escaped_labels_and_threshold_lines() {
        let s = bars(
            "指标得分率",
            &[
                Bar {
                    label: "total <b>".into(),
                    value: 86.5,
                    low: 85.0,
                    high: 88.0,
                    strong: true,
                },
                Bar {
                    label: "5.1.1".into(),
                    value: 100.0,
                    low: 100.0,
                    high: 100.0,
                    strong: false,
                },
            ],
            &[Threshold {
                label: "三星 80".into(),
                at: 80.0,
            }],
        );
        assert!(s.starts_with("<svg"), "{s}");
        assert!(s.contains("total &lt;b&gt;"), "{s}");
        assert!(!s.contains("<b>"));
        assert!(s.contains("三星 80"));
        assert!(
            s.contains("stroke-dasharray")
                || s.matches("<line").count() > 2
                || s.contains("<polyline")
        );
    }
}
