//! Typed option getters with virsh's rules and words (vshCommandOptInt,
//! vshCommandOptUInt, vshCommandOptULongLong, vshCommandOptULWrap,
//! vshCommandOptStringReq), on top of libvirt's virStrToLong_* number
//! parsing: base 10, leading blanks and a sign allowed, nothing after the
//! digits, out-of-range refused.

use crate::parse::ParsedCommand;
use crate::shell::CmdError;

/// vshStringToArray: split an option's value at commas, a doubled comma
/// standing for a literal one.
pub fn string_to_array(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let last = out.len() - 1;
        match c {
            ',' if chars.peek() == Some(&',') => {
                chars.next();
                out[last].push(',');
            }
            ',' => out.push(String::new()),
            c => out[last].push(c),
        }
    }
    out
}

/// strtoull's view of `s`: (negative sign seen, magnitude), or None when
/// there are no digits, something follows them, or the magnitude overflows
/// (ERANGE).
fn strtoull(s: &str) -> Option<(bool, u64)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(|v| (neg, v))
}

/// virStrToLong_i: a C int.
pub fn str_to_i32(s: &str) -> Option<i32> {
    let (neg, mag) = strtoull(s)?;
    let v = if neg {
        0i128 - mag as i128
    } else {
        mag as i128
    };
    i32::try_from(v).ok()
}

/// virStrToLong_uip: an unsigned int, no minus sign.
pub fn str_to_u32_positive(s: &str) -> Option<u32> {
    match strtoull(s)? {
        (false, v) => u32::try_from(v).ok(),
        (true, _) => None,
    }
}

/// virStrToLong_ullp: an unsigned long long, no minus sign.
pub fn str_to_u64_positive(s: &str) -> Option<u64> {
    match strtoull(s)? {
        (false, v) => Some(v),
        (true, _) => None,
    }
}

/// virStrToLong_ul / virStrToLong_ull (LP64): negative numbers wrap, as
/// strtoul does ("-1" is the largest value).
pub fn str_to_u64_wrap(s: &str) -> Option<u64> {
    let (neg, v) = strtoull(s)?;
    Some(if neg { v.wrapping_neg() } else { v })
}

fn malformed(value: &str, name: &str) -> CmdError {
    CmdError::msg(format!(
        "Numeric value '{value}' for <{name}> option is malformed or out of range"
    ))
}

fn number<T>(
    c: &ParsedCommand,
    name: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, CmdError> {
    match c.get(name) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| malformed(v, name)),
    }
}

/// vshCommandOptInt.
pub fn opt_int(c: &ParsedCommand, name: &str) -> Result<Option<i32>, CmdError> {
    number(c, name, str_to_i32)
}

/// vshCommandOptUInt (negative numbers refused).
pub fn opt_uint(c: &ParsedCommand, name: &str) -> Result<Option<u32>, CmdError> {
    number(c, name, str_to_u32_positive)
}

/// vshCommandOptULongLong (negative numbers refused).
pub fn opt_ull(c: &ParsedCommand, name: &str) -> Result<Option<u64>, CmdError> {
    number(c, name, str_to_u64_positive)
}

/// vshCommandOptULWrap / vshCommandOptULongLongWrap.
pub fn opt_ul_wrap(c: &ParsedCommand, name: &str) -> Result<Option<u64>, CmdError> {
    number(c, name, str_to_u64_wrap)
}

/// vshCommandOptScaledInt: a number with an optional unit suffix
/// (`512M`, `1GiB`; bare numbers count in `scale`), in bytes, at most
/// `max`. A bad suffix or an overflow also carries virScaleInteger's error.
pub fn opt_scaled(
    c: &ParsedCommand,
    name: &str,
    scale: u64,
    max: u64,
) -> Result<Option<u64>, CmdError> {
    let Some(v) = c.get(name) else {
        return Ok(None);
    };
    let own =
        format!("Scaled numeric value '{v}' for <{name}> option is malformed or out of range");
    let lead = v.len() - v.trim_start().len();
    let digits_end = v[lead..]
        .find(|ch: char| !ch.is_ascii_digit() && ch != '+')
        .map_or(v.len(), |i| i + lead);
    let (number, unit) = v.split_at(digits_end);
    let Some(n) = str_to_u64_positive(number) else {
        return Err(CmdError::msg(own));
    };
    let libvirt = |code, text: String| {
        CmdError::with(
            own.clone(),
            rvirt::Error::new(rvirt::ErrorDomain::NONE, code, text),
        )
    };
    let Some(unit_scale) = rvirt_util::units::scale_for(unit, scale) else {
        return Err(libvirt(
            rvirt::ErrorCode::INVALID_ARG,
            format!("unknown suffix '{unit}'"),
        ));
    };
    if n != 0 && n > max / unit_scale {
        return Err(libvirt(
            rvirt::ErrorCode::OVERFLOW,
            format!("value too large: {n}{unit}"),
        ));
    }
    Ok(Some(n * unit_scale))
}

/// vshCommandOptStringReq: an empty value is an error.
pub fn opt_string<'a>(c: &'a ParsedCommand, name: &str) -> Result<Option<&'a str>, CmdError> {
    match c.get(name) {
        Some("") => Err(CmdError::msg(format!(
            "Failed to get option '{name}': Option argument is empty"
        ))),
        other => Ok(other),
    }
}

/// VSH_EXCLUSIVE_OPTIONS.
pub fn exclusive(c: &ParsedCommand, a: &str, b: &str) -> Result<(), CmdError> {
    if c.has(a) && c.has(b) {
        return Err(CmdError::msg(format!(
            "Options --{a} and --{b} are mutually exclusive"
        )));
    }
    Ok(())
}

/// VSH_REQUIRE_OPTION: `option` needs `required`.
pub fn require(c: &ParsedCommand, option: &str, required: &str) -> Result<(), CmdError> {
    if c.has(option) && !c.has(required) {
        return Err(CmdError::msg(format!(
            "Option --{required} is required by option --{option}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_strtol() {
        assert_eq!(str_to_i32(" 42"), Some(42));
        assert_eq!(str_to_i32("+7"), Some(7));
        assert_eq!(str_to_i32("-2147483648"), Some(i32::MIN));
        assert_eq!(str_to_i32("2147483648"), None);
        assert_eq!(str_to_i32("4x"), None);
        assert_eq!(str_to_i32(""), None);
        assert_eq!(str_to_i32("-"), None);
        assert_eq!(str_to_u32_positive("4294967295"), Some(u32::MAX));
        assert_eq!(str_to_u32_positive("4294967296"), None);
        assert_eq!(str_to_u32_positive("-0"), None);
        assert_eq!(str_to_u64_positive("18446744073709551615"), Some(u64::MAX));
        assert_eq!(str_to_u64_positive("18446744073709551616"), None);
        assert_eq!(str_to_u64_positive("-1"), None);
        assert_eq!(str_to_u64_wrap("-1"), Some(u64::MAX));
        assert_eq!(str_to_u64_wrap("5 "), None);
    }
}
