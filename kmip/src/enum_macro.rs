//! One macro for every KMIP enumeration, so each has the same shape: explicit wire values, names as the
//! specification spells them, and total conversions that never panic.

/// Declares a KMIP enumeration.
///
/// ```ignore
/// kmip_enum! {
///     /// Doc.
///     pub enum ObjectType {
///         Certificate = 0x01 => "Certificate",
///         SymmetricKey = 0x02 => "SymmetricKey",
///     }
/// }
/// ```
/// generates the enum plus `from_u32`, `to_u32` and `name` (the CamelCase name used by KMIP-XML/JSON).
#[macro_export]
macro_rules! kmip_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant with wire value `value`, if assigned.
            pub fn from_u32(value: u32) -> Option<Self> {
                match value {
                    $( $value => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// The wire value.
            pub fn to_u32(self) -> u32 {
                match self {
                    $( $name::$variant => $value, )+
                }
            }

            /// The CamelCase name used by the text encodings.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
