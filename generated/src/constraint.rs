//! The limits the API declares on request values (`x-constraints` in the
//! curated spec), as codegen writes them into the always-built answer
//! table: one list per operation, read through [`constraints`]. The
//! generated builders do not check them; the facade's transport does,
//! before it sends.

/// Where a limited value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The query string (a list comma-joined).
    Query,
    /// A `{name}` segment of the path.
    Path,
    /// The JSON body.
    Body,
}

/// The limits of one value. Unset limits are `None`.
///
/// The table builds them from [`Limits::NONE`] with the `const` setters:
///
/// ```
/// use sentinelone_generated::Limits;
///
/// let names = Limits::NONE.max_items(10);
/// assert_eq!(names.max_items, Some(10));
/// assert_eq!(names.min_length, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// At most this many items (a list).
    pub max_items: Option<u64>,
    /// At least this many items (a list).
    pub min_items: Option<u64>,
    /// At least this many characters (a string).
    pub min_length: Option<u64>,
    /// At most this many characters (a string).
    pub max_length: Option<u64>,
    /// A regular expression (`regex` crate syntax) the string matches
    /// somewhere (unanchored, as in JSON Schema).
    pub pattern: Option<&'static str>,
    /// The smallest number allowed.
    pub minimum: Option<f64>,
    /// The largest number allowed.
    pub maximum: Option<f64>,
}

impl Limits {
    /// No limit at all.
    pub const NONE: Limits = Limits {
        max_items: None,
        min_items: None,
        min_length: None,
        max_length: None,
        pattern: None,
        minimum: None,
        maximum: None,
    };

    /// These limits, and at most `n` items.
    pub const fn max_items(self, n: u64) -> Self {
        Limits {
            max_items: Some(n),
            ..self
        }
    }

    /// These limits, and at least `n` items.
    pub const fn min_items(self, n: u64) -> Self {
        Limits {
            min_items: Some(n),
            ..self
        }
    }

    /// These limits, and at least `n` characters.
    pub const fn min_length(self, n: u64) -> Self {
        Limits {
            min_length: Some(n),
            ..self
        }
    }

    /// These limits, and at most `n` characters.
    pub const fn max_length(self, n: u64) -> Self {
        Limits {
            max_length: Some(n),
            ..self
        }
    }

    /// These limits, and a pattern to match.
    pub const fn pattern(self, pattern: &'static str) -> Self {
        Limits {
            pattern: Some(pattern),
            ..self
        }
    }

    /// These limits, and a smallest number.
    pub const fn minimum(self, n: f64) -> Self {
        Limits {
            minimum: Some(n),
            ..self
        }
    }

    /// These limits, and a largest number.
    pub const fn maximum(self, n: f64) -> Self {
        Limits {
            maximum: Some(n),
            ..self
        }
    }

    /// True when no limit is set.
    pub fn is_none(&self) -> bool {
        *self == Limits::NONE
    }
}

/// One limited value of an operation's request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraint {
    /// Where the value goes.
    pub place: Place,
    /// The parameter's name, or for the body the value's path below the
    /// body's root: property names joined by `.`, `[]` for each item of
    /// a list (`filter.computerName__contains`, `data[].name`).
    pub name: &'static str,
    /// The limits of the value itself.
    pub limits: Limits,
    /// The limits of each item, when the value is a list.
    pub items: Limits,
}

impl Constraint {
    /// A constraint on `name` at `place`: `limits` on the value, `items` on
    /// each of its items.
    pub const fn new(place: Place, name: &'static str, limits: Limits, items: Limits) -> Self {
        Constraint {
            place,
            name,
            limits,
            items,
        }
    }
}

/// The limits on the request values of operation `id`; empty when the
/// operation declares none or the spec has no such operation.
pub fn constraints(id: &str) -> &'static [Constraint] {
    let answers = crate::answers::ANSWERS;
    match answers.binary_search_by(|(op, ..)| (*op).cmp(id)) {
        Ok(index) => answers[index].4,
        Err(_) => &[],
    }
}
