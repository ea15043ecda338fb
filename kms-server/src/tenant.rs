//! Who is asking: the tenant a client certificate maps to, and its role.

use std::fmt;

/// A tenant: the owner of managed objects. Derived from the client certificate (see `auth`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct TenantId(pub String);

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({:?})", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a caller may do beyond its own objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages its own objects only.
    Tenant,
    /// Runs the server: status, audit, entropy source resets. Still cannot read tenants' key material.
    Operator,
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    pub role: Role,
    /// The PKCS#11 session leases its connection holds (not part of its identity: always equal).
    pub leases: crate::session_lease::ConnectionLeases,
}

impl Caller {
    /// A caller with no leases (a new connection's).
    pub fn new(tenant: TenantId, role: Role) -> Self {
        Self {
            tenant,
            role,
            leases: Default::default(),
        }
    }
}
