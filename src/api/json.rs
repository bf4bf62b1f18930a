//! Decoding the browser's parsed JSON (`Response.json()`) straight into the
//! contract's serde types, with no JSON library in the wasm.
//!
//! A minimal `serde::Deserializer` over `JsValue`. It does what
//! `serde_wasm_bindgen::from_value` does for the shapes the contract uses, but
//! its error carries no message: a message would pull every `Display` impl of
//! serde's error paths (float formatting included) into the bundle, about
//! 30 KB of wasm, to produce text nobody reads. A failed decode is just
//! [`ApiError::Decode`](super::ApiError::Decode).

use core::fmt;

use js_sys::{Array, Object, Reflect};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use wasm_bindgen::{JsCast, JsValue};

/// The value did not have the shape the type expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeError;

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unexpected JSON shape")
    }
}

impl std::error::Error for ShapeError {}

impl de::Error for ShapeError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        ShapeError
    }
}

/// Decodes a parsed JSON value into `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, ShapeError> {
    T::deserialize(Js(value))
}

/// Largest integer a JSON number carries exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

struct Js(JsValue);

impl<'de> de::Deserializer<'de> for Js {
    type Error = ShapeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        match classify(self.0)? {
            Kind::Unit => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(b),
            Kind::U64(n) => visitor.visit_u64(n),
            Kind::I64(n) => visitor.visit_i64(n),
            Kind::F64(n) => visitor.visit_f64(n),
            Kind::Str(s) => visitor.visit_string(s),
            Kind::Seq(seq) => visitor.visit_seq(seq),
            Kind::Map(map) => visitor.visit_map(map),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    /// Unit variants only (`"coupon"`); the contract tags other enums internally.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        let name = self.0.as_string().ok_or(ShapeError)?;
        visitor.visit_enum(IntoDeserializer::<ShapeError>::into_deserializer(name))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

enum Kind {
    Unit,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Seq(Seq),
    Map(Map),
}

/// The JSON type of `v` (one non-generic copy, shared by every visitor).
#[inline(never)]
fn classify(v: JsValue) -> Result<Kind, ShapeError> {
    Ok(if v.is_null() || v.is_undefined() {
        Kind::Unit
    } else if let Some(b) = v.as_bool() {
        Kind::Bool(b)
    } else if let Some(n) = v.as_f64() {
        if n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n) {
            Kind::U64(n as u64)
        } else if n.fract() == 0.0 && (-MAX_SAFE..0.0).contains(&n) {
            Kind::I64(n as i64)
        } else {
            Kind::F64(n)
        }
    } else if let Some(s) = v.as_string() {
        Kind::Str(s)
    } else if Array::is_array(&v) {
        let array = Array::from(&v);
        Kind::Seq(Seq {
            len: array.length(),
            array,
            next: 0,
        })
    } else if v.is_object() {
        let keys = Object::keys::<JsValue>(v.unchecked_ref());
        Kind::Map(Map {
            object: v,
            len: keys.length(),
            keys,
            next: 0,
        })
    } else {
        return Err(ShapeError);
    })
}

struct Seq {
    array: Array,
    len: u32,
    next: u32,
}

impl<'de> SeqAccess<'de> for Seq {
    type Error = ShapeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ShapeError> {
        if self.next >= self.len {
            return Ok(None);
        }
        let value = self.array.get(self.next);
        self.next += 1;
        seed.deserialize(Js(value)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.len - self.next) as usize)
    }
}

struct Map {
    object: JsValue,
    keys: Array,
    len: u32,
    next: u32,
}

impl<'de> MapAccess<'de> for Map {
    type Error = ShapeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ShapeError> {
        if self.next >= self.len {
            return Ok(None);
        }
        seed.deserialize(Js(self.keys.get(self.next))).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ShapeError> {
        let key = self.keys.get(self.next);
        self.next += 1;
        let value = Reflect::get(&self.object, &key).map_err(|_| ShapeError)?;
        seed.deserialize(Js(value))
    }
}
