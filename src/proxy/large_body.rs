//! Bodies larger than Pingora's 64 KiB retry buffer. Once the gatekeeper has read such a body
//! to judge it, Pingora cannot replay it, so an admitted large request is re-issued as a
//! Pingora subrequest whose body is supplied from memory. Pingora marks subrequest piping as
//! unstable: everything that touches it lives in this file (see shared/PINGORA-NOTES.md).

use pingora::proxy::subrequest::pipe::{pipe_subrequest, InputBody, InputBodyType};
use pingora::proxy::subrequest::{BodyMode, Ctx as SubrequestCtx};
use pingora::proxy::Session;
use pingora::{Error, ErrorType, Result};

use super::admit::Admitted;
use super::rejection::Rejection;
use super::respond;

/// Pipes `admitted` to the upstream through a subrequest and its response back to the client.
pub async fn forward(session: &mut Session, admitted: Admitted) -> Result<()> {
    let Some(spawner) = session.subrequest_spawner.as_ref() else {
        return Err(Error::explain(
            ErrorType::InternalError,
            "subrequests are not enabled",
        ));
    };
    let body = InputBody::Bytes(vec![admitted.body.clone()]);
    let id = admitted
        .request
        .as_ref()
        .and_then(|r| r.error_id().cloned());
    let sub_ctx = SubrequestCtx::builder()
        .body_mode(BodyMode::ExpectBody)
        .user_ctx(Box::new(admitted))
        .build();
    let (subrequest, handle) = spawner.create_subrequest(session.as_downstream(), sub_ctx);
    match pipe_subrequest(
        session,
        subrequest,
        handle,
        |task| Ok(Some(task)),
        InputBodyType::Preset(body),
    )
    .await
    {
        Ok(mut state) => {
            if let Some(join) = state.join_handle.take() {
                // The subrequest has already written its response; wait for its logging phase.
                let _ = join.await;
            }
            Ok(())
        }
        Err(failure) if !failure.state.header_received => {
            tracing::warn!(error = %failure.error, "large-body subrequest failed before a response");
            let rejection = Rejection::UpstreamUnavailable(failure.error.etype().as_str().into());
            respond::reject(session, &rejection, id.as_ref(), None).await
        }
        Err(failure) => Err(failure.error),
    }
}

/// The decision the main request handed to its subrequest.
pub fn admitted_of(session: &Session) -> Option<Admitted> {
    session
        .subrequest_ctx
        .as_ref()?
        .user_ctx()?
        .downcast_ref::<Admitted>()
        .cloned()
}
