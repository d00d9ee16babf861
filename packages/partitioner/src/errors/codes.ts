/**
 * The error codes `@tinypipe/partitioner` owns, with what each means. Registering them in `TinypipeErrorCodes`
 * makes them type-check wherever this package is installed; docs/errors.md lists every package's codes.
 */
export const PARTITIONER_ERROR_CODES = {
  PLAN_INFEASIBLE:
    'The model does not fit the boards; the message says what does not fit where, and the smallest fix.',
  PLAN_INVALID:
    'A plan file that does not parse or breaks the plan schema (the message names the bad field).',
  BOARD_UNKNOWN: 'A board name that is not a built-in profile.',
  PROFILE_INVALID: 'A custom board profile with a missing or bad field.',
  PARTITION_TABLE_INVALID: 'Overlapping, misaligned or oversized ESP-IDF partitions.',
} as const;

/** The table's type, merged into `TinypipeErrorCodes`. */
export type PartitionerErrorCodes = typeof PARTITIONER_ERROR_CODES;

declare module '@tinypipe/protocol' {
  interface TinypipeErrorCodes extends PartitionerErrorCodes {}
}
