//! Every definition of a uAPI header, with its line: object-like and
//! function-like `#define`s, structs and unions with the type and offset of
//! each field, enums with the value of each enumerator. The migration part
//! of `vfio.h` is then a selection of them ([`Header::in_migration_part`]).

use super::cexpr::{self, Macro, Macros};
use super::clex::{self, Comment};
use regex::Regex;
use std::collections::BTreeMap;

/// The largest header read.
pub const MAX_HEADER_BYTES: usize = 4 << 20;

/// What a definition is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefKind {
    /// `#define NAME body` (body with white space collapsed).
    Define(String),
    /// `#define NAME(params) body`.
    Macro(Vec<String>, String),
    /// `struct NAME { ... }` or `union NAME { ... }`: its size when every
    /// member's type is known.
    Aggregate(Option<u64>),
    /// `enum NAME { ... }`.
    Enum,
    /// A member of a struct or union: its type (array bounds included, e.g.
    /// `__u8[]`) and its byte offset when every type before it is known.
    Field(String, Option<u64>),
    /// An enumerator and its value.
    Enumerator(Option<u64>),
}

impl DefKind {
    /// What the kind is called in messages.
    pub fn noun(&self) -> &'static str {
        match self {
            DefKind::Define(_) => "#define",
            DefKind::Macro(..) => "function-like #define",
            DefKind::Aggregate(_) => "struct",
            DefKind::Enum => "enum",
            DefKind::Field(..) => "field",
            DefKind::Enumerator(_) => "enum value",
        }
    }
}

/// One definition of the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Def {
    /// `VFIO_X` for a define or enumerator, `struct vfio_x` (or `union`,
    /// `enum`) for an aggregate, `struct vfio_x.field` for a field (nested
    /// anonymous members as `struct vfio_x.field`, named ones as
    /// `struct vfio_x.member.field`).
    pub name: String,
    /// What it is.
    pub kind: DefKind,
    /// Its line (1-based).
    pub line: usize,
    /// The struct, union or enum it is written inside, if any.
    pub within: Option<String>,
}

/// A parsed header.
#[derive(Debug, Clone)]
pub struct Header {
    /// Every definition in file order.
    pub defs: Vec<Def>,
    /// Every comment.
    pub comments: Vec<Comment>,
    /// The lines of the device-feature section, `[first, end)`: from the
    /// line of `struct vfio_device_feature` to the Type1 IOMMU banner.
    pub feature_section: (usize, usize),
    macros: Macros,
    by_name: BTreeMap<String, usize>,
}

/// The line that opens the device-feature section.
pub const SECTION_START: &str = "struct vfio_device_feature";
/// The banner comment that ends it.
pub const SECTION_END: &str = "-------- API for Type1 VFIO IOMMU --------";

/// Names that belong to migration wherever they are in the header.
fn migration_name() -> Regex {
    Regex::new(r"(?i)migration|(^|[_ ])mig_|precopy|pre_copy|device_state").expect("valid regex")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Num(String),
    Punct(char),
}

/// Size and alignment of the scalar types the uAPI uses.
fn scalar(ty: &str) -> Option<(u64, u64)> {
    Some(match ty {
        "__u8" | "__s8" | "char" | "unsigned char" | "signed char" => (1, 1),
        "__u16" | "__s16" | "__le16" | "__be16" | "short" | "unsigned short" => (2, 2),
        "__u32" | "__s32" | "__le32" | "__be32" | "int" | "unsigned int" | "unsigned" => (4, 4),
        "__u64" | "__s64" | "__le64" | "__be64" | "__aligned_u64" | "__aligned_le64" | "__aligned_be64"
        | "long" | "unsigned long" | "long long" | "unsigned long long" => (8, 8),
        _ => return None,
    })
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    macros: &'a mut Macros,
    /// Size and alignment of every aggregate seen so far.
    layouts: BTreeMap<String, (u64, u64)>,
    defs: Vec<Def>,
    /// Line spans of aggregates, for the defines written inside them.
    spans: Vec<(usize, usize, String)>,
}

fn round_up(n: u64, align: u64) -> u64 {
    n.div_ceil(align.max(1)) * align.max(1)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn line(&self) -> usize {
        self.toks.get(self.pos).or(self.toks.last()).map_or(0, |t| t.1)
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn ident(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }

    /// Skips to just past the next `;` outside braces and parentheses.
    fn skip_statement(&mut self) {
        let mut depth = 0i32;
        while let Some(t) = self.peek().cloned() {
            self.pos += 1;
            match t {
                Tok::Punct('{' | '(' | '[') => depth += 1,
                Tok::Punct('}' | ')' | ']') => depth -= 1,
                Tok::Punct(';') if depth <= 0 => return,
                _ => {}
            }
        }
    }

    fn top_level(&mut self) -> Result<(), String> {
        while self.pos < self.toks.len() {
            let kw = self.ident().map(str::to_owned);
            let next_is_name_then_brace = matches!(
                (self.toks.get(self.pos + 1), self.toks.get(self.pos + 2)),
                (Some((Tok::Ident(_), _)), Some((Tok::Punct('{'), _)))
            );
            match kw.as_deref() {
                Some(k @ ("struct" | "union")) if next_is_name_then_brace => {
                    let line = self.line();
                    self.pos += 1;
                    let name = format!("{k} {}", self.ident().unwrap_or_default());
                    self.pos += 1;
                    self.aggregate(&name, line, k == "union")?;
                }
                Some("enum") if next_is_name_then_brace => {
                    let line = self.line();
                    self.pos += 1;
                    let name = format!("enum {}", self.ident().unwrap_or_default());
                    self.pos += 1;
                    self.enumeration(&name, line)?;
                }
                _ => self.skip_statement(),
            }
        }
        Ok(())
    }

    /// Parses `{ members } attrs ;` of an aggregate named `name` (the
    /// parser is at the `{`), records it and its fields.
    fn aggregate(&mut self, name: &str, line: usize, union: bool) -> Result<(), String> {
        let at = self.defs.len();
        self.defs.push(Def {
            name: name.to_owned(),
            kind: DefKind::Aggregate(None),
            line,
            within: None,
        });
        let layout = self.members(name, name, union)?;
        let end_line = self.line();
        // Trailing attributes up to the `;`.
        let start = self.pos;
        self.skip_statement();
        let packed = self.toks[start..self.pos]
            .iter()
            .any(|(t, _)| matches!(t, Tok::Ident(s) if s.contains("packed")));
        let layout = if packed { None } else { layout };
        if let Some((size, align)) = layout {
            self.layouts.insert(name.to_owned(), (size, align));
        }
        self.defs[at].kind = DefKind::Aggregate(layout.map(|l| l.0));
        self.spans.push((line, end_line, name.to_owned()));
        Ok(())
    }

    /// Parses a member list `{ ... }` (the parser is at the `{`) and leaves
    /// the parser just past the `}`. Fields are named `prefix.member`.
    /// Returns the size and alignment, when known.
    fn members(&mut self, owner: &str, prefix: &str, union: bool) -> Result<Option<(u64, u64)>, String> {
        if !self.is_punct('{') {
            return Err(format!("{owner}: expected {{ at line {}", self.line()));
        }
        self.pos += 1;
        let (mut offset, mut size, mut align) = (Some(0u64), 0u64, 1u64);
        loop {
            if self.pos >= self.toks.len() {
                return Err(format!("{owner}: not closed"));
            }
            if self.is_punct('}') {
                self.pos += 1;
                break;
            }
            // A nested aggregate: `struct { ... } [name];` or `union ...`.
            let nested_union = self.ident() == Some("union");
            if matches!(self.ident(), Some("struct" | "union"))
                && (matches!(self.toks.get(self.pos + 1), Some((Tok::Punct('{'), _)))
                    || matches!(self.toks.get(self.pos + 2), Some((Tok::Punct('{'), _))))
            {
                self.pos += 1;
                if self.ident().is_some() {
                    self.pos += 1;
                }
                let mark = self.defs.len();
                let inner = self.members(owner, "\u{0}", nested_union)?;
                let member = self.ident().map(str::to_owned);
                self.skip_statement();
                let here = place(&mut offset, &mut size, &mut align, inner, union);
                let base = match &member {
                    Some(m) => format!("{prefix}.{m}"),
                    None => prefix.to_owned(),
                };
                // The nested fields were named with a placeholder prefix and
                // offsets relative to the nested aggregate.
                for d in &mut self.defs[mark..] {
                    if let Some(rest) = d.name.strip_prefix('\u{0}') {
                        d.name = format!("{base}{rest}");
                    }
                    if let DefKind::Field(_, o) = &mut d.kind {
                        *o = o.zip(here).map(|(a, b)| a + b);
                    }
                }
                continue;
            }
            // An ordinary member: type tokens, name, array bounds,
            // attributes, `;`.
            let line = self.line();
            let start = self.pos;
            self.skip_statement();
            let toks: Vec<Tok> = self.toks[start..self.pos.saturating_sub(1)]
                .iter()
                .map(|t| t.0.clone())
                .collect();
            let Some((ty, field, dims, bits)) = member_parts(&toks) else {
                continue;
            };
            let mut elem = if let Some(s) = ty.strip_prefix("struct ").or_else(|| ty.strip_prefix("union ")) {
                let key = if ty.starts_with("struct ") {
                    "struct"
                } else {
                    "union"
                };
                self.layouts.get(&format!("{key} {s}")).copied()
            } else {
                scalar(&ty)
            };
            let mut shown = ty.clone();
            for d in &dims {
                match d {
                    None => {
                        shown.push_str("[]");
                        elem = elem.map(|(_, a)| (0, a));
                    }
                    Some(expr) => {
                        let n = cexpr::eval(expr, self.macros).ok();
                        shown.push_str(&format!(
                            "[{}]",
                            n.map_or_else(|| expr.clone(), |n| n.to_string())
                        ));
                        elem = elem.zip(n).map(|((s, a), n)| (s.saturating_mul(n), a));
                    }
                }
            }
            if bits.is_some() {
                // Bit-fields: no byte offset to compare.
                shown.push_str(&format!(" : {}", bits.unwrap_or_default()));
                elem = None;
            }
            let here = place(&mut offset, &mut size, &mut align, elem, union);
            self.defs.push(Def {
                name: format!("{prefix}.{field}"),
                kind: DefKind::Field(shown, here),
                line,
                within: Some(owner.to_owned()),
            });
        }
        Ok(offset.map(|_| (round_up(size, align), align)))
    }

    fn enumeration(&mut self, name: &str, line: usize) -> Result<(), String> {
        self.defs.push(Def {
            name: name.to_owned(),
            kind: DefKind::Enum,
            line,
            within: None,
        });
        if !self.is_punct('{') {
            return Err(format!("{name}: expected {{"));
        }
        self.pos += 1;
        let mut next = Some(0u64);
        loop {
            match self.peek().cloned() {
                None => return Err(format!("{name}: not closed")),
                Some(Tok::Punct('}')) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::Punct(',')) => self.pos += 1,
                Some(Tok::Ident(e)) => {
                    let at = self.line();
                    self.pos += 1;
                    let value = if self.is_punct('=') {
                        self.pos += 1;
                        let mut expr = String::new();
                        while let Some(t) = self.peek().cloned() {
                            if matches!(t, Tok::Punct(',' | '}')) {
                                break;
                            }
                            expr.push_str(&tok_text(&t));
                            expr.push(' ');
                            self.pos += 1;
                        }
                        cexpr::eval(&expr, self.macros).ok()
                    } else {
                        next
                    };
                    if let Some(v) = value {
                        self.macros.insert(e.clone(), Macro::Object(v.to_string()));
                    }
                    next = value.map(|v| v.wrapping_add(1));
                    self.defs.push(Def {
                        name: e,
                        kind: DefKind::Enumerator(value),
                        line: at,
                        within: Some(name.to_owned()),
                    });
                }
                Some(_) => return Err(format!("{name}: unexpected token at line {}", self.line())),
            }
        }
        self.spans.push((line, self.line(), name.to_owned()));
        self.skip_statement();
        Ok(())
    }
}

/// Places a member of `elem` (size, alignment) at the running offset of a
/// struct (or at 0 in a union); returns its offset, `None` once a type is
/// unknown.
fn place(
    offset: &mut Option<u64>,
    size: &mut u64,
    align: &mut u64,
    elem: Option<(u64, u64)>,
    union: bool,
) -> Option<u64> {
    match (*offset, elem) {
        (Some(o), Some((s, a))) => {
            *align = (*align).max(a);
            if union {
                *size = (*size).max(s);
                Some(0)
            } else {
                let at = round_up(o, a);
                *offset = Some(at + s);
                *size = at + s;
                Some(at)
            }
        }
        _ => {
            *offset = None;
            None
        }
    }
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Num(s) => s.clone(),
        Tok::Punct(c) => c.to_string(),
    }
}

type MemberParts = (String, String, Vec<Option<String>>, Option<String>);

/// Splits a member declaration (without its `;`) into type, name, array
/// bounds (`None` for `[]`) and bit-field width. Attributes
/// (`__attribute__((...))`, `__counted_by(...)` and other `__x(...)`) are
/// dropped.
fn member_parts(toks: &[Tok]) -> Option<MemberParts> {
    let mut kept: Vec<&Tok> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Tok::Ident(s) = &toks[i] {
            if s.starts_with("__") && matches!(toks.get(i + 1), Some(Tok::Punct('('))) {
                // Skip the attribute and its parenthesised arguments.
                let mut depth = 0;
                i += 1;
                while i < toks.len() {
                    match toks[i] {
                        Tok::Punct('(') => depth += 1,
                        Tok::Punct(')') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
        }
        kept.push(&toks[i]);
        i += 1;
    }
    let colon = kept.iter().position(|t| **t == Tok::Punct(':'));
    let bits = colon.map(|c| {
        kept[c + 1..]
            .iter()
            .map(|t| tok_text(t))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let decl = &kept[..colon.unwrap_or(kept.len())];
    let first_bracket = decl
        .iter()
        .position(|t| **t == Tok::Punct('['))
        .unwrap_or(decl.len());
    let name_at = first_bracket.checked_sub(1)?;
    let Tok::Ident(name) = decl[name_at] else {
        return None;
    };
    let ty: Vec<String> = decl[..name_at].iter().map(|t| tok_text(t)).collect();
    if ty.is_empty() {
        return None;
    }
    let mut dims = Vec::new();
    let mut k = first_bracket;
    while k < decl.len() {
        if *decl[k] == Tok::Punct('[') {
            let close = decl[k..].iter().position(|t| **t == Tok::Punct(']'))? + k;
            let inner: Vec<String> = decl[k + 1..close].iter().map(|t| tok_text(t)).collect();
            dims.push((!inner.is_empty()).then(|| inner.join(" ")));
            k = close + 1;
        } else {
            k += 1;
        }
    }
    Some((ty.join(" "), name.clone(), dims, bits))
}

fn lex_code(code: &str) -> Vec<(Tok, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let text = code[start..i].to_owned();
            out.push((
                if c.is_ascii_digit() {
                    Tok::Num(text)
                } else {
                    Tok::Ident(text)
                },
                line,
            ));
        } else if c == b'"' || c == b'\'' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != c && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            out.push((Tok::Num(code[start..i].to_owned()), line));
        } else {
            let ch = code[i..].chars().next().unwrap_or(' ');
            out.push((Tok::Punct(ch), line));
            i += ch.len_utf8();
        }
    }
    out
}

impl Header {
    /// Parses a header's text.
    pub fn parse(src: &str) -> Result<Header, String> {
        if src.len() > MAX_HEADER_BYTES {
            return Err(format!("the header is larger than {MAX_HEADER_BYTES} bytes"));
        }
        let split = clex::split(src);
        // Preprocessor lines (with their continuations) are taken out of the
        // code the C parser sees.
        let mut c_code = String::with_capacity(split.code.len());
        let mut directives: Vec<(usize, String)> = Vec::new();
        let mut lines = split.code.split('\n').enumerate().peekable();
        while let Some((n, l)) = lines.next() {
            if l.trim_start().starts_with('#') {
                let mut text = l.to_owned();
                c_code.push('\n');
                while text.trim_end().ends_with('\\') {
                    let t = text.trim_end();
                    text = t[..t.len() - 1].to_owned();
                    match lines.next() {
                        Some((_, more)) => {
                            text.push(' ');
                            text.push_str(more);
                            c_code.push('\n');
                        }
                        None => break,
                    }
                }
                directives.push((n + 1, text));
            } else {
                c_code.push_str(l);
                c_code.push('\n');
            }
        }
        let define = Regex::new(r"^\s*#\s*define\s+([A-Za-z_]\w*)(\(([^)]*)\))?(.*)$").expect("valid regex");
        let mut macros = Macros::new();
        let mut defs = Vec::new();
        for (line, text) in &directives {
            let Some(c) = define.captures(text) else {
                continue;
            };
            let name = c[1].to_owned();
            let body = c[4].split_whitespace().collect::<Vec<_>>().join(" ");
            let kind = match c.get(3) {
                Some(p) => {
                    let params: Vec<String> = p
                        .as_str()
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect();
                    macros.insert(name.clone(), Macro::Function(params.clone(), body.clone()));
                    DefKind::Macro(params, body)
                }
                None => {
                    macros.insert(name.clone(), Macro::Object(body.clone()));
                    DefKind::Define(body)
                }
            };
            defs.push(Def {
                name,
                kind,
                line: *line,
                within: None,
            });
        }
        let mut p = Parser {
            toks: lex_code(&c_code),
            pos: 0,
            macros: &mut macros,
            layouts: BTreeMap::new(),
            defs: Vec::new(),
            spans: Vec::new(),
        };
        p.top_level()?;
        let spans = std::mem::take(&mut p.spans);
        defs.append(&mut p.defs);
        for d in &mut defs {
            if d.within.is_none() && matches!(d.kind, DefKind::Define(_) | DefKind::Macro(..)) {
                d.within = spans
                    .iter()
                    .find(|(a, b, _)| *a < d.line && d.line < *b)
                    .map(|s| s.2.clone());
            }
        }
        defs.sort_by_key(|d| d.line);
        let start = defs
            .iter()
            .find(|d| d.name == SECTION_START)
            .map(|d| d.line)
            .ok_or_else(|| {
                format!("cannot find the migration part: no `{SECTION_START} {{` in the header")
            })?;
        let end = split
            .comments
            .iter()
            .find(|c| c.text.contains(SECTION_END) && c.start > start)
            .map(|c| c.start)
            .ok_or_else(|| {
                format!("cannot find the migration part: no `/* {SECTION_END} */` after `{SECTION_START}`")
            })?;
        let mut by_name = BTreeMap::new();
        for (i, d) in defs.iter().enumerate() {
            by_name.entry(d.name.clone()).or_insert(i);
        }
        Ok(Header {
            defs,
            comments: split.comments,
            feature_section: (start, end),
            macros,
            by_name,
        })
    }

    /// The definition named `name` (the first, if defined twice).
    pub fn get(&self, name: &str) -> Option<&Def> {
        self.by_name.get(name).map(|i| &self.defs[*i])
    }

    /// The macros and enumerators, for evaluating expressions.
    pub fn macros(&self) -> &Macros {
        &self.macros
    }

    /// The value of an object-like define or an enumerator.
    pub fn value(&self, name: &str) -> Result<u64, String> {
        cexpr::eval(name, &self.macros)
    }

    /// Whether `def` is in the migration part of the header: inside the
    /// device-feature section (the feature ioctl, the device ioctls after
    /// it and every device feature, up to the Type1 IOMMU API), or named
    /// for migration (MIGRATION, MIG_, PRECOPY, PRE_COPY, DEVICE_STATE)
    /// anywhere, or written inside a struct or enum so named.
    pub fn in_migration_part(&self, def: &Def) -> bool {
        let (a, b) = self.feature_section;
        let re = migration_name();
        (a..b).contains(&def.line)
            || re.is_match(&def.name)
            || def.within.as_deref().is_some_and(|w| re.is_match(w))
    }

    /// The definitions of the migration part, in file order.
    pub fn migration_part(&self) -> impl Iterator<Item = &Def> {
        self.defs.iter().filter(|d| self.in_migration_part(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "#define VFIO_TYPE (';')\n#define VFIO_BASE 100\n#define N 4\n\
/* outside */\n#define VFIO_OTHER 7\n\
struct vfio_device_feature {\n\t__u32 argsz;\n\t__u32 flags;\n#define VFIO_DEVICE_FEATURE_GET (1 << 16)\n\t__u8 data[];\n};\n\
#define VFIO_DEVICE_FEATURE _IO(VFIO_TYPE, VFIO_BASE + 17)\n\
struct vfio_x {\n\t__u32 a;\n\t__aligned_u64 b;\n\tstruct vfio_device_feature f;\n\tunion {\n\t\t__u16 c;\n\t\t__u32 d;\n\t};\n\t__u8 e[N];\n\tstruct vfio_y *p;\n} __attribute__((aligned(8)));\n\
enum vfio_e {\n\tE_A = 2,\n\tE_B,\n\tE_C = E_A + 5,\n};\n\
#define VFIO_F(s) \\\n\t((s) & 1)\n\
/* -------- API for Type1 VFIO IOMMU -------- */\n\
#define VFIO_REGION_TYPE_MIGRATION 3\n#define VFIO_IOMMU_X 1\n";

    #[test]
    fn definitions_with_lines_layouts_and_values() {
        let h = Header::parse(H).unwrap();
        let get = |n: &str| h.get(n).unwrap_or_else(|| panic!("{n} missing: {:#?}", h.defs));
        assert_eq!(
            get("VFIO_DEVICE_FEATURE_GET").within.as_deref(),
            Some("struct vfio_device_feature")
        );
        assert_eq!(
            get("struct vfio_device_feature").kind,
            DefKind::Aggregate(Some(8))
        );
        assert_eq!(
            get("struct vfio_device_feature.data").kind,
            DefKind::Field("__u8[]".into(), Some(8))
        );
        assert_eq!(
            get("struct vfio_x.b").kind,
            DefKind::Field("__aligned_u64".into(), Some(8))
        );
        assert_eq!(
            get("struct vfio_x.f").kind,
            DefKind::Field("struct vfio_device_feature".into(), Some(16))
        );
        assert_eq!(
            get("struct vfio_x.c").kind,
            DefKind::Field("__u16".into(), Some(24))
        );
        assert_eq!(
            get("struct vfio_x.d").kind,
            DefKind::Field("__u32".into(), Some(24))
        );
        assert_eq!(
            get("struct vfio_x.e").kind,
            DefKind::Field("__u8[4]".into(), Some(28))
        );
        // A pointer member: no layout from there on, but still a field.
        assert!(matches!(get("struct vfio_x.p").kind, DefKind::Field(_, None)));
        assert_eq!(get("E_B").kind, DefKind::Enumerator(Some(3)));
        assert_eq!(get("E_C").kind, DefKind::Enumerator(Some(7)));
        assert_eq!(h.value("VFIO_DEVICE_FEATURE"), Ok(0x3b75));
        assert_eq!(cexpr::call("VFIO_F", &[3], h.macros()), Ok(1));
        assert_eq!(get("VFIO_F").line, 29);
        assert_eq!(get("VFIO_DEVICE_FEATURE").line, 12);
    }

    #[test]
    fn the_migration_part_is_the_section_and_the_migration_names() {
        let h = Header::parse(H).unwrap();
        let part: Vec<&str> = h.migration_part().map(|d| d.name.as_str()).collect();
        assert!(part.contains(&"VFIO_DEVICE_FEATURE_GET"));
        assert!(part.contains(&"E_C"));
        assert!(part.contains(&"VFIO_REGION_TYPE_MIGRATION"));
        assert!(!part.contains(&"VFIO_OTHER"));
        assert!(!part.contains(&"VFIO_IOMMU_X"));
        assert!(!part.contains(&"VFIO_BASE"));
    }

    #[test]
    fn a_header_without_the_section_is_an_error() {
        let e = Header::parse("#define A 1\n").unwrap_err();
        assert!(e.contains("struct vfio_device_feature"), "{e}");
        let e = Header::parse("struct vfio_device_feature { __u32 a; };\n").unwrap_err();
        assert!(e.contains("Type1"), "{e}");
        assert!(Header::parse("struct vfio_device_feature { __u32 a;").is_err());
    }
}
