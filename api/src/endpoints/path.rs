//! Paths filled from their templates, and query strings.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use super::EndpointError;

/// Everything but the unreserved characters of RFC 3986 is encoded in a path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `template` with each `{name}` replaced by its value in `params`, percent-encoded. A
/// parameter without a value stays as it is (the catalog's tests show none is missing).
pub(crate) fn fill_path(template: &str, params: &[(&str, String)]) -> String {
    let mut path = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, from_brace) = rest.split_at(open);
        path.push_str(before);
        let Some(close) = from_brace.find('}') else {
            path.push_str(from_brace);
            return path;
        };
        let (placeholder, after) = from_brace.split_at(close + 1);
        let name = placeholder.trim_start_matches('{').trim_end_matches('}');
        match params.iter().find(|(param, _)| *param == name) {
            Some((_, value)) => path.extend(utf8_percent_encode(value, PATH_SEGMENT)),
            None => path.push_str(placeholder),
        }
        rest = after;
    }
    path.push_str(rest);
    path
}

/// `path` followed by `query` encoded as a query string (`?a=1&b=2`); nothing when every
/// field of the query is left out.
pub(crate) fn with_query<Q: Serialize>(path: String, query: &Q) -> Result<String, EndpointError> {
    let query =
        serde_urlencoded::to_string(query).map_err(|e| EndpointError::Encode(e.to_string()))?;
    Ok(if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    })
}

/// The names in braces of a path template, in order.
#[cfg(test)]
pub(crate) fn template_params(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parameters_are_filled_in_and_percent_encoded() {
        let path = fill_path(
            "/api/v1/sites/{site_id}/people/{user_id}",
            &[("user_id", "a/b c?".into()), ("site_id", "7".into())],
        );
        assert_eq!(path, "/api/v1/sites/7/people/a%2Fb%20c%3F");
    }

    #[test]
    fn a_parameter_without_a_value_is_left_as_it_is() {
        assert_eq!(fill_path("/a/{x}/b", &[]), "/a/{x}/b");
        assert_eq!(fill_path("/a/{x", &[]), "/a/{x");
    }

    #[test]
    fn an_empty_query_adds_nothing() {
        let query = crate::PeopleQuery::default();
        assert_eq!(with_query("/p".into(), &query).unwrap(), "/p");
        let query = crate::PeopleQuery {
            limit: Some(5),
            q: Some("a&b".into()),
            role: Some(crate::Role::SuperUser),
            status: Some(crate::PersonStatus::Invited),
            ..Default::default()
        };
        assert_eq!(
            with_query("/p".into(), &query).unwrap(),
            "/p?limit=5&q=a%26b&role=super_user&status=invited"
        );
    }

    #[test]
    fn template_parameters_are_read_in_order() {
        assert_eq!(
            template_params("/api/v1/pods/{pod_id}/guests/{guest_id}/block"),
            ["pod_id", "guest_id"]
        );
    }
}
