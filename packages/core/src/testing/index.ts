/** Test helpers for code built on @tinypipe/core. */
export {};
