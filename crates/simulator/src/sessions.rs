//! What the simulated charger does on its own after some server commands, as a real
//! charger would: a remote start starts a transaction (StartTransaction, a Charging
//! status, one MeterValues), a remote stop or an unlock of a busy connector stops it
//! (StopTransaction with its final meter value, then Available), and a firmware update
//! walks through its FirmwareStatusNotifications.
//!
//! The decisions are in `handlers.rs`; this module only sends the CALLs they ask for.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::connection::{Shared, DEFAULT_CALL_TIMEOUT};
use crate::handlers::Running;
use crate::SimError;

/// Wh the meter moves between two readings of a session.
const ENERGY_STEP_WH: i64 = 1500;

/// Now as an RFC 3339 UTC timestamp with milliseconds.
pub(crate) fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_unix(
        i64::try_from(since.as_secs()).unwrap_or(0),
        since.subsec_millis(),
    )
}

/// Unix seconds and milliseconds as an RFC 3339 UTC timestamp.
fn format_unix(secs: i64, millis: u32) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        millis
    )
}

fn energy_sample(wh: i64, context: &str) -> Value {
    json!([{
        "timestamp": now_rfc3339(),
        "sampledValue": [{
            "value": wh.to_string(),
            "context": context,
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh"
        }]
    }])
}

impl Shared {
    /// Advances the meter and returns the new reading.
    fn meter_step(&self) -> i64 {
        let mut state = self.lock();
        state.store.energy_wh += ENERGY_STEP_WH;
        state.store.energy_wh
    }

    async fn connector_status(&self, connector: u32, status: &str) -> Result<Value, SimError> {
        let payload = json!({"connectorId": connector, "errorCode": "NoError", "status": status});
        self.call("StatusNotification", payload, DEFAULT_CALL_TIMEOUT)
            .await
    }

    /// StartTransaction on `connector`; when the idTag is accepted, the connector is
    /// Charging and one MeterValues follows; otherwise the transaction stops at once
    /// (`DeAuthorized`).
    pub(crate) async fn start_transaction(
        &self,
        connector: u32,
        id_tag: &str,
    ) -> Result<Value, SimError> {
        let meter_start = self.lock().store.energy_wh;
        let answer = self
            .call(
                "StartTransaction",
                json!({
                    "connectorId": connector,
                    "idTag": id_tag,
                    "meterStart": meter_start,
                    "timestamp": now_rfc3339()
                }),
                DEFAULT_CALL_TIMEOUT,
            )
            .await?;
        let Some(transaction_id) = answer.get("transactionId").and_then(Value::as_i64) else {
            return Ok(answer);
        };
        let accepted = answer["idTagInfo"]["status"] == "Accepted";
        self.lock().store.transactions.push(Running {
            connector,
            transaction_id,
            id_tag: id_tag.to_owned(),
        });
        if !accepted {
            return self.stop_transaction(transaction_id, "DeAuthorized").await;
        }
        self.connector_status(connector, "Charging").await?;
        let reading = self.meter_step();
        self.call(
            "MeterValues",
            json!({
                "connectorId": connector,
                "transactionId": transaction_id,
                "meterValue": energy_sample(reading, "Sample.Periodic")
            }),
            DEFAULT_CALL_TIMEOUT,
        )
        .await
    }

    /// StopTransaction of a running transaction with its final meter value, then the
    /// connector is Available again.
    pub(crate) async fn stop_transaction(
        &self,
        transaction_id: i64,
        reason: &str,
    ) -> Result<Value, SimError> {
        let running = {
            let mut state = self.lock();
            let index = state
                .store
                .transactions
                .iter()
                .position(|t| t.transaction_id == transaction_id);
            index.map(|i| state.store.transactions.remove(i))
        };
        let Some(running) = running else {
            return Ok(Value::Null);
        };
        let meter_stop = self.meter_step();
        let answer = self
            .call(
                "StopTransaction",
                json!({
                    "transactionId": transaction_id,
                    "idTag": running.id_tag,
                    "meterStop": meter_stop,
                    "timestamp": now_rfc3339(),
                    "reason": reason,
                    "transactionData": energy_sample(meter_stop, "Transaction.End")
                }),
                DEFAULT_CALL_TIMEOUT,
            )
            .await?;
        self.connector_status(running.connector, "Available")
            .await?;
        Ok(answer)
    }

    /// A firmware update: Downloading, Downloaded, Installing, Installed.
    pub(crate) async fn firmware_update(&self) -> Result<Value, SimError> {
        let mut last = Value::Null;
        for status in ["Downloading", "Downloaded", "Installing", "Installed"] {
            last = self
                .call(
                    "FirmwareStatusNotification",
                    json!({ "status": status }),
                    DEFAULT_CALL_TIMEOUT,
                )
                .await?;
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc_3339_utc_with_milliseconds() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
        assert!(now.starts_with("20"), "{now}");
        assert_eq!(format_unix(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_unix(1_700_000_000, 7), "2023-11-14T22:13:20.007Z");
        assert_eq!(format_unix(951_782_400, 0), "2000-02-29T00:00:00.000Z");
    }
}
