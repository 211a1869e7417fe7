//! The in-process transport: requests go straight to [`Sandbox::handle`], no sockets.

use std::future::Future;
use std::pin::Pin;

use crate::transport::{Encoding, Transport, TransportError, WireRequest, WireResponse};

use super::{Delivery, RequestEncoding, Sandbox, SandboxRequest};

/// A [`Transport`] that answers from a [`Sandbox`] in the calling task.
#[derive(Debug, Clone)]
pub(crate) struct InProcess {
    sandbox: Sandbox,
}

impl InProcess {
    pub(crate) fn new(sandbox: Sandbox) -> Self {
        InProcess { sandbox }
    }
}

type Reply<'a> = Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>>;

impl Transport for InProcess {
    fn server_now(&self) -> Option<chrono::NaiveDateTime> {
        Some(self.sandbox.server_now())
    }

    fn execute<'a>(&'a self, req: WireRequest<'a>) -> Reply<'a> {
        let mut fields: Vec<(&str, &str)> = Vec::with_capacity(req.params.len() + 3);
        fields.push(("api_username", req.credentials.username()));
        fields.push(("api_password", req.credentials.expose_password()));
        fields.push(("method", req.method));
        fields.extend(req.params.iter());
        let encoding = match req.encoding {
            Encoding::Get => RequestEncoding::Get,
            Encoding::Multipart => RequestEncoding::Multipart,
        };
        let reply = self.sandbox.handle(SandboxRequest {
            encoding,
            fields: &fields,
        });
        let outcome = match reply.delivery {
            Delivery::Answer => Ok(WireResponse {
                http_status: reply.http_status,
                body: reply.body,
            }),
            Delivery::Drop => Err(TransportError::Other(
                "the connection closed before an answer arrived (sandbox fault: reply lost)".into(),
            )),
            Delivery::Hang => Err(TransportError::Timeout(
                "no answer in time (sandbox fault: timeout)".into(),
            )),
        };
        if reply.delay.is_zero() {
            return Box::pin(std::future::ready(outcome));
        }
        let delay = reply.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            outcome
        })
    }
}
