//! The hash map of this crate: std's `HashMap` with foldhash and a random seed per map.
//!
//! Many keys come from the input: terms of embedded contexts, blank node labels, the text of
//! embedded contexts. With an unseeded hash function (this crate used FxHash before) anyone
//! can pick keys that all land in one bucket chain and make every insertion cost O(n); a
//! random seed per map rules that out, and foldhash stays close to FxHash in speed.

pub(crate) type SeededMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
