//! The gateway's settings, a slice of the binary's `Settings`.

use std::time::Duration;

/// What the gateway needs to know.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Accept unknown identities and create their chargestation.
    pub auto_register: bool,
    /// The charger-facing base URL (`ws://host:port/ocpp`), used in `connection_url`.
    pub public_base_url: String,
    /// The heartbeat interval told to chargers in BootNotification answers.
    pub heartbeat_interval: Duration,
    /// How often the server pings each charger.
    pub ping_interval: Duration,
    /// How many ping intervals without any frame from the charger before it is offline.
    pub missed_pongs: u32,
    /// The largest frame (after aggregating continuations) accepted.
    pub max_frame_bytes: usize,
    /// This process's id among the instances sharing the database.
    pub instance_id: String,
    /// Answer `Accepted` for idTags we do not know (`CSMS_ACCEPT_UNKNOWN_TOKENS`).
    pub accept_unknown_tokens: bool,
    /// Where frames are captured for the message log (disabled by default; built by
    /// [`crate::message_log::MessageLog`]).
    pub message_log: crate::message_log::MessageCapture,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            auto_register: false,
            public_base_url: "ws://127.0.0.1:9000/ocpp".into(),
            heartbeat_interval: Duration::from_secs(900),
            ping_interval: Duration::from_secs(30),
            missed_pongs: 2,
            max_frame_bytes: 8 * 1024 * 1024,
            accept_unknown_tokens: true,
            instance_id: "local".into(),
            message_log: crate::message_log::MessageCapture::disabled(),
        }
    }
}
