use super::*;

#[test]
fn timestamps_in_every_documented_form() {
    assert_eq!(
        parse_timestamp("2021-01-04T00:00:00Z"),
        Some(1_609_718_400_000)
    );
    assert_eq!(
        parse_timestamp("2021-01-04T01:00:00+01:00"),
        Some(1_609_718_400_000)
    );
    assert_eq!(
        parse_timestamp("2021-01-04 00:00:00"),
        Some(1_609_718_400_000)
    );
    assert_eq!(parse_timestamp("1609718400"), Some(1_609_718_400_000));
    assert_eq!(parse_timestamp("1609718400000"), Some(1_609_718_400_000));
    assert_eq!(parse_timestamp("yesterday"), None);
    assert_eq!(parse_timestamp("inf"), None);
    assert_eq!(parse_timestamp(""), None);
}
