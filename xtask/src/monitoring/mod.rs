//! The chart's monitoring, checked statically in `cargo xtask check`: the alerts with promtool
//! (`alerts.rs`) and the Grafana dashboard with Grafana's own SDK (`dashboard.rs`). The
//! contract runs them with the real exporters and Prometheus (`contract/metrics/`).

pub mod alerts;
pub mod dashboard;
