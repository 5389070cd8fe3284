//! The glue of a `ModelBackend` implementation's call methods, written once: each trait method
//! (`chat`, `embed`, the native Messages calls ...) boxes the future of the backend's own
//! method, or answers at once with a ready value. A leaf module, so that every backend
//! (`backend_common::HttpBackend`, `mock::MockBackend`) can use it.

/// `ModelBackend` call methods (`name(request type) -> output = target`), written inside an
/// `impl ModelBackend`: `async` ones box the future of `self.target(req, ctx)`; `ready` ones
/// answer at once with `self.target(req)`.
macro_rules! boxed_backend_calls {
    ($($how:ident $name:ident($req:ty) -> $out:ty = $target:ident;)*) => {$(
        $crate::backend_calls::boxed_backend_calls!(@one $how $name $req, $out, $target);
    )*};
    (@one async $name:ident $req:ty, $out:ty, $target:ident) => {
        fn $name<'a>(
            &'a self,
            req: $req,
            ctx: &'a litellm_core::CallContext,
        ) -> litellm_core::BoxFuture<'a, Result<$out, litellm_core::LlmError>> {
            Box::pin(self.$target(req, ctx))
        }
    };
    (@one ready $name:ident $req:ty, $out:ty, $target:ident) => {
        fn $name<'a>(
            &'a self,
            req: $req,
            _ctx: &'a litellm_core::CallContext,
        ) -> litellm_core::BoxFuture<'a, Result<$out, litellm_core::LlmError>> {
            Box::pin(std::future::ready(self.$target(req)))
        }
    };
}
pub(crate) use boxed_backend_calls;
