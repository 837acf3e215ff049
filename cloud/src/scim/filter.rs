//! List queries (RFC 7644 §3.4.2): the one filter form Keyway answers, `attribute eq "value"`
//! on an attribute the resource allows (attribute names and `eq` in any case), and the
//! `startIndex`/`count` paging. Any other filter is `400 invalidFilter`.

use serde::Deserialize;

use super::error::{ScimError, ScimResult, ScimType};

/// The most resources one page holds (`filter.maxResults` of the service's configuration).
pub const MAX_RESULTS: u32 = 200;

/// `attribute eq "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equality {
    /// The attribute, as the allowed list spells it.
    pub attribute: &'static str,
    /// The value compared to.
    pub value: String,
}

fn invalid(message: &str) -> ScimError {
    ScimError::bad_request(ScimType::InvalidFilter, message)
}

/// Parses `filter`, which may only compare one of `allowed` for equality with a string.
pub fn parse(filter: &str, allowed: &[&'static str]) -> ScimResult<Equality> {
    let unsupported = || {
        invalid(&format!(
            "the only filters are {} eq \"value\"",
            allowed.join(" eq \"value\" or ")
        ))
    };
    let filter = filter.trim();
    let (attribute, rest) = filter
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    let (operator, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let attribute = allowed
        .iter()
        .find(|name| name.eq_ignore_ascii_case(attribute))
        .ok_or_else(unsupported)?;
    // A JSON string, escapes included; anything after it (`and`, `or`) is refused.
    let value: String = serde_json::from_str(value.trim()).map_err(|_| unsupported())?;
    Ok(Equality { attribute, value })
}

/// The query string of a list (`GET /Users`, `GET /Groups`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    /// `filter`.
    pub filter: Option<String>,
    /// `startIndex` (1-based).
    #[serde(rename = "startIndex")]
    pub start_index: Option<String>,
    /// `count`.
    pub count: Option<String>,
}

/// Which page: the 1-based index of its first resource and how many at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// `startIndex`, at least 1.
    pub start_index: u32,
    /// `count`, 0 to [`MAX_RESULTS`].
    pub count: u32,
}

impl Paging {
    /// The rows to skip.
    pub fn offset(self) -> u32 {
        self.start_index - 1
    }
}

fn number(name: &str, value: Option<&str>) -> ScimResult<Option<i64>> {
    value
        .map(|text| {
            text.trim().parse::<i64>().map_err(|_| {
                ScimError::bad_request(ScimType::InvalidValue, format!("{name} must be an integer"))
            })
        })
        .transpose()
}

impl ListParams {
    /// The paging asked for: a `startIndex` below 1 is 1 and a negative `count` is 0 (RFC
    /// 7644 §3.4.2.4); `count` is at most [`MAX_RESULTS`] (its default).
    pub fn paging(&self) -> ScimResult<Paging> {
        let start = number("startIndex", self.start_index.as_deref())?.unwrap_or(1);
        let count = number("count", self.count.as_deref())?.unwrap_or(i64::from(MAX_RESULTS));
        Ok(Paging {
            start_index: u32::try_from(start.clamp(1, i64::from(u32::MAX))).unwrap_or(1),
            count: u32::try_from(count.clamp(0, i64::from(MAX_RESULTS))).unwrap_or(MAX_RESULTS),
        })
    }

    /// The filter, if any, over `allowed`.
    pub fn equality(&self, allowed: &[&'static str]) -> ScimResult<Option<Equality>> {
        self.filter
            .as_deref()
            .map(|filter| parse(filter, allowed))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const USERS: [&str; 2] = ["userName", "externalId"];

    #[test]
    fn an_equality_on_an_allowed_attribute_parses_in_any_case() {
        let found = parse(r#"UserName EQ "ada@example.com""#, &USERS).unwrap();
        assert_eq!(found.attribute, "userName");
        assert_eq!(found.value, "ada@example.com");
        let escaped = parse(r#"externalId eq "a\"b""#, &USERS).unwrap();
        assert_eq!(escaped.value, "a\"b");
    }

    #[test]
    fn every_other_filter_is_invalid() {
        for filter in [
            "",
            "userName",
            r#"userName ne "x""#,
            r#"userName co "x""#,
            r#"title eq "x""#,
            r#"userName eq "x" or userName eq "y""#,
            r#"userName eq x"#,
            r#"userName eq "x"#,
            r#"emails[type eq "work"] eq "x""#,
        ] {
            let error = parse(filter, &USERS).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{filter}");
        }
    }

    #[test]
    fn paging_follows_the_rfc_bounds() {
        let params = |start: &str, count: &str| ListParams {
            filter: None,
            start_index: Some(start.into()),
            count: Some(count.into()),
        };
        let paging = params("0", "-5").paging().unwrap();
        assert_eq!((paging.start_index, paging.count), (1, 0));
        let paging = params("3", "100000").paging().unwrap();
        assert_eq!((paging.start_index, paging.count), (3, MAX_RESULTS));
        assert!(params("x", "1").paging().is_err());
    }
}
