//! `query_as!` and `query!`: hand-written SQL whose `{expression}`s become bound parameters.
//!
//! The string is split at each `{...}` into SQL fragments and Rust expressions (`{{` and `}}`
//! are literal braces, as in `format!`). The fragments are joined at run time with the
//! placeholder of the engine the query runs on (`$1` on PostgreSQL, `?` elsewhere), so one
//! query runs unchanged on every engine; each expression is bound as a parameter, never
//! written into the SQL text.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, LitStr, Token, Type};

/// `Row, "SQL"`.
pub(crate) struct QueryAs {
    row: Type,
    sql: LitStr,
}

impl Parse for QueryAs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let row = input.parse()?;
        input.parse::<Token![,]>()?;
        let sql = input.parse()?;
        let _ = input.parse::<Option<Token![,]>>()?;
        Ok(Self { row, sql })
    }
}

/// `"SQL"`.
pub(crate) struct Query {
    sql: LitStr,
}

impl Parse for Query {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let sql = input.parse()?;
        let _ = input.parse::<Option<Token![,]>>()?;
        Ok(Self { sql })
    }
}

/// The fragments between the `{...}`s and the expressions inside them.
fn split(sql: &LitStr) -> syn::Result<(Vec<String>, Vec<Expr>)> {
    let text = sql.value();
    let mut fragments = vec![String::new()];
    let mut expressions = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                if let Some(fragment) = fragments.last_mut() {
                    fragment.push('{');
                }
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                if let Some(fragment) = fragments.last_mut() {
                    fragment.push('}');
                }
            }
            '{' => {
                let mut inner = String::new();
                let mut depth = 0usize;
                loop {
                    match chars.next() {
                        None => {
                            return Err(syn::Error::new(
                                sql.span(),
                                "unclosed `{` in the SQL: write `{{` for a literal brace",
                            ));
                        }
                        Some('}') if depth == 0 => break,
                        Some(c) => {
                            match c {
                                '{' => depth += 1,
                                '}' => depth -= 1,
                                _ => {}
                            }
                            inner.push(c);
                        }
                    }
                }
                if inner.trim().is_empty() {
                    return Err(syn::Error::new(
                        sql.span(),
                        "`{}` binds nothing: name the value to bind, as in `{since}`",
                    ));
                }
                let expression = syn::parse_str::<Expr>(&inner).map_err(|e| {
                    syn::Error::new(
                        sql.span(),
                        format!("`{{{inner}}}` is not a Rust expression: {e}"),
                    )
                })?;
                expressions.push(expression);
                fragments.push(String::new());
            }
            '}' => {
                return Err(syn::Error::new(
                    sql.span(),
                    "unmatched `}` in the SQL: write `}}` for a literal brace",
                ));
            }
            c => {
                if let Some(fragment) = fragments.last_mut() {
                    fragment.push(c);
                }
            }
        }
    }
    Ok((fragments, expressions))
}

fn raw_sql(sql: &LitStr) -> syn::Result<TokenStream> {
    let (fragments, expressions) = split(sql)?;
    Ok(quote! {
        ::foxdb::raw::RawSql::new(
            &[#(#fragments),*],
            ::std::vec![#(::foxdb::raw::bind(&(#expressions))),*],
        )
    })
}

pub(crate) fn query_as(input: QueryAs) -> syn::Result<TokenStream> {
    let row = input.row;
    let sql = raw_sql(&input.sql)?;
    Ok(quote! { ::foxdb::raw::RawQuery::<#row>::new(#sql) })
}

pub(crate) fn query(input: Query) -> syn::Result<TokenStream> {
    raw_sql(&input.sql)
}
