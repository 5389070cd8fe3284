//! The crate's declarative macros, exported at its root for the other crates too:
//! `wire_struct!` (a serde wire struct whose optional fields are written `name?: T`) and
//! `debug_fields!` (a `Debug` that shows some fields and elides the rest, such as streams).

/// Declares a struct whose `name?: T` fields are `Option<T>`, defaulted and skipped when `None`.
///
/// Nearly every field of the OpenAI-shaped wire types (here, in the providers' translations and
/// in the router's config) is an `Option` that is absent from the JSON when `None` and `None`
/// when absent. The macro writes that attribute pair once:
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// litellm_core::wire_struct! {
///     /// A sketch.
///     #[derive(Debug, Default, Serialize, Deserialize)]
///     pub struct Options {
///         pub model: String,
///         /// Becomes `Option<f64>` with
///         /// `#[serde(default, skip_serializing_if = "Option::is_none")]`.
///         pub temperature?: f64,
///     }
/// }
///
/// let json = serde_json::to_string(&Options { model: "m".into(), temperature: None }).unwrap();
/// assert_eq!(json, r#"{"model":"m"}"#);
/// ```
///
/// Every other field is written as in a plain struct, with its own attributes; attributes on an
/// optional field (docs, `rename`, `schema`) are kept and come before the generated pair. The
/// fields keep their order, so the JSON we write is the same as with the attributes spelled out.
#[macro_export]
macro_rules! wire_struct {
    // All fields translated: write the struct.
    (@fields [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
    // `name?: T`: an optional field.
    (@fields $head:tt [$($done:tt)*]
        $(#[$fmeta:meta])* $fvis:vis $field:ident ?: $ty:ty $(, $($rest:tt)*)?
    ) => {
        $crate::wire_struct!(@fields $head [
            $($done)*
            $(#[$fmeta])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            $fvis $field: Option<$ty>,
        ] $($($rest)*)?);
    };
    // `name: T`: any other field, as written.
    (@fields $head:tt [$($done:tt)*]
        $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty $(, $($rest:tt)*)?
    ) => {
        $crate::wire_struct!(@fields $head [
            $($done)*
            $(#[$fmeta])*
            $fvis $field: $ty,
        ] $($($rest)*)?);
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $crate::wire_struct!(@fields [$(#[$meta])* $vis struct $name] [] $($body)*);
    };
}

/// Implements `Debug` for a struct showing only the named fields, in that order, and `..` for
/// the others (streams, caches and handles that have no useful or safe `Debug`).
///
/// ```
/// pub struct Piped {
///     pub name: String,
///     pub reader: Box<dyn std::io::Read>,
/// }
/// litellm_core::debug_fields!(Piped { name });
///
/// let p = Piped { name: "in".into(), reader: Box::new(std::io::empty()) };
/// assert_eq!(format!("{p:?}"), r#"Piped { name: "in", .. }"#);
/// ```
#[macro_export]
macro_rules! debug_fields {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(::std::stringify!($ty))
                    $(.field(::std::stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
