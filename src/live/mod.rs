//! Live video outside the API: the CDN's stream addresses and their anti-leech
//! signatures. The API never touches the video; it hands out addresses.

pub mod signing;
