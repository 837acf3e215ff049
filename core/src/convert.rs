//! Number conversions that cannot lose a value silently: counts saturate, ids stored in
//! SQLite's signed integers are checked both ways.

/// A count as the `u32` the app sees; a count past `u32::MAX` (never reached) saturates.
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A `u64` id or sequence number as SQLite's signed integer (ids the cloud hands out are row
/// ids, far below 2⁶³): one that does not fit is refused, never wrapped.
pub(crate) fn to_sql(value: u64) -> rusqlite::Result<i64> {
    i64::try_from(value).map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
}

/// The `u64` id or sequence number a SQLite integer column holds (never negative when written
/// with [`to_sql`]).
pub(crate) fn from_sql(value: i64) -> rusqlite::Result<u64> {
    u64::try_from(value).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            Box::new(error),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_out_of_range_values_are_refused() {
        assert_eq!(from_sql(to_sql(42).unwrap()).unwrap(), 42);
        assert!(to_sql(u64::MAX).is_err());
        assert!(from_sql(-1).is_err());
        assert_eq!(count(3), 3);
    }
}
