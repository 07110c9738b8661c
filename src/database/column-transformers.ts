import { ValueTransformer } from 'typeorm';

/**
 * PostgreSQL returns `bigint` as a string (it may exceed 2^53); the embedded
 * database returns a number. Keys that stay far below 2^53 (row sequences)
 * read as numbers on both.
 */
export const BIGINT_AS_NUMBER: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
