//! The weekly schedule editor of the console's forms (an access group's hours, a lock's Easy
//! Office Mode windows): rows of some days of the week from one time to another, a row with
//! no day unused; read back into [`ScheduleWindow`]s and shown in words. Forms post their
//! fields as name–value pairs ([`Pairs`]), checkboxes named after what they choose.

use keyway_protocol::ScheduleWindow;
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::WithToken;
use crate::error::ApiError;

/// Rows the editor shows at least.
pub(super) const SCHEDULE_ROWS: usize = 4;
/// Rows the editor shows and reads at most.
const MAX_ROWS: usize = 14;
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MINUTES_PER_DAY: u16 = 24 * 60;

/// A posted form as its name–value pairs (checkboxes named after what they choose).
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(super) struct Pairs(Vec<(String, String)>);

impl Pairs {
    /// The first value posted as `name`.
    pub(super) fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether a checkbox `name` was ticked (posted at all).
    pub(super) fn checked(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// The editor's fields for `schedule`, to show a stored schedule in the editor.
    pub(super) fn from_schedule(schedule: &[ScheduleWindow]) -> Self {
        let mut pairs = Vec::new();
        for (row, window) in schedule.iter().enumerate() {
            for day in (0..DAYS.len()).filter(|day| window.days & (1 << day) != 0) {
                pairs.push((format!("w{row}_day{day}"), "on".to_string()));
            }
            pairs.push((format!("w{row}_from"), input_time(window.start_minute)));
            pairs.push((format!("w{row}_until"), input_time(window.end_minute)));
        }
        Self(pairs)
    }

    /// Rows in use: the last row with a day ticked, and those before it.
    fn rows_used(&self) -> usize {
        (0..MAX_ROWS)
            .filter(|row| (0..DAYS.len()).any(|day| self.checked(&format!("w{row}_day{day}"))))
            .max()
            .map_or(0, |row| row + 1)
    }
}

impl WithToken for Pairs {
    fn csrf(&self) -> &str {
        self.value("csrf").unwrap_or_default()
    }
}

/// `HH:MM` as minutes after midnight; for the end of a window `00:00` is midnight at the
/// end of the day.
fn minutes(text: &str, is_end: bool) -> Result<u16, ApiError> {
    let bad = || ApiError::InvalidInput(format!("{text:?} is not a time such as 08:30"));
    let (hours, mins) = text.trim().split_once(':').ok_or_else(bad)?;
    let (hours, mins): (u16, u16) = (
        hours.parse().map_err(|_| bad())?,
        mins.parse().map_err(|_| bad())?,
    );
    if hours > 23 || mins > 59 {
        return Err(bad());
    }
    let total = hours * 60 + mins;
    Ok(if is_end && total == 0 {
        MINUTES_PER_DAY
    } else {
        total
    })
}

fn clock(minute: u16) -> String {
    if minute >= MINUTES_PER_DAY {
        "24:00".into()
    } else {
        format!("{:02}:{:02}", minute / 60, minute % 60)
    }
}

/// A time for a time field: the end of the day is `00:00`.
fn input_time(minute: u16) -> String {
    clock(minute % MINUTES_PER_DAY)
}

/// The windows the editor's rows describe: a row with no day is unused.
pub(super) fn schedule_from(form: &Pairs) -> Result<Vec<ScheduleWindow>, ApiError> {
    let mut windows = Vec::new();
    for row in 0..MAX_ROWS {
        let days = (0..DAYS.len())
            .filter(|day| form.checked(&format!("w{row}_day{day}")))
            .fold(0u8, |bits, day| bits | (1 << day));
        if days == 0 {
            continue;
        }
        let start = minutes(
            form.value(&format!("w{row}_from")).unwrap_or("00:00"),
            false,
        )?;
        let end = minutes(
            form.value(&format!("w{row}_until")).unwrap_or("00:00"),
            true,
        )?;
        windows.push(ScheduleWindow {
            days,
            start_minute: start,
            end_minute: end,
        });
    }
    Ok(windows)
}

/// A schedule in words: "Monday, Tuesday 08:00–18:00; Saturday 10:00–14:00"; `none` when
/// there is no window.
pub(super) fn schedule_text(schedule: &[ScheduleWindow], none: &str) -> String {
    if schedule.is_empty() {
        return none.into();
    }
    schedule
        .iter()
        .map(|window| {
            let days: Vec<&str> = (0..DAYS.len())
                .filter(|day| window.days & (1 << day) != 0)
                .map(|day| DAYS[day])
                .collect();
            format!(
                "{} {}–{}",
                days.join(", "),
                clock(window.start_minute),
                clock(window.end_minute)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The editor, filled from `form` (a posted form, or [`Pairs::from_schedule`]), under
/// `legend`; one empty row more than it uses, at least [`SCHEDULE_ROWS`].
pub(super) fn schedule_editor(legend: &str, form: Option<&Pairs>) -> Markup {
    let checked = |name: String| form.is_some_and(|form| form.checked(&name));
    let value = |name: String, default: &str| {
        form.and_then(|form| form.value(&name))
            .unwrap_or(default)
            .to_string()
    };
    let rows = form
        .map_or(0, |form| form.rows_used() + 1)
        .clamp(SCHEDULE_ROWS, MAX_ROWS);
    html! {
        fieldset {
            legend { (legend) }
            @for row in 0..rows {
                fieldset {
                    legend { "Window " (row + 1) }
                    div.days {
                        @for (day, name) in DAYS.iter().enumerate() {
                            label.check {
                                input type="checkbox" name=(format!("w{row}_day{day}")) checked[checked(format!("w{row}_day{day}"))];
                                (name)
                            }
                        }
                    }
                    label for=(format!("w{row}_from")) { "From" }
                    input type="time" id=(format!("w{row}_from")) name=(format!("w{row}_from")) value=(value(format!("w{row}_from"), "08:00"));
                    label for=(format!("w{row}_until")) { "Until (00:00 is midnight at the end of the day)" }
                    input type="time" id=(format!("w{row}_until")) name=(format!("w{row}_until")) value=(value(format!("w{row}_until"), "18:00"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        Pairs(
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_editor_rows_become_windows_and_read_back_in_words() {
        let form = pairs(&[
            ("w0_day0", "on"),
            ("w0_day4", "on"),
            ("w0_from", "08:00"),
            ("w0_until", "18:30"),
            ("w1_from", "09:00"),
            ("w1_until", "10:00"),
            ("w2_day6", "on"),
            ("w2_from", "22:00"),
            ("w2_until", "00:00"),
        ]);
        let windows = schedule_from(&form).unwrap();
        assert_eq!(
            windows,
            [
                ScheduleWindow {
                    days: 0b1_0001,
                    start_minute: 480,
                    end_minute: 1110
                },
                ScheduleWindow {
                    days: 0b100_0000,
                    start_minute: 1320,
                    end_minute: 1440
                },
            ]
        );
        assert_eq!(
            schedule_text(&windows, "At any time"),
            "Monday, Friday 08:00–18:30; Sunday 22:00–24:00"
        );
        assert_eq!(schedule_text(&[], "At any time"), "At any time");
    }

    #[test]
    fn a_stored_schedule_fills_the_editor_and_reads_back_the_same() {
        let stored = [
            ScheduleWindow {
                days: 0b001_1111,
                start_minute: 420,
                end_minute: 1440,
            },
            ScheduleWindow {
                days: 0b110_0000,
                start_minute: 600,
                end_minute: 840,
            },
        ];
        let form = Pairs::from_schedule(&stored);
        assert_eq!(form.value("w0_until"), Some("00:00"));
        assert_eq!(schedule_from(&form).unwrap(), stored);
        let editor = schedule_editor("When", Some(&form)).into_string();
        assert_eq!(editor.matches("<legend>Window ").count(), SCHEDULE_ROWS);
        assert!(editor.contains("name=\"w1_day6\" checked"), "{editor}");
    }

    #[test]
    fn times_that_are_not_times_are_refused() {
        for bad in ["8", "24:00", "12:60", "ab:cd", ""] {
            let form = pairs(&[("w0_day0", "on"), ("w0_from", bad), ("w0_until", "10:00")]);
            assert!(
                matches!(schedule_from(&form), Err(ApiError::InvalidInput(_))),
                "{bad}"
            );
        }
    }
}
