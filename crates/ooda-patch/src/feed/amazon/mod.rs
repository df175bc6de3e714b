//! Amazon Linux's own security data: the `updateinfo.xml` each Amazon Linux repository ships
//! (`repodata/…-updateinfo.xml.gz`, named by `repomd.xml`), which holds every ALAS advisory of
//! that repository, the same records `https://alas.aws.amazon.com/` renders. Offline import
//! only (a file or a directory of them, gzipped or not); the same files are what a sync would
//! mirror.

pub mod parse;
