//! The `tracing` layer that turns events into [`LogRecord`]s for the app's sink.

use std::cell::Cell;
use std::fmt::Write;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::{current_sink, filter, max_level, LogLevel, LogRecord};

thread_local! {
    /// Set while this thread is inside the sink: a record the sink's own work causes is
    /// dropped instead of recursing.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Forwards every enabled event to the installed sink.
pub(super) struct SinkLayer;

impl<S: Subscriber> Layer<S> for SinkLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if filter::allows(metadata, max_level()) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        filter::allows(metadata, max_level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match max_level() {
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        })
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if IN_SINK.with(Cell::get) {
            return;
        }
        let Some(sink) = current_sink() else {
            return;
        };
        let metadata = event.metadata();
        let record = LogRecord {
            level: LogLevel::from_tracing(*metadata.level()),
            target: metadata.target().to_string(),
            message: format_message(event),
        };
        IN_SINK.with(|flag| flag.set(true));
        let _reset = InSinkReset;
        // A sink that throws must not take the core's work down with it: the record is lost.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.log(record)));
    }
}

/// Clears [`IN_SINK`] when the call into the sink ends, however it ends.
struct InSinkReset;

impl Drop for InSinkReset {
    fn drop(&mut self) {
        IN_SINK.with(|flag| flag.set(false));
    }
}

/// The event's message followed by its other fields as `name=value`.
pub(super) fn format_message(event: &Event<'_>) -> String {
    let mut visitor = MessageVisitor::default();
    event.record(&mut visitor);
    if visitor.fields.is_empty() {
        visitor.message
    } else if visitor.message.is_empty() {
        visitor.fields.trim_start().to_string()
    } else {
        visitor.message + &visitor.fields
    }
}

/// Collects the `message` field and the others separately.
#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}
