//! Discover Versions: the versions both sides speak, in the client's order of preference (all of the server's,
//! newest first, when the client lists none).

use kmip::payloads::{DiscoverVersionsRequest, DiscoverVersionsResponse};
use kmip::ProtocolVersion;

use crate::error::KmipError;
use crate::state::RequestContext;

pub fn discover_versions(
    _ctx: &RequestContext<'_>,
    request: DiscoverVersionsRequest,
) -> Result<DiscoverVersionsResponse, KmipError> {
    let protocol_versions = if request.protocol_versions.is_empty() {
        ProtocolVersion::SUPPORTED.to_vec()
    } else {
        request
            .protocol_versions
            .into_iter()
            .filter(|v| ProtocolVersion::SUPPORTED.contains(v))
            .collect()
    };
    Ok(DiscoverVersionsResponse { protocol_versions })
}
