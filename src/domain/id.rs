//! Ids as the API reads them from a path, a query parameter or a token: ASCII digits, with a
//! leading minus for the negative numbers the original looks up and never finds. `+1`, ` 1`,
//! `1.0` or `١` are not ids, although Rust's and Python's integer parsers take some of them.

/// The id `raw` spells (`-?[0-9]+`, within `i64`); `None` for anything else.
pub fn parse(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn ids_are_digits_with_an_optional_minus() {
        assert_eq!(parse("1"), Some(1));
        assert_eq!(parse("007"), Some(7));
        assert_eq!(parse("0"), Some(0));
        assert_eq!(parse("-1"), Some(-1));
        assert_eq!(parse("9223372036854775807"), Some(i64::MAX));
        for bad in [
            "+1",
            "",
            "-",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "0x1",
            "--1",
            "+-1",
            "9223372036854775808",
            "\u{661}",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
