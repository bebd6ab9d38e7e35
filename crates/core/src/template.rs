//! The one way the tool renders a template (the engine's unit and drop-in, the files of the fix
//! script): an undefined value is an error, nothing is auto-escaped (callers escape for where
//! the text goes: systemd, or a quoted here-document), and a line holding only a block tag
//! leaves no blank line behind.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

pub use minijinja::{Value, context};

/// A template that could not be rendered: a bug in the template or in the values given.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    pub name: &'static str,
    /// What minijinja said.
    #[source]
    pub source: minijinja::Error,
}

/// Renders the template `source`, called `name` in errors, with `values` (built with
/// [`context!`]).
pub fn render(
    name: &'static str,
    source: &'static str,
    values: Value,
) -> Result<String, TemplateError> {
    let err = |source| TemplateError { name, source };
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(err)?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(syntax);
    env.template_from_str(source)
        .map_err(err)?
        .render(values)
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lines_leave_nothing_and_the_last_newline_stays() {
        let text = render(
            "list",
            "head\n  {% for x in xs %}\n<{{ x }}>\n  {% endfor %}\ntail\n",
            context! { xs => vec!["a&b", "c"] },
        )
        .unwrap();
        assert_eq!(text, "head\n<a&b>\n<c>\ntail\n");
    }

    #[test]
    fn an_undefined_value_is_an_error_naming_the_template() {
        let err = render("unit", "{{ missing }}\n", context! {}).unwrap_err();
        assert_eq!(err.name, "unit");
        assert!(
            err.to_string()
                .starts_with("template unit: undefined value"),
            "{err}"
        );
    }

    #[test]
    fn a_broken_template_is_an_error() {
        let err = render("broken", "{% for %}", context! {}).unwrap_err();
        assert_eq!(err.name, "broken");
        assert_eq!(err.source.kind(), minijinja::ErrorKind::SyntaxError);
    }
}
