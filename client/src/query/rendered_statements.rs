//! The statement texts of builder selects, updates and deletes, of model inserts, upserts and
//! `insert_many` batches, and of eager loading's per-level statements, by their shape: a
//! repeated `User::update().set(User::NAME, name).filter(User::ID.eq(id)).exec(&db)`,
//! `User::find().filter(User::ID.eq(id)).order_by(User::ID.asc()).limit(10).all(&db)`,
//! `db.insert(&user)`, `db.insert_many(&users)`, `User::find().with(User::posts()).all(&db)`
//! or `User::find().left_join(User::posts()).select((User::NAME, Post::TITLE)).all(&db)`
//! renders each text once per thread; later runs only collect their values.
//!
//! # Guarantees
//! - A shape holds everything such a statement's text depends on: the engine, the kind of
//!   statement, the table, each column set (or the model's column list a select reads), the
//!   filter's comparisons (column and operator) and lists (column, and how the list is bound:
//!   its array type, or its number of placeholders) with how they are joined, a select's
//!   order terms (table, column, direction), limit and offset (written into the text), and
//!   for an eager-loading level the link's names, the form the parent keys are bound in, the
//!   relation's order and its per-parent limit; for an insert the model's columns (by
//!   identity), those left out (generated ones, by position), the number of rows, its
//!   conflict clause (the upsert on the model's primary key, or the conflict's columns and
//!   those it sets or that it keeps the stored row) and whether it returns the rows; for a
//!   joined query each join (its table, left or inner, the table it starts from and the
//!   link's names), each selected column with the table it is named through, and the table
//!   each condition is named through. Names are told apart by their identity
//!   (address and length, the `&'static str`s of the model's derive) and every hit compares
//!   the whole shape, so two shapes never share a text; the same name at another address
//!   only misses.
//! - Only statements whose text depends on nothing else have a shape
//!   ([`StatementShape::of_update`], [`StatementShape::of_delete`],
//!   [`StatementShape::of_select`], [`StatementShape::of_relation`],
//!   [`StatementShape::of_insert`], [`StatementShape::of_join_select`]): no schema, no
//!   `.all_tenants()`, models without tenant and enum columns (whose texts depend on the
//!   executor and the values), no filter or a filter of comparisons and `IN` lists joined by
//!   `AND`, and for selects no grouping and no order by an aggregate; for joined queries no
//!   alias, no condition on a joined relation and no aggregate selected. Everything else is
//!   rendered each time.
//! - The values come in the order the renderer binds them: the columns set (an eager level's
//!   keys), then the filter's comparisons and lists; an insert's row by row, each in column
//!   order.
//! - Debug builds render every cached statement again and compare, so each test that runs a
//!   builder select, update or delete, or loads a relation, checks the cache.
//! - At most [`MAX_TEXTS`] texts of at most [`MAX_TEXT_BYTES`] bytes in all are kept per
//!   thread; further shapes are rendered each time.

use std::cell::RefCell;
use std::hash::Hasher;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};

use std::borrow::Cow;

use super::any_array::{ArrayType, Element, HASHED_FROM, array_type, push_list_values};
use super::ast::{Expr, Operator, SelectCore};
use crate::Backend;
use crate::connection::Value;

/// Texts kept per thread: far more than the distinct writes of a service.
const MAX_TEXTS: usize = 1024;
/// Bytes of text kept per thread: many multi-row inserts (a 100-row insert of a few columns is
/// two kilobytes), yet bounded whatever the batch sizes.
const MAX_TEXT_BYTES: usize = 4 << 20;
/// Parts a shape holds at most (table, columns set or selected, comparisons, order terms,
/// limit and offset); longer statements are rendered each time. Few, so a shape is cheap to
/// build and move.
const MAX_PARTS: usize = 12;
/// Parts the shape of a joined query holds at most: two per selected column and four or
/// seven per join besides.
const JOIN_PARTS: usize = 32;

/// One element of a shape: a name by identity with what it is (a number, for limits and
/// offsets).
#[derive(Clone, Copy, Debug)]
struct Part {
    address: u64,
    length: u32,
    role: Role,
}

/// A [`Part`] as a shape keeps it: its address, then its length and [`Role::code`]. Two
/// words: a shape is built, hashed and compared on every statement, and slices of words
/// compare as one `memcmp`.
type Word = [u64; 2];

impl Part {
    // Inlined, so that a role known where the part is built folds into a constant.
    #[inline(always)]
    fn word(self) -> Word {
        [
            self.address,
            u64::from(self.length) << 32 | u64::from(self.role.code()),
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    /// The statement: its kind and engine, the table's name.
    Statement { kind: Kind, backend: Backend },
    /// A column set by an `UPDATE`.
    Assigned,
    /// A comparison of the filter, alone or inside an `AND` of `of` comparisons.
    Compared { operator: Operator, of: Option<u8> },
    /// The columns a `SELECT` reads (the model's column list, by identity).
    Selected,
    /// The table an order term names its column through.
    OrderedThrough,
    /// A column a `SELECT` sorts by.
    Ordered { descending: bool },
    /// A `SELECT`'s limit (the number, in `address`).
    Limit,
    /// A `SELECT`'s offset (the number, in `address`).
    Offset,
    /// A column of the filter compared with a list (`IN`), alone or inside an `AND` of `of`
    /// conditions; the list's form follows.
    Listed { of: Option<u8> },
    /// How a list is bound (see [`ListForm`]).
    List(ListForm),
    /// A name of an eager-loading level's link to its parents (the parent key's table and
    /// column, and through a join table the join's names), by its position in the link.
    Linked { position: u8 },
    /// The columns an `INSERT` names: the model's column list, by identity, less those left
    /// out (see [`Role::Written`]); whether it returns the rows, and its kind of conflict
    /// clause.
    Inserted {
        returning: bool,
        conflict: ConflictKind,
    },
    /// The generated columns of the model inserted, by identity (with the column list they
    /// tell the model apart).
    Generated,
    /// The primary key of the model inserted, by identity.
    PrimaryKey,
    /// The rows an `INSERT` writes: the positions of the model's columns it leaves out (bit
    /// `i` for the `i`-th) in `address`, the number of rows in `length`.
    Written,
    /// A column of an `INSERT`'s conflict clause ([`Conflict::Update`],
    /// [`Conflict::DoNothing`]), by its position in the clause's key.
    ConflictOn { position: u8 },
    /// A column a conflict sets ([`Conflict::Update`]), by its position in the clause.
    ConflictSets { position: u8 },
    /// A table a query joins (under its own name), left or inner, directly or through a join
    /// table; the name of the table it starts from and the link's names follow (as
    /// [`Role::Linked`]).
    Joined { left: bool, through: bool },
    /// The table a join starts from.
    JoinedFrom,
    /// The table the next condition's columns are named through.
    Qualifier,
    /// A column of a joined query's select list; the table it is named through follows.
    SelectedColumn,
    /// The table a selected column is named through.
    SelectedFrom,
}

impl Role {
    /// The role as one number, different for every role: the variant in the low byte, its
    /// fields above.
    #[inline(always)]
    fn code(self) -> u32 {
        let of = |of: Option<u8>| of.map_or(0, |of| u32::from(of) + 1);
        let (variant, fields) = match self {
            Self::Statement { kind, backend } => (0, kind as u32 | (backend as u32) << 8),
            Self::Assigned => (1, 0),
            Self::Compared { operator, of: and } => (2, operator as u32 | of(and) << 8),
            Self::Selected => (3, 0),
            Self::OrderedThrough => (4, 0),
            Self::Ordered { descending } => (5, u32::from(descending)),
            Self::Limit => (6, 0),
            Self::Offset => (7, 0),
            Self::Listed { of: and } => (8, of(and)),
            Self::List(form) => (
                9,
                match form {
                    ListForm::Postgres { hashed } => u32::from(hashed),
                    ListForm::MySqlJson(element) => 2 | (element as u32) << 8,
                    ListForm::SqliteJson(element) => 3 | (element as u32) << 8,
                    ListForm::Placeholders => 4,
                },
            ),
            Self::Linked { position } => (10, u32::from(position)),
            Self::Inserted {
                returning,
                conflict,
            } => (11, u32::from(returning) | (conflict as u32) << 8),
            Self::Generated => (12, 0),
            Self::PrimaryKey => (13, 0),
            Self::Written => (14, 0),
            Self::ConflictOn { position } => (15, u32::from(position)),
            Self::ConflictSets { position } => (16, u32::from(position)),
            Self::Joined { left, through } => (17, u32::from(left) | u32::from(through) << 1),
            Self::JoinedFrom => (18, 0),
            Self::Qualifier => (19, 0),
            Self::SelectedColumn => (20, 0),
            Self::SelectedFrom => (21, 0),
        };
        variant | fields << 8
    }
}

/// The kind of an `INSERT`'s conflict clause ([`Conflict`] without its columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ConflictKind {
    None,
    PrimaryKey,
    Update,
    DoNothing,
}

/// How a list of values is bound ([`super::any_array`]): its PostgreSQL array (the type's
/// name in the part's `address` and `length`), its JSON array, or one placeholder per value
/// (their number in `address`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ListForm {
    /// `= ANY(CAST($n AS type))`, or past [`HASHED_FROM`] values the `UNNEST` subquery.
    Postgres {
        hashed: bool,
    },
    MySqlJson(Element),
    SqliteJson(Element),
    Placeholders,
}

/// The kind of statement a shape is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Update,
    Delete,
    Select,
    /// An eager-loading level's statement (`Relation::batch_sql`).
    Relation,
    Insert,
    /// A joined query's `SELECT` (`super::JoinSelect`).
    JoinSelect,
}

/// What an `INSERT`'s text depends on besides its model and engine.
#[derive(Clone, Copy, Debug)]
pub(super) struct InsertShape<'a> {
    /// The positions of the model's columns left out (bit `i` for the `i`-th): its generated
    /// ones, or for an upsert those left at their placeholder.
    pub(super) left_out: u64,
    pub(super) rows: usize,
    pub(super) conflict: Conflict<'a>,
    /// Ends in `RETURNING` every column.
    pub(super) returning: bool,
}

/// The conflict clause an `INSERT` ends in (before any `RETURNING`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Conflict<'a> {
    None,
    /// The upsert on the primary key of `db.upsert`, setting every other column.
    PrimaryKey,
    /// `.on_conflict(key).update(set)`.
    Update {
        key: &'a [&'static str],
        set: &'a [&'static str],
    },
    /// `.on_conflict(key).do_nothing()`.
    DoNothing {
        key: &'a [&'static str],
    },
}

/// The shape of a joined query's statement.
pub(crate) type JoinShape = StatementShape<JOIN_PARTS>;

/// The shape of one statement, built without allocating: room for `PARTS` parts.
#[derive(Debug)]
pub(crate) struct StatementShape<const PARTS: usize = MAX_PARTS> {
    parts: [Word; PARTS],
    len: usize,
}

impl<const PARTS: usize> StatementShape<PARTS> {
    fn new(kind: Kind, backend: Backend, table: &'static str) -> Option<Self> {
        let statement = Part {
            address: table.as_ptr() as usize as u64,
            length: name_length(table.len())?,
            role: Role::Statement { kind, backend },
        };
        let mut parts = [[0; 2]; PARTS];
        parts[0] = statement.word();
        Some(Self { parts, len: 1 })
    }

    /// Adds a part; `None` when the shape is full.
    #[inline(always)]
    fn push(&mut self, name: &'static str, role: Role) -> Option<()> {
        self.push_part(Part {
            address: name.as_ptr() as usize as u64,
            length: name_length(name.len())?,
            role,
        })
    }

    #[inline(always)]
    fn push_part(&mut self, part: Part) -> Option<()> {
        *self.parts.get_mut(self.len)? = part.word();
        self.len += 1;
        Some(())
    }

    /// Selects `columns` (a model's column list, by identity).
    pub(super) fn push_selected(&mut self, columns: &'static [&'static str]) -> Option<()> {
        self.push_part(Part {
            address: columns.as_ptr() as usize as u64,
            length: name_length(columns.len())?,
            role: Role::Selected,
        })
    }

    /// Selects `column` named through the table `source`, next in a joined query's select
    /// list.
    pub(super) fn push_selected_column(
        &mut self,
        source: &'static str,
        column: &'static str,
    ) -> Option<()> {
        self.push(column, Role::SelectedColumn)?;
        self.push(source, Role::SelectedFrom)
    }

    /// Joins `table` (under its own name) from the table `from` through the link's `names`
    /// (two for a direct link, five through a join table), with no condition of its own.
    pub(super) fn push_join(
        &mut self,
        left: bool,
        table: &'static str,
        from: &'static str,
        names: &[&'static str],
    ) -> Option<()> {
        self.push(
            table,
            Role::Joined {
                left,
                through: names.len() > 2,
            },
        )?;
        self.push(from, Role::JoinedFrom)?;
        for (position, name) in names.iter().enumerate() {
            let position = u8::try_from(position).ok()?;
            self.push(name, Role::Linked { position })?;
        }
        Some(())
    }

    /// `core`'s filter, order, limit and offset; `None` for grouped queries, orders by an
    /// aggregate or through a table named at run time, and filters other than comparisons
    /// joined by `AND`.
    pub(super) fn push_select_core(&mut self, backend: Backend, core: &SelectCore) -> Option<()> {
        if core.is_grouped() {
            return None;
        }
        self.push_filter(backend, core.filter.as_ref())?;
        for term in &core.order {
            let (Cow::Borrowed(through), None) = (&term.column.source, &term.aggregate) else {
                return None;
            };
            self.push(through, Role::OrderedThrough)?;
            self.push(
                term.column.column,
                Role::Ordered {
                    descending: term.descending,
                },
            )?;
        }
        for (number, role) in [(core.limit, Role::Limit), (core.offset, Role::Offset)] {
            if let Some(number) = number {
                self.push_part(Part {
                    address: number,
                    length: 0,
                    role,
                })?;
            }
        }
        Some(())
    }

    fn push_filter(&mut self, backend: Backend, filter: Option<&Expr>) -> Option<()> {
        match filter {
            None => Some(()),
            Some(Expr::And(parts)) => {
                let of = Some(u8::try_from(parts.len()).ok()?);
                for part in parts {
                    self.push_condition(backend, part, of)?;
                }
                Some(())
            }
            Some(condition) => self.push_condition(backend, condition, None),
        }
    }

    /// One comparison or list of a filter, alone or inside an `AND` of `of` conditions;
    /// `None` for any other condition.
    fn push_condition(&mut self, backend: Backend, condition: &Expr, of: Option<u8>) -> Option<()> {
        match condition {
            Expr::Compare {
                column, operator, ..
            } => self.push(
                column,
                Role::Compared {
                    operator: *operator,
                    of,
                },
            ),
            Expr::In { column, values } => {
                self.push(column, Role::Listed { of })?;
                self.push_part(list_part(array_type(backend, values), values.len())?)
            }
            // A condition of a joined query, on one of its tables.
            Expr::Qualified {
                source: Cow::Borrowed(source),
                casts,
                expr,
            } if casts.is_empty() => {
                self.push(source, Role::Qualifier)?;
                self.push_condition(backend, expr, of)
            }
            _ => None,
        }
    }

    fn parts(&self) -> &[Word] {
        &self.parts[..self.len]
    }

    fn hash(&self) -> u64 {
        let mut hasher = FxHasher::default();
        for word in self.parts().as_flattened() {
            hasher.write_u64(*word);
        }
        hasher.finish()
    }
}

impl StatementShape {
    /// The shape of an `UPDATE` of `table` setting `columns`, filtered by `filter`; `None`
    /// when its text depends on more than a shape holds (see the module's guarantees; the
    /// caller checks the model and the scope).
    pub(super) fn of_update(
        backend: Backend,
        table: &'static str,
        columns: impl Iterator<Item = &'static str>,
        filter: Option<&Expr>,
    ) -> Option<Self> {
        let mut shape = Self::new(Kind::Update, backend, table)?;
        for column in columns {
            shape.push(column, Role::Assigned)?;
        }
        shape.push_filter(backend, filter)?;
        Some(shape)
    }

    /// The shape of a `DELETE` from `table` filtered by `filter`, as
    /// [`StatementShape::of_update`].
    pub(super) fn of_delete(
        backend: Backend,
        table: &'static str,
        filter: Option<&Expr>,
    ) -> Option<Self> {
        let mut shape = Self::new(Kind::Delete, backend, table)?;
        shape.push_filter(backend, filter)?;
        Some(shape)
    }

    /// The shape of a `SELECT` of `columns` from `table` with `core`'s filter, order, limit
    /// and offset, as [`StatementShape::of_update`]; `None` for grouped queries, orders by an
    /// aggregate or through a table named at run time, and filters other than comparisons
    /// joined by `AND`.
    pub(super) fn of_select(
        backend: Backend,
        table: &'static str,
        columns: &'static [&'static str],
        core: &SelectCore,
    ) -> Option<Self> {
        if core.is_grouped() {
            return None;
        }
        let mut shape = Self::new(Kind::Select, backend, table)?;
        shape.push_selected(columns)?;
        shape.push_select_core(backend, core)?;
        Some(shape)
    }

    /// The shape of an eager-loading level's statement on `table`: reading `columns` (every
    /// column of the related model) through a link named by `link` (see [`Role::Linked`]),
    /// for the parent keys `keys` (bound as `array`, see [`array_type`]), filtered, ordered
    /// (`order`: column and whether descending, as written) and ranked per parent up to
    /// `window_limit`; `None` as [`StatementShape::of_select`] for filters.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn of_relation(
        backend: Backend,
        table: &'static str,
        columns: &'static [&'static str],
        link: &[&'static str],
        filter: Option<&Expr>,
        order: &[(&'static str, bool)],
        window_limit: Option<u64>,
        keys: (Option<ArrayType>, usize),
    ) -> Option<Self> {
        let mut shape = Self::new(Kind::Relation, backend, table)?;
        shape.push_part(Part {
            address: columns.as_ptr() as usize as u64,
            length: name_length(columns.len())?,
            role: Role::Selected,
        })?;
        for (position, name) in link.iter().enumerate() {
            let position = u8::try_from(position).ok()?;
            shape.push(name, Role::Linked { position })?;
        }
        shape.push_part(list_part(keys.0, keys.1)?)?;
        shape.push_filter(backend, filter)?;
        for (column, descending) in order {
            shape.push(
                column,
                Role::Ordered {
                    descending: *descending,
                },
            )?;
        }
        if let Some(limit) = window_limit {
            shape.push_part(Part {
                address: limit,
                length: 0,
                role: Role::Limit,
            })?;
        }
        Some(shape)
    }

    /// The shape of an `INSERT` of rows of `M` (see [`InsertShape`]); `None` for a model of
    /// more than 64 columns. The caller checks the model (no tenant nor enum columns) and the
    /// scope (no schema).
    pub(super) fn of_insert<M: crate::model::Model>(
        backend: Backend,
        insert: InsertShape<'_>,
    ) -> Option<Self> {
        if M::COLUMNS.len() > 64 {
            return None;
        }
        let mut shape = Self::new(Kind::Insert, backend, M::TABLE)?;
        let (conflict, key, set): (_, &[&'static str], &[&'static str]) = match insert.conflict {
            Conflict::None => (ConflictKind::None, &[], &[]),
            Conflict::PrimaryKey => (ConflictKind::PrimaryKey, &[], &[]),
            Conflict::Update { key, set } => (ConflictKind::Update, key, set),
            Conflict::DoNothing { key } => (ConflictKind::DoNothing, key, &[]),
        };
        let inserted = Role::Inserted {
            returning: insert.returning,
            conflict,
        };
        for (names, role) in [
            (M::COLUMNS, inserted),
            (M::GENERATED, Role::Generated),
            (M::PRIMARY_KEY, Role::PrimaryKey),
        ] {
            shape.push_part(Part {
                address: names.as_ptr() as usize as u64,
                length: name_length(names.len())?,
                role,
            })?;
        }
        shape.push_part(Part {
            address: insert.left_out,
            length: name_length(insert.rows)?,
            role: Role::Written,
        })?;
        for (position, column) in key.iter().enumerate() {
            let position = u8::try_from(position).ok()?;
            shape.push(column, Role::ConflictOn { position })?;
        }
        for (position, column) in set.iter().enumerate() {
            let position = u8::try_from(position).ok()?;
            shape.push(column, Role::ConflictSets { position })?;
        }
        Some(shape)
    }
}

impl StatementShape<JOIN_PARTS> {
    /// The start of the shape of a joined query of `table` (`super::JoinSelect`): its select
    /// list, joins ([`StatementShape::push_join`]) and [`StatementShape::push_select_core`]
    /// follow. The caller checks the models (no tenant nor enum columns) and the scope.
    pub(super) fn of_join_select(backend: Backend, table: &'static str) -> Option<Self> {
        Self::new(Kind::JoinSelect, backend, table)
    }
}

/// A text kept with its full shape, compared on every hit.
struct Kept {
    parts: Box<[Word]>,
    text: Arc<str>,
}

/// The texts kept on one thread, and their bytes in all.
#[derive(Default)]
struct Texts {
    by_hash: FxHashMap<u64, Vec<Kept>>,
    bytes: usize,
}

thread_local! {
    static TEXTS: RefCell<Texts> = RefCell::default();
}

/// The text of the statement of `shape`: kept from an earlier run on this thread, else
/// `render`ed (and kept). Returns the text and, when rendered, the values `render` bound.
pub(crate) fn text_of<const PARTS: usize, E>(
    shape: &StatementShape<PARTS>,
    render: impl FnOnce() -> Result<(String, Vec<Value>), E>,
) -> Result<(Arc<str>, Option<Vec<Value>>), E> {
    let hash = shape.hash();
    let kept = TEXTS.with(|texts| {
        texts.borrow().by_hash.get(&hash).and_then(|entries| {
            entries
                .iter()
                .find(|kept| &*kept.parts == shape.parts())
                .map(|kept| kept.text.clone())
        })
    });
    if let Some(text) = kept {
        #[cfg(debug_assertions)]
        if let Ok((rendered, _)) = render() {
            assert_eq!(&*text, rendered, "the kept text of {shape:?}");
        }
        return Ok((text, None));
    }
    let (text, values) = render()?;
    let text: Arc<str> = text.into();
    TEXTS.with(|texts| {
        let mut texts = texts.borrow_mut();
        // Counted by hash: texts sharing one are as rare as they are few.
        if texts.by_hash.len() < MAX_TEXTS && texts.bytes + text.len() <= MAX_TEXT_BYTES {
            texts.bytes += text.len();
            texts.by_hash.entry(hash).or_default().push(Kept {
                parts: shape.parts().into(),
                text: text.clone(),
            });
        }
    });
    Ok((text, Some(values)))
}

/// The length of a name (or list of names) in a part; `None` past `u32::MAX` (no shape then).
fn name_length(length: usize) -> Option<u32> {
    u32::try_from(length).ok()
}

/// The part of a shape saying how a list of `count` values is bound, given their form
/// `array` ([`array_type`]).
fn list_part(array: Option<ArrayType>, count: usize) -> Option<Part> {
    let (address, length, form) = match array {
        Some(ArrayType::Postgres(type_name)) => (
            type_name.as_ptr() as usize as u64,
            name_length(type_name.len())?,
            ListForm::Postgres {
                hashed: count > HASHED_FROM,
            },
        ),
        Some(ArrayType::MySqlJson(element)) => (0, 0, ListForm::MySqlJson(element)),
        Some(ArrayType::SqliteJson(element)) => (0, 0, ListForm::SqliteJson(element)),
        None => (count as u64, 0, ListForm::Placeholders),
    };
    Some(Part {
        address,
        length,
        role: Role::List(form),
    })
}

/// The values a filter of a shape binds on `backend`, in order (see
/// [`StatementShape::push_filter`]).
pub(crate) fn push_filter_values(backend: Backend, filter: Option<&Expr>, values: &mut Vec<Value>) {
    match filter {
        Some(Expr::And(parts)) => {
            for part in parts {
                push_condition_values(backend, part, values);
            }
        }
        Some(condition) => push_condition_values(backend, condition, values),
        None => {}
    }
}

/// The values one condition of a shape binds (see [`StatementShape::push_condition`]).
fn push_condition_values(backend: Backend, condition: &Expr, values: &mut Vec<Value>) {
    match condition {
        Expr::Compare { value, .. } => values.push(value.clone()),
        Expr::In { values: list, .. } => {
            push_list_values(array_type(backend, list), list, values);
        }
        Expr::Qualified { expr, .. } => push_condition_values(backend, expr, values),
        _ => {}
    }
}

/// Values a builder lends to its statement, in the renderer's order: a few on the stack.
pub(crate) type LentValues<'a> = smallvec::SmallVec<[&'a Value; 8]>;

/// The values [`push_filter_values`] binds for `filter`, lent from the filter itself; `false`
/// (with `out` partly filled) when one of them is built for the statement (a list sent as one
/// array parameter), and the caller builds them all with [`push_filter_values`].
pub(crate) fn lend_filter_values<'a>(
    backend: Backend,
    filter: Option<&'a Expr>,
    out: &mut LentValues<'a>,
) -> bool {
    match filter {
        Some(Expr::And(parts)) => parts
            .iter()
            .all(|part| lend_condition_values(backend, part, out)),
        Some(condition) => lend_condition_values(backend, condition, out),
        None => true,
    }
}

/// The values one condition binds, lent (see [`push_condition_values`]).
fn lend_condition_values<'a>(
    backend: Backend,
    condition: &'a Expr,
    out: &mut LentValues<'a>,
) -> bool {
    match condition {
        Expr::Compare { value, .. } => {
            out.push(value);
            true
        }
        Expr::In { values: list, .. } => {
            if array_type(backend, list).is_some() {
                return false;
            }
            out.extend(list.iter());
            true
        }
        Expr::Qualified { expr, .. } => lend_condition_values(backend, expr, out),
        _ => true,
    }
}

/// The values of a builder's statement: lent from the builder where they are its own (an
/// update's set values, a filter's), else built for this run.
pub(crate) enum BuilderValues<'a> {
    Lent(LentValues<'a>),
    Built(Vec<Value>),
}

impl<'a> BuilderValues<'a> {
    /// The values of a statement whose text was kept: lent by `lend` when it can (`true`),
    /// else gathered by `collect`, both in the renderer's order. Debug builds check the lent
    /// values against `rendered`'s, the renderer's own.
    pub(crate) fn of_kept_text(
        lend: impl FnOnce(&mut LentValues<'a>) -> bool,
        collect: impl FnOnce(&mut Vec<Value>),
        rendered: impl FnOnce() -> Option<Vec<Value>>,
    ) -> Self {
        let mut lent = LentValues::new();
        if !lend(&mut lent) {
            let mut values = Vec::with_capacity(4);
            collect(&mut values);
            return Self::Built(values);
        }
        #[cfg(debug_assertions)]
        if let Some(rendered) = rendered() {
            // Compared as written out: a NaN is not equal to itself.
            assert_eq!(
                format!("{lent:?}"),
                format!("{:?}", rendered.iter().collect::<Vec<_>>()),
                "the lent values of a kept statement"
            );
        }
        #[cfg(not(debug_assertions))]
        let _ = rendered;
        Self::Lent(lent)
    }

    /// The lent values, or `None` for built ones (lent with [`BuilderValues::lend_built`]).
    pub(crate) fn lent(&self) -> Option<&[&'a Value]> {
        match self {
            Self::Lent(lent) => Some(lent),
            Self::Built(_) => None,
        }
    }

    /// The built values, or `None` for lent ones.
    pub(crate) fn built(&self) -> Option<&[Value]> {
        match self {
            Self::Lent(_) => None,
            Self::Built(values) => Some(values),
        }
    }

    /// References to the built values, to lend to an executor
    /// ([`crate::Executor::execute_lent`]); none when they are lent already.
    pub(crate) fn lend_built(&self) -> LentValues<'_> {
        match self {
            Self::Lent(_) => LentValues::new(),
            Self::Built(values) => values.iter().collect(),
        }
    }
}

/// A statement's text: rendered for this run, or kept for its shape.
pub(crate) enum StatementText {
    Rendered(String),
    Kept(Arc<str>),
}

impl std::ops::Deref for StatementText {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Self::Rendered(text) => text,
            Self::Kept(text) => text,
        }
    }
}
