//! The failed rows of an import as a CSV file for the requester to fix and upload again:
//! the template's five columns, then the row number and the reason.
//!
//! Whatever the uploaded file held ends up in a spreadsheet the admin opens, so every cell
//! that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return) gets a leading `'` (OWASP's advice on CSV injection), and cells are cut
//! to [`MAX_CELL_CHARS`] so a hostile file cannot make a huge e-mail.

use std::borrow::Cow;

use keyway_api::import::IMPORT_COLUMNS;

use super::parse::RowFailure;

/// The longest cell written, in characters (longer ones end with `…`).
pub const MAX_CELL_CHARS: usize = 256;

/// The attachment's file name.
pub const FILE_NAME: &str = "failed-rows.csv";

/// `cell` as a spreadsheet may safely open it: never a formula, at most [`MAX_CELL_CHARS`].
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let cut: Cow<'_, str> = if cell.chars().count() > MAX_CELL_CHARS {
        let mut short: String = cell.chars().take(MAX_CELL_CHARS - 1).collect();
        short.push('…');
        Cow::Owned(short)
    } else {
        Cow::Borrowed(cell)
    };
    if cut.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cut}"))
    } else {
        cut
    }
}

/// The CSV of `failures`: header, then one line per failed row with its reason.
pub fn failed_rows_csv(failures: &[RowFailure]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header: Vec<&str> = IMPORT_COLUMNS.to_vec();
    header.extend(["Row", "Reason"]);
    writer.write_record(&header)?;
    for failure in failures {
        let mut record: Vec<String> = (0..IMPORT_COLUMNS.len())
            .map(|index| {
                let cell = failure.cells.get(index).map_or("", String::as_str);
                neutralise(cell).into_owned()
            })
            .collect();
        record.push(failure.row.to_string());
        record.push(neutralise(&failure.reason.text()).into_owned());
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|error| error.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse::Reason;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for hostile in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralise(hostile), format!("'{hostile}"), "{hostile:?}");
        }
        for plain in ["Ada", "ada@example.com", "O'Brien", " =not first", ""] {
            assert_eq!(neutralise(plain), plain);
        }
        let long = "=".repeat(10_000);
        let cut = neutralise(&long);
        assert!(cut.starts_with("'="));
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS + 1);
    }

    #[test]
    fn the_file_lists_each_failed_row_with_its_reason() {
        let failures = vec![RowFailure {
            row: 3,
            cells: vec![
                "=cmd|' /C calc'!A0".into(),
                "Doe".into(),
                "jane@example.com".into(),
                String::new(),
                "Janitor".into(),
            ],
            reason: Reason::UnknownRole,
        }];
        let text = String::from_utf8(failed_rows_csv(&failures).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            vec![
                "First name",
                "Last name",
                "Email",
                "Alias",
                "User role",
                "Row",
                "Reason"
            ]
        );
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "'=cmd|' /C calc'!A0");
        assert_eq!(&row[5], "3");
        assert!(row[6].contains("unknown user role"));
    }
}
