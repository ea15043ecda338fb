//! Certificates the server issues (Certify, Re-certify, the issuing CA made at `--init`) and Locate's
//! certificate filters.

pub mod filters;
pub mod issuer;
pub mod issuing_ca;
pub mod template_profile;
