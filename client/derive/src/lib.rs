//! `#[derive(Model)]` for the FoxDB client.
//!
//! ```ignore
//! #[derive(Clone, foxdb::Model)]
//! #[foxdb(table = "users")]
//! struct User {
//!     #[foxdb(primary_key, auto_increment)]
//!     id: i64,
//!     email: String,
//!     #[foxdb(column = "display_name")]
//!     name: Option<String>,
//!     #[foxdb(enum)] // a FoxSchema enum column: a `String` or a `#[derive(foxdb::Enum)]` type
//!     role: Role,
//! }
//! ```
//! A column marked `#[foxdb(tenant)]` (at most one) makes the model tenant-scoped: its queries
//! run through a tenant handle (`db.tenant("acme")`), which filters and fills that column.
//! With `#[foxdb(table = "users", hooks)]` the struct implements `foxdb::Hooks` itself
//! (before/after insert, update and delete); without it the hooks do nothing.
//!
//! generates `impl foxdb::Model for User` (table, columns, row decoding, values for inserts,
//! setting a column by name for hooks on builder updates) and typed column handles `User::ID`,
//! `User::EMAIL`, `User::NAME`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

/// Derives `foxdb::FromRow`: decoding a struct from a row of any query, for
/// `Database::raw`.
#[proc_macro_derive(FromRow, attributes(foxdb))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_from_row(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand_from_row(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(FromRow)] works on structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(FromRow)] works on structs with named fields",
        ));
    };
    let mut decode = Vec::new();
    for field in &named.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new_spanned(field, "unnamed field"))?;
        let mut column = ident.to_string().trim_start_matches("r#").to_string();
        for attribute in field.attrs.iter().filter(|a| a.path().is_ident("foxdb")) {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("column") {
                    column = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else if meta.path.is_ident("primary_key") || meta.path.is_ident("auto_increment")
                {
                    // Model attributes: a struct may derive both Model and FromRow.
                    Ok(())
                } else if meta.path.is_ident("enum") {
                    Ok(())
                } else {
                    Err(meta.error("expected `column = \"...\"`"))
                }
            })?;
        }
        decode.push(quote! { #ident: row.get(#column)? });
    }
    Ok(quote! {
        impl ::foxdb::FromRow for #name {
            fn from_row(row: &::foxdb::Row) -> ::foxdb::Result<Self> {
                Ok(Self { #(#decode),* })
            }
        }
    })
}

/// Derives `foxdb::Enum` for an enum of unit variants: each variant stored as its label (its
/// name in `snake_case`, or `#[foxdb(label = "...")]`), so it is a column type of models.
#[proc_macro_derive(Enum, attributes(foxdb))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_enum(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// `PendingReview` → `pending_review`.
fn snake_case(name: &str) -> String {
    let mut label = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                label.push('_');
            }
            label.extend(c.to_lowercase());
        } else {
            label.push(c);
        }
    }
    label
}

fn expand_enum(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(foxdb::Enum)] works on enums of unit variants",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(foxdb::Enum)] needs at least one variant",
        ));
    }
    let mut variants = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "#[derive(foxdb::Enum)] variants hold no data: each is one label",
            ));
        }
        let mut label = snake_case(&variant.ident.to_string());
        for attribute in variant.attrs.iter().filter(|a| a.path().is_ident("foxdb")) {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("label") {
                    label = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error("expected `label = \"...\"`"))
                }
            })?;
        }
        if labels.contains(&label) {
            return Err(syn::Error::new_spanned(
                variant,
                format!("two variants have the label {label:?}"),
            ));
        }
        labels.push(label);
        variants.push(&variant.ident);
    }
    Ok(quote! {
        impl ::foxdb::Enum for #name {
            const LABELS: &'static [&'static str] = &[#(#labels),*];

            fn label(&self) -> &'static str {
                match self {
                    #(Self::#variants => #labels,)*
                }
            }

            fn from_label(label: &str) -> ::core::option::Option<Self> {
                match label {
                    #(#labels => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        ::foxdb::__enum_column_impls!(#name);
    })
}

/// Derives `foxdb::Model`; see the crate docs.
#[proc_macro_derive(Model, attributes(foxdb))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

struct FieldInfo {
    ident: syn::Ident,
    vis: syn::Visibility,
    ty: syn::Type,
    column: String,
    primary_key: bool,
    auto_increment: bool,
    /// The column has a database default (`#[foxdb(default)]`).
    default: bool,
    /// The column holds a FoxSchema enum (`#[foxdb(enum)]`).
    enum_column: bool,
    /// The column names the row's tenant (`#[foxdb(tenant)]`).
    tenant: bool,
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let mut table = None;
    let mut own_hooks = false;
    let mut new_row = false;
    let mut changes_name = None;
    for attribute in input.attrs.iter().filter(|a| a.path().is_ident("foxdb")) {
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                table = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else if meta.path.is_ident("hooks") {
                own_hooks = true;
                Ok(())
            } else if meta.path.is_ident("new_row") {
                new_row = true;
                Ok(())
            } else if meta.path.is_ident("changes") {
                let name = meta.value()?.parse::<LitStr>()?;
                changes_name = Some(name.parse::<syn::Ident>()?);
                Ok(())
            } else {
                Err(meta.error(
                    "expected `table = \"...\"`, `hooks`, `new_row` or `changes = \"TypeName\"`",
                ))
            }
        })?;
    }
    let Some(table) = table else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Model)] needs #[foxdb(table = \"...\")]",
        ));
    };
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Model)] works on structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Model)] works on structs with named fields",
        ));
    };
    let mut fields = Vec::new();
    for field in &named.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new_spanned(field, "unnamed field"))?;
        let mut info = FieldInfo {
            column: ident.to_string().trim_start_matches("r#").to_string(),
            ident,
            vis: field.vis.clone(),
            ty: field.ty.clone(),
            primary_key: false,
            auto_increment: false,
            default: false,
            enum_column: false,
            tenant: false,
        };
        for attribute in field.attrs.iter().filter(|a| a.path().is_ident("foxdb")) {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("primary_key") {
                    info.primary_key = true;
                } else if meta.path.is_ident("auto_increment") {
                    info.auto_increment = true;
                } else if meta.path.is_ident("default") {
                    info.default = true;
                } else if meta.path.is_ident("enum") {
                    info.enum_column = true;
                } else if meta.path.is_ident("tenant") {
                    info.tenant = true;
                } else if meta.path.is_ident("pg_type") {
                    return Err(meta.error(
                        "`pg_type` is gone: mark the column `#[foxdb(enum)]`; each engine's dialect names its enum type",
                    ));
                } else if meta.path.is_ident("column") {
                    info.column = meta.value()?.parse::<LitStr>()?.value();
                } else {
                    return Err(meta
                        .error("expected `primary_key`, `auto_increment`, `default`, `column = \"...\"`, `enum` or `tenant`"));
                }
                Ok(())
            })?;
        }
        fields.push(info);
    }
    if !fields.iter().any(|f| f.primary_key) {
        return Err(syn::Error::new_spanned(
            name,
            "mark the primary key field(s) with #[foxdb(primary_key)]",
        ));
    }

    let tenant_fields: Vec<&FieldInfo> = fields.iter().filter(|f| f.tenant).collect();
    if let [_, second, ..] = tenant_fields.as_slice() {
        return Err(syn::Error::new_spanned(
            &second.ident,
            "a model has at most one #[foxdb(tenant)] column",
        ));
    }
    let tenant_column = match tenant_fields.first() {
        Some(field) => {
            let column = &field.column;
            quote! { ::core::option::Option::Some(#column) }
        }
        None => quote! { ::core::option::Option::None },
    };

    let columns: Vec<&String> = fields.iter().map(|f| &f.column).collect();
    let keys: Vec<&String> = fields
        .iter()
        .filter(|f| f.primary_key)
        .map(|f| &f.column)
        .collect();
    let generated: Vec<&String> = fields
        .iter()
        .filter(|f| f.auto_increment)
        .map(|f| &f.column)
        .collect();
    let enum_columns: Vec<&String> = fields
        .iter()
        .filter(|f| f.enum_column)
        .map(|f| &f.column)
        .collect();
    // An enum column holds text labels: a `String` or a `#[derive(foxdb::Enum)]` type.
    let enum_checks = fields.iter().filter(|f| f.enum_column).map(|f| {
        let ty = &f.ty;
        quote! { __foxdb_enum_column::<#ty>(); }
    });
    // A tenant column holds the tenant id as text: a `String`.
    let tenant_checks = tenant_fields.iter().map(|f| {
        let ty = &f.ty;
        quote! { __foxdb_tenant_column::<#ty>(); }
    });
    let decode = fields.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        quote! { #ident: row.get(#column)? }
    });
    let decode_in_order = fields.iter().enumerate().map(|(index, f)| {
        let ident = &f.ident;
        quote! { #ident: row.get_at(#index)? }
    });
    let value_arms = fields.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        quote! { #column => Some(::foxdb::IntoValue::into_value(::core::clone::Clone::clone(&self.#ident))) }
    });
    let set_arms = fields.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        quote! {
            #column => {
                self.#ident = ::foxdb::model::FromValue::from_value(value).map_err(|message| {
                    ::foxdb::Error::Decode { column: #column.to_string(), message }
                })?;
                Ok(())
            }
        }
    });
    let from_value_fields = fields.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        quote! {
            #ident: ::foxdb::model::FromValue::from_value(value(#column)?).map_err(|message| {
                ::foxdb::Error::Decode { column: #column.to_string(), message }
            })?
        }
    });
    // Only models with hooks set columns by name (builder updates run their hooks per row);
    // every model is built from values (`from_values`, MongoDB documents), so every field type
    // implements `FromValue`, the reverse of the `IntoValue` its `values` already needs.
    let set_value = if own_hooks {
        quote! {
            fn set_value(&mut self, column: &str, value: ::foxdb::Value) -> ::foxdb::Result<()> {
                match column {
                    #(#set_arms)*
                    _ => Err(::foxdb::Error::Decode {
                        column: column.to_string(),
                        message: ::std::format!("`{}` has no such column", #table),
                    }),
                }
            }
        }
    } else {
        quote! {}
    };
    let values = fields.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        quote! { (#column, ::foxdb::IntoValue::into_value(::core::clone::Clone::clone(&self.#ident))) }
    });
    let pushed_values = fields.iter().enumerate().map(|(position, f)| {
        let ident = &f.ident;
        quote! {
            if ::foxdb::model::is_written(left_out, #position) {
                values.push(::foxdb::IntoValue::into_value(::core::clone::Clone::clone(&self.#ident)));
            }
        }
    });
    let copied_values = fields.iter().enumerate().map(|(position, f)| {
        let ident = &f.ident;
        quote! {
            if ::foxdb::model::is_written(left_out, #position) {
                if !first {
                    out.push('\t');
                }
                first = false;
                if !::foxdb::model::write_copy_field(&self.#ident, out) {
                    return false;
                }
            }
        }
    });
    let handles = fields.iter().map(|f| {
        let (ty, column) = (&f.ty, &f.column);
        let constant = format_ident!(
            "{}",
            f.ident.to_string().trim_start_matches("r#").to_uppercase()
        );
        let doc = format!("The `{column}` column of `{table}`.");
        quote! {
            #[doc = #doc]
            pub const #constant: ::foxdb::Column<#name, #ty> = ::foxdb::Column::new(#column);
        }
    });
    let field_types: Vec<&syn::Type> = fields.iter().map(|f| &f.ty).collect();
    let changes_name = changes_name.unwrap_or_else(|| format_ident!("{}Changes", name));
    let changes = changes_struct(input, &changes_name, &table, &fields);
    let new_row = if new_row {
        new_row_struct(input, &table, &fields)
    } else {
        quote! {}
    };
    // Without `#[foxdb(hooks)]` the model gets the no-op hooks; with it, the user implements them.
    let hooks = if own_hooks {
        quote! {}
    } else {
        quote! { impl ::foxdb::Hooks for #name {} }
    };
    Ok(quote! {
        #hooks

        impl ::foxdb::Model for #name {
            const TABLE: &'static str = #table;
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];
            const PRIMARY_KEY: &'static [&'static str] = &[#(#keys),*];
            const GENERATED: &'static [&'static str] = &[#(#generated),*];
            const FIELDS: &'static [::foxdb::verify::FieldShape] =
                &[#(<#field_types as ::foxdb::FromColumn>::FIELD),*];
            const ENUM_COLUMNS: &'static [&'static str] = &[#(#enum_columns),*];
            const HAS_HOOKS: bool = #own_hooks;
            const TENANT_COLUMN: ::core::option::Option<&'static str> = #tenant_column;

            fn from_row(row: &::foxdb::Row) -> ::foxdb::Result<Self> {
                Ok(Self { #(#decode),* })
            }

            fn from_row_in_order(row: &::foxdb::Row) -> ::foxdb::Result<Self> {
                Ok(Self { #(#decode_in_order),* })
            }

            fn values(&self) -> ::std::vec::Vec<(&'static str, ::foxdb::Value)> {
                ::std::vec![#(#values),*]
            }

            fn push_values(
                &self,
                left_out: u64,
                values: &mut ::std::vec::Vec<::foxdb::Value>,
            ) {
                #(#pushed_values)*
            }

            #[allow(unused_assignments)]
            fn write_copy_row(&self, left_out: u64, out: &mut ::std::string::String) -> bool {
                let mut first = true;
                #(#copied_values)*
                out.push('\n');
                true
            }

            fn from_values(
                value: &mut dyn FnMut(&'static str) -> ::foxdb::Result<::foxdb::Value>,
            ) -> ::foxdb::Result<Self> {
                Ok(Self { #(#from_value_fields),* })
            }

            fn value_of(&self, column: &str) -> ::core::option::Option<::foxdb::Value> {
                match column {
                    #(#value_arms,)*
                    _ => None,
                }
            }

            #set_value
        }

        #[allow(dead_code)]
        impl #name {
            #(#handles)*
        }

        const _: () = {
            #[allow(dead_code)]
            fn __foxdb_enum_column<T: ::foxdb::EnumLabel>() {}
            #[allow(dead_code)]
            fn __foxdb_enum_columns() {
                #(#enum_checks)*
            }
            #[allow(dead_code)]
            fn __foxdb_tenant_column<T: ::foxdb::tenant::TenantColumn>() {}
            #[allow(dead_code)]
            fn __foxdb_tenant_columns() {
                #(#tenant_checks)*
            }
        };

        #changes

        #new_row
    })
}

/// Whether `ty` is spelled `Option<...>` (a nullable column).
fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|segment| segment.ident == "Option"))
}

/// `New<Model>` (`#[foxdb(new_row)]`): the values of a new row, with the columns the database
/// can fill optional — generated and defaulted ones as `Option<T>`, nullable ones as they are —
/// and its `foxdb::NewRow` impl, for `db.create(&new)`.
fn new_row_struct(
    input: &DeriveInput,
    table: &str,
    fields: &[FieldInfo],
) -> proc_macro2::TokenStream {
    let (name, vis) = (&input.ident, &input.vis);
    let new = format_ident!("New{}", name);
    let doc = format!(
        "A new row of `{table}` ([`{name}`]): the columns the database can fill (generated, with \
         a default, nullable) are optional, and `None` leaves them to it. Insert with \
         `db.create(&new)`; its `Debug` names the columns given, never their values."
    );
    let declarations = fields.iter().map(|f| {
        let (ident, field_vis, ty, column) = (&f.ident, &f.vis, &f.ty, &f.column);
        let (ty, doc) = if f.auto_increment || f.default {
            let why = if f.auto_increment {
                "generated"
            } else {
                "has a default"
            };
            (
                quote! { ::core::option::Option<#ty> },
                format!("`{column}` ({why}; `None` leaves it to the database)."),
            )
        } else if is_option(ty) {
            (
                quote! { #ty },
                format!("`{column}` (nullable; `None` leaves it to the database)."),
            )
        } else {
            (quote! { #ty }, format!("`{column}`."))
        };
        quote! {
            #[doc = #doc]
            #field_vis #ident: #ty
        }
    });
    let values = fields.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        if f.auto_increment || f.default || is_option(&f.ty) {
            quote! {
                if let ::core::option::Option::Some(value) = &self.#ident {
                    values.push((#column, ::foxdb::IntoValue::into_value(::core::clone::Clone::clone(value))));
                }
            }
        } else {
            quote! {
                values.push((#column, ::foxdb::IntoValue::into_value(::core::clone::Clone::clone(&self.#ident))));
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Default)]
        #vis struct #new {
            #(#declarations),*
        }

        impl ::foxdb::NewRow for #new {
            type Model = #name;

            fn values(&self) -> ::std::vec::Vec<(&'static str, ::foxdb::Value)> {
                let mut values = ::std::vec::Vec::new();
                #(#values)*
                values
            }
        }

        /// Names the columns given, never their values.
        impl ::core::fmt::Debug for #new {
            fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let columns: ::std::vec::Vec<&'static str> = ::foxdb::NewRow::values(self)
                    .into_iter()
                    .map(|(column, _)| column)
                    .collect();
                formatter
                    .debug_struct(::core::stringify!(#new))
                    .field("columns", &columns)
                    .finish()
            }
        }
    }
}

/// `<Model>Changes` (or the name `#[foxdb(changes = "...")]` gives): every column outside the
/// primary key as an `Option`, and its `foxdb::Changes` impl.
fn changes_struct(
    input: &DeriveInput,
    changes: &syn::Ident,
    table: &str,
    fields: &[FieldInfo],
) -> proc_macro2::TokenStream {
    let (name, vis) = (&input.ident, &input.vis);
    let doc = format!(
        "Changes to a row of `{table}` ([`{name}`]): `Some` fields are written, `None` fields \
         left alone; for a nullable column `Some(None)` writes NULL. See `foxdb::Changes`."
    );
    let settable: Vec<&FieldInfo> = fields.iter().filter(|f| !f.primary_key).collect();
    let declarations = settable.iter().map(|f| {
        let (ident, field_vis, ty, column) = (&f.ident, &f.vis, &f.ty, &f.column);
        let doc = format!("New value of `{column}`; `None` keeps the stored one.");
        quote! {
            #[doc = #doc]
            #field_vis #ident: ::core::option::Option<#ty>
        }
    });
    let assignments = settable.iter().map(|f| {
        let (ident, column) = (&f.ident, &f.column);
        quote! {
            if let ::core::option::Option::Some(value) = &self.#ident {
                assignments.push((#column, ::foxdb::IntoValue::into_value(::core::clone::Clone::clone(value))));
            }
        }
    });
    let applied = settable.iter().map(|f| {
        let ident = &f.ident;
        quote! {
            if let ::core::option::Option::Some(value) = &self.#ident {
                model.#ident = ::core::clone::Clone::clone(value);
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Default)]
        #vis struct #changes {
            #(#declarations),*
        }

        impl ::foxdb::Changes for #changes {
            type Model = #name;

            fn assignments(&self) -> ::std::vec::Vec<(&'static str, ::foxdb::Value)> {
                let mut assignments = ::std::vec::Vec::new();
                #(#assignments)*
                assignments
            }

            fn apply_to(&self, model: &mut #name) {
                #(#applied)*
            }
        }

        /// Names the columns that change, never their values (they may be secrets).
        impl ::core::fmt::Debug for #changes {
            fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let columns: ::std::vec::Vec<&'static str> = ::foxdb::Changes::assignments(self)
                    .into_iter()
                    .map(|(column, _)| column)
                    .collect();
                formatter
                    .debug_struct(::core::stringify!(#changes))
                    .field("columns", &columns)
                    .finish()
            }
        }
    }
}

mod raw_sql;

/// A typed query in hand-written SQL whose `{expression}`s are bound as parameters, in the
/// placeholder style of the engine it runs on: `foxdb::query_as!(UserStats, "SELECT ... WHERE
/// created_at > {since}")`. Gives a `foxdb::raw::RawQuery<UserStats>`; `{{` and `}}` are
/// literal braces. See `foxdb::raw`.
#[proc_macro]
pub fn query_as(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as raw_sql::QueryAs);
    raw_sql::query_as(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A statement in hand-written SQL whose `{expression}`s are bound as parameters, in the
/// placeholder style of the engine it runs on: `foxdb::query!("UPDATE users SET name = {name}
/// WHERE id = {id}")`. Gives a `foxdb::raw::RawSql`. See `foxdb::raw`.
#[proc_macro]
pub fn query(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as raw_sql::Query);
    raw_sql::query(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
