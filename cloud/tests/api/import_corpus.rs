//! The hostile-CSV corpus (`cloud/tests/import_corpus/`, its README lists the cases): each
//! file gets a clear error or exactly the rows imported and failed, and a refused file
//! leaves nothing half-written.

use keyway_api::import::ImportState;
use keyway_cloud::import::MAX_FILE_BYTES;
use reqwest::StatusCode;

use crate::api_support::{Caller, Cloud};
use crate::imports::{failures, footprint, import, upload, HEADER};

macro_rules! corpus {
    ($name:literal) => {
        include_bytes!(concat!("../import_corpus/", $name)).as_slice()
    };
}

async fn site() -> (Cloud, Caller, u32) {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    (cloud, owner, site.site_id)
}

/// The requester's address.
async fn address(cloud: &Cloud, caller: &Caller) -> String {
    let user_id = caller.user_id;
    cloud
        .running
        .state
        .store
        .run(move |db| {
            db.query_row("SELECT email FROM users WHERE id = ?1", [user_id], |row| {
                row.get::<_, String>(0)
            })
            .map_err(keyway_cloud::StoreError::from)
        })
        .await
        .unwrap()
}

/// `file` is refused with `code` (and `status`), nobody is added or invited, and the
/// requester is e-mailed why.
async fn refused(file: &[u8], status: StatusCode, code: &str) {
    let (cloud, owner, site_id) = site().await;
    let before = footprint(&cloud).await;
    let (got, body) = upload(&cloud, &owner, site_id, file.to_vec(), false).await;
    assert_eq!(
        (got, body["error"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    let after = footprint(&cloud).await;
    assert_eq!((after.0, after.1), (before.0, before.1), "nobody added");
    let mail = cloud.mail_to(&address(&cloud, &owner).await).await;
    if status == StatusCode::BAD_REQUEST {
        // "If the imported file were in an invalid format, they would also receive an email
        // informing them that this was the reason the import failed."
        let why = mail.last().unwrap();
        assert!(why.subject.contains("failed"), "{}", why.subject);
        assert!(why.body.contains("format"), "{}", why.body);
        assert_eq!(after.2, before.2 + 1, "only that e-mail");
    } else {
        assert_eq!(after.2, before.2, "nothing queued");
    }
}

#[tokio::test]
async fn semicolons_fail_with_not_comma_separated_and_the_mail_says_save_it_with_commas() {
    refused(
        corpus!("semicolons.csv"),
        StatusCode::BAD_REQUEST,
        "not_comma_separated",
    )
    .await;
    let (cloud, owner, site_id) = site().await;
    upload(&cloud, &owner, site_id, corpus!("semicolons.csv"), false).await;
    let mail = cloud.mail_to(&address(&cloud, &owner).await).await;
    assert!(mail.last().unwrap().body.contains("comma-separated"));
}

#[tokio::test]
async fn tabs_fail_with_not_comma_separated() {
    refused(
        corpus!("tabs.csv"),
        StatusCode::BAD_REQUEST,
        "not_comma_separated",
    )
    .await;
}

#[tokio::test]
async fn utf16_fails_with_not_utf8_csv() {
    let text = std::str::from_utf8(corpus!("bom_crlf.csv")).unwrap();
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    refused(&utf16, StatusCode::BAD_REQUEST, "not_utf8_csv").await;
}

#[tokio::test]
async fn a_binary_file_fails_with_not_utf8_csv() {
    let mut xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00".to_vec();
    xlsx.extend((0..=255u8).cycle().take(4096));
    refused(&xlsx, StatusCode::BAD_REQUEST, "not_utf8_csv").await;
}

#[tokio::test]
async fn an_empty_file_fails_with_empty_file() {
    refused(corpus!("empty.csv"), StatusCode::BAD_REQUEST, "empty_file").await;
}

#[tokio::test]
async fn a_header_alone_fails_with_no_rows() {
    refused(
        corpus!("header_only.csv"),
        StatusCode::BAD_REQUEST,
        "no_rows",
    )
    .await;
}

#[tokio::test]
async fn a_missing_alias_column_fails_with_wrong_columns() {
    // "Optional fields must have their own column in the file, even if they are empty."
    refused(
        corpus!("missing_alias_column.csv"),
        StatusCode::BAD_REQUEST,
        "wrong_columns",
    )
    .await;
}

#[tokio::test]
async fn extra_columns_fail_with_wrong_columns() {
    refused(
        corpus!("extra_columns.csv"),
        StatusCode::BAD_REQUEST,
        "wrong_columns",
    )
    .await;
}

#[tokio::test]
async fn a_megabyte_single_line_fails_with_wrong_columns() {
    let line = "A".repeat(1024 * 1024);
    refused(line.as_bytes(), StatusCode::BAD_REQUEST, "wrong_columns").await;
}

#[tokio::test]
async fn two_megabytes_and_one_byte_is_refused_before_it_is_read_whole() {
    let mut file = format!("{HEADER}Ada,Lovelace,ada@example.com,,User\n").into_bytes();
    file.resize(MAX_FILE_BYTES + 1, b'\n');
    refused(&file, StatusCode::PAYLOAD_TOO_LARGE, "file_too_large").await;
}

#[tokio::test]
async fn exactly_two_megabytes_is_accepted() {
    let (cloud, owner, site_id) = site().await;
    let mut file = format!("{HEADER}Ada,Lovelace,ada@example.com,,User\n").into_bytes();
    file.resize(MAX_FILE_BYTES, b'\n');
    let report = import(&cloud, &owner, site_id, &file).await;
    assert_eq!((report.state, report.imported), (ImportState::Done, 1));
}

#[tokio::test]
async fn bom_and_crlf_are_read() {
    let (cloud, owner, site_id) = site().await;
    let report = import(&cloud, &owner, site_id, corpus!("bom_crlf.csv")).await;
    assert_eq!((report.imported, report.failed_rows.len()), (2, 0));
    let people = cloud.people(&owner, site_id).await;
    assert!(people
        .iter()
        .any(|p| p.email.as_deref() == Some("grace@example.com")));
}

#[tokio::test]
async fn quoted_commas_and_quotes_are_read_and_line_breaks_in_names_fail_their_row() {
    let (cloud, owner, site_id) = site().await;
    let report = import(&cloud, &owner, site_id, corpus!("quotes_newlines.csv")).await;
    assert_eq!(report.imported, 1);
    // Grace's first name and Alan's alias hold a line break; the rows are 3 and 4 as a
    // spreadsheet shows them, whatever the lines in the file.
    assert_eq!(failures(&report), vec![(3, "bad_name"), (4, "bad_name")]);
    let people = cloud.people(&owner, site_id).await;
    let ada = people
        .iter()
        .find(|p| p.email.as_deref() == Some("ada@example.com"))
        .unwrap();
    assert_eq!(ada.name, "Ada, Countess of Love\"lace");
}

#[tokio::test]
async fn duplicates_in_the_file_fail_after_the_first() {
    let (cloud, owner, site_id) = site().await;
    let report = import(&cloud, &owner, site_id, corpus!("duplicates.csv")).await;
    assert_eq!(report.imported, 2);
    assert_eq!(failures(&report), vec![(3, "duplicate_in_file")]);
}

#[tokio::test]
async fn bad_rows_are_listed_with_number_and_reason_and_do_not_stop_the_rest() {
    let (cloud, owner, site_id) = site().await;
    let report = import(&cloud, &owner, site_id, corpus!("bad_rows.csv")).await;
    assert_eq!(report.imported, 1, "Ken, role `user` in lower case");
    assert_eq!(
        failures(&report),
        vec![
            (2, "missing_field"),
            (3, "bad_email"),
            (4, "unknown_role"),
            (5, "role_not_allowed"),
        ]
    );
    assert_eq!(report.failed_rows[1].email, "not an address");
}

#[tokio::test]
async fn a_huge_cell_fails_its_row_and_is_not_echoed_whole() {
    let (cloud, owner, site_id) = site().await;
    let file = format!(
        "{HEADER}{},Lovelace,ada@example.com,,User\nGrace,Hopper,{}@example.com,,User\n",
        "A".repeat(1024 * 1024),
        "g".repeat(500_000)
    );
    let report = import(&cloud, &owner, site_id, file.as_bytes()).await;
    assert_eq!(
        failures(&report),
        vec![(2, "name_too_long"), (3, "bad_email")]
    );
    assert!(report.failed_rows[1].email.len() <= 254);
    let mail = cloud.mail_to(&address(&cloud, &owner).await).await;
    let attachment = mail.last().unwrap().attachment.clone().unwrap();
    assert!(
        attachment.text.len() < 4096,
        "{} bytes",
        attachment.text.len()
    );
}

#[tokio::test]
async fn formula_cells_reach_the_failed_rows_attachment_neutralised() {
    let (cloud, owner, site_id) = site().await;
    let report = import(&cloud, &owner, site_id, corpus!("formulas.csv")).await;
    assert_eq!(report.imported, 1);
    assert_eq!(
        failures(&report),
        vec![(2, "unknown_role"), (3, "bad_email")]
    );
    // "If there were any failed imports, the email would also include an attachment listing
    // the users that were not imported and why."
    let mail = cloud.mail_to(&address(&cloud, &owner).await).await;
    let overview = mail.last().unwrap();
    assert!(
        overview.body.contains("2 row(s) were not imported"),
        "{}",
        overview.body
    );
    let attachment = overview.attachment.clone().unwrap();
    assert_eq!(attachment.name, "failed-rows.csv");
    assert_eq!(attachment.content_type, "text/csv");
    let mut reader = csv::Reader::from_reader(attachment.text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0][0].starts_with("'=HYPERLINK("), "{:?}", &rows[0]);
    assert!(rows[0][6].contains("unknown user role"));
    assert_eq!(
        (&rows[1][0], &rows[1][1], &rows[1][2]),
        ("'+cmd", "'@SUM(1+1)", "'-2@example")
    );
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} would run as a formula"
            );
        }
    }
}

#[tokio::test]
async fn a_chunked_body_without_length_is_cut_off_past_two_megabytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (cloud, owner, site_id) = site().await;
    let before = footprint(&cloud).await;
    let stream = tokio::net::TcpStream::connect(cloud.running.addr)
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/sites/{site_id}/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        owner.token
    );
    // The sender would go on for 8 MB; the cloud answers once it has more than 2 MB.
    let sender = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = format!(
            "{HEADER}{}",
            "Ada,Lovelace,ada@example.com,,User\n".repeat(1_800)
        );
        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        for _ in 0..(8 * 1024 * 1024 / chunk.len()) {
            writer.write_all(framed.as_bytes()).await?;
        }
        writer.write_all(b"0\r\n\r\n").await
    });
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), reader.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("file_too_large"), "{answer}");
    sender.abort();
    assert_eq!(footprint(&cloud).await, before, "nothing written");
}

#[tokio::test]
async fn the_failed_rows_attachment_is_sealed_at_rest_and_erased_once_sent() {
    let (cloud, owner, site_id) = site().await;
    let report = import(&cloud, &owner, site_id, corpus!("formulas.csv")).await;
    assert_eq!(report.failed_rows.len(), 2);
    let plaintext = "SELECT COUNT(*) FROM email_outbox WHERE instr(sealed_attachment, \
                     CAST('Janitor' AS BLOB)) > 0 OR instr(attachment_name, 'Janitor') > 0";
    assert_eq!(cloud.count(plaintext).await, 0, "never in plaintext");
    let mail = cloud.mail_to(&address(&cloud, &owner).await).await;
    assert!(mail.last().unwrap().attachment.is_some());
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM email_outbox WHERE sealed_attachment IS NOT NULL")
            .await,
        0,
        "erased once sent"
    );
}
