//! EPSS: the probability that a CVE is exploited in the next 30 days. Ranks findings inside a
//! risk tier; never changes the tier.

pub mod parse;
