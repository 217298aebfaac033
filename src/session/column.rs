//! A column of numbers in a session file: a plain RON list while it is short, so that small
//! sessions stay readable, and base64 of the values' little-endian bytes when it is long, so that
//! large sessions save and load fast. Both forms are exact: floats are written in their shortest
//! round-trip form or as their bits.
//!
//! ```text
//! cross_entropy: Text([2.3025851, 2.2971, 2.2803])
//! cross_entropy: Packed("q2MTQNMTE0D...")
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::error::ColumnError;

/// Columns longer than this are written packed.
pub const TEXT_LIMIT: usize = 4096;

/// A number that a column can hold.
pub trait Scalar: Copy + Serialize + DeserializeOwned + 'static {
    /// Bytes of the little-endian encoding.
    const BYTES: usize;
    /// Type name for error messages.
    const NAME: &'static str;
    /// Appends the little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
    /// Reads the value from exactly `BYTES` little-endian bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const BYTES: usize = std::mem::size_of::<$t>();
            const NAME: &'static str = stringify!($t);
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
        }
    )*};
}
scalar!(u8, u32, u64, f32, f64);

/// A column of values, written as text or packed depending on its length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column<T>(pub Vec<T>);

/// Little-endian bytes of `values`, base64-encoded.
pub fn pack<T: Scalar>(values: &[T]) -> String {
    let mut bytes = Vec::with_capacity(values.len() * T::BYTES);
    for &v in values {
        v.put(&mut bytes);
    }
    BASE64.encode(bytes)
}

/// The values of a base64 string of little-endian bytes.
pub fn unpack<T: Scalar>(text: &str) -> Result<Vec<T>, ColumnError> {
    let bytes = BASE64.decode(text).map_err(ColumnError::NotBase64)?;
    if bytes.len() % T::BYTES != 0 {
        return Err(ColumnError::PartialValue {
            bytes: bytes.len(),
            width: T::BYTES,
            type_name: T::NAME,
        });
    }
    Ok(bytes.chunks_exact(T::BYTES).map(T::get).collect())
}

#[derive(Serialize)]
#[serde(rename = "Column")]
enum ColumnOut<'a, T> {
    Text(&'a [T]),
    Packed(String),
}

impl<T: Scalar> Serialize for Column<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.len() <= TEXT_LIMIT {
            ColumnOut::Text(&self.0).serialize(serializer)
        } else {
            ColumnOut::<T>::Packed(pack(&self.0)).serialize(serializer)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename = "Column")]
enum ColumnIn<T> {
    Text(Vec<T>),
    Packed(String),
}

impl<'de, T: Scalar> Deserialize<'de> for Column<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match ColumnIn::<T>::deserialize(deserializer)? {
            ColumnIn::Text(v) => Ok(Column(v)),
            ColumnIn::Packed(s) => unpack(&s).map(Column).map_err(de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fmt;

    fn roundtrip<T: Scalar + PartialEq + fmt::Debug>(values: Vec<T>) -> Vec<T> {
        let text = ron::to_string(&Column(values)).unwrap();
        let back: Column<T> = ron::from_str(&text).unwrap();
        back.0
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(2027))]
        #[test]
        fn floats_roundtrip_bit_exactly_in_text(bits in proptest::collection::vec(any::<u32>(), 0..64)) {
            let values: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
            let back = roundtrip(values.clone());
            prop_assert_eq!(back.len(), values.len());
            for (a, b) in values.iter().zip(&back) {
                // NaN payloads are not kept in text (a NaN stays a NaN of the same sign).
                if a.is_nan() {
                    prop_assert!(b.is_nan() && a.is_sign_negative() == b.is_sign_negative());
                } else {
                    prop_assert_eq!(a.to_bits(), b.to_bits());
                }
            }
        }

        #[test]
        fn doubles_roundtrip_bit_exactly_in_text(bits in proptest::collection::vec(any::<u64>(), 0..64)) {
            let values: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
            let back = roundtrip(values.clone());
            for (a, b) in values.iter().zip(&back) {
                if a.is_nan() {
                    prop_assert!(b.is_nan());
                } else {
                    prop_assert_eq!(a.to_bits(), b.to_bits());
                }
            }
        }
    }

    #[test]
    fn long_columns_are_packed_and_exact() {
        let values: Vec<f32> = (0..TEXT_LIMIT as u32 + 1)
            .map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761)))
            .collect();
        let text = ron::to_string(&Column(values.clone())).unwrap();
        assert!(text.starts_with("Packed(\""), "{}", &text[..20]);
        let back: Column<f32> = ron::from_str(&text).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.0), bits(&values));
        let short = ron::to_string(&Column(vec![1u64, 2, 3])).unwrap();
        assert_eq!(short, "Text([1,2,3])");
    }

    #[test]
    fn bad_packed_columns_are_errors() {
        let e = ron::from_str::<Column<f32>>("Packed(\"AAA\")").unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
        let e = ron::from_str::<Column<f32>>("Packed(\"AAAAAAA=\")").unwrap_err();
        assert!(e.to_string().contains("4-byte f32"), "{e}");
        assert!(ron::from_str::<Column<u8>>("Text([1, 256])").is_err());
    }
}
