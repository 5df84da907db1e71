//! PostgreSQL's text form of floats (with the default `extra_float_digits = 1`): the shortest
//! digits that read back exactly, positional for moderate exponents and `1.5e-07` style
//! otherwise. Used for result columns and for the elements of vectors, which pgvector prints
//! the same way as `real`.

/// A `double precision` as PostgreSQL prints it.
pub fn pg_float8(v: f64) -> String {
    special(v).unwrap_or_else(|| layout(format!("{v:e}"), format!("{v}"), 15))
}

/// A `real` (and a vector element) as PostgreSQL prints it: `1.1`, not `1.100000023841858`.
pub fn pg_float4(v: f32) -> String {
    special(v as f64).unwrap_or_else(|| layout(format!("{v:e}"), format!("{v}"), 6))
}

fn special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "Infinity".into() } else { "-Infinity".into() })
    } else {
        None
    }
}

/// `scientific` is Rust's shortest `{:e}` form (`1.5e-7`), `positional` its shortest `{}` form.
/// PostgreSQL switches to exponents below 1e-4 and from 10^`digits` up, and prints the exponent
/// with a sign and at least two digits, as C's `%e` does.
fn layout(scientific: String, positional: String, digits: i32) -> String {
    let (mantissa, exp) = scientific.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    if positional.trim_start_matches('-') == "0" || (-4..digits).contains(&exp) {
        return positional;
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_in_postgres() {
        assert_eq!(pg_float8(4.0), "4");
        assert_eq!(pg_float8(1.5), "1.5");
        assert_eq!(pg_float8(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(pg_float8(-0.0001), "-0.0001");
        assert_eq!(pg_float8(1.5e-7), "1.5e-07");
        assert_eq!(pg_float8(1e300), "1e+300");
        assert_eq!(pg_float8(1e15), "1e+15");
        assert_eq!(pg_float8(123456789012345.0), "123456789012345");
        assert_eq!(pg_float8(-0.0), "-0");
        assert_eq!(pg_float8(f64::INFINITY), "Infinity");
        assert_eq!(pg_float8(f64::NAN), "NaN");
    }

    #[test]
    fn reals_print_as_in_postgres() {
        assert_eq!(pg_float4(1.1), "1.1");
        assert_eq!(pg_float4(1e-7), "1e-07");
        assert_eq!(pg_float4(123456.0), "123456");
        assert_eq!(pg_float4(1234567.0), "1.234567e+06");
        assert_eq!(pg_float4(f32::NEG_INFINITY), "-Infinity");
    }
}
