//! Where the server's `tracing` events go: standard error, as text or as one
//! JSON object a line, filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `2026-12-02T14:00:00Z  INFO maeum::access: request method=POST …`
    #[default]
    Text,
    /// One JSON object a line, the event's fields at the top level.
    Json,
}

/// Installs the process-wide subscriber (once; later calls do nothing).
pub fn init(format: Format) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        Format::Text => builder.try_init(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
