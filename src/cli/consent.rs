//! `consent show|revoke`: the consent's status and history as the server says, and its
//! revocation (a client_credentials token where the deployment needs one).

use super::call::finish;
use super::submit::runtime;
use super::{ConsentArgs, Outcome};
use crate::core::request::Overrides;
use crate::core::session::Session;

pub fn show(args: &ConsentArgs) -> Outcome {
    run(args, false)
}

pub fn revoke(args: &ConsentArgs) -> Outcome {
    run(args, true)
}

fn run(args: &ConsentArgs, revoke: bool) -> Outcome {
    runtime()?.block_on(async {
        let session = Session::open(&args.profile.profile, &Overrides::default()).await?;
        let options = args.network.options();
        let consent_id = args.consent_id.as_deref();
        let mut rng = rand::rng();
        let made = if revoke {
            session.consent_revoke(consent_id, &options, &mut rng).await
        } else {
            session.consent_show(consent_id, &options, &mut rng).await
        };
        finish(made, args.json, "consent")
    })
}
