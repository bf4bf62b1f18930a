//! The other half of [`super::json`]: contract types (and the business draft)
//! into plain JavaScript values, for `JSON.stringify` request bodies and
//! storage. A minimal `serde::Serializer` with a message-less error, so no
//! JSON library or formatting machinery ships in the wasm.
//!
//! Shapes: structs and maps become objects, sequences arrays, unit variants
//! their name, `None` is `null` (or left out with `skip_serializing_if`),
//! integers are numbers (exact up to 2^53, which every amount here is).

use js_sys::{Array, Object, Reflect};
use serde::ser::{self, Serialize};
use wasm_bindgen::JsValue;

/// A value this serializer cannot write (a tuple variant, a non-string map key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeError;

impl core::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("value has no JSON shape")
    }
}

impl std::error::Error for ShapeError {}

/// `value` as a JavaScript value.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, ShapeError> {
    value.serialize(Ser)
}

/// `value` as JSON text (via the browser's `JSON.stringify`).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let js = to_js(value).ok()?;
    js_sys::JSON::stringify(&js).ok()?.as_string()
}

struct Ser;

impl ser::Error for ShapeError {
    fn custom<T: core::fmt::Display>(_msg: T) -> Self {
        ShapeError
    }
}

type R = Result<JsValue, ShapeError>;

impl ser::Serializer for Ser {
    type Ok = JsValue;
    type Error = ShapeError;
    type SerializeSeq = SeqOut;
    type SerializeTuple = SeqOut;
    type SerializeTupleStruct = SeqOut;
    type SerializeTupleVariant = ser::Impossible<JsValue, ShapeError>;
    type SerializeMap = MapOut;
    type SerializeStruct = MapOut;
    type SerializeStructVariant = ser::Impossible<JsValue, ShapeError>;

    fn serialize_bool(self, v: bool) -> R {
        Ok(JsValue::from_bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.serialize_f64(v as f64)
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.serialize_f64(v as f64)
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(JsValue::from_f64(v))
    }
    fn serialize_char(self, v: char) -> R {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(v.iter()
            .map(|b| JsValue::from_f64(f64::from(*b)))
            .collect::<Array>()
            .into())
    }
    fn serialize_none(self) -> R {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> R {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> R {
        Err(ShapeError)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqOut, ShapeError> {
        Ok(SeqOut(Array::new()))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqOut, ShapeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqOut, ShapeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ShapeError> {
        Err(ShapeError)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapOut, ShapeError> {
        Ok(MapOut(Object::new(), None))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<MapOut, ShapeError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ShapeError> {
        Err(ShapeError)
    }
}

pub struct SeqOut(Array);

impl SeqOut {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ShapeError> {
        self.0.push(&value.serialize(Ser)?);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqOut {
    type Ok = JsValue;
    type Error = ShapeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ShapeError> {
        self.push(value)
    }
    fn end(self) -> R {
        Ok(self.0.into())
    }
}

impl ser::SerializeTuple for SeqOut {
    type Ok = JsValue;
    type Error = ShapeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ShapeError> {
        self.push(value)
    }
    fn end(self) -> R {
        Ok(self.0.into())
    }
}

impl ser::SerializeTupleStruct for SeqOut {
    type Ok = JsValue;
    type Error = ShapeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ShapeError> {
        self.push(value)
    }
    fn end(self) -> R {
        Ok(self.0.into())
    }
}

/// An object being filled, and the key of a map entry waiting for its value.
pub struct MapOut(Object, Option<JsValue>);

impl MapOut {
    fn set(&mut self, key: &JsValue, value: JsValue) -> Result<(), ShapeError> {
        Reflect::set(&self.0, key, &value)
            .map(|_| ())
            .map_err(|_| ShapeError)
    }
}

impl ser::SerializeMap for MapOut {
    type Ok = JsValue;
    type Error = ShapeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ShapeError> {
        let key = key.serialize(Ser)?;
        if !key.is_string() {
            return Err(ShapeError);
        }
        self.1 = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ShapeError> {
        let key = self.1.take().ok_or(ShapeError)?;
        let value = value.serialize(Ser)?;
        self.set(&key, value)
    }
    fn end(self) -> R {
        Ok(self.0.into())
    }
}

impl ser::SerializeStruct for MapOut {
    type Ok = JsValue;
    type Error = ShapeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ShapeError> {
        let value = value.serialize(Ser)?;
        self.set(&JsValue::from_str(key), value)
    }
    fn end(self) -> R {
        Ok(self.0.into())
    }
}
