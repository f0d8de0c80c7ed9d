//! TriggerMessage (us → charger): ask the charger to send one of its messages now.
//! The security extension's other messages go by ExtendedTriggerMessage.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The messages core TriggerMessage can ask for.
    pub enum MessageTrigger {
        BootNotification,
        DiagnosticsStatusNotification,
        FirmwareStatusNotification,
        Heartbeat,
        MeterValues,
        StatusNotification,
    }
}

lenient_enum! {
    /// The charger's answer to TriggerMessage and ExtendedTriggerMessage.
    pub enum TriggerMessageStatus {
        Accepted,
        Rejected,
        NotImplemented,
    }
}

/// TriggerMessage.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerMessageRequest {
    pub requested_message: MessageTrigger,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub connector_id: Option<i32>,
}

/// TriggerMessage.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerMessageResponse {
    pub status: TriggerMessageStatus,
}

impl OcppRequest for TriggerMessageRequest {
    const ACTION: &'static str = "TriggerMessage";
    type Response = TriggerMessageResponse;
}

impl Validate for TriggerMessageRequest {
    fn validate(&self, check: &mut Check) {
        check.known(
            "requestedMessage",
            self.requested_message.is_known(),
            MessageTrigger::KNOWN,
        );
        check.opt_min("connectorId", self.connector_id.map(i64::from), 0);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::round_trip;

    #[test]
    fn request_and_response_round_trip() {
        round_trip::<TriggerMessageRequest>(
            json!({"requestedMessage": "StatusNotification", "connectorId": 1}),
        );
        let conf: TriggerMessageResponse = round_trip(json!({"status": "NotImplemented"}));
        assert_eq!(conf.status, TriggerMessageStatus::NotImplemented);
    }
}
