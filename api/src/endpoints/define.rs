//! The macro that turns one line of the catalog into an endpoint: a struct whose fields are
//! the path's parameters (`u32` unless the line names another type; and its query), its [`super::Route`], and its [`super::Endpoint`]
//! implementation.

/// Defines endpoints and the list [`super::ALL`] of their routes.
macro_rules! endpoints {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident { $($param:ident $(: $param_ty:ty)?),* $(,)? }
        $method:ident $path:literal, $auth:ident, $errors:ident,
        $request:ty => $response:ty
        $(, query $query_field:ident: $query_ty:ty)?
        $(, fixed_query $fixed_query:expr)?;
    )+) => {
        $(
            $(#[doc = $doc])+
            #[derive(Debug, Clone, Default, PartialEq, Eq)]
            pub struct $name {
                $(
                    #[doc = concat!("The `{", stringify!($param), "}` of the path.")]
                    pub $param: endpoints!(@param_ty $($param_ty)?),
                )*
                $(
                    /// The query string.
                    pub $query_field: $query_ty,
                )?
            }

            impl $crate::endpoints::Endpoint for $name {
                const ROUTE: $crate::endpoints::Route = $crate::endpoints::Route {
                    name: stringify!($name),
                    method: $crate::endpoints::Method::$method,
                    path: $path,
                    params: &[$(stringify!($param)),*],
                    query: endpoints!(@query_name $($query_ty)? ; $($fixed_query)?),
                    auth: $crate::endpoints::Auth::$auth,
                    errors: $crate::endpoints::ErrorFormat::$errors,
                    request: stringify!($request),
                    response: stringify!($response),
                };
                type Request = $request;
                type Response = $response;

                fn path(&self) -> Result<String, $crate::endpoints::EndpointError> {
                    let path = $crate::endpoints::path::fill_path(
                        $path,
                        &[$((stringify!($param), self.$param.to_string())),*],
                    );
                    endpoints!(@query self, path ; $($query_field)? ; $($fixed_query)?)
                }
            }
        )+

        /// Every endpoint the clients call, in the order of the table in the docs.
        pub const ALL: &[$crate::endpoints::Route] = &[
            $(<$name as $crate::endpoints::Endpoint>::ROUTE),+
        ];

        /// Each endpoint with all its parameters zero, and the path that makes (tests).
        #[cfg(test)]
        pub(crate) fn sample_paths()
            -> Vec<($crate::endpoints::Route, Result<String, $crate::endpoints::EndpointError>)>
        {
            use $crate::endpoints::Endpoint;
            vec![$(($name::ROUTE, $name::default().path())),+]
        }
    };

    (@query $self:ident, $path:ident ; ; ) => { Ok($path) };
    (@query $self:ident, $path:ident ; $field:ident ; ) => {
        $crate::endpoints::path::with_query($path, &$self.$field)
    };
    (@query $self:ident, $path:ident ; ; $fixed:expr) => {
        $crate::endpoints::path::with_query($path, &$fixed)
    };

    (@param_ty) => { u32 };
    (@param_ty $param_ty:ty) => { $param_ty };

    (@query_name ; ) => { None };
    (@query_name $query_ty:ty ; ) => { Some(stringify!($query_ty)) };
    (@query_name ; $fixed:expr) => { Some(stringify!($fixed)) };
}

pub(crate) use endpoints;
