//! WeChat Pay's answers about payouts: transfer bills and profit-sharing orders, read
//! into the provider-neutral types.

use serde::Deserialize;

use crate::payments::{ProfitShareState, TransferBill};

/// A transfer bill in WeChat Pay's answers and notifications.
#[derive(Deserialize)]
pub(crate) struct BillAnswer {
    out_bill_no: String,
    #[serde(default)]
    transfer_bill_no: String,
    state: String,
    #[serde(default)]
    package_info: Option<String>,
    #[serde(default)]
    fail_reason: Option<String>,
}

impl From<BillAnswer> for TransferBill {
    fn from(answer: BillAnswer) -> Self {
        TransferBill {
            out_bill_no: answer.out_bill_no,
            transfer_bill_no: answer.transfer_bill_no,
            state: answer.state,
            package_info: answer.package_info,
            fail_reason: answer.fail_reason,
        }
    }
}

/// A profit-sharing order in WeChat Pay's answers.
#[derive(Deserialize)]
pub(crate) struct SharingAnswer {
    state: String,
    #[serde(default)]
    receivers: Vec<SharingReceiver>,
}

#[derive(Deserialize)]
struct SharingReceiver {
    #[serde(default)]
    result: String,
    #[serde(default)]
    fail_reason: Option<String>,
}

impl SharingAnswer {
    /// FINISHED with every receiver paid is finished; a receiver CLOSED is closed.
    pub(crate) fn state(&self) -> ProfitShareState {
        if let Some(closed) = self.receivers.iter().find(|r| r.result == "CLOSED") {
            return ProfitShareState::Closed(closed.fail_reason.clone().unwrap_or_default());
        }
        match self.state.as_str() {
            "FINISHED" if self.receivers.iter().all(|r| r.result == "SUCCESS") => {
                ProfitShareState::Finished
            }
            _ => ProfitShareState::Processing,
        }
    }
}
