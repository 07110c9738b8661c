/**
 * class-transformer ships its metadata storage at runtime as `cjs/storage` but
 * types it under `types/storage`; this joins the two for the event payload
 * checks, which read `@Type` metadata (src/event-bus/payload-check.ts).
 */
declare module 'class-transformer/cjs/storage' {
  export * from 'class-transformer/types/storage';
}
