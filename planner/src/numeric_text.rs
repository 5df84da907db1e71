//! `numeric` values as text where QuartzDB prints them itself (the wire layer, `format()`): an
//! unconstrained `numeric` is stored as Decimal128 with a fixed scale
//! ([`crate::types::DEFAULT_NUMERIC`]), which lost the scale PostgreSQL would print (that of the
//! value written), so it is printed without the trailing zeros the fixed scale adds (`1.5`,
//! not `1.5000000000`). A declared `numeric(p,s)` keeps its scale.

use arrow::datatypes::DataType;

/// Whether values of `t` are unconstrained numerics (see the module comment).
pub fn is_unconstrained(t: &DataType) -> bool {
    t == &DataType::Decimal128(crate::types::DEFAULT_NUMERIC.0, crate::types::DEFAULT_NUMERIC.1)
}

/// `value` (a Decimal128 of `scale`) as text without trailing fractional zeros.
pub fn trimmed_decimal(value: i128, scale: u32) -> String {
    let unit = 10i128.pow(scale);
    let (whole, fraction) = (value / unit, (value % unit).unsigned_abs());
    let sign = if value < 0 && whole == 0 { "-" } else { "" };
    let digits = format!("{fraction:0width$}", width = scale as usize);
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{digits}") }
}

#[cfg(test)]
mod tests {
    use super::trimmed_decimal;

    #[test]
    fn unconstrained_numerics_print_without_the_fixed_scale_zeros() {
        let scaled = |s: &str| s.replace('.', "").parse::<i128>().unwrap();
        assert_eq!(trimmed_decimal(scaled("1.5000000000"), 10), "1.5");
        assert_eq!(trimmed_decimal(scaled("2.0000000000"), 10), "2");
        assert_eq!(trimmed_decimal(scaled("-0.2500000000"), 10), "-0.25");
        assert_eq!(trimmed_decimal(scaled("-12.0000000001"), 10), "-12.0000000001");
        assert_eq!(trimmed_decimal(0, 10), "0");
    }
}
