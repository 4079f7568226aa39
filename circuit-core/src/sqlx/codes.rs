//! The codes databases put on their errors, and which of them mean "could not serve".

/// SQLSTATE classes (the first two characters) of a server that could not serve: `08`
/// connection exception, `53` insufficient resources, `57` operator intervention (shutdown,
/// `query_canceled` from `statement_timeout`), `58` system error, `XX` internal error.
const INFRASTRUCTURE_CLASSES: [&str; 5] = ["08", "53", "57", "58", "XX"];

/// Single SQLSTATEs outside those classes: `55P03` `lock_not_available`, what `lock_timeout`
/// raises; like `57014`, a statement that waited too long behind someone else's lock.
const INFRASTRUCTURE_STATES: [&str; 1] = ["55P03"];

/// SQLite primary result codes of a database that could not serve.
const SQLITE_INFRASTRUCTURE: [i64; 11] = [
    5,  // SQLITE_BUSY: another connection holds the lock past busy_timeout
    6,  // SQLITE_LOCKED: a conflict within a shared cache
    7,  // SQLITE_NOMEM
    8,  // SQLITE_READONLY: the file cannot be written (permissions, a read-only mount)
    9,  // SQLITE_INTERRUPT: the statement was cancelled
    10, // SQLITE_IOERR
    11, // SQLITE_CORRUPT
    13, // SQLITE_FULL: the disk is full
    14, // SQLITE_CANTOPEN
    15, // SQLITE_PROTOCOL: a locking protocol error
    26, // SQLITE_NOTADB
];

/// Whether a database error's code says the database could not serve. A SQLSTATE has five
/// characters; a SQLite extended result code is a decimal number below 10,000 (the primary
/// code in its low byte), so the two never look alike.
pub(super) fn is_infrastructure(code: &str) -> bool {
    if code.len() == 5 {
        let class = &code[..2];
        INFRASTRUCTURE_CLASSES.contains(&class) || INFRASTRUCTURE_STATES.contains(&code)
    } else {
        code.parse::<i64>()
            .is_ok_and(|extended| SQLITE_INFRASTRUCTURE.contains(&(extended & 0xff)))
    }
}

#[cfg(test)]
mod tests {
    use super::is_infrastructure;

    // The classification of real errors from real servers is tested in tests/sqlx_*.rs; this
    // pins the reading of codes no test server produces easily.
    #[test]
    fn sqlstate_classes() {
        for code in [
            "08006", "08001", "53300", "53100", "57014", "57P01", "58030", "XX000", "55P03",
        ] {
            assert!(is_infrastructure(code), "{code}");
        }
        for code in [
            "23505", "23503", "42601", "42P01", "42501", "22012", "40001", "55000", "0A000",
        ] {
            assert!(!is_infrastructure(code), "{code}");
        }
    }

    #[test]
    fn sqlite_extended_codes_by_their_primary_code() {
        // SQLITE_BUSY_SNAPSHOT (517), SQLITE_IOERR_FSYNC (1034), SQLITE_READONLY_DBMOVED (1032)
        for code in [
            "5", "517", "6", "262", "10", "1034", "13", "14", "1032", "26",
        ] {
            assert!(is_infrastructure(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), _NOTNULL (1299), SQLITE_ERROR (1), SQLITE_MISMATCH
        for code in ["2067", "1299", "19", "1", "20", "25", "", "HY0"] {
            assert!(!is_infrastructure(code), "{code:?}");
        }
    }
}
