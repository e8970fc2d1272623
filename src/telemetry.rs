//! Logs and metrics. Logging: `RUST_LOG` filters, `LOG_FORMAT=pretty|json` chooses the output,
//! colours only when standard output is a terminal (a file or a pipe gets plain text).
//! Metrics: a process-wide Prometheus recorder, rendered at `GET /metrics`.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{self, Writer};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Logs to standard output with `filter` (`RUST_LOG`; a bad one falls back to `info`, said on
/// standard error).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("warning: RUST_LOG={filter:?} is not a log filter ({e}); using info");
        EnvFilter::new("info")
    });
    let colour = std::io::stdout().is_terminal();
    let _ = subscriber(format, filter, colour, std::io::stdout).try_init();
}

/// The log subscriber for a format. No value can forge a line or a terminal escape: JSON
/// escapes control characters in its strings, and the pretty format writes every field (the
/// message included, of events and spans alike) through [`escape_controls`].
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    colour: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(colour)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
        LogFormat::Pretty => Box::new(
            builder
                .fmt_fields(
                    format::debug_fn(|w: &mut Writer<'_>, field, value| {
                        let raw = format!("{value:?}");
                        let text = escape_controls(&raw);
                        if field.name() == "message" {
                            write!(w, "{text}")
                        } else {
                            write!(w, "{}={text}", field.name())
                        }
                    })
                    .delimited(" "),
                )
                .finish(),
        ),
    }
}

/// Control characters (newlines, carriage returns, escape sequences) and Unicode line
/// separators written as escapes, so a value stays on its log line.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The recorder, installed on first use (once per process, shared by every app in it).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then our handle renders nothing new.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
}

/// One delivery attempt's outcome (`sent`, `retry`, `failed`).
pub fn record_notification(channel: &str, provider: &str, outcome: &str) {
    metrics::counter!("notifications_total", "type" => channel.to_string(), "provider" => provider.to_string(), "outcome" => outcome.to_string())
        .increment(1);
}

pub fn record_enqueued(channel: &str, n: u64) {
    metrics::counter!("notifications_enqueued_total", "type" => channel.to_string()).increment(n);
}

pub fn record_provider_latency(provider: &str, elapsed: Duration) {
    metrics::histogram!("whatsapp_provider_request_duration_seconds", "provider" => provider.to_string())
        .record(elapsed.as_secs_f64());
}

/// How long one e-mail took over SMTP (a pooled connection's checkout included).
pub fn record_smtp_latency(elapsed: Duration) {
    metrics::histogram!("email_smtp_request_duration_seconds").record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(format: LogFormat) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let sub = subscriber(format, EnvFilter::new("info"), true, move || writer.clone());
        let forged =
            "mallory\n2026-01-01T00:00:00.000000Z  INFO incident: login ok user=admin\r\u{1b}[2J";
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!("request", client = %forged);
            let _inside = span.enter();
            tracing::warn!(username = %forged, other = ?forged, "login locked out for {}", forged);
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn a_value_with_a_newline_cannot_forge_a_line_in_any_format() {
        for format in [LogFormat::Pretty, LogFormat::Json] {
            let text = logged(format);
            assert_eq!(text.lines().count(), 1, "{format:?}: {text}");
            // (The pretty format's own colours are escape sequences too; the injected one is not.)
            assert!(
                !text.contains('\r') && !text.contains("\u{1b}[2J"),
                "{format:?}: {text}"
            );
            assert!(text.contains("mallory"), "{format:?}: {text}");
            assert!(text.contains("login ok user=admin"), "{format:?}: {text}");
        }
        let pretty = logged(LogFormat::Pretty);
        assert!(pretty.contains("username=mallory\\n2026"), "{pretty}");
    }

    #[test]
    fn without_a_terminal_the_pretty_format_has_no_colour_codes() {
        let out = Captured::default();
        let writer = out.clone();
        let sub = subscriber(
            LogFormat::Pretty,
            EnvFilter::new("info"),
            false,
            move || writer.clone(),
        );
        tracing::subscriber::with_default(sub, || tracing::warn!(user = "a", "plain"));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("WARN") && text.contains("plain"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }

    #[test]
    fn escapes_only_what_breaks_a_line() {
        assert_eq!(escape_controls("plain é text"), "plain é text");
        assert_eq!(escape_controls("a\nb\tc\u{2028}"), "a\\nb\\tc\\u{2028}");
    }
}
