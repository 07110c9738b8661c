import { Transform } from 'class-transformer';
import { normalizeEmail } from '../email';

/** Normalizes an email before validation, so the stored, checked and compared forms are one. */
export const NormalizeEmail = () => Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value));

/** Trims a display name; an empty one means none. */
export const NormalizeDisplayName = () =>
  Transform(({ value }) => (typeof value === 'string' ? (value.trim() === '' ? null : value.trim()) : value));
