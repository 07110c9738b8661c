import { QueryFailedError } from 'typeorm';

/** Whether `error` is a unique constraint refusing a write, on PostgreSQL (23505) or the embedded database. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; message?: string } | undefined;
  return driverError?.code === '23505' || /UNIQUE constraint failed/i.test(driverError?.message ?? error.message);
}
