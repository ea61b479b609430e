//! A numbered series (`https://host/canary-{n:03}-{year}.txt`): the newest
//! issue is found by walking upward from the last one seen, as key
//! rotations are walked, so a watch list needs no edit every quarter.

use canary_core::legacy::{LegacyState, Series, TEXT_CAP};

use crate::fetch::{FetchError, Fetcher};
use crate::source::{Location, ReadError};

/// At most this many requests per walk.
const MAX_PROBES: usize = 256;
/// Without a remembered issue, the first one is looked for in this many
/// years back from now.
const FIRST_YEARS: i32 = 30;

/// True when `arg` names a numbered series.
pub fn is_series(arg: &str) -> bool {
    arg.contains("{n}") || arg.contains("{n:0")
}

/// `template` with issue `n` of `year`. `{n}` is the number as is, `{n:0W}`
/// zero-padded to W digits; `{year}` the year.
pub fn expand(template: &str, n: u64, year: i32) -> String {
    let mut out = template
        .replace("{year}", &year.to_string())
        .replace("{n}", &n.to_string());
    while let Some(start) = out.find("{n:0") {
        let rest = &out[start + 4..];
        let Some(end) = rest.find('}') else { break };
        let width: usize = rest[..end].parse().unwrap_or(0).min(20);
        let padded = format!("{n:0width$}");
        out.replace_range(start..start + 4 + end + 1, &padded);
    }
    out
}

/// Checks a template: it must expand to a valid source.
pub fn check_template(template: &str) -> Result<(), String> {
    let rest_ok = template
        .replace("{year}", "")
        .replace("{n}", "")
        .split("{n:0")
        .skip(1)
        .all(|p| {
            p.split_once('}')
                .is_some_and(|(w, _)| w.parse::<u8>().is_ok_and(|w| w <= 20))
        });
    if !rest_ok {
        return Err(format!(
            "{template}: write the number as {{n}} or {{n:0W}} (W digits)"
        ));
    }
    Ok(())
}

/// The newest issue: from the remembered one (or, without one, the first
/// found from number 1 in the last [`FIRST_YEARS`] years), each next number
/// tried in the same year and the next, until neither exists.
pub fn newest(
    template: &str,
    remembered: Option<&LegacyState>,
    now_year: i32,
    fetcher: &mut Fetcher,
    locate: &dyn Fn(&str) -> Result<Location, String>,
) -> Result<(Series, String, Vec<u8>), ReadError> {
    let mut probes = 0usize;
    let mut get = |n: u64,
                   year: i32,
                   fetcher: &mut Fetcher|
     -> Result<Option<(String, Vec<u8>)>, ReadError> {
        probes += 1;
        if probes > MAX_PROBES {
            return Err(ReadError::Fetch(FetchError::Transport {
                url: template.to_owned(),
                message: format!("more than {MAX_PROBES} requests walking the series"),
            }));
        }
        let arg = expand(template, n, year);
        let location = locate(&arg).map_err(|reason| {
            ReadError::Fetch(FetchError::Refused {
                url: arg.clone(),
                reason,
            })
        })?;
        match location.read_latest(fetcher, TEXT_CAP) {
            Ok(b) => Ok(Some((arg, b))),
            Err(ReadError::Absent(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let uses_year = template.contains("{year}");
    let mut found: Option<(Series, String, Vec<u8>)> = None;
    let (mut n, mut year) = match remembered.and_then(|s| s.series) {
        Some(s) => (s.n, s.year),
        None => {
            let years: Vec<i32> = if uses_year {
                (now_year - FIRST_YEARS..=now_year).collect()
            } else {
                vec![now_year]
            };
            let mut first = None;
            for y in years {
                if let Some((arg, b)) = get(1, y, fetcher)? {
                    first = Some((Series { n: 1, year: y }, arg, b));
                    break;
                }
            }
            let Some(first) = first else {
                return Err(ReadError::Absent(expand(template, 1, now_year)));
            };
            let s = first.0;
            found = Some(first);
            (s.n, s.year)
        }
    };
    loop {
        let next = n.saturating_add(1);
        let years: &[i32] = if uses_year {
            &[year, year + 1]
        } else {
            &[year]
        };
        let mut hit = None;
        for &y in years {
            if let Some((arg, b)) = get(next, y, fetcher)? {
                hit = Some((Series { n: next, year: y }, arg, b));
                break;
            }
        }
        match hit {
            Some(h) => {
                n = h.0.n;
                year = h.0.year;
                found = Some(h);
            }
            None => break,
        }
    }
    match found {
        Some(f) => Ok(f),
        // Nothing newer: the remembered issue again.
        None => get(n, year, fetcher)?
            .map(|(arg, b)| (Series { n, year }, arg, b))
            .ok_or_else(|| ReadError::Absent(expand(template, n, year))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(expand("c-{n:03}-{year}.txt", 7, 2025), "c-007-2025.txt");
        assert_eq!(expand("c-{n}.txt", 42, 2025), "c-42.txt");
        assert!(check_template("c-{n:03}.txt").is_ok());
        assert!(check_template("c-{n:0x}.txt").is_err());
    }
}
