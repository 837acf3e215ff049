//! Reading an import file: the file's rules first (a bad file is refused whole, with a
//! machine code), then each row's (a bad row is listed with its number and reason).
//!
//! Row numbers are those a spreadsheet shows: the header is row 1.

use std::collections::HashSet;

use keyway_api::import::IMPORT_COLUMNS;
use keyway_api::Role;

use crate::auth::accounts::{normalize_email, normalize_name, MAX_EMAIL_BYTES, MAX_NAME_CHARS};
use crate::error::ApiError;
use crate::roles::check_add;

/// Why a whole file is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    /// Nothing in it.
    #[error("the file is empty: download the template and fill it in")]
    Empty,
    /// UTF-16, binary, or other bytes that are not UTF-8 text.
    #[error(
        "the file is not a UTF-8 CSV: save it as \"CSV UTF-8 (comma delimited)\" (UTF-16 and \
         binary files such as .xlsx are not read)"
    )]
    NotUtf8,
    /// Semicolons or tabs between the values.
    #[error(
        "the file is not comma-separated (it uses semicolons or tabs): save it again \
         comma-separated (CSV, comma delimited)"
    )]
    NotCommaSeparated,
    /// The header is not the template's.
    #[error(
        "the first row must be the template's five columns in this order: First name,Last \
         name,Email,Alias,User role (Alias may be empty but its column must be there)"
    )]
    WrongColumns,
    /// A header and no people.
    #[error("the file has the header but no people")]
    NoRows,
}

impl FileProblem {
    /// The machine code (the API's `error` field and the job's `error`).
    pub fn code(self) -> &'static str {
        ApiError::from(self).code().as_str()
    }
}

impl From<FileProblem> for ApiError {
    fn from(problem: FileProblem) -> Self {
        let message = problem.to_string();
        match problem {
            FileProblem::Empty => Self::EmptyFile(message),
            FileProblem::NotUtf8 => Self::NotUtf8Csv(message),
            FileProblem::NotCommaSeparated => Self::NotCommaSeparated(message),
            FileProblem::WrongColumns => Self::WrongColumns(message),
            FileProblem::NoRows => Self::NoRows(message),
        }
    }
}

/// Why one row is not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A required cell is empty, or the row has fewer than five cells.
    MissingField,
    /// The row has more than five cells with something in them.
    ExtraField,
    /// The e-mail is not an address.
    BadEmail,
    /// A name or alias has control characters (a line break inside a cell, say).
    BadName,
    /// First and last name together, or the alias, are longer than allowed.
    NameTooLong,
    /// The role is none of `Site admin`, `Super user`, `User`.
    UnknownRole,
    /// The requester's role may not give this role (or it is owner: a site has one).
    RoleNotAllowed,
    /// An earlier row of the file already has this e-mail.
    DuplicateInFile,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 8] = [
        Self::MissingField,
        Self::ExtraField,
        Self::BadEmail,
        Self::BadName,
        Self::NameTooLong,
        Self::UnknownRole,
        Self::RoleNotAllowed,
        Self::DuplicateInFile,
    ];

    /// The reason whose machine code is `code` (a report's `reason`).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// The machine code (the report's `reason`).
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingField => "missing_field",
            Self::ExtraField => "extra_field",
            Self::BadEmail => "bad_email",
            Self::BadName => "bad_name",
            Self::NameTooLong => "name_too_long",
            Self::UnknownRole => "unknown_role",
            Self::RoleNotAllowed => "role_not_allowed",
            Self::DuplicateInFile => "duplicate_in_file",
        }
    }

    /// The reason for people (the failed-rows attachment).
    pub fn text(self) -> String {
        match self {
            Self::MissingField => {
                "a required field is empty (First name, Last name, Email and User role are)".into()
            }
            Self::ExtraField => "the row has more than the five columns".into(),
            Self::BadEmail => "the e-mail address is not valid".into(),
            Self::BadName => "a name has a line break or another control character".into(),
            Self::NameTooLong => format!("the name is longer than {MAX_NAME_CHARS} characters"),
            Self::UnknownRole => "unknown user role: use Site admin, Super user or User".into(),
            Self::RoleNotAllowed => "your role on this site may not give this role".into(),
            Self::DuplicateInFile => "this e-mail is already on an earlier row of the file".into(),
        }
    }
}

/// A valid row: a person to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Its row number.
    pub row: u32,
    /// Normalised e-mail.
    pub email: String,
    /// First and last name.
    pub name: String,
    /// The alias, if any.
    pub alias: Option<String>,
    /// The role.
    pub role: Role,
}

/// A row that is not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    /// Its row number.
    pub row: u32,
    /// Its cells as written (trimmed).
    pub cells: Vec<String>,
    /// Why.
    pub reason: Reason,
}

impl RowFailure {
    /// The e-mail cell as written, cut to [`MAX_EMAIL_BYTES`] (at a character boundary).
    pub fn email(&self) -> String {
        let cell = self.cells.get(2).map_or("", String::as_str);
        let mut end = cell.len().min(MAX_EMAIL_BYTES);
        while !cell.is_char_boundary(end) {
            end -= 1;
        }
        cell.get(..end).unwrap_or_default().to_string()
    }
}

/// A file read: the people to add and the rows that fail, by row number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    /// Valid rows, in file order.
    pub people: Vec<PersonRow>,
    /// Invalid rows, in file order.
    pub failures: Vec<RowFailure>,
}

impl ParsedFile {
    /// People rows in the file (valid and invalid).
    pub fn total_rows(&self) -> u32 {
        u32::try_from(self.people.len() + self.failures.len()).unwrap_or(u32::MAX)
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The file as text: UTF-8, its BOM dropped; UTF-16 (with or without BOM) and binary refused.
fn text_of(bytes: &[u8]) -> Result<&str, FileProblem> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || bytes.contains(&0) {
        return Err(FileProblem::NotUtf8);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| FileProblem::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(text)
}

/// Checks the header row against the template's.
fn check_header(header: &csv::StringRecord, first_line: &str) -> Result<(), FileProblem> {
    let matches = header.len() == IMPORT_COLUMNS.len()
        && header
            .iter()
            .zip(IMPORT_COLUMNS)
            .all(|(cell, column)| cell.trim().eq_ignore_ascii_case(column));
    if matches {
        return Ok(());
    }
    let other_separator = |separator: char| {
        first_line.split(separator).count() >= IMPORT_COLUMNS.len() - 1
            && first_line.split(',').count() < IMPORT_COLUMNS.len()
    };
    if other_separator(';') || other_separator('\t') {
        return Err(FileProblem::NotCommaSeparated);
    }
    Err(FileProblem::WrongColumns)
}

/// The role a cell names (case and spacing do not matter), or why it is refused.
fn role_of(cell: &str) -> Result<Role, Reason> {
    let words: Vec<String> = cell.split_whitespace().map(str::to_lowercase).collect();
    match words.join(" ").as_str() {
        "site admin" => Ok(Role::Admin),
        "super user" => Ok(Role::SuperUser),
        "user" => Ok(Role::User),
        "site owner" | "owner" => Err(Reason::RoleNotAllowed),
        _ => Err(Reason::UnknownRole),
    }
}

/// A name or alias by the account rules, telling "too long" from "control characters".
fn checked_name(name: &str) -> Result<String, Reason> {
    if name.trim().chars().count() > MAX_NAME_CHARS {
        return Err(Reason::NameTooLong);
    }
    normalize_name(name).map_err(|_| Reason::BadName)
}

/// One row's person, by the rules of adding a person by e-mail (`actor` adds them).
fn person_of(cells: &[String], actor: Role, row: u32) -> Result<PersonRow, Reason> {
    if cells.len() < IMPORT_COLUMNS.len() {
        return Err(Reason::MissingField);
    }
    if cells
        .iter()
        .skip(IMPORT_COLUMNS.len())
        .any(|c| !c.is_empty())
    {
        return Err(Reason::ExtraField);
    }
    let cell = |index: usize| cells.get(index).map_or("", String::as_str);
    let (first, last, email, alias, role) = (cell(0), cell(1), cell(2), cell(3), cell(4));
    if first.is_empty() || last.is_empty() || email.is_empty() || role.is_empty() {
        return Err(Reason::MissingField);
    }
    let email = normalize_email(email).map_err(|_| Reason::BadEmail)?;
    let name = checked_name(&format!("{first} {last}"))?;
    let alias = if alias.is_empty() {
        None
    } else {
        Some(checked_name(alias)?)
    };
    let role = role_of(role)?;
    check_add(actor, role).map_err(|_| Reason::RoleNotAllowed)?;
    Ok(PersonRow {
        row,
        email,
        name,
        alias,
        role,
    })
}

/// Reads `bytes` as an import file for `actor` (whose role limits the roles it may give).
pub fn parse(bytes: &[u8], actor: Role) -> Result<ParsedFile, FileProblem> {
    let text = text_of(bytes)?;
    let first_line = text.lines().next().unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(_)) => return Err(FileProblem::NotUtf8),
        None => return Err(FileProblem::Empty),
    };
    check_header(&header, first_line)?;
    let mut parsed = ParsedFile::default();
    let mut seen = HashSet::new();
    for (index, record) in records.enumerate() {
        let record = record.map_err(|_| FileProblem::NotUtf8)?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let row = u32::try_from(index + 2).unwrap_or(u32::MAX);
        let person = person_of(&cells, actor, row).and_then(|person| {
            if seen.contains(&person.email) {
                Err(Reason::DuplicateInFile)
            } else {
                Ok(person)
            }
        });
        match person {
            Ok(person) => {
                seen.insert(person.email.clone());
                parsed.people.push(person);
            }
            Err(reason) => parsed.failures.push(RowFailure { row, cells, reason }),
        }
    }
    if parsed.total_rows() == 0 {
        return Err(FileProblem::NoRows);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "First name,Last name,Email,Alias,User role\n";

    fn reasons(file: &str) -> Vec<(u32, &'static str)> {
        parse(file.as_bytes(), Role::Admin)
            .unwrap()
            .failures
            .iter()
            .map(|failure| (failure.row, failure.reason.code()))
            .collect()
    }

    #[test]
    fn roles_are_the_manuals_three_in_any_case_and_never_owner() {
        assert_eq!(role_of("Site admin"), Ok(Role::Admin));
        assert_eq!(role_of("SUPER  user"), Ok(Role::SuperUser));
        assert_eq!(role_of(" user "), Ok(Role::User));
        assert_eq!(role_of("Site owner"), Err(Reason::RoleNotAllowed));
        assert_eq!(role_of("Admin"), Err(Reason::UnknownRole));
        assert_eq!(role_of("Janitor"), Err(Reason::UnknownRole));
    }

    #[test]
    fn each_bad_row_is_listed_and_does_not_stop_the_rest() {
        let file = format!(
            "{HEADER}Ada,Lovelace,ada@example.com,,User\n\
             ,Hopper,grace@example.com,,User\n\
             Alan,Turing,not-an-address,,User\n\
             Edsger,Dijkstra,edsger@example.com,,Janitor\n\
             Ada,Again,ADA@example.com,,User\n\
             {},X,long@example.com,,User\n\
             Barbara,Liskov,barbara@example.com,,Site owner\n\
             Ken,Thompson,ken@example.com,,User,surplus\n\
             Dennis,Ritchie,dennis@example.com\n\
             Donald,Knuth,donald@example.com,Don,Super user\n",
            "x".repeat(MAX_NAME_CHARS)
        );
        assert_eq!(
            reasons(&file),
            vec![
                (3, "missing_field"),
                (4, "bad_email"),
                (5, "unknown_role"),
                (6, "duplicate_in_file"),
                (7, "name_too_long"),
                (8, "role_not_allowed"),
                (9, "extra_field"),
                (10, "missing_field"),
            ]
        );
        let parsed = parse(file.as_bytes(), Role::Admin).unwrap();
        assert_eq!(parsed.total_rows(), 10);
        let rows: Vec<u32> = parsed.people.iter().map(|p| p.row).collect();
        assert_eq!(rows, vec![2, 11]);
        assert_eq!(parsed.people[1].alias.as_deref(), Some("Don"));
        assert_eq!(parsed.people[1].role, Role::SuperUser);
    }

    #[test]
    fn a_super_user_imports_only_roles_it_may_create() {
        let file = format!(
            "{HEADER}Ada,Lovelace,ada@example.com,,Site admin\nGrace,Hopper,grace@example.com,,Super user\n"
        );
        let parsed = parse(file.as_bytes(), Role::SuperUser).unwrap();
        assert_eq!(parsed.failures[0].reason, Reason::RoleNotAllowed);
        assert_eq!(parsed.people.len(), 1);
    }

    #[test]
    fn files_are_refused_whole_for_what_the_manual_names() {
        let refused = |bytes: &[u8]| parse(bytes, Role::Admin).unwrap_err().code();
        assert_eq!(refused(b""), "empty_file");
        assert_eq!(refused(b"\xEF\xBB\xBF \r\n"), "empty_file");
        assert_eq!(refused(HEADER.as_bytes()), "no_rows");
        assert_eq!(
            refused(b"First name;Last name;Email;Alias;User role\nA;B;a@b.co;;User\n"),
            "not_comma_separated"
        );
        assert_eq!(
            refused(b"First name\tLast name\tEmail\tAlias\tUser role\n"),
            "not_comma_separated"
        );
        assert_eq!(
            refused(b"First name,Last name,Email,User role\nA,B,a@b.co,User\n"),
            "wrong_columns"
        );
        let utf16: Vec<u8> = HEADER.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(
            refused(&[b"\xFF\xFE".as_slice(), &utf16].concat()),
            "not_utf8_csv"
        );
        assert_eq!(refused(&utf16), "not_utf8_csv");
        assert_eq!(refused(b"PK\x03\x04\x14\x00\x06\x00"), "not_utf8_csv");
        assert_eq!(refused(b"First name,\xC3\x28"), "not_utf8_csv");
    }

    #[test]
    fn bom_crlf_quotes_and_trailing_blank_rows_are_read() {
        let file = "\u{FEFF}first NAME,Last name,Email,Alias,User role\r\n\
                    \"Ada, Countess\",\"Love\"\"lace\",ada@example.com,,User\r\n\
                    ,,,,\r\n\r\n";
        let parsed = parse(file.as_bytes(), Role::Owner).unwrap();
        assert_eq!(parsed.total_rows(), 1);
        assert_eq!(parsed.people[0].name, "Ada, Countess Love\"lace");
    }
}
