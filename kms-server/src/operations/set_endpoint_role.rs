//! Set Endpoint Role (KMIP 2.0+, 2.1 §6.1.48): the requester declares the role it plays. qkms only ever answers
//! requests (it sends no server-to-client operations such as Notify or Put), so a requester is always its
//! Client: asking to be taken as a Client succeeds and is answered with the role set; asking to be taken as a
//! Server is refused with Feature Not Supported rather than acknowledged with a role the server would not honour.

use kmip::payloads::{EndpointRole, SetEndpointRoleRequest, SetEndpointRoleResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::state::RequestContext;

pub fn set_endpoint_role(
    ctx: &RequestContext<'_>,
    request: SetEndpointRoleRequest,
) -> Result<SetEndpointRoleResponse, KmipError> {
    match request.endpoint_role {
        EndpointRole::Client => {
            tracing::debug!(tenant = %ctx.caller.tenant, "Set Endpoint Role: Client");
            Ok(SetEndpointRoleResponse {
                endpoint_role: EndpointRole::Client,
            })
        }
        EndpointRole::Server => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "qkms sends no server-to-client operations, so it cannot take the requester as a Server endpoint; \
             the requester remains a Client",
        )),
    }
}
