//! Reading `config.toml`: TOML is parsed with spans, then walked key by key so that every
//! problem (bad syntax, unknown key, wrong type, value out of range) is reported with its file,
//! line and column, and all of them at once.

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Settings;
use super::error::{ConfigError, ConfigErrors, Origin, Positions, closest, one_of};
use super::keys::{self, Raw};
use crate::limits::LIMITS;

const TOP: [&str; 4] = ["engine", "data-root", "daemon-flags", "start-timeout"];
const TABLES: [&str; 5] = ["network", "remote", "limits", "environment", "binaries"];
const NETWORK: [&str; 5] = [
    "driver",
    "port-driver",
    "mtu",
    "host-loopback",
    "detach-netns",
];

const REMOTE: [&str; 3] = ["expose", "tls-dir", "insecure-loopback"];

/// Every dotted key a typo could have meant.
fn all_keys() -> Vec<String> {
    TOP.iter()
        .map(|k| (*k).to_owned())
        .chain(NETWORK.iter().map(|k| format!("network.{k}")))
        .chain(REMOTE.iter().map(|k| format!("remote.{k}")))
        .chain(LIMITS.iter().map(|k| format!("limits.{}", k.name)))
        .chain(keys::BINARIES.iter().map(|(k, _)| format!("binaries.{k}")))
        .collect()
}

/// Applies the file at `path` (contents `text`) to `settings`.
pub fn apply(
    settings: &mut Settings,
    path: &Path,
    text: &str,
    home: &Path,
) -> Result<(), ConfigErrors> {
    // Indexed once: every key and value asks for its line and column.
    let positions = Positions::new(path, text);
    let at = |offset: usize| positions.origin(offset);
    let table = match DeTable::parse(text) {
        Ok(t) => t,
        Err(e) => {
            let origin = at(e.span().map_or(0, |s| s.start));
            return Err(
                ConfigError::new(&origin, "", format!("not valid TOML: {}", e.message())).into(),
            );
        }
    };
    let mut errors = Vec::new();
    let mut report = |r: Result<(), ConfigError>| {
        if let Err(e) = r {
            errors.push(e);
        }
    };
    for (key, value) in table.get_ref().iter() {
        let name: &str = key.get_ref();
        let key_at = at(key.span().start);
        let value_at = at(value.span().start);
        if TOP.contains(&name) {
            report(keys::set(settings, name, &raw(value, &at), &value_at, home));
        } else if TABLES.contains(&name) {
            let Some(inner) = value.get_ref().as_table() else {
                report(Err(ConfigError::new(
                    &value_at,
                    name,
                    format!(
                        "`{name}` must be a table, not {}",
                        type_name(value.get_ref())
                    ),
                )
                .allowed(format!("a `[{name}]` section"))));
                continue;
            };
            for (k, v) in inner.iter() {
                let sub: &str = k.get_ref();
                let sub_at = at(v.span().start);
                let r = raw(v, &at);
                report(match name {
                    "network" if NETWORK.contains(&sub) => {
                        keys::set(settings, &format!("network.{sub}"), &r, &sub_at, home)
                    }
                    "network" => Err(unknown(
                        &format!("network.{sub}"),
                        &at(k.span().start),
                        &NETWORK.map(|n| n),
                    )),
                    "remote" if REMOTE.contains(&sub) => {
                        keys::set(settings, &format!("remote.{sub}"), &r, &sub_at, home)
                    }
                    "remote" => Err(unknown(
                        &format!("remote.{sub}"),
                        &at(k.span().start),
                        &REMOTE.map(|n| n),
                    )),
                    "limits" if crate::limits::key(sub).is_some() => {
                        keys::set(settings, &format!("limits.{sub}"), &r, &sub_at, home)
                    }
                    "limits" => Err(unknown(
                        &format!("limits.{sub}"),
                        &at(k.span().start),
                        &LIMITS.map(|k| k.name),
                    )),
                    "environment" => keys::set_environment(settings, sub, &r, &sub_at),
                    _ => keys::set_binary(settings, sub, &r, &sub_at, home).map_err(|e| {
                        if e.message.starts_with("unknown key") {
                            ConfigError {
                                origin: at(k.span().start),
                                ..e
                            }
                        } else {
                            e
                        }
                    }),
                });
            }
        } else {
            report(Err(unknown(name, &key_at, &[])));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by_key(|e| match &e.origin {
            Origin::File { line, column, .. } => (*line, *column),
            _ => (0, 0),
        });
        Err(ConfigErrors(errors))
    }
}

/// An unknown key: suggest the closest known key (or the table it belongs in), list the keys
/// allowed where it stands.
fn unknown(dotted: &str, origin: &Origin, siblings: &[&str]) -> ConfigError {
    let everything = all_keys();
    let last = dotted.rsplit('.').next().unwrap_or(dotted);
    // `mtu` at the top is `network.mtu`; `network.drvier` is `network.driver`.
    let suggestion = everything
        .iter()
        .find(|k| k.rsplit('.').next() == Some(last) && k.as_str() != dotted)
        .map(String::as_str)
        .or_else(|| closest(dotted, everything.iter().map(String::as_str)))
        .or_else(|| closest(last, TABLES));
    let allowed = if siblings.is_empty() {
        format!(
            "{}, and the tables {}",
            one_of(TOP),
            one_of(TABLES.map(|t| t))
        )
    } else {
        let table = dotted.split('.').next().unwrap_or_default();
        format!("in [{table}]: {}", one_of(siblings.iter().copied()))
    };
    let mut e =
        ConfigError::new(origin, dotted, format!("unknown key `{dotted}`")).allowed(allowed);
    e.suggestion = suggestion.map(str::to_owned);
    e
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The raw form of one TOML value.
fn raw(value: &Spanned<DeValue<'_>>, at: &dyn Fn(usize) -> Origin) -> Raw {
    match value.get_ref() {
        DeValue::String(s) => Raw::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Raw::Int(n),
            Err(_) => Raw::Other("an integer too large"),
        },
        DeValue::Boolean(b) => Raw::Bool(*b),
        DeValue::Array(items) => {
            let mut list = Vec::new();
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::String(s) => list.push((s.to_string(), at(item.span().start))),
                    _ => return Raw::Other("an array with a non-string item"),
                }
            }
            Raw::List(list)
        }
        other => Raw::Other(type_name(other)),
    }
}
