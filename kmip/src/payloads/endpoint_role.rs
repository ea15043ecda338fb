//! Set Endpoint Role (KMIP 2.0+, 2.1 §6.1.48): the requester tells the server which role it plays, Client or
//! Server (a peer that answers server-to-client operations); the response states the role the server set.

use ttlv::tags;

use crate::{enum_field, kmip_enum, kmip_struct};

kmip_enum! {
    /// Endpoint Role (KMIP 2.1 §11.18).
    pub enum EndpointRole {
        Client = 0x01 => "Client",
        Server = 0x02 => "Server",
    }
}

enum_field!(EndpointRole => "Endpoint Role");

kmip_struct! {
    /// Set Endpoint Role request.
    pub struct SetEndpointRoleRequest {
        req endpoint_role: EndpointRole = tags::ENDPOINT_ROLE,
    }
}

kmip_struct! {
    /// Set Endpoint Role response.
    pub struct SetEndpointRoleResponse {
        req endpoint_role: EndpointRole = tags::ENDPOINT_ROLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::ProtocolVersion;
    use ttlv::{Item, Value};

    #[test]
    fn request_and_response_round_trip_and_bad_roles_are_invalid_field() {
        let v = ProtocolVersion::V2_1;
        let request = SetEndpointRoleRequest {
            endpoint_role: EndpointRole::Server,
        };
        let item = request.to_ttlv(tags::REQUEST_PAYLOAD, v);
        assert_eq!(
            SetEndpointRoleRequest::from_ttlv(&item, v).unwrap(),
            request
        );
        let response = SetEndpointRoleResponse {
            endpoint_role: EndpointRole::Client,
        };
        let item = response.to_ttlv(tags::RESPONSE_PAYLOAD, v);
        assert_eq!(
            SetEndpointRoleResponse::from_ttlv(&item, v).unwrap(),
            response
        );
        let bad = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![Item::new(tags::ENDPOINT_ROLE, Value::Enumeration(7))],
        );
        assert_eq!(
            SetEndpointRoleRequest::from_ttlv(&bad, v)
                .unwrap_err()
                .reason,
            crate::ResultReason::InvalidField
        );
        let empty = Item::structure(tags::REQUEST_PAYLOAD, Vec::new());
        assert!(SetEndpointRoleRequest::from_ttlv(&empty, v).is_err());
    }
}
