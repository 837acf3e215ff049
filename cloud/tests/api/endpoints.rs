//! The endpoints the clients call (`keyway_api::endpoints::ALL`) against the cloud as it
//! runs: each one's method and path template is in the OpenAPI document the cloud serves, and
//! the router sends it to a handler that authenticates as the endpoint says. Every `/api/v1`
//! route of the document is either one of them or listed as served to no client
//! (`SERVER_ONLY`). A route renamed on either side fails here.

use std::collections::BTreeSet;

use keyway_api::endpoints::{Auth, Method, ALL, SERVER_ONLY};
use keyway_api::{ApiErrorBody, ErrorCode};
use reqwest::StatusCode;
use serde_json::Value;

use crate::api_support::Cloud;

/// The (method, path template) pairs of the cloud's OpenAPI document.
async fn documented_routes(cloud: &Cloud) -> BTreeSet<(String, String)> {
    let document: Value = reqwest::get(format!("{}/openapi.json", cloud.running.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

fn route(method: Method, path: &str) -> (String, String) {
    (method.as_str().to_string(), path.to_string())
}

/// `template` with every parameter set to 1.
fn sample_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_endpoint_the_clients_call_is_a_documented_route() {
    let cloud = Cloud::start().await;
    let documented = documented_routes(&cloud).await;
    let missing: Vec<_> = ALL
        .iter()
        .filter(|endpoint| !documented.contains(&route(endpoint.method, endpoint.path)))
        .map(|endpoint| format!("{} {} {}", endpoint.name, endpoint.method, endpoint.path))
        .collect();
    assert!(missing.is_empty(), "not served by the cloud: {missing:#?}");
}

#[tokio::test]
async fn every_api_route_of_the_cloud_is_called_by_a_client_or_listed_as_server_only() {
    let cloud = Cloud::start().await;
    let documented = documented_routes(&cloud).await;
    let called: BTreeSet<_> = ALL.iter().map(|e| route(e.method, e.path)).collect();
    let server_only: BTreeSet<_> = SERVER_ONLY
        .iter()
        .map(|r| route(r.method, r.path))
        .collect();
    let unaccounted: Vec<_> = documented
        .iter()
        .filter(|(_, path)| path.starts_with("/api/v1/"))
        .filter(|route| !called.contains(*route) && !server_only.contains(*route))
        .collect();
    assert!(
        unaccounted.is_empty(),
        "neither an endpoint nor SERVER_ONLY: {unaccounted:#?}"
    );
    for route in &server_only {
        assert!(documented.contains(route), "SERVER_ONLY lists {route:?}");
        assert!(
            !called.contains(route),
            "{route:?} is called and SERVER_ONLY"
        );
    }
}

#[tokio::test]
async fn the_router_sends_every_endpoint_to_a_handler_that_authenticates_as_described() {
    let cloud = Cloud::start().await;
    let http = reqwest::Client::new();
    for endpoint in ALL {
        let method = reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
        let url = format!("{}{}", cloud.running.base_url(), sample_path(endpoint.path));
        // No token and no body: a handler answers, not the router.
        let response = http.request(method, url).send().await.unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        let name = endpoint.name;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{name}");
        assert!(!body.is_empty(), "{name}: {status} from the router itself");
        match endpoint.auth {
            Auth::Bearer => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
                let refusal: ApiErrorBody = serde_json::from_slice(&body).unwrap();
                assert_eq!(
                    ErrorCode::parse(&refusal.error),
                    ErrorCode::Unauthorized,
                    "{name}"
                );
            }
            Auth::None => {
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{name}");
                assert_ne!(status, StatusCode::NOT_FOUND, "{name}");
            }
        }
    }
}
