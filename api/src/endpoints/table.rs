//! The endpoint table of the docs, made from [`super::ALL`].

use super::route::{Auth, Route};
use super::server_only::SERVER_ONLY;
use super::ALL;

/// The Markdown table of every endpoint: name, method, path, query, request and response
/// types, and whether it needs a bearer token. `docs/endpoints.md` holds it (a test checks).
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| endpoint | method | path | query | request | response | token |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for route in ALL {
        table.push_str(&row(route));
    }
    table
}

/// The Markdown table of the routes no client calls ([`SERVER_ONLY`]): method, path, what.
/// `docs/endpoints.md` holds it (a test checks).
pub fn server_only_table() -> String {
    let mut table = String::from("| method | path | what |\n|---|---|---|\n");
    for route in SERVER_ONLY {
        table.push_str(&format!(
            "| {} | `{}` | {} |\n",
            route.method, route.path, route.purpose
        ));
    }
    table
}

fn row(route: &Route) -> String {
    let query = route
        .query
        .map_or_else(|| "—".to_string(), |query| format!("`{query}`"));
    let token = match route.auth {
        Auth::Bearer => "yes",
        Auth::None => "no",
    };
    format!(
        "| `{}` | {} | `{}` | {} | `{}` | `{}` | {} |\n",
        route.name, route.method, route.path, query, route.request, route.response, token
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_docs_hold_the_endpoint_table() {
        let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/endpoints.md");
        let docs = std::fs::read_to_string(docs).unwrap();
        let table = markdown_table();
        assert!(
            docs.contains(&table),
            "docs/endpoints.md must hold this table:\n{table}"
        );
        let server_only = server_only_table();
        assert!(
            docs.contains(&server_only),
            "docs/endpoints.md must hold this table of the routes no client calls:\n{server_only}"
        );
    }
}
