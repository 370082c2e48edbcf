//! The in-process mock device (placeholder until the mock is written).
