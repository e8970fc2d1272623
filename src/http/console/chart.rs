//! The dashboard's delivery chart, drawn by the server as SVG shapes (no script): per day,
//! WhatsApp and e-mail SENT and FAILED as four bars.

use serde::Serialize;

use crate::service::console_dashboard::Day;

pub const WIDTH: f64 = 840.0;
pub const HEIGHT: f64 = 220.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;
const LEFT: f64 = 40.0;

#[derive(Debug, Serialize)]
pub struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    class: &'static str,
    title: String,
}

#[derive(Debug, Serialize)]
pub struct Chart {
    width: f64,
    height: f64,
    bars: Vec<Bar>,
    /// `(x, label)` under each day.
    labels: Vec<(f64, String)>,
    max: i64,
    baseline: f64,
}

pub fn draw(days: &[Day]) -> Chart {
    let max = days
        .iter()
        .flat_map(|d| {
            [
                d.whatsapp_sent,
                d.whatsapp_failed,
                d.email_sent,
                d.email_failed,
            ]
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let bar = slot / 5.0;
    let plot = HEIGHT - TOP - BOTTOM;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let x0 = LEFT + i as f64 * slot + bar / 2.0;
        let series = [
            (d.whatsapp_sent, "wa-sent", "WhatsApp sent"),
            (d.whatsapp_failed, "wa-failed", "WhatsApp failed"),
            (d.email_sent, "mail-sent", "E-mail sent"),
            (d.email_failed, "mail-failed", "E-mail failed"),
        ];
        for (j, (n, class, what)) in series.into_iter().enumerate() {
            let height = plot * n as f64 / max as f64;
            bars.push(Bar {
                x: x0 + j as f64 * bar,
                y: TOP + plot - height,
                width: bar * 0.9,
                height,
                class,
                title: format!("{}: {what} {n}", d.day),
            });
        }
        labels.push((x0 + bar * 2.0, d.day.get(5..).unwrap_or(&d.day).to_string()));
    }
    Chart {
        width: WIDTH,
        height: HEIGHT,
        bars,
        labels,
        max,
        baseline: TOP + plot,
    }
}
