//! ExtendedTriggerMessage (us → charger, security extension): TriggerMessage for the
//! messages core 1.6 cannot trigger (`SignChargePointCertificate`,
//! `LogStatusNotification`) and the usual ones.

use serde::{Deserialize, Serialize};

use super::trigger_message::TriggerMessageStatus;
use crate::lenient;
use crate::strict::{Check, Validate};
use crate::{lenient_enum, OcppRequest};

lenient_enum! {
    /// The messages ExtendedTriggerMessage can ask for.
    pub enum ExtendedMessageTrigger {
        BootNotification,
        LogStatusNotification,
        FirmwareStatusNotification,
        Heartbeat,
        MeterValues,
        SignChargePointCertificate,
        StatusNotification,
    }
}

/// ExtendedTriggerMessage.req.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedTriggerMessageRequest {
    pub requested_message: ExtendedMessageTrigger,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "lenient::opt_int"
    )]
    pub connector_id: Option<i32>,
}

/// ExtendedTriggerMessage.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedTriggerMessageResponse {
    pub status: TriggerMessageStatus,
}

impl OcppRequest for ExtendedTriggerMessageRequest {
    const ACTION: &'static str = "ExtendedTriggerMessage";
    type Response = ExtendedTriggerMessageResponse;
}

impl Validate for ExtendedTriggerMessageRequest {
    fn validate(&self, check: &mut Check) {
        check.known(
            "requestedMessage",
            self.requested_message.is_known(),
            ExtendedMessageTrigger::KNOWN,
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
        round_trip::<ExtendedTriggerMessageRequest>(
            json!({"requestedMessage": "SignChargePointCertificate"}),
        );
        round_trip::<ExtendedTriggerMessageResponse>(json!({"status": "Accepted"}));
    }
}
