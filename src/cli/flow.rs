//! `flow`: PAR, authorize, callback and token in one command. Against the embedded sandbox
//! the authorize step runs headless (the sandbox approves as its test user); elsewhere the
//! browser is opened and the callback caught on a loopback redirect_uri, or pasted.

use std::io::IsTerminal;
use std::process::ExitCode;

use jiff::Timestamp;

use super::output::{complain, say};
use super::submit::{build_now, runtime};
use super::token::{self, Shown, network_failed, refused};
use super::{Failure, FlowArgs, Outcome};
use crate::core::flow::callback::{Callback, CallbackListener, ListenError};
use crate::core::printable::redact_url;
use crate::core::request::Overrides;
use crate::core::session::Session;
use crate::core::transport::{self, Outcome as ParOutcome};

pub fn flow(args: &FlowArgs) -> Outcome {
    runtime()?.block_on(flow_async(args))
}

async fn flow_async(args: &FlowArgs) -> Outcome {
    let session =
        super::history::warned(Session::open(&args.profile.profile, &Overrides::default()).await?);
    let options = args.network.options();
    let shown = Shown::from(&args.output);
    let json_out = shown.json;
    // Bound before the PAR: a busy port found afterwards would strand an accepted request.
    let listener = match session.sandbox_issuer() {
        Some(_) => None,
        None => match CallbackListener::bind(&session.seed().redirect_uri).await {
            Ok(listener) => Some(listener),
            Err(ListenError::NotLoopback) => None,
            Err(e) => {
                return Err(Failure::Other(format!(
                    "{e}\n  hint: nothing was sent; free the port of the redirect_uri ({}) and run the flow again",
                    session.seed().redirect_uri
                )));
            }
        },
    };
    let built = build_now(&session)?;
    let delivery = match session.deliver_traced(&built.ticket, &options).await {
        Ok((delivery, trail)) => {
            for note in trail.map(|t| t.notes()).unwrap_or_default() {
                complain!("{note}");
            }
            delivery
        }
        Err(network) => return Ok(network_failed(json_out, &network)),
    };
    let exchange = &delivery.exchange;
    let request_uri = match &exchange.outcome {
        ParOutcome::Accepted { request_uri, .. } => request_uri,
        ParOutcome::Refused {
            error,
            error_description,
            explanation,
        } => {
            refused(json_out, error, error_description.as_deref(), explanation);
            return Ok(ExitCode::from(1));
        }
        ParOutcome::Unexpected { explanation } => {
            refused(json_out, "unexpected_answer", None, explanation);
            return Ok(ExitCode::from(1));
        }
    };
    let pending = session
        .record_flow(&built.ticket, &exchange.outcome, Timestamp::now())
        .map_err(|e| Failure::Other(e.to_string()))?;
    complain!("PAR accepted: {}", redact_url(request_uri));
    let Some(endpoint) = &delivery.authorization_endpoint else {
        return Err(Failure::Other(
            "neither the profile nor discovery names an authorization_endpoint\n  hint: set authorization_endpoint in the profile".into(),
        ));
    };
    let authorize = transport::authorize_url(endpoint, &session.seed().client_id, request_uri);
    // Said before anyone logs in at the bank: a person would otherwise learn it at the end.
    if let Some(warning) = expired_warning(
        pending.expires_at,
        Timestamp::now(),
        "before the browser opened",
    ) {
        complain!("{warning}");
    }
    let callback_url = if session.sandbox_issuer().is_some() {
        complain!("authorize: the embedded sandbox approves as its test user (headless)");
        match session.authorize_headless(&authorize, true, &options).await {
            Ok(url) => url,
            Err(network) => return Ok(network_failed(json_out, &network)),
        }
    } else {
        let url = match by_person(args, &authorize, listener).await? {
            Ok(url) => url,
            Err(code) => return Ok(code),
        };
        if let Some(warning) = expired_warning(
            pending.expires_at,
            Timestamp::now(),
            "before the callback came",
        ) {
            complain!("{warning}");
        }
        url
    };
    let callback =
        Callback::parse(&callback_url).map_err(|e| Failure::Other(format!("the callback: {e}")))?;
    complain!("callback received; exchanging the code");
    Ok(token::complete(&session, &callback, &options, shown).await)
}

/// A warning when the request_uri is past its expiry at `now`; `when` says at which step.
fn expired_warning(expires_at: Timestamp, now: Timestamp, when: &str) -> Option<String> {
    (now >= expires_at).then(|| {
        format!(
            "warning: the request_uri expired at {} {when}: the server may refuse it at the authorize step (run the flow again for a fresh one)",
            crate::core::time::rfc3339_seconds(expires_at)
        )
    })
}

/// The person authorizes in a browser: the URL opened and printed (with a QR code on a
/// terminal), then the callback caught on the loopback listener, or pasted when there is none.
async fn by_person(
    args: &FlowArgs,
    authorize: &str,
    listener: Option<CallbackListener>,
) -> Result<Result<String, ExitCode>, Failure> {
    show_authorize_url(authorize, args.output.json);
    if !args.no_browser
        && let Err(e) = webbrowser::open(authorize)
    {
        complain!("no browser opened ({e}): open the URL above yourself");
    }
    let Some(listener) = listener else {
        return paste().map(Ok);
    };
    complain!(
        "waiting up to {} for the callback on 127.0.0.1:{} (Ctrl-C to stop)",
        crate::core::time::short_duration(args.wait.as_secs() as i64),
        listener.port()
    );
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match listener.wait(args.wait, cancel).await {
        Ok(url) => Ok(Ok(url)),
        Err(e) => {
            complain!(
                "error: {e}\n  hint: the flow is kept: `consent-explorer token --profile {} --callback URL` completes it with the redirect URL",
                args.profile.profile
            );
            Ok(Err(ExitCode::from(1)))
        }
    }
}

/// Always printed (to stderr under --json, so stdout stays one JSON document), with a QR
/// code when a person is looking: phone banking apps are often where consent is given.
fn show_authorize_url(authorize: &str, json_out: bool) {
    if json_out {
        complain!("authorize: {authorize}");
        return;
    }
    say!("Open this URL to authorize:\n{authorize}");
    if std::io::stdout().is_terminal()
        && let Ok(code) = qrcode::QrCode::new(authorize.as_bytes())
    {
        use qrcode::render::unicode::Dense1x2;
        let picture = code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build();
        say!("{picture}");
    }
}

/// The whole redirect URL, pasted by the person on a terminal.
fn paste() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::Other(
            "the redirect_uri is not on loopback, so the callback must be pasted, but stdin is not a terminal\n  hint: the flow is kept: pass the redirect URL to `consent-explorer token --profile P --callback URL`".into(),
        ));
    }
    complain!("Paste the whole URL the browser was sent to, then Enter:");
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .map_err(|e| Failure::Other(format!("cannot read the pasted callback: {e}")))?;
    Ok(line.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_request_uri_is_named_before_the_browser_opens() {
        let expires_at: Timestamp = "2026-01-30T10:01:30Z".parse().unwrap();
        let before: Timestamp = "2026-01-30T10:01:29Z".parse().unwrap();
        assert_eq!(expired_warning(expires_at, before, "now"), None);
        let warning = expired_warning(expires_at, expires_at, "before the browser opened").unwrap();
        assert!(
            warning.contains("expired at 2026-01-30T10:01:30Z before the browser opened"),
            "{warning}"
        );
    }
}
