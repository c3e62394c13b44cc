//! A Prisma schema (`schema.prisma`) read into its blocks: datasources, models, enums, and
//! the names of the blocks FoxDB does not read (generators, views, composite types). A
//! hand-written reader of the Prisma Schema Language; every error names its line and column.

use std::fmt;

/// A line and column (both from 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Line.
    pub line: usize,
    /// Column, in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a Prisma schema could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct PrismaSyntaxError {
    /// Where.
    pub position: Position,
    /// What was expected.
    pub message: String,
}

/// A value in an attribute or a datasource field.
#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    /// `"text"`.
    Text(String),
    /// `12`, `-1.5`.
    Number(String),
    /// `true`, `Cascade`, `USER`, `db.VarChar` (dotted names kept whole).
    Name(String),
    /// `now()`, `env("URL")`, `uuid(4)`.
    Call(String, Vec<Argument>),
    /// `[a, b]`.
    List(Vec<Expression>),
}

impl Expression {
    /// The text of a `Text` or `Name`.
    pub fn as_word(&self) -> Option<&str> {
        match self {
            Self::Text(text) | Self::Name(text) => Some(text),
            _ => None,
        }
    }

    /// The names of a `List` of names (or a single name).
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::List(items) => items
                .iter()
                .filter_map(|i| match i {
                    // `@@index([title(ops: raw("..."))])` names a column with options.
                    Self::Name(name) | Self::Call(name, _) => Some(name.clone()),
                    _ => None,
                })
                .collect(),
            Self::Name(name) => vec![name.clone()],
            _ => Vec::new(),
        }
    }
}

/// `name: value`, or a positional `value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    /// The name, when given.
    pub name: Option<String>,
    /// The value.
    pub value: Expression,
}

/// `@id`, `@db.VarChar(255)`, `@@index([a])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// Without the `@`/`@@`: `id`, `db.VarChar`, `index`.
    pub name: String,
    /// Its arguments.
    pub arguments: Vec<Argument>,
    /// Where it starts (its `@`).
    pub position: Position,
}

impl Attribute {
    /// The argument named `name`, or else the positional one at `index`.
    pub fn argument(&self, name: &str, index: usize) -> Option<&Expression> {
        self.arguments
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .or_else(|| {
                self.arguments
                    .iter()
                    .filter(|a| a.name.is_none())
                    .nth(index)
            })
            .map(|a| &a.value)
    }
}

/// One field of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type's name (`String`, `Post`, `Role`), or `Unsupported` with the text in
    /// `unsupported`.
    pub type_name: String,
    /// `Unsupported("circle")`: the database type Prisma does not know.
    pub unsupported: Option<String>,
    /// `Post[]`.
    pub list: bool,
    /// `String?`.
    pub optional: bool,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Where it starts.
    pub position: Position,
}

impl Field {
    /// The attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// A block: `model`, `enum`, `datasource`, and the others.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// `model`, `enum`, `datasource`, `generator`, `view`, `type`.
    pub keyword: String,
    /// The block's name.
    pub name: String,
    /// Fields (models, views, types), values (enums: fields with an empty type), or
    /// `key = value` settings (datasources, generators: fields whose type is empty and whose
    /// value is in `setting`).
    pub fields: Vec<Field>,
    /// `key = value` settings of a datasource or generator.
    pub settings: Vec<(String, Expression)>,
    /// `@@` attributes.
    pub attributes: Vec<Attribute>,
    /// Where it starts.
    pub position: Position,
}

impl Block {
    /// The block attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The setting called `key`.
    pub fn setting(&self, key: &str) -> Option<&Expression> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Symbol(char),
    /// `@@`.
    DoubleAt,
    Newline,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    position: Position,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.position.line += 1;
            self.position.column = 1;
        } else {
            self.position.column += 1;
        }
        Some(c)
    }

    fn error(&self, position: Position, message: impl Into<String>) -> PrismaSyntaxError {
        PrismaSyntaxError {
            position,
            message: message.into(),
        }
    }

    fn tokens(mut self) -> Result<Vec<(Token, Position)>, PrismaSyntaxError> {
        let mut tokens = Vec::new();
        while let Some(&c) = self.chars.peek() {
            let start = self.position;
            match c {
                '\n' => {
                    self.bump();
                    tokens.push((Token::Newline, start));
                }
                c if c.is_whitespace() => {
                    self.bump();
                }
                '/' => {
                    self.bump();
                    if self.chars.peek() != Some(&'/') {
                        return Err(self.error(start, "expected `//` (a comment)"));
                    }
                    while self.chars.peek().is_some_and(|&c| c != '\n') {
                        self.bump();
                    }
                }
                '"' => {
                    self.bump();
                    let mut text = String::new();
                    loop {
                        match self.bump() {
                            None | Some('\n') => {
                                return Err(self.error(start, "a string is not closed on its line"));
                            }
                            Some('"') => break,
                            Some('\\') => match self.bump() {
                                Some('n') => text.push('\n'),
                                Some('t') => text.push('\t'),
                                Some(other) => text.push(other),
                                None => {
                                    return Err(self.error(start, "a string is not closed"));
                                }
                            },
                            Some(other) => text.push(other),
                        }
                    }
                    tokens.push((Token::Text(text), start));
                }
                '@' => {
                    self.bump();
                    if self.chars.peek() == Some(&'@') {
                        self.bump();
                        tokens.push((Token::DoubleAt, start));
                    } else {
                        tokens.push((Token::Symbol('@'), start));
                    }
                }
                c if c.is_ascii_digit() || c == '-' => {
                    let mut number = String::new();
                    while self
                        .chars
                        .peek()
                        .is_some_and(|&c| c.is_ascii_digit() || c == '.' || c == '-')
                    {
                        number.extend(self.bump());
                    }
                    tokens.push((Token::Number(number), start));
                }
                c if c.is_alphabetic() || c == '_' => {
                    let mut word = String::new();
                    while self
                        .chars
                        .peek()
                        .is_some_and(|&c| c.is_alphanumeric() || c == '_' || c == '.')
                    {
                        word.extend(self.bump());
                    }
                    tokens.push((Token::Word(word), start));
                }
                '{' | '}' | '(' | ')' | '[' | ']' | ',' | ':' | '=' | '?' => {
                    self.bump();
                    tokens.push((Token::Symbol(c), start));
                }
                other => return Err(self.error(start, format!("unexpected character {other:?}"))),
            }
        }
        tokens.push((Token::Newline, self.position));
        Ok(tokens)
    }
}

struct Parser {
    tokens: Vec<(Token, Position)>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens
            .get(self.next)
            .map_or(&Token::Newline, |(t, _)| t)
    }

    fn position(&self) -> Position {
        self.tokens
            .get(self.next)
            .or_else(|| self.tokens.last())
            .map(|(_, p)| *p)
            .unwrap_or_default()
    }

    fn at_end(&self) -> bool {
        self.next >= self.tokens.len()
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        self.next += 1;
        token
    }

    fn error(&self, message: impl Into<String>) -> PrismaSyntaxError {
        PrismaSyntaxError {
            position: self.position(),
            message: message.into(),
        }
    }

    fn skip_newlines(&mut self) {
        while !self.at_end() && *self.peek() == Token::Newline {
            self.next += 1;
        }
    }

    fn expect_symbol(&mut self, symbol: char, what: &str) -> Result<(), PrismaSyntaxError> {
        if *self.peek() == Token::Symbol(symbol) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{symbol}` {what}")))
        }
    }

    fn word(&mut self, what: &str) -> Result<String, PrismaSyntaxError> {
        match self.peek().clone() {
            Token::Word(word) => {
                self.next += 1;
                Ok(word)
            }
            _ => Err(self.error(format!("expected {what}"))),
        }
    }

    fn blocks(&mut self) -> Result<Vec<Block>, PrismaSyntaxError> {
        let mut blocks = Vec::new();
        loop {
            self.skip_newlines();
            if self.at_end() {
                return Ok(blocks);
            }
            let position = self.position();
            let keyword = self.word("a block: model, enum, datasource, generator, view or type")?;
            if !matches!(
                keyword.as_str(),
                "model" | "enum" | "datasource" | "generator" | "view" | "type"
            ) {
                return Err(PrismaSyntaxError {
                    position,
                    message: format!(
                        "unknown block `{keyword}` (expected model, enum, datasource, generator, view or type)"
                    ),
                });
            }
            let name = self.word(&format!("the name of the {keyword}"))?;
            self.expect_symbol('{', &format!("to open {keyword} {name}"))?;
            let mut block = Block {
                keyword,
                name,
                fields: Vec::new(),
                settings: Vec::new(),
                attributes: Vec::new(),
                position,
            };
            self.block_body(&mut block)?;
            blocks.push(block);
        }
    }

    fn block_body(&mut self, block: &mut Block) -> Result<(), PrismaSyntaxError> {
        loop {
            self.skip_newlines();
            if self.at_end() {
                return Err(PrismaSyntaxError {
                    position: block.position,
                    message: format!("{} {} is not closed with `}}`", block.keyword, block.name),
                });
            }
            match self.peek().clone() {
                Token::Symbol('}') => {
                    self.next += 1;
                    return Ok(());
                }
                Token::DoubleAt => {
                    let position = self.position();
                    self.next += 1;
                    let mut attribute = self.attribute_after_at()?;
                    attribute.position = position;
                    block.attributes.push(attribute);
                }
                Token::Word(_) => {
                    let position = self.position();
                    let name = self.word("a field name")?;
                    match block.keyword.as_str() {
                        "datasource" | "generator" => {
                            self.expect_symbol('=', &format!("after the setting {name}"))?;
                            let value = self.expression()?;
                            block.settings.push((name, value));
                        }
                        "enum" => {
                            let mut value = Field {
                                name,
                                type_name: String::new(),
                                unsupported: None,
                                list: false,
                                optional: false,
                                attributes: Vec::new(),
                                position,
                            };
                            value.attributes = self.field_attributes()?;
                            block.fields.push(value);
                        }
                        _ => {
                            let field = self.field(name, position)?;
                            block.fields.push(field);
                        }
                    }
                    if !matches!(self.peek(), Token::Newline | Token::Symbol('}')) {
                        return Err(self.error("expected the end of the line"));
                    }
                }
                _ => return Err(self.error("expected a field, an `@@` attribute or `}`")),
            }
        }
    }

    fn field(&mut self, name: String, position: Position) -> Result<Field, PrismaSyntaxError> {
        let type_name = self.word(&format!("the type of field {name}"))?;
        let mut unsupported = None;
        if type_name == "Unsupported" {
            self.expect_symbol('(', "after Unsupported")?;
            match self.advance() {
                Token::Text(text) => unsupported = Some(text),
                _ => return Err(self.error("expected the database type in quotes")),
            }
            self.expect_symbol(')', "to close Unsupported(...)")?;
        }
        let mut list = false;
        let mut optional = false;
        if *self.peek() == Token::Symbol('[') {
            self.next += 1;
            self.expect_symbol(']', "after `[` (a list type is `Type[]`)")?;
            list = true;
        }
        if *self.peek() == Token::Symbol('?') {
            self.next += 1;
            optional = true;
        }
        let attributes = self.field_attributes()?;
        Ok(Field {
            name,
            type_name,
            unsupported,
            list,
            optional,
            attributes,
            position,
        })
    }

    fn field_attributes(&mut self) -> Result<Vec<Attribute>, PrismaSyntaxError> {
        let mut attributes = Vec::new();
        while *self.peek() == Token::Symbol('@') {
            let position = self.position();
            self.next += 1;
            let mut attribute = self.attribute_after_at()?;
            attribute.position = position;
            attributes.push(attribute);
        }
        Ok(attributes)
    }

    fn attribute_after_at(&mut self) -> Result<Attribute, PrismaSyntaxError> {
        let position = self.position();
        let name = self.word("an attribute name after `@`")?;
        let arguments = if *self.peek() == Token::Symbol('(') {
            self.arguments()?
        } else {
            Vec::new()
        };
        Ok(Attribute {
            name,
            arguments,
            position,
        })
    }

    /// `( ... )`, the `(` not yet read.
    fn arguments(&mut self) -> Result<Vec<Argument>, PrismaSyntaxError> {
        self.expect_symbol('(', "")?;
        let mut arguments = Vec::new();
        loop {
            self.skip_newlines();
            if *self.peek() == Token::Symbol(')') {
                self.next += 1;
                return Ok(arguments);
            }
            let mut name = None;
            if let (Token::Word(word), Some((Token::Symbol(':'), _))) =
                (self.peek().clone(), self.tokens.get(self.next + 1))
            {
                name = Some(word);
                self.next += 2;
            }
            let value = self.expression()?;
            arguments.push(Argument { name, value });
            self.skip_newlines();
            match self.peek() {
                Token::Symbol(',') => self.next += 1,
                Token::Symbol(')') => {}
                _ => return Err(self.error("expected `,` or `)` in the arguments")),
            }
        }
    }

    fn expression(&mut self) -> Result<Expression, PrismaSyntaxError> {
        match self.peek().clone() {
            Token::Text(text) => {
                self.next += 1;
                Ok(Expression::Text(text))
            }
            Token::Number(number) => {
                self.next += 1;
                Ok(Expression::Number(number))
            }
            Token::Word(word) => {
                self.next += 1;
                if *self.peek() == Token::Symbol('(') {
                    Ok(Expression::Call(word, self.arguments()?))
                } else {
                    Ok(Expression::Name(word))
                }
            }
            Token::Symbol('[') => {
                self.next += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_newlines();
                    if *self.peek() == Token::Symbol(']') {
                        self.next += 1;
                        return Ok(Expression::List(items));
                    }
                    items.push(self.expression()?);
                    self.skip_newlines();
                    match self.peek() {
                        Token::Symbol(',') => self.next += 1,
                        Token::Symbol(']') => {}
                        _ => return Err(self.error("expected `,` or `]` in the list")),
                    }
                }
            }
            _ => Err(self.error("expected a value (text, number, name, function call or list)")),
        }
    }
}

/// Reads the blocks of a Prisma schema.
///
/// # Errors
/// The first syntax error, with its line and column.
pub fn parse_prisma_schema(text: &str) -> Result<Vec<Block>, PrismaSyntaxError> {
    let tokens = Lexer {
        chars: text.chars().peekable(),
        position: Position { line: 1, column: 1 },
    }
    .tokens()?;
    Parser { tokens, next: 0 }.blocks()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_enums_and_settings_are_read_with_their_attributes() {
        let blocks = parse_prisma_schema(
            r#"
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
/// A user.
model User {
  id    Int     @id @default(autoincrement())
  email String  @unique @db.VarChar(255)
  posts Post[]
  role  Role?   @default(USER)
  @@map("users")
  @@index([email, role], map: "by_email")
}
enum Role {
  USER
  ADMIN @map("admin")
}
"#,
        )
        .unwrap();
        assert_eq!(blocks.len(), 3);
        assert_eq!(
            blocks[0].setting("provider"),
            Some(&Expression::Text("postgresql".into()))
        );
        let user = &blocks[1];
        assert_eq!(user.fields.len(), 4);
        let email = &user.fields[1];
        assert_eq!(email.attributes[1].name, "db.VarChar");
        assert_eq!(
            email.attributes[1].argument("length", 0),
            Some(&Expression::Number("255".into()))
        );
        assert!(user.fields[2].list && user.fields[3].optional);
        let index = user.attribute("index").unwrap();
        assert_eq!(
            index.argument("fields", 0).unwrap().names(),
            ["email", "role"]
        );
        assert_eq!(
            index.argument("map", 1).and_then(Expression::as_word),
            Some("by_email")
        );
        assert_eq!(
            blocks[2].fields[1].attribute("map").unwrap().position.line,
            17
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let error =
            parse_prisma_schema("model User {\n  id Int @id\n  name String @default(\"x)\n}\n")
                .unwrap_err();
        assert_eq!(
            error.position,
            Position {
                line: 3,
                column: 24
            }
        );
        let error = parse_prisma_schema("model User {\n  id Int @id\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("1:1: model User is not closed"),
            "{error}"
        );
        let error = parse_prisma_schema("modle User {}").unwrap_err();
        assert!(
            error.to_string().contains("unknown block `modle`"),
            "{error}"
        );
    }
}
