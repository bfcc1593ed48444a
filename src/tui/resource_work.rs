//! The shell's side of the resource step: each call or consent request on a thread of its
//! own, reporting through the one channel with the id of the request it answers.

use std::sync::Arc;

use rand::SeedableRng;
use tokio::sync::mpsc;

use super::app::{Message, RequestId, ResourceReport, ResourceWork};
use super::flow_work::off_thread;
use crate::core::resource::{CallError, ResourceExchange};
use crate::core::session::{CallInput, Session};
use crate::core::transport::ClientOptions;

pub(super) fn start(
    id: RequestId,
    work: ResourceWork,
    session: Arc<Session>,
    options: ClientOptions,
    tx: mpsc::UnboundedSender<Message>,
) {
    off_thread(move || async move {
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let said = |made: Result<ResourceExchange, CallError>| {
            made.map(Box::new).map_err(|e| e.to_string())
        };
        let report = match work {
            ResourceWork::Call { endpoint, args } => ResourceReport::Called(said(
                session
                    .call(&endpoint, &args, &CallInput::default(), &options, &mut rng)
                    .await,
            )),
            ResourceWork::ConsentShow => {
                ResourceReport::Consent(said(session.consent_show(None, &options, &mut rng).await))
            }
            ResourceWork::ConsentRevoke => ResourceReport::Consent(said(
                session.consent_revoke(None, &options, &mut rng).await,
            )),
        };
        let _ = tx.send(Message::Resource {
            id,
            report: Box::new(report),
        });
    });
}
