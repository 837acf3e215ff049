//! Phone numbers: what a person types, checked and kept in one form (E.164: `+` and 8 to 15
//! digits, the first not 0), so the same phone is always the same text and a text message
//! provider takes it as it is.

use crate::error::ApiError;

/// The fewest digits after `+` (the shortest national numbers with their country code).
const MIN_DIGITS: usize = 8;
/// The most digits E.164 allows.
const MAX_DIGITS: usize = 15;
/// The longest input looked at, in bytes (spaces and punctuation included).
const MAX_INPUT_BYTES: usize = 40;

/// `text` as E.164: spaces, dots, dashes and parentheses are dropped; `00` before the country
/// code counts as `+`. A number without its country code, letters, or too few or too many
/// digits is `invalid_phone`.
pub(crate) fn normalize_phone(text: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::InvalidPhone(format!(
            "a phone number is + then the country code and number ({MIN_DIGITS} to \
             {MAX_DIGITS} digits), e.g. +44 20 7946 0958"
        ))
    };
    let text = text.trim();
    if text.len() > MAX_INPUT_BYTES {
        return Err(invalid());
    }
    let rest = match (text.strip_prefix('+'), text.strip_prefix("00")) {
        (Some(rest), _) | (None, Some(rest)) => rest,
        (None, None) => return Err(invalid()),
    };
    let mut digits = String::with_capacity(MAX_DIGITS + 1);
    digits.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return Err(invalid()),
        }
    }
    let count = digits.len() - 1;
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&count) || digits.starts_with("+0") {
        return Err(invalid());
    }
    Ok(digits)
}

/// An optional phone field of a request: absent stays absent, blank removes, anything else
/// must be a phone number.
pub(crate) fn normalize_optional_phone(text: Option<&str>) -> Result<Option<String>, ApiError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => normalize_phone(text).map(Some),
    }
}

/// A request's change of a phone: `None` when the field is absent (no change), `Some(None)`
/// when it is blank (remove it), `Some(Some(phone))` for a new number in E.164.
pub(crate) fn phone_change(text: Option<&str>) -> Result<Option<Option<String>>, ApiError> {
    text.map(|text| normalize_optional_phone(Some(text)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use keyway_api::ErrorCode;

    use super::*;

    #[test]
    fn the_ways_people_write_a_number_become_one_form() {
        for typed in [
            "+44 20 7946 0958",
            "+44 (0)20 7946 0958".replace("(0)", "").as_str(),
            "0044 20-7946-0958",
            "+44.20.7946.0958",
            " +442079460958 ",
        ] {
            assert_eq!(normalize_phone(typed).unwrap(), "+442079460958", "{typed}");
        }
    }

    #[test]
    fn what_is_not_an_international_number_is_refused_with_its_code() {
        for typed in [
            "",
            "020 7946 0958",     // no country code
            "+44 20 7946 095x",  // a letter
            "+1234567",          // too short
            "+1234567890123456", // too long
            "+0441234567890",    // no country code starts with 0
            "+44\n2079460958",   // a control character
            &format!("+44{}", " ".repeat(60)),
        ] {
            let error = normalize_phone(typed).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidPhone, "{typed:?}");
        }
    }

    #[test]
    fn a_blank_optional_phone_removes_it() {
        assert_eq!(normalize_optional_phone(None).unwrap(), None);
        assert_eq!(normalize_optional_phone(Some("  ")).unwrap(), None);
        assert_eq!(
            normalize_optional_phone(Some("+1 415 555 0100"))
                .unwrap()
                .as_deref(),
            Some("+14155550100")
        );
    }
}
